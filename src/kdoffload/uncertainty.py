"""Confidence intervals that include the variance of the test set itself.

The error bars of chapters 3–5 are standard deviations over training seeds on one fixed
test set: a rule-based policy such as Edge shows ``± 0.000`` although a second test set
drawn the same way would give a different number, and ``1/b`` is heavy-tailed
(Assumptions, point 6), so the test set is a large source of variance. This module gives
percentile-bootstrap intervals over the test samples, combined with the training seeds.

**The resampling scheme.** Every latency array has one row per training seed (a policy
that ignores the seed may give a single row) and one column per test sample. One
bootstrap replicate is

1. ``n`` test indices drawn with replacement from the ``n`` test samples, and
2. one row (training seed) ``s`` drawn uniformly from the ``S`` rows,

and the *same* indices and the *same* ``s`` are applied to every policy and to the
optimal latencies (a paired bootstrap). Drawing one seed per replicate — rather than
averaging over resampled seeds — makes the interval describe *one* training run scored
on a test set like ours, which is what the paper's single numbers are (and what the old
"2 standard deviations over seeds" rule described). The seed is shared between policies
because seed ``s`` ties them: in chapters 3–4 the KD-DIL student of seed ``s`` learns
from the teacher of seed ``s``, and in chapter 5 seed ``s`` also names the test set (then
the optimal latencies have one row per seed, too). For policies trained independently the
shared draw changes nothing in expectation. Sharing the test indices is what makes a
difference between two policies precise: the samples both find hard are hard for both,
and that part of the variance cancels.

The statistic of a replicate is one of the three normalisations of
:mod:`kdoffload.evaluate`: ``normalized_latency`` (ratio of means),
``mean_ratio`` (mean of per-sample ratios) or ``median_ratio``. The interval is the
``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the replicate statistics (the
percentile bootstrap). The point estimate ``mean`` is the statistic on the whole test set,
averaged over the rows (the same number as :func:`kdoffload.experiments.mean_std`).

Every function takes a ``seed``; the same seed gives the same replicates (the same
indices and rows) in every function of this module, for the same ``n`` and ``S``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .evaluate import ratio_of_latencies

#: The normalisations an interval can be computed for (columns of :func:`kdoffload.summarize`).
METRICS = ("normalized_latency", "mean_ratio", "median_ratio")

#: Fewest bootstrap replicates accepted (fewer give quantiles too coarse to mean anything).
MIN_BOOT = 100

#: Default number of replicates and confidence level.
N_BOOT = 2000
LEVEL = 0.95

#: Replicates are drawn in chunks of about this many (replicate, sample) cells.
_CHUNK_CELLS = 2_000_000


def check_level(level) -> float:
    """``level`` as a float; ValueError unless 0 < level < 1."""
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
        raise ValueError(f"level must be a number strictly between 0 and 1, got level = {level!r}")
    return float(level)


def check_n_boot(n_boot) -> int:
    """``n_boot`` as an int; ValueError unless it is an integer >= :data:`MIN_BOOT`."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < MIN_BOOT:
        raise ValueError(f"n_boot must be an integer >= {MIN_BOOT}, got n_boot = {n_boot!r}")
    return int(n_boot)


def check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}, got metric = {metric!r}")
    return metric


def _rows(name: str, values) -> np.ndarray:
    """``values`` as a float (rows, n) array: a 1-D array is one row."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"{name} must be a 1-D array (samples) or 2-D (seeds, samples), got shape {array.shape}")
    if np.isnan(array).any():
        raise ValueError(f"{name} holds NaN")
    return array


def _check(latencies_by_policy: Mapping, optimal_latency) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """Arrays as (rows, n); the number of seeds S. Rows are 1 or S; every n is equal and >= 2."""
    if not isinstance(latencies_by_policy, Mapping) or not latencies_by_policy:
        raise ValueError("latencies_by_policy must be a non-empty mapping {policy: latencies}")
    optimal = _rows("optimal_latency", optimal_latency)
    arrays = {str(name): _rows(f"latencies of {name!r}", values) for name, values in latencies_by_policy.items()}
    n = optimal.shape[1]
    if n < 2:
        raise ValueError(f"need at least 2 test samples to resample, got {n}")
    for name, array in arrays.items():
        if array.shape[1] != n:
            raise ValueError(f"latencies of {name!r} have {array.shape[1]} samples, the optimal ones {n}")
    counts = {array.shape[0] for array in arrays.values()} | {optimal.shape[0]}
    seeds = max(counts)
    if counts - {1, seeds}:
        raise ValueError(f"every array must have 1 row or the same number of rows (seeds), got {sorted(counts)}")
    if optimal.shape[0] > 1:
        # one test set per seed: a single row cannot stand for a policy on every test set
        single = [name for name, array in arrays.items() if array.shape[0] != optimal.shape[0]]
        if single:
            raise ValueError(f"with one optimal row per seed ({optimal.shape[0]} test sets), every policy needs "
                             f"as many rows; {single} have one")
    return arrays, optimal, seeds


def _statistic(values: np.ndarray, optimal: np.ndarray, ratios: np.ndarray, metric: str) -> np.ndarray:
    """The metric of every row of (B, n) arrays: ``values`` (latencies), ``optimal``, ``ratios``."""
    if metric == "normalized_latency":
        return values.mean(axis=1) / optimal.mean(axis=1)
    if metric == "mean_ratio":
        return ratios.mean(axis=1)
    return np.median(ratios, axis=1)


def _weighted_means(counts: np.ndarray, row: np.ndarray, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """For each (rows, n) array, the mean of ``array[row[b]]`` over the resampled indices of
    replicate ``b``, from their counts (B, n): ``counts[b] @ array[row[b]] / n`` (the mean of
    the gathered values, without gathering them; one matrix product for all arrays)."""
    sums = counts @ np.concatenate(arrays).T / counts.shape[1]
    out, first = [], 0
    for array in arrays:
        columns = sums[:, first:first + array.shape[0]]
        out.append(columns[np.arange(len(row)), row if array.shape[0] > 1 else 0])
        first += array.shape[0]
    return out


def point_estimate(latencies, optimal_latency, metric: str = "normalized_latency") -> tuple[float, float]:
    """Mean and standard deviation (ddof = 1; 0 for one row) over the rows (seeds) of ``metric``
    on the whole test set: the ``mean`` and ``std`` of :func:`bootstrap_interval`."""
    check_metric(metric)
    values, optimal = np.broadcast_arrays(_rows("latencies", latencies), _rows("optimal_latency", optimal_latency))
    per_row = _statistic(values, optimal, ratio_of_latencies(values, optimal), metric)
    return float(per_row.mean()), float(per_row.std(ddof=1)) if len(per_row) > 1 else 0.0


def replicate_statistics(latencies_by_policy: Mapping, optimal_latency, metric: str = "normalized_latency",
                         n_boot: int = N_BOOT, seed: int = 0) -> dict[str, np.ndarray]:
    """The ``metric`` of every policy on each of ``n_boot`` paired bootstrap replicates.

    ``latencies_by_policy`` maps a policy to its per-sample latencies, shape (n,) or
    (seeds, n); ``optimal_latency`` is (n,) (one test set) or (seeds, n) (one test set per
    seed). Returns ``{policy: (n_boot,) array}``; entry ``b`` of every policy comes from the
    same replicate (module docstring), so differences between policies are paired.
    """
    check_metric(metric)
    n_boot = check_n_boot(n_boot)
    arrays, optimal, seeds = _check(latencies_by_policy, optimal_latency)
    n = optimal.shape[1]
    ratios = {name: ratio_of_latencies(array, optimal) for name, array in arrays.items()}
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_CELLS // n)
    out = {name: np.empty(n_boot) for name in arrays}
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        index = rng.integers(0, n, size=(size, n))
        row = rng.integers(0, seeds, size=size)
        if metric == "median_ratio":
            for name, ratio in ratios.items():
                resampled = ratio[row[:, None], index] if ratio.shape[0] > 1 else ratio[0, index]
                out[name][start:start + size] = np.median(resampled, axis=1)
            continue
        # means need only how often each sample was drawn
        counts = np.bincount((index + n * np.arange(size)[:, None]).ravel(), minlength=size * n)
        counts = counts.reshape(size, n).astype(np.float64)
        if metric == "normalized_latency":
            optimal_means, *means = _weighted_means(counts, row, [optimal, *arrays.values()])
            for name, mean in zip(arrays, means):
                out[name][start:start + size] = mean / optimal_means
        else:
            for name, mean in zip(ratios, _weighted_means(counts, row, list(ratios.values()))):
                out[name][start:start + size] = mean
    return out


def percentile_interval(values, level: float = LEVEL) -> tuple[float, float]:
    """The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of ``values``."""
    level = check_level(level)
    low, high = np.quantile(np.asarray(values, dtype=np.float64), [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def bootstrap_interval(latencies_by_policy: Mapping, optimal_latency, metric: str = "normalized_latency",
                       n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> dict[str, dict[str, float]]:
    """``{policy: {"mean", "std", "low", "high"}}``: the ``level`` percentile-bootstrap interval
    of ``metric`` (ratio of means, mean ratio or median ratio) for every policy.

    ``mean`` and ``std`` are over the rows (seeds) on the whole test set, as in
    :func:`kdoffload.experiments.mean_std`; ``low`` and ``high`` bound one training run on a
    resampled test set (module docstring). A policy given as one row (it ignores the seed)
    gets an interval from the test samples alone.

    Raises ValueError for fewer than 2 test samples, ``n_boot`` < :data:`MIN_BOOT`,
    ``level`` outside (0, 1), an unknown ``metric`` or arrays that do not line up.
    """
    level = check_level(level)
    stats = replicate_statistics(latencies_by_policy, optimal_latency, metric, n_boot, seed)
    arrays, optimal, _ = _check(latencies_by_policy, optimal_latency)
    result = {}
    for name, array in arrays.items():
        mean, std = point_estimate(array, optimal, metric)
        low, high = percentile_interval(stats[name], level)
        result[name] = {"mean": mean, "std": std, "low": low, "high": high}
    return result


def paired_difference_interval(a, b, optimal_latency, metric: str = "normalized_latency", n_boot: int = N_BOOT,
                               seed: int = 0, level: float = LEVEL) -> dict[str, float]:
    """``{"difference", "low", "high"}``: ``metric`` of policy ``a`` minus that of ``b``.

    ``difference`` is the difference of the point estimates (means over rows on the whole
    test set); ``low`` and ``high`` are the ``level`` percentile interval of the difference
    over paired replicates (the same test indices and seed row for ``a``, ``b`` and the
    optimal). An interval below 0 says ``a`` is better (lower) than ``b``; one containing
    0 says the test set and seeds cannot tell them apart; two identical policies give
    exactly ``(0, 0)``. Same errors as :func:`bootstrap_interval`.
    """
    level = check_level(level)
    stats = replicate_statistics({"a": a, "b": b}, optimal_latency, metric, n_boot, seed)
    arrays, optimal, _ = _check({"a": a, "b": b}, optimal_latency)
    low, high = percentile_interval(stats["a"] - stats["b"], level)
    difference = point_estimate(arrays["a"], optimal, metric)[0] - point_estimate(arrays["b"], optimal, metric)[0]
    return {"difference": difference, "low": low, "high": high}


#: How a difference interval of (better - worse) reads.
LOWER, HIGHER, INDISTINGUISHABLE = "lower", "higher", "indistinguishable"


def difference_reading(low: float, high: float) -> str:
    """``lower`` if the whole interval is below 0, ``higher`` if above, else ``indistinguishable``
    (the interval contains 0, including an exact tie ``(0, 0)``)."""
    if high < 0:
        return LOWER
    if low > 0:
        return HIGHER
    return INDISTINGUISHABLE
