"""Bootstrap intervals over test samples and training seeds of every policy's metrics."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .. import uncertainty
from ..data import LabelledDataset
from .policies import Latencies, _check_seeds, _mapping, latencies


def interval_table(lat: Latencies, metrics: Sequence[str] = uncertainty.METRICS, n_boot: int = uncertainty.N_BOOT,
                   seed: int = 0, level: float = uncertainty.LEVEL) -> pd.DataFrame:
    """One row per (metric, policy): columns metric, policy, mean, std, low, high
    (:func:`kdoffload.uncertainty.bootstrap_interval`; every metric sees the same replicates)."""
    rows = []
    for metric in metrics:
        found = uncertainty.bootstrap_interval(lat.by_policy, lat.optimal, metric, n_boot, seed, level)
        rows += [{"metric": metric, "policy": key, **values} for key, values in found.items()]
    return pd.DataFrame(rows, columns=["metric", "policy", "mean", "std", "low", "high"])


def scores_with_intervals(policies, test: LabelledDataset, seeds: Sequence[int], n_boot: int = uncertainty.N_BOOT,
                          seed: int = 0, level: float = uncertainty.LEVEL,
                          metrics: Sequence[str] = uncertainty.METRICS, **options) -> pd.DataFrame:
    """:func:`interval_table` of :func:`latencies`: mean and std over ``seeds`` and a
    ``level`` bootstrap interval over test samples and seeds, per policy and metric.

    ``policies``, ``test``, ``seeds`` and ``options`` as in :func:`scores`; ``seed`` seeds the
    bootstrap. Raises ValueError if a policy that depends on the seed (learned, Random) has
    fewer than 2 seeds.
    """
    seeds = list(seeds)
    _check_seeds(_mapping(policies).values(), seeds)
    return interval_table(latencies(policies, test, seeds, **options), metrics, n_boot, seed, level)


def interval_record(frame: pd.DataFrame) -> dict:
    """``{metric: {policy: {"mean", "std", "low", "high"}}}`` of an :func:`interval_table`
    (merges into the results file beside :func:`mean_std`'s entries)."""
    return {metric: {row.policy: {"mean": row.mean, "std": row.std, "low": row.low, "high": row.high}
                     for row in group.itertuples()}
            for metric, group in frame.groupby("metric", sort=False)}
