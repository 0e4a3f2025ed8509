"""Policies by name and their scores over training seeds on one labelled test set.

:func:`policy` builds any registered policy (:mod:`kdoffload.registry`) for a seed; the
learned ones come from the cached entry points through :func:`kdoffload.learned.learned_policy`,
so every chapter asking for the same (policy, seed, ``train_profile``, ``data_seed``, T,
alpha) gets the same model, trained once. :func:`scores` evaluates a set of policies for
every seed (:func:`kdoffload.evaluate.summarize`); :func:`mean_std` gives the results
file's ``{"mean", "std"}`` (std over seeds, ddof = 1, as seaborn's ``errorbar="sd"``);
:func:`latencies` keeps the per-sample latencies for the bootstrap intervals. Learned
models missing from the cache are trained first, in parallel (:mod:`kdoffload.experiments.parallel`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from .. import registry
from ..data import LabelledDataset
from ..evaluate import latency_ratios, summarize
from ..learned import learned_policy
from ..system import latency
from .parallel import train_learned


#: Bars of Figure 5 (§5.1) and Figure 6 (§5.2), in the paper's order, as
#: {key in the results file: policy name for :func:`policy`}.
FIGURE5 = {"optimal": "optimal_dp", "dil": "dil", "greedy": "greedy", "drl": "drl_wide", "local": "local",
           "edge": "edge", "cloud": "cloud", "random": "random"}


FIGURE6 = {"optimal": "optimal_dp", "kd_dil": "kd_dil", "baseline_dil": "baseline_dil", "drl": "drl_narrow",
           "greedy": "greedy"}


#: Columns of :func:`scores` (those of :func:`kdoffload.evaluate.summarize`).
METRICS = ("normalized_latency", "mean_ratio", "median_ratio", "accuracy", "subtask_accuracy")


def _mapping(policies) -> dict[str, str]:
    if isinstance(policies, Mapping):
        return dict(policies)
    return {name: name for name in policies}


def rule_based() -> tuple[str, ...]:
    """Names of the registered exact and heuristic policies (:mod:`kdoffload.registry`)."""
    return registry.names(family="exact") + registry.names(family="heuristic")


def learned() -> tuple[str, ...]:
    """Names of the registered learned policies."""
    return registry.names(family="learned")


def policy(name: str, seed: int = 0, **options):
    """Any registered policy by name; ``options`` go to a learned policy's
    :func:`learned_policy` and are ignored by the rule-based ones."""
    info = registry.get(name)
    if info.family == "learned":
        return learned_policy(name, seed, **options)
    return info.build(seed=seed)


def scores(policies, test: LabelledDataset, seeds: Iterable[int], **options) -> pd.DataFrame:
    """One row per (policy, seed): the metrics of :func:`kdoffload.summarize` on ``test``.

    ``policies`` maps the key to show (e.g. ``"drl"``) to a policy name for :func:`policy`
    (e.g. ``"drl_wide"``), or is a sequence of names used as their own keys. The
    reference decisions are ``test.labels`` (the exact labels). ``options`` go to
    :func:`learned_policy` (``train_profile``, ``data_seed``, ``T``, ``alpha``).
    """
    req = test.requirements
    rows = [{"policy": key, "seed": seed, **summarize(req, decisions, test.labels)}
            for key, seed, decisions in _decided(policies, test, seeds, **options)]
    return pd.DataFrame(rows)


def _decided(policies, test: LabelledDataset, seeds: Iterable[int], **options):
    """``(key, seed, decisions)`` on ``test`` for every seed and policy (seeds outer)."""
    req = test.requirements
    seeds = list(seeds)
    train_learned(_mapping(policies).values(), seeds, **options)
    for seed in seeds:
        for key, name in _mapping(policies).items():
            yield key, int(seed), policy(name, seed, **options).decide(req)


def ratios(policies, test: LabelledDataset, seed: int = 0, **options) -> pd.DataFrame:
    """Per-sample latency ratios (policy / optimal) on ``test`` for one seed: columns policy, ratio."""
    req = test.requirements
    frames = [pd.DataFrame({"policy": key, "ratio": latency_ratios(req, policy(name, seed, **options).decide(req),
                                                                   test.labels)})
              for key, name in _mapping(policies).items()]
    return pd.concat(frames, ignore_index=True)


def mean_std(frame: pd.DataFrame, metric: str = "normalized_latency", by: str = "policy") -> dict:
    """``{group: {"mean": m, "std": s}}`` of ``metric`` over the rows of each group (seeds)."""
    grouped = frame.groupby(by, sort=False)[metric]
    return {key: {"mean": float(group.mean()), "std": float(group.std()) if len(group) > 1 else 0.0}
            for key, group in grouped}


class Latencies(NamedTuple):
    """Per-sample latencies: ``by_policy`` maps a key to a (seeds, n) array; ``optimal`` is
    (n,) for one test set or (seeds, n) for one test set per seed (chapter 5)."""

    by_policy: dict[str, np.ndarray]
    optimal: np.ndarray


def _check_seeds(names: Iterable[str], seeds: Sequence[int]) -> None:
    varying = sorted({name for name in names if registry.get(name).seeded})
    if varying and len(seeds) < 2:
        raise ValueError(f"an interval for {varying} needs at least 2 seeds (it includes the spread over "
                         f"training seeds), got seeds = {list(seeds)}")


def latencies(policies, test: LabelledDataset, seeds: Iterable[int], **options) -> Latencies:
    """The per-sample latencies on ``test`` of every policy (one row per seed, in ``seeds``
    order) and of the exact labels. Arguments as in :func:`scores`, which sees the same
    decisions."""
    req = test.requirements
    rows: dict[str, list] = {}
    for key, _, decisions in _decided(policies, test, seeds, **options):
        rows.setdefault(key, []).append(latency(req, decisions))
    return Latencies({key: np.stack(values) for key, values in rows.items()}, latency(req, test.labels))
