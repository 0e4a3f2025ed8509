"""Chapter 5: every policy under both readings of the task output, one test set per seed.

With the output returned to the device (the default reading) and left where the last
subtask ran (the book's Assumptions page, point 1), each seed draws its own wide test set,
labelled by dynamic programming under each reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import registry, uncertainty
from ..evaluate import latency_ratios, summarize
from ..system import latency
from .claims import CLAIMS, ordering_intervals
from .intervals import interval_table
from .policies import Latencies, policy


def _reading_runs(names: Sequence[str], seeds: Iterable[int], test_size: int, learned_readings, **options):
    """``(i, seed, output_return, req, optimal, name, decisions)`` of :func:`reading_scores`."""
    from ..solvers import solve
    from ..system import sample

    for i, seed in enumerate(seeds):
        req = sample(test_size, "wide", seed=10_000 + seed)
        for output_return in (True, False):
            optimal = solve(req, method="dp", output_return=output_return)
            for name in names:
                info = registry.get(name)
                if info.family == "learned":  # trained on output-returned labels
                    if output_return not in learned_readings:
                        continue
                    chosen = policy(name, seed, **options)
                else:  # a rule-based policy is built for the reading
                    chosen = info.build(seed=seed, output_return=output_return)
                yield i, int(seed), output_return, req, optimal, name, chosen.decide(req)


def reading_scores(names: Sequence[str], seeds: Iterable[int], test_size: int, learned_readings=(True,),
                   **options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every policy under both readings of the output, on a fresh wide test set per seed.

    For each seed, ``kd.sample(test_size, "wide", seed=10_000 + seed)`` is labelled by
    dynamic programming with the output returned to the device and with the output left
    where the last subtask ran (Assumptions, point 1); every policy of ``names`` is scored by
    :func:`kdoffload.summarize` under each reading. Greedy is built for the reading;
    a learned policy (trained on output-returned labels) is scored only under the
    readings in ``learned_readings``. ``options`` go to :func:`learned_policy`.

    Returns ``(scores, ratios)``: one row per (seed, output_return, policy) with the
    metrics, and the per-sample ratios (policy, ratio) of the first seed, output returned.
    """
    rows, ratio_frames = [], []
    for i, seed, output_return, req, optimal, name, decisions in _reading_runs(
            names, seeds, test_size, learned_readings, **options):
        rows.append({"seed": seed, "output_return": output_return, "policy": name,
                     **summarize(req, decisions, optimal, output_return)})
        if output_return and i == 0:
            ratio_frames.append(pd.DataFrame({"policy": name, "ratio": latency_ratios(
                req, decisions, optimal, output_return)}))
    return pd.DataFrame(rows), pd.concat(ratio_frames, ignore_index=True)


def reading_latencies(names: Sequence[str], seeds: Sequence[int], test_size: int, learned_readings=(True,),
                      **options) -> dict[bool, Latencies]:
    """``{output_return: Latencies}`` of the runs of :func:`reading_scores`: one row per seed,
    and the optimal latencies with one row per seed too (each seed has its own test set)."""
    by_reading: dict[bool, tuple[dict, dict]] = {}
    for _, seed, output_return, req, optimal, name, decisions in _reading_runs(
            names, seeds, test_size, learned_readings, **options):
        policies, optima = by_reading.setdefault(output_return, ({}, {}))
        policies.setdefault(name, []).append(latency(req, decisions, output_return))
        optima.setdefault(seed, latency(req, optimal, output_return))
    return {reading: Latencies({name: np.stack(rows) for name, rows in policies.items()}, np.stack(list(optima.values())))
            for reading, (policies, optima) in by_reading.items()}


def reading_intervals(names: Sequence[str], seeds: Sequence[int], test_size: int, n_boot: int = uncertainty.N_BOOT,
                      seed: int = 0, level: float = uncertainty.LEVEL, learned_readings=(True,),
                      claims: Mapping | None = None, **options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bootstrap intervals of chapter 5: ``(table, differences)``.

    ``table`` is indexed like :func:`reading_table` (output_return, normalisation, policy)
    with columns mean, std, low, high; ``differences`` is :func:`ordering_intervals` of
    ``claims`` (default :data:`CLAIMS` and "Random is the worst") for every reading and
    normalisation, with columns output_return and normalisation added. A replicate draws one
    seed — its test set and its learned models together — and resamples that test set.
    Needs at least 2 seeds.
    """
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError(f"intervals over test sets need at least 2 seeds (test sets), got seeds = {seeds}")
    if claims is None:
        claims = {**CLAIMS, "Random is the worst": ([n for n in names if n != "random"], ["random"])}
    tables, differences = [], []
    for output_return, lat in reading_latencies(names, seeds, test_size, learned_readings, **options).items():
        table = interval_table(lat, list(NORMALISATIONS), n_boot, seed, level)
        tables.append(table.assign(output_return=output_return))
        for metric, normalisation in NORMALISATIONS.items():
            found = ordering_intervals(lat, claims, metric, n_boot, seed, level)
            differences.append(found.assign(output_return=output_return, normalisation=normalisation))
    table = pd.concat(tables, ignore_index=True)
    table["normalisation"] = table["metric"].map(NORMALISATIONS)
    table = table.set_index(["output_return", "normalisation", "policy"])[["mean", "std", "low", "high"]]
    return table, pd.concat(differences, ignore_index=True)


#: The three normalisations of chapter 5: column of :func:`scores` -> display name.
NORMALISATIONS = {"normalized_latency": "ratio of means", "mean_ratio": "mean ratio",
                  "median_ratio": "median ratio"}


def reading_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds of each normalisation of a :func:`reading_scores` frame,
    indexed by (output_return, normalisation, policy)."""
    long = frame.melt(id_vars=["seed", "output_return", "policy"], value_vars=list(NORMALISATIONS),
                      var_name="normalisation")
    long["normalisation"] = long["normalisation"].map(NORMALISATIONS)
    return long.groupby(["output_return", "normalisation", "policy"], sort=False)["value"].agg(["mean", "std"])
