"""Results file and run status (kdoffload.report)."""

import json
import math

import numpy as np
import pytest

from kdoffload import report


def test_record_merges_by_key(tmp_path):
    report.record("p", {"labels": {"agreement": {"n": 3}}}, tmp_path)
    report.record("p", {"labels": {"per_second": {"dp": 1.5}}}, tmp_path)
    report.record("p", {"labels": {"agreement": {"ilp_vs_dp": 1.0}}}, tmp_path)
    results = report.load("p", tmp_path)
    assert results["labels"] == {"agreement": {"n": 3, "ilp_vs_dp": 1.0}, "per_second": {"dp": 1.5}}
    assert json.loads((tmp_path / "p.json").read_text()) == results
    assert results["profile"] == "p"


def test_record_converts_numpy_and_non_finite(tmp_path):
    report.record("p", {"a": np.float32(0.5), "b": np.arange(3), "c": math.nan, "d": np.inf,
                        "e": np.bool_(True)}, tmp_path)
    results = report.load("p", tmp_path)
    assert results == {"profile": "p", "a": 0.5, "b": [0, 1, 2], "c": None, "d": "inf", "e": True}


def test_load_missing_and_reset(tmp_path):
    assert report.load("nothing", tmp_path) == {"profile": "nothing"}
    report.record("p", {"x": 1}, tmp_path)
    report.reset("p", tmp_path)
    assert report.load("p", tmp_path) == {"profile": "p"}


def test_results_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(report.RESULTS_DIR_VARIABLE, str(tmp_path))
    report.record("env", {"x": 1})
    assert (tmp_path / "env.json").exists()


@pytest.mark.parametrize("bad", ["", "a/b", "..\\x"])
def test_profile_name_must_be_plain(bad):
    with pytest.raises(ValueError, match="plain name"):
        report.results_path(bad)


def test_record_rejects_non_dict(tmp_path):
    with pytest.raises(TypeError, match="dict"):
        report.record("p", [1, 2], tmp_path)


def test_lookup():
    results = {"a": {"b": {"c": 2}}}
    assert report.lookup(results, "a.b.c") == 2
    assert report.lookup(results, "a.x.c", "none") == "none"


def test_results_never_go_to_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(report.RESULTS_DIR_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    folder = report.results_dir()
    assert folder.is_absolute() and not folder.resolve().is_relative_to(tmp_path.resolve())


def test_results_file_is_readable_by_everyone(tmp_path):
    path = report.save({"a": 1}, "p", tmp_path)
    assert path.stat().st_mode & 0o777 == 0o644


def test_run_time_records_the_cache_state(tmp_path):
    report.record_run_time("p", "01_x", 12.345, "cold", tmp_path)
    results = report.load("p", tmp_path)
    assert results["run_times"] == {"01_x": {"seconds": 12.35, "cache": "cold"}}
    with pytest.raises(ValueError, match="cache must be one of .* got cache = 'lukewarm'"):
        report.record_run_time("p", "01_x", 1.0, "lukewarm", tmp_path)


