"""Results file, parameters display and the Summary's verdicts (kdoffload.report)."""

import json
import math

import numpy as np
import pytest

from kdoffload import paper, report


def test_record_merges_by_key(tmp_path):
    report.record("p", {"labels": {"agreement": {"n": 3}}}, tmp_path)
    report.record("p", {"labels": {"per_second": {"dp": 1.5}}}, tmp_path)
    results = report.record("p", {"labels": {"agreement": {"ilp_vs_dp": 1.0}}}, tmp_path)
    assert results["labels"] == {"agreement": {"n": 3, "ilp_vs_dp": 1.0}, "per_second": {"dp": 1.5}}
    assert json.loads((tmp_path / "p.json").read_text()) == results
    assert results["profile"] == "p"


def test_record_converts_numpy_and_non_finite(tmp_path):
    results = report.record("p", {"a": np.float32(0.5), "b": np.arange(3), "c": math.nan, "d": np.inf,
                                  "e": np.bool_(True)}, tmp_path)
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


def test_parameters_are_the_names_defined_after_the_snapshot():
    namespace = {"np": np, "In": [], "_i1": ""}
    before = report.snapshot(namespace)
    namespace["before"] = before
    namespace.update(profile="smoke", seeds=[0, 1], _hidden=1)
    assert report.parameters(namespace, before) == {"profile": "smoke", "seeds": [0, 1]}
    table = report.parameters_markdown({"profile": "smoke", "rate": 0.001, "seeds": [0, 1]})
    assert "| `profile` | `'smoke'` |" in table and "`0.001`" in table and "`[0, 1]`" in table


@pytest.mark.parametrize("paper_value, mean, std, verdict", [
    (1.095, 1.10, None, report.REPRODUCED),
    (1.095, 1.30, None, report.DIFFERS),
    (1.095, 1.30, 0.15, report.REPRODUCED),
    (1.095, None, None, report.UNCHECKABLE),
])
def test_number_verdict(paper_value, mean, std, verdict):
    assert report.number_verdict(paper_value, mean, std) == verdict


def test_summary_rows_without_results_cannot_check_anything():
    rows = report.summary_rows({})
    assert rows and all(row["verdict"] == report.UNCHECKABLE for row in rows)
    # every published number appears, read from kdoffload.paper
    papers = {row["paper"] for row in rows}
    assert f"{paper.FIGURE5['dil']:g}" in papers
    assert {f"{v:.2f}" for v in paper.TABLE1.values()} <= papers


def test_summary_rows_verdicts():
    results = {"figure5": {"normalized_latency": {
        "optimal": {"mean": 1.0, "std": 0.0}, "dil": {"mean": 1.09, "std": 0.01},
        "greedy": {"mean": 1.3, "std": 0.1}, "drl": {"mean": 1.5, "std": 0.1}, "local": {"mean": 1.6, "std": 0.1},
        "edge": {"mean": 5.0, "std": 2.0}, "cloud": {"mean": 9.0, "std": 2.0}, "random": {"mean": 14.0, "std": 1.0}}},
        "params": {"teacher": 272_146, "student": 2_226}}
    rows = {(row["where"], row["what"]): row for row in report.summary_rows(results)}
    assert rows["Figure 5", "normalised latency, dil"]["verdict"] == report.REPRODUCED
    assert rows["Figure 5 (text)", "DIL beats every baseline"]["verdict"] == report.REPRODUCED
    assert rows["Figure 5 (text)", "Edge beats Local"]["verdict"] == report.DIFFERS
    assert rows["Figure 5 (text)", "Edge beats Cloud"]["verdict"] == report.REPRODUCED
    assert rows["Figure 5 (text)", "Random is far worse than the others"]["verdict"] == report.REPRODUCED
    assert rows["§5.1–5.2", "parameters of the teacher"]["verdict"] == report.DIFFERS
    assert rows["Figure 6 (text)", "KD-DIL beats Baseline DIL, DRL and Greedy"]["verdict"] == report.UNCHECKABLE


def test_summary_falls_back_to_the_baselines_chapter():
    variant = "output_return=True/ratio_of_means"
    results = {"baselines": {"variants": {variant: {"local": {"mean": 1.6, "std": 0.1},
                                                    "edge": {"mean": 1.2, "std": 0.1}}}}}
    rows = {(row["where"], row["what"]): row for row in report.summary_rows(results)}
    assert rows["Figure 5 (text)", "Edge beats Local"]["verdict"] == report.REPRODUCED


def test_assumption_effects_pending_and_measured():
    assert "not measured yet" in report.assumption_effects({})[1]
    variant = "output_return={}/ratio_of_means"
    results = {"baselines": {"variants": {variant.format(r): {"edge": {"mean": 2.0}, "local": {"mean": 1.5}}
                                          for r in (True, False)},
                             "orderings": {"Edge < Local": {variant.format(True): False, variant.format(False): True}}}}
    effects = report.assumption_effects(results)
    assert "edge 2 / 2" in effects[1] and "Edge < Local" in effects[1]


def test_versions_and_machine():
    found = report.versions(("numpy", "surely-not-a-package"))
    assert found["numpy"] == np.__version__ and found["surely-not-a-package"] == "not installed"
    assert report.machine()["cpu_count"] >= 1


def test_summary_rows_cover_settings_and_text_claims():
    results = {"params": {"teacher": 272_402, "student": 2_226},
               "settings": {"train_size": 100_000, "test_size": 10_000, "narrow_size": 200, "num_subtasks": 6,
                            "teacher_hidden": [256] * 5, "student_hidden": [32, 32]},
               "figure5": {"normalized_latency": {"dil": {"mean": 1.08, "std": 0.01}}},
               "figure6": {"T": 5},
               "table1": {"batched": {"greedy": {"vs_greedy": 1.0}, "dil": {"vs_greedy": 0.5},
                                      "kd_dil": {"vs_greedy": 0.2}}}}
    rows = {(row["where"], row["what"]): row for row in report.summary_rows(results)}
    assert rows["§5.1", "setting: wide training requirements"]["verdict"] == report.REPRODUCED
    assert rows["§5.2", "setting: narrow training requirements"]["verdict"] == report.DIFFERS
    assert rows["§4, §5.2", "setting: temperature T of KD-DIL"]["verdict"] == report.REPRODUCED
    assert rows["§5.1–5.2", "setting: hidden layers of the student"]["verdict"] == report.REPRODUCED
    assert rows["§5.2", "student's parameters below the teacher's"]["verdict"] == report.DIFFERS
    assert rows["Figure 5 (text)", "DIL's latency is less than 10 % above optimal"]["verdict"] == report.REPRODUCED
    assert rows["Table 1 (batched)", "KD-DIL's delay is 63 % below DIL's"]["ours"] == "60%"
    assert rows["Table 1 (batched)", "Greedy is slightly slower than DIL"]["verdict"] == report.REPRODUCED
    assert rows["Table 1 (online)", "Greedy is slightly slower than DIL"]["verdict"] == report.UNCHECKABLE
    # every number kdoffload.paper holds appears in the paper column
    papers = {row["paper"] for row in rows.values()}
    assert {"100,000", "10,000", "1,000", "6", "5", "99.375%", "63%"} <= papers


def test_assumption_effects_ignore_claims_missing_under_a_reading():
    variant = "output_return={}/ratio_of_means"
    results = {"baselines": {"variants": {variant.format(r): {"edge": {"mean": 2.0}, "local": {"mean": 1.5}}
                                          for r in (True, False)},
                             "orderings": {"DIL < every baseline": {variant.format(True): False,
                                                                     variant.format(False): None}}},
               "softening": {"T5": [0.79, 0.14, 0.06], "T10": [0.59, 0.25, 0.16],
                             "matching": {"T5": {"T": 6.48, "max_error": 0.0097}}},
               "table1": {"batched": {"dil": {"vs_greedy": 3.0}, "kd_dil": {"vs_greedy": 0.5}},
                          "online": {"dil": {"vs_greedy": 5.0}, "kd_dil": {"vs_greedy": 2.0}}}}
    effects = report.assumption_effects(results)
    assert "Orderings that change: none" in effects[1]
    assert "6.48" in effects[12] and "3.00 / 0.50" in effects[14]


def test_summary_table_styles_verdicts():
    rows = report.summary_rows({})
    html = report.summary_table(rows, "t").to_html()
    assert "cannot be checked" in html
