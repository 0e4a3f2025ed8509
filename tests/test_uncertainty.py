"""Paired-bootstrap intervals over test samples and seeds (kdoffload.uncertainty).

Expected values are worked out independently: by enumerating every resample of a tiny
test set, or from a distribution whose spread is known.
"""

from itertools import product

import numpy as np
import pytest

from kdoffload import uncertainty


def exact_distribution(statistic, values):
    """Support and CDF of ``statistic`` over all n**n equally likely resamples of ``values``
    (arrays of n test samples, resampled with the same indices)."""
    n = len(values[0])
    outcomes = np.array([statistic([v[list(index)] for v in values]) for index in product(range(n), repeat=n)])
    support, counts = np.unique(outcomes, return_counts=True)
    return support, np.cumsum(counts) / len(outcomes)


def clear_levels(cdf, candidates=(0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)):
    """Levels whose two quantile points lie at least 0.03 from every jump of the CDF (near a
    jump the sample quantile of a finite bootstrap would be a coin toss)."""
    return [level for level in candidates
            if all(np.min(np.abs(cdf - p)) > 0.03 for p in ((1 - level) / 2, (1 + level) / 2))]


@pytest.mark.parametrize("metric, statistic", [
    ("normalized_latency", lambda v: v[0].mean() / v[1].mean()),
    ("mean_ratio", lambda v: (v[0] / v[1]).mean()),
    ("median_ratio", lambda v: np.median(v[0] / v[1])),
])
def test_interval_matches_exact_enumeration(metric, statistic):
    policy = np.array([3.0, 2.0, 8.0])
    optimal = np.array([1.0, 2.0, 2.0])  # ratios 3, 1, 4
    support, cdf = exact_distribution(statistic, [policy, optimal])
    levels = clear_levels(cdf)
    assert len(levels) >= 2
    for level in levels:
        expected = [support[np.searchsorted(cdf, p)] for p in ((1 - level) / 2, (1 + level) / 2)]
        found = uncertainty.bootstrap_interval({"p": policy}, optimal, metric, n_boot=4000, seed=1, level=level)["p"]
        assert (found["low"], found["high"]) == pytest.approx(tuple(expected)), level
    assert found["mean"] == pytest.approx(statistic([policy, optimal])) and found["std"] == 0.0


def test_two_samples_by_hand():
    # opt (1, 2), policy (3, 2): resamples {0,0} -> 3/1 = 3 (1/4), {1,1} -> 2/2 = 1 (1/4),
    # mixed -> 5/3 (1/2). The 5 % and 95 % quantiles are 1 and 3, the 30 % and 70 % both 5/3.
    lat = {"p": [3.0, 2.0]}
    wide = uncertainty.bootstrap_interval(lat, [1.0, 2.0], "normalized_latency", 4000, seed=0, level=0.9)["p"]
    narrow = uncertainty.bootstrap_interval(lat, [1.0, 2.0], "normalized_latency", 4000, seed=0, level=0.4)["p"]
    assert (wide["low"], wide["high"]) == (pytest.approx(1.0), pytest.approx(3.0))
    assert (narrow["low"], narrow["high"]) == (pytest.approx(5 / 3), pytest.approx(5 / 3))
    assert wide["mean"] == pytest.approx(5 / 3)


def test_many_chunks_give_the_same_distribution(monkeypatch):
    monkeypatch.setattr(uncertainty, "_CHUNK_CELLS", 10)  # 5 replicates per chunk
    found = uncertainty.bootstrap_interval({"p": [3.0, 2.0]}, [1.0, 2.0], "normalized_latency", 2000, 0, 0.9)["p"]
    assert (found["low"], found["high"]) == (pytest.approx(1.0), pytest.approx(3.0))


def test_seed_rows_are_drawn_per_replicate():
    # Seed 0 scores 1 on every sample, seed 1 scores 3: whatever the test indices, a
    # replicate gives 1 or 3 with probability 1/2 each.
    lat = {"learned": [[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]]}
    found = uncertainty.bootstrap_interval(lat, [1.0, 1.0, 1.0], "mean_ratio", 2000, seed=0, level=0.9)["learned"]
    assert found == {"mean": 2.0, "std": pytest.approx(np.sqrt(2)), "low": 1.0, "high": 3.0}
    stats = uncertainty.replicate_statistics(lat, [1.0, 1.0, 1.0], "mean_ratio", 2000, seed=0)["learned"]
    assert set(stats) == {1.0, 3.0} and 0.45 < np.mean(stats == 1.0) < 0.55


def test_one_test_set_per_seed():
    # test set 0: policy twice the optimal everywhere; test set 1: four times.
    optimal = np.array([[1.0, 5.0], [2.0, 0.5]])
    lat = {"p": optimal * np.array([[2.0], [4.0]])}
    found = uncertainty.bootstrap_interval(lat, optimal, "normalized_latency", 1000, seed=3, level=0.9)["p"]
    assert found == {"mean": 3.0, "std": pytest.approx(np.sqrt(2)), "low": 2.0, "high": 4.0}


def test_clt_width_of_a_mean_ratio():
    # n draws of a ratio with known sd: the 95 % interval of the mean is about +- 1.96 sd / sqrt(n).
    rng = np.random.default_rng(0)
    n = 400
    ratios = 2.0 + 0.5 * rng.standard_normal(n)
    optimal = rng.pareto(1.5, n) + 0.1  # heavy-tailed, irrelevant to the mean ratio
    found = uncertainty.bootstrap_interval({"p": ratios * optimal}, optimal, "mean_ratio", 4000, 0)["p"]
    half = 1.96 * ratios.std() / np.sqrt(n)
    assert found["mean"] == pytest.approx(ratios.mean())
    assert (found["high"] - found["low"]) / 2 == pytest.approx(half, rel=0.1)
    assert found["low"] < ratios.mean() < found["high"]


def test_pairing_cancels_the_shared_test_set_variance():
    rng = np.random.default_rng(1)
    optimal = rng.pareto(1.2, 300) + 0.01
    a, b = 2.0 * optimal, 1.5 * optimal  # a / optimal = 2 and b / optimal = 1.5 on every sample
    for metric in uncertainty.METRICS:
        diff = uncertainty.paired_difference_interval(a, b, optimal, metric, n_boot=500, seed=0)
        assert diff == pytest.approx({"difference": 0.5, "low": 0.5, "high": 0.5})
    # yet a's mean latency alone varies a lot from resample to resample
    alone = uncertainty.bootstrap_interval({"a": a}, np.ones_like(a), "normalized_latency", 500, 0)["a"]
    assert alone["high"] - alone["low"] > 0.1 * alone["mean"]


def test_an_exact_tie_contains_zero():
    lat = np.array([[1.0, 2.0, 5.0], [1.0, 3.0, 4.0]])
    diff = uncertainty.paired_difference_interval(lat, lat.copy(), [1.0, 2.0, 4.0], "median_ratio", 200, seed=0)
    assert diff == {"difference": 0.0, "low": 0.0, "high": 0.0}
    assert uncertainty.difference_reading(diff["low"], diff["high"]) == uncertainty.INDISTINGUISHABLE
    assert uncertainty.difference_reading(-0.2, -0.1) == uncertainty.LOWER
    assert uncertainty.difference_reading(0.1, 0.2) == uncertainty.HIGHER


def test_difference_is_the_difference_of_the_same_replicates():
    rng = np.random.default_rng(2)
    optimal = rng.random(50) + 0.5
    lat = {"a": optimal * (1 + rng.random((2, 50))), "b": optimal * (1.2 + rng.random((2, 50)))}
    stats = uncertainty.replicate_statistics(lat, optimal, "median_ratio", 300, seed=7)
    diff = uncertainty.paired_difference_interval(lat["a"], lat["b"], optimal, "median_ratio", 300, seed=7, level=0.8)
    assert (diff["low"], diff["high"]) == pytest.approx(np.quantile(stats["a"] - stats["b"], [0.1, 0.9]))
    single = uncertainty.bootstrap_interval({"a": lat["a"]}, optimal, "median_ratio", 300, seed=7, level=0.8)["a"]
    assert (single["low"], single["high"]) == pytest.approx(np.quantile(stats["a"], [0.1, 0.9]))


def test_same_seed_same_interval_other_seed_other_interval():
    rng = np.random.default_rng(3)
    optimal = rng.random(40) + 0.5
    lat = {"p": optimal * (1 + rng.random(40))}
    first = uncertainty.bootstrap_interval(lat, optimal, "normalized_latency", 200, seed=11)
    assert first == uncertainty.bootstrap_interval(lat, optimal, "normalized_latency", 200, seed=11)
    assert first != uncertainty.bootstrap_interval(lat, optimal, "normalized_latency", 200, seed=12)


@pytest.mark.parametrize("kwargs, pattern", [
    ({"n_boot": 99}, "n_boot = 99"),
    ({"n_boot": 200.0}, "n_boot = 200.0"),
    ({"level": 0.0}, "level = 0.0"),
    ({"level": 1}, "level = 1"),
    ({"level": 1.5}, "level = 1.5"),
    ({"metric": "mean"}, "metric = 'mean'"),
])
def test_bad_arguments_are_named(kwargs, pattern):
    arguments = {"metric": "normalized_latency", "n_boot": 200, "seed": 0, "level": 0.95, **kwargs}
    with pytest.raises(ValueError, match=pattern):
        uncertainty.bootstrap_interval({"p": [1.0, 2.0]}, [1.0, 1.0], **arguments)
    with pytest.raises(ValueError, match=pattern):
        uncertainty.paired_difference_interval([1.0, 2.0], [2.0, 2.0], [1.0, 1.0], **arguments)


@pytest.mark.parametrize("lat, optimal, pattern", [
    ({"p": [2.0]}, [1.0], "at least 2 test samples to resample, got 1"),
    ({"p": [2.0, 1.0, 1.0]}, [1.0, 1.0], "'p' have 3 samples, the optimal ones 2"),
    ({"p": [[1.0, 1.0]] * 2, "q": [[1.0, 1.0]] * 3}, [1.0, 1.0], r"1 row or the same number of rows.*\[1, 2, 3\]"),
    ({"p": [1.0, 1.0]}, [[1.0, 1.0], [2.0, 2.0]], r"every policy needs as many rows; \['p'\]"),
    ({"p": [1.0, np.nan]}, [1.0, 1.0], "NaN"),
    ({}, [1.0, 1.0], "non-empty"),
])
def test_bad_arrays_are_named(lat, optimal, pattern):
    with pytest.raises(ValueError, match=pattern):
        uncertainty.bootstrap_interval(lat, optimal, n_boot=100)
