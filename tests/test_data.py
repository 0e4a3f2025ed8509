"""Features, labelled datasets, the on-disk cache and parallel (joblib / Dask) labelling."""

from __future__ import annotations

import numpy as np
import pytest

import kdoffload as kd
from kdoffload import data

# PuLP 3.x warns on every LpVariable(...) and PULP_CBC_CMD that they go away in PuLP 4.0.


FIELDS = ("E", "D", "p1", "p2", "b1", "b2")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A fresh, empty dataset cache in ``tmp_path``; the previous one is restored afterwards."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("KDOFFLOAD_CACHE_DIR", str(directory))
    monkeypatch.setenv("KDOFFLOAD_PROGRESS", "0")
    # monkeypatch remembers the current objects and puts them back at teardown.
    monkeypatch.setattr(data, "memory", data.memory)
    monkeypatch.setattr(data, "_cached_build_dataset", data._cached_build_dataset)
    data.set_cache_dir(directory)
    return directory


@pytest.fixture
def label_calls(monkeypatch):
    """Counts calls of ``kdoffload.data.label`` (the expensive step of building a dataset)."""
    calls = []
    real_label = data.label

    def counting_label(*args, **kwargs):
        calls.append(args[1:])
        return real_label(*args, **kwargs)

    monkeypatch.setattr(data, "label", counting_label)
    return calls


def assert_same_dataset(a: kd.LabelledDataset, b: kd.LabelledDataset):
    for name in FIELDS:
        x, y = getattr(a.requirements, name), getattr(b.requirements, name)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
    assert a.labels.dtype == b.labels.dtype and a.labels.tobytes() == b.labels.tobytes()
    assert (a.preset, a.seed, a.solver) == (b.preset, b.seed, b.solver)


# Features --------------------------------------------------------------------------------

def test_feature_shape_at_six_subtasks():
    req = kd.sample(25, seed=0)
    x = kd.features(req)
    assert x.shape == (25, 17)
    assert x.dtype == np.float32
    assert data.feature_width(6) == 17 and data.feature_width(1) == 7


def test_feature_scaling_by_hand():
    # |A| = 1. The divisors are the upper ends of the wide ranges:
    # E / 2000e6, D / 10e6, p1 / 1000e6, p2 / 5000e6, b1 / 2e6, b2 / 3e6.
    req = kd.Requirements(E=[[5e8]], D=[[2.5e6, 1e7]], p1=[5e8], p2=[2.5e9], b1=[1e6], b2=[3e6])
    expected = [[5e8 / 2e9, 2.5e6 / 1e7, 1e7 / 1e7, 5e8 / 1e9, 2.5e9 / 5e9, 1e6 / 2e6, 3e6 / 3e6]]
    assert expected == [[0.25, 0.25, 1.0, 0.5, 0.5, 0.5, 1.0]]
    np.testing.assert_array_equal(kd.features(req), np.array(expected, dtype=np.float32))


def test_feature_column_order():
    # Column order: E_0..E_5, D_0..D_6, p1, p2, b1, b2.
    req = kd.sample(10, seed=4)
    x = kd.features(req)
    np.testing.assert_allclose(x[:, :6], req.E / 2e9, rtol=1e-6)
    np.testing.assert_allclose(x[:, 6:13], req.D / 1e7, rtol=1e-6)
    np.testing.assert_allclose(x[:, 13], req.p1 / 1e9, rtol=1e-6)
    np.testing.assert_allclose(x[:, 14], req.p2 / 5e9, rtol=1e-6)
    np.testing.assert_allclose(x[:, 15], req.b1 / 2e6, rtol=1e-6)
    np.testing.assert_allclose(x[:, 16], req.b2 / 3e6, rtol=1e-6)


@pytest.mark.parametrize("preset", ["wide", "narrow"])
def test_features_lie_in_unit_interval(preset):
    x = kd.features(kd.sample(5000, preset=preset, seed=1))
    assert x.min() >= 0.0 and x.max() <= 1.0


def test_narrow_features_use_the_wide_scaling():
    x = kd.features(kd.sample(5000, preset="narrow", seed=2))
    # Narrow E in [500, 1500] MCycles -> [0.25, 0.75]; D in [3, 8] MB -> [0.3, 0.8].
    assert 0.25 <= x[:, :6].min() and x[:, :6].max() <= 0.75
    assert 0.3 <= x[:, 6:13].min() and x[:, 6:13].max() <= 0.8


# Labelled datasets -----------------------------------------------------------------------

def test_labelled_dataset_matches_sample_and_dp(monkeypatch):
    monkeypatch.setenv("KDOFFLOAD_PROGRESS", "0")
    dataset = kd.labelled_dataset(300, seed=5, cache=False)  # labelled by the ILP (default)
    assert len(dataset) == 300 and dataset.solver == "ilp" and dataset.preset == "wide" and dataset.seed == 5
    req = kd.sample(300, preset="wide", num_subtasks=6, seed=5)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(dataset.requirements, name), getattr(req, name))
    np.testing.assert_array_equal(dataset.labels, kd.solve(req, method="dp"))
    assert dataset.labels.dtype == np.int64 and dataset.labels.shape == (300, 6)
    assert dataset.features.shape == (300, 17)


def test_same_seed_gives_bit_identical_datasets(monkeypatch):
    monkeypatch.setenv("KDOFFLOAD_PROGRESS", "0")
    a = kd.labelled_dataset(200, preset="narrow", num_subtasks=3, seed=9, solver="dp", cache=False)
    b = kd.labelled_dataset(200, preset="narrow", num_subtasks=3, seed=9, solver="dp", cache=False)
    assert_same_dataset(a, b)
    c = kd.labelled_dataset(200, preset="narrow", num_subtasks=3, seed=10, solver="dp", cache=False)
    assert not np.array_equal(a.requirements.E, c.requirements.E)


def test_objective_options_reach_the_labels(monkeypatch):
    monkeypatch.setenv("KDOFFLOAD_PROGRESS", "0")
    dataset = kd.labelled_dataset(100, num_subtasks=3, seed=2, solver="exhaustive", objective="energy",
                                  output_return=False, cache=False)
    np.testing.assert_array_equal(
        dataset.labels, kd.solve(dataset.requirements, method="dp", objective="energy", output_return=False))


def test_paper_datasets_are_independent(monkeypatch):
    monkeypatch.setenv("KDOFFLOAD_PROGRESS", "0")
    sets = kd.paper_datasets(seed=0, train_size=40, test_size=20, narrow_size=10, solver="dp", cache=False)
    assert {name: len(d) for name, d in sets.items()} == {"train": 40, "test": 20, "narrow": 10}
    assert [sets[k].preset for k in ("train", "test", "narrow")] == ["wide", "wide", "narrow"]
    assert len({d.seed for d in sets.values()}) == 3
    assert not np.isin(sets["test"].requirements.E, sets["train"].requirements.E).any()


# Cache -------------------------------------------------------------------------------------

def test_cache_hit_returns_identical_arrays_without_recomputing(cache_dir, label_calls):
    first = kd.labelled_dataset(150, num_subtasks=4, seed=3, solver="dp")
    assert len(label_calls) == 1
    assert cache_dir.exists() and any(cache_dir.rglob("output.pkl"))
    assert data._cached_build_dataset.check_call_in_cache(
        150, "wide", 4, 3, "dp", "latency", 0.5, True, kd.__version__, -1, 2000, None)

    second = kd.labelled_dataset(150, num_subtasks=4, seed=3, solver="dp")
    assert len(label_calls) == 1  # loaded, not recomputed
    assert_same_dataset(first, second)
    np.testing.assert_array_equal(second.labels, kd.solve(second.requirements, method="exhaustive"))

    # n_jobs, chunk_size and progress are not part of the key: still a hit.
    third = kd.labelled_dataset(150, num_subtasks=4, seed=3, solver="dp", n_jobs=1, chunk_size=50, progress=False)
    assert len(label_calls) == 1
    assert_same_dataset(first, third)


@pytest.mark.parametrize("change", [
    dict(seed=4), dict(n=151), dict(preset="narrow"), dict(num_subtasks=3), dict(solver="exhaustive"),
    dict(objective="energy"), dict(output_return=False), dict(objective="weighted", weight=0.25),
])
def test_changed_argument_misses(cache_dir, label_calls, change):
    arguments = dict(n=150, preset="wide", num_subtasks=4, seed=3, solver="dp", objective="weighted", weight=0.5)
    kd.labelled_dataset(**arguments)
    assert len(label_calls) == 1
    arguments.update(change)
    changed = kd.labelled_dataset(**arguments)
    assert len(label_calls) == 2
    np.testing.assert_array_equal(
        changed.labels, kd.solve(changed.requirements, method="dp", objective=arguments["objective"],
                                 weight=arguments["weight"], output_return=arguments.get("output_return", True)))


def test_cache_false_neither_reads_nor_writes(cache_dir, label_calls):
    kd.labelled_dataset(100, num_subtasks=2, seed=1, solver="dp", cache=False)
    assert not any(cache_dir.rglob("output.pkl"))
    kd.labelled_dataset(100, num_subtasks=2, seed=1, solver="dp")
    kd.labelled_dataset(100, num_subtasks=2, seed=1, solver="dp", cache=False)
    assert len(label_calls) == 3


def test_clearing_the_cache_recomputes(cache_dir, label_calls):
    kd.labelled_dataset(100, num_subtasks=2, seed=1, solver="dp")
    data.memory.clear(warn=False)
    kd.labelled_dataset(100, num_subtasks=2, seed=1, solver="dp")
    assert len(label_calls) == 2


# Parallel labelling ----------------------------------------------------------------------

def test_labels_do_not_depend_on_chunking_or_workers():
    req = kd.sample(600, num_subtasks=4, seed=8)
    serial = kd.label(req, solver="dp", n_jobs=1, chunk_size=10_000, progress=False)
    np.testing.assert_array_equal(serial, kd.solve(req, method="exhaustive"))
    chunked = kd.label(req, solver="ilp", n_jobs=2, chunk_size=150, progress=False)
    np.testing.assert_array_equal(chunked, serial)


def test_labels_with_dask_backend_match_serial():
    distributed = pytest.importorskip("dask.distributed")
    import joblib

    req = kd.sample(300, num_subtasks=5, seed=12)
    serial = kd.label(req, solver="ilp", n_jobs=1, chunk_size=10_000, progress=False)
    # Two threads, not one: with a one-thread cluster joblib's Dask backend reports
    # effective_n_jobs = 1 and joblib then runs everything sequentially in the caller,
    # so the test would not touch Dask at all. processes=False keeps start-up fast.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with joblib.parallel_config(backend="dask"), distributed.get_task_stream(client) as tasks:
            on_dask = kd.label(req, solver="ilp", chunk_size=100, progress=False)
    assert len(tasks.data) >= 3  # the three chunks ran as Dask tasks
    np.testing.assert_array_equal(on_dask, serial)
    np.testing.assert_array_equal(on_dask, kd.solve(req, method="dp"))


# Cache directory -----------------------------------------------------------------------------

def test_set_cache_dir_moves_the_cache(tmp_path, monkeypatch, label_calls):
    monkeypatch.setenv("KDOFFLOAD_PROGRESS", "0")
    monkeypatch.setattr(data, "memory", data.memory)
    monkeypatch.setattr(data, "_cached_build_dataset", data._cached_build_dataset)
    for name in ("one", "two"):
        memory = data.set_cache_dir(tmp_path / name)
        assert data.memory is memory
        kd.labelled_dataset(50, num_subtasks=2, seed=0, solver="dp")
        assert any((tmp_path / name).rglob("output.pkl"))
    assert len(label_calls) == 2  # the second directory starts empty
    data.set_cache_dir(tmp_path / "one")
    kd.labelled_dataset(50, num_subtasks=2, seed=0, solver="dp")
    assert len(label_calls) == 2


# Argument errors ---------------------------------------------------------------------------

NOT_REQUIREMENTS = r"^req must be a kdoffload\.Requirements, got numpy\.ndarray of shape \(3, 6\); make one with kd\.sample"


def test_features_and_label_name_an_array_given_for_requirements():
    req = kd.sample(3, seed=0)
    with pytest.raises(TypeError, match=NOT_REQUIREMENTS):
        kd.features(req.E)
    with pytest.raises(TypeError, match=NOT_REQUIREMENTS):
        kd.label(req.E, solver="dp")


@pytest.mark.parametrize("call, pattern", [
    (lambda: kd.labelled_dataset(10, seed=-1, cache=False), r"seed must be an integer >= 0, got seed = -1$"),
    (lambda: kd.labelled_dataset(10, seed=1.5, cache=False), r"seed must be an integer >= 0, got seed = 1\.5$"),
    (lambda: kd.labelled_dataset(10, seed=True, cache=False), r"seed must be an integer >= 0 \(not a bool\), got seed = True$"),
    (lambda: kd.labelled_dataset(True, cache=False), r"n must be an integer >= 1 \(not a bool\), got n = True$"),
    (lambda: kd.labelled_dataset(10, num_subtasks=2.0, cache=False),
     r"num_subtasks must be an integer >= 1, got num_subtasks = 2\.0$"),
    # Tiny sizes and the temporary cache of ``cache_dir``: a regression costs seconds, not hours.
    (lambda: kd.paper_datasets(seed=-1, train_size=5, test_size=5, narrow_size=5, solver="dp"),
     r"seed must be an integer >= 0, got seed = -1$"),
    (lambda: kd.paper_datasets(train_size=0, test_size=5, narrow_size=5, solver="dp"),
     r"train_size must be an integer >= 1, got train_size = 0$"),
    (lambda: kd.paper_datasets(train_size=5, test_size=5, narrow_size=2.5, solver="dp"),
     r"narrow_size must be an integer >= 1, got narrow_size = 2\.5$"),
    (lambda: kd.label(kd.sample(3, seed=0), chunk_size=0), r"chunk_size must be an integer >= 1, got chunk_size = 0$"),
])
def test_bad_arguments_are_named(call, pattern, cache_dir, label_calls):
    with pytest.raises(ValueError, match=pattern):
        call()
    assert label_calls == []  # refused before any labelling
