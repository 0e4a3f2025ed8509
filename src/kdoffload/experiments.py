"""The experiments of chapters 3–6: the policies of Figures 5 and 6 over training seeds.

Every policy is named by its key in the results file (``optimal``, ``dil``, ``kd_dil``,
``baseline_dil``, ``greedy``, ``local``, ``edge``, ``cloud``, ``random``) or, for the two
DQNs, by ``drl_wide`` (Figure 5, trained on the wide training set) and ``drl_narrow``
(Figure 6, trained on the narrow §5.2 set). :func:`policy` returns it for one seed:

* the learned ones come from the cached entry points :func:`kdoffload.train.train_teacher`,
  :func:`kdoffload.train.train_baseline_dil`, :func:`kdoffload.distill.train_student_kd`
  and :func:`kdoffload.drl.train_dqn`, so every chapter that asks for the same
  (policy, seed, ``train_profile``, ``data_seed``, T, alpha) gets the same model, trained
  once; the KD-DIL student of seed ``s`` is distilled from the teacher of seed ``s``;
* ``random`` is seeded by the seed, the other rule-based policies ignore it;
* ``optimal`` is the exact dynamic program (the same decisions as the test set's CBC
  labels, see chapter 2).

Models missing from the cache are trained in parallel worker processes, one thread and
one seed each (:func:`train_in_parallel`, ``$KDOFFLOAD_JOBS`` workers, default every core):
:func:`learned_policies`, :func:`scores`, :func:`latencies`, :func:`dqn_budget_curve` and
:func:`distillation_scores` train all their models first, then load them from the cache.

:func:`scores` evaluates a set of policies for every seed on one labelled test set;
:func:`mean_std` and :func:`mean_std_table` turn that into the results file's
``{"mean", "std"}`` entries and a display table. Standard deviations are over seeds
(pandas' ``std``, ddof = 1, as seaborn's ``errorbar="sd"`` draws them).

Those standard deviations leave out the test set's own variance. :func:`latencies` keeps
the per-sample latencies, and :func:`interval_table` / :func:`scores_with_intervals` and
:func:`ordering_intervals` turn them into paired-bootstrap intervals over test samples and
seeds (:mod:`kdoffload.uncertainty`); :func:`interval_record` and
:func:`difference_record` give their results-file entries.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from itertools import product
from typing import NamedTuple

import joblib
import numpy as np
import pandas as pd

from . import paper, registry, uncertainty
from .data import LabelledDataset
from .evaluate import latency_ratios, summarize
from .learned import learned_policy
from .system import latency

#: Bars of Figure 5 (§5.1) and Figure 6 (§5.2), in the paper's order, as
#: {key in the results file: policy name for :func:`policy`}.
FIGURE5 = {"optimal": "optimal_dp", "dil": "dil", "greedy": "greedy", "drl": "drl_wide", "local": "local",
           "edge": "edge", "cloud": "cloud", "random": "random"}
FIGURE6 = {"optimal": "optimal_dp", "kd_dil": "kd_dil", "baseline_dil": "baseline_dil", "drl": "drl_narrow",
           "greedy": "greedy"}

#: The ordering claims of the paper's Figures 5 and 6 in the keys of those figures, as
#: ``claim -> (better, worse)``: every policy of ``better`` should have a lower normalised
#: latency than every policy of ``worse`` (either may be one name or a list). The
#: Summary (:mod:`kdoffload.verdicts`) reads their difference intervals by these names.
FIGURE5_CLAIMS = {
    "DIL beats every baseline": ("dil", ["greedy", "drl", "local", "edge", "cloud", "random"]),
    "Edge beats Local": ("edge", ["local"]),
    "Edge beats Cloud": ("edge", ["cloud"]),
    "Random is far worse than the others": (["optimal", "dil", "greedy", "drl", "local", "edge", "cloud"],
                                            ["random"]),
}
#: Figure 6's claims; the second needs Figure 5's DQN (``drl_wide``) scored on the same test
#: set beside Figure 6's (``drl``, trained on the narrow set).
FIGURE6_CLAIMS = {
    "KD-DIL beats Baseline DIL, DRL and Greedy": ("kd_dil", ["baseline_dil", "drl", "greedy"]),
    "DRL is much worse with 1,000 samples than in Figure 5": ("drl_wide", ["drl"]),
}

#: Columns of :func:`scores` (those of :func:`kdoffload.evaluate.summarize`).
METRICS = ("normalized_latency", "mean_ratio", "median_ratio", "accuracy", "subtask_accuracy")
METRIC_LABELS = {"normalized_latency": "normalised latency", "mean_ratio": "mean ratio",
                 "median_ratio": "median ratio", "accuracy": "accuracy (whole decision)",
                 "subtask_accuracy": "accuracy (per subtask)"}


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


#: Environment variable: worker processes that train models in parallel (default: every core).
JOBS_VARIABLE = "KDOFFLOAD_JOBS"


def training_jobs() -> int:
    """Worker processes for :func:`train_in_parallel`: ``$KDOFFLOAD_JOBS`` if set, else every core."""
    setting = os.environ.get(JOBS_VARIABLE, "").strip()
    if not setting:
        return os.cpu_count() or 1
    try:
        jobs = int(setting)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise ValueError(f"{JOBS_VARIABLE} must be a positive integer, got {JOBS_VARIABLE} = {setting!r}")
    return jobs


def _trained(function, *args, **kwargs) -> None:
    """Call ``function`` for its side effect (a model written to the cache); return nothing."""
    function(*args, **kwargs)


def train_in_parallel(calls: Iterable[tuple], n_jobs: int | None = None) -> None:
    """Run the cached training ``calls`` (``(function, args, kwargs)`` triples) in worker processes.

    Every model trains on one thread with its own seed, so a model trained in a worker
    is the one the same call trains in this process; the workers only fill the on-disk
    cache, and the caller then loads each model from it. Models already cached are only
    loaded (fast). ``n_jobs`` defaults to :func:`training_jobs`; with one job, or one
    call, nothing is started and the calls run here.
    """
    calls = list(calls)
    n_jobs = training_jobs() if n_jobs is None else n_jobs
    if n_jobs == 1 or len(calls) < 2:
        for function, args, kwargs in calls:
            function(*args, **kwargs)
        return
    joblib.Parallel(n_jobs=min(n_jobs, len(calls)))(
        joblib.delayed(_trained)(function, *args, **kwargs) for function, args, kwargs in calls)


def train_learned(names: Iterable[str], seeds: Iterable[int], **options) -> None:
    """Train every learned policy of ``names`` (others are skipped) for every seed, in
    parallel (:func:`train_in_parallel`); ``options`` as in :func:`learned_policy`."""
    train_in_parallel((learned_policy, (name, int(seed)), options)
                      for name in dict.fromkeys(names) if name in learned() for seed in seeds)


def learned_policies(name: str, seeds: Iterable[int], **options) -> dict:
    """``{seed: learned_policy(name, seed, **options)}``, the missing models trained in parallel."""
    seeds = [int(seed) for seed in seeds]
    train_learned([name], seeds, **options)
    return {seed: learned_policy(name, seed, **options) for seed in seeds}


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


def mean_std_table(frame: pd.DataFrame, metrics: Sequence[str] = METRICS, by: str = "policy",
                   digits: int = 3, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A display table: one row per group, one ``mean ± std`` column per metric."""
    table = {}
    for metric in metrics:
        stats = mean_std(frame, metric, by)
        table[METRIC_LABELS.get(metric, metric)] = {
            key: f"{value['mean']:.{digits}f} ± {value['std']:.{digits}f}" for key, value in stats.items()}
    table = pd.DataFrame(table)
    if labels is not None:
        table.index = [labels.get(key, key) for key in table.index]
    table.index.name = by
    return table


def bar_values(frame: pd.DataFrame, metric: str = "normalized_latency") -> pd.DataFrame:
    """Columns policy, seed, value (the input of :func:`kdoffload.plots.normalized_bars`)."""
    return frame[["policy", "seed", metric]].rename(columns={metric: "value"})


# --------------------------------------------------------------------------- intervals


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


#: The §5.2 policies whose input statistics :func:`narrow_stats_effect` switches.
NARROW_MODELS = {"kd_dil": "kd_dil", "baseline_dil": "baseline_dil", "drl": "drl_narrow"}


def narrow_stats_effect(test: LabelledDataset, seeds: Iterable[int], **options) -> pd.DataFrame:
    """Normalised latency (mean over ``seeds``) of the §5.2 models with input statistics
    fitted on their own narrow training data (the default) and with the exact moments of
    the wide ranges (the switch). One row per policy of :data:`NARROW_MODELS`; ``options``
    as in :func:`learned_policy` (``T``, ``train_profile``, ``data_seed``)."""
    seeds = list(seeds)
    columns = {}
    for stats, label in (("fit", "fitted on own data (default)"), ("wide", "wide moments (switch)")):
        frame = scores(NARROW_MODELS, test, seeds, narrow_stats=stats, **options)
        columns[label] = frame.groupby("policy", sort=False)["normalized_latency"].mean()
    return pd.DataFrame(columns)


#: Reward-query budgets of the narrow DQN in :func:`dqn_budget_curve` (the paper profile's
#: default DQN uses 5,000 updates of 32 queries: 160,000).
DQN_BUDGETS = (1_024, 4_096, 16_384, 65_536, 160_000)


def dqn_budget_config(budget: int, train_profile: str = "smoke", hidden: Sequence[int] | None = None):
    """The narrow DQN's configuration for a budget of ``budget`` simulator reward queries.

    Each update acts on ``env_batch`` requirements, one reward query each, so the budget
    fixes the number of updates (at least one); validation and target-network intervals
    shrink with it. ``hidden`` replaces the trunk (e.g. the student's 2 x 32).
    """
    from dataclasses import replace

    from .checks import check_count
    from .drl import DQN_CONFIG
    from .train import NARROW_STATS, profile_config

    budget = check_count("budget", budget)
    base = replace(profile_config(DQN_CONFIG, train_profile, "dqn"), stats=NARROW_STATS)
    updates = max(1, budget // base.env_batch)
    return replace(base, updates=updates, eval_every=min(base.eval_every, updates),
                   target_update=min(base.target_update, updates),
                   hidden=tuple(hidden) if hidden is not None else base.hidden)


def dqn_budget_curve(test: LabelledDataset, seeds: Iterable[int], budgets: Sequence[int] = DQN_BUDGETS,
                     train_profile: str = "smoke", data_seed: int = 0,
                     hidden: Sequence[int] | None = None) -> pd.DataFrame:
    """Normalised latency on ``test`` of the narrow DQN trained with each reward-query budget.

    One row per (budget, seed): ``budget`` asked, ``queries`` used (updates x env_batch),
    ``hidden`` (the trunk, as text), ``seed`` and ``normalized_latency``. Models are
    cached like every DQN (:func:`kdoffload.drl.train_dqn`).
    """
    from .drl import train_dqn

    req = test.requirements
    seeds = [int(seed) for seed in seeds]
    configs = {budget: dqn_budget_config(budget, train_profile, hidden) for budget in budgets}
    options = {"profile": train_profile, "data_seed": data_seed}
    train_in_parallel((train_dqn, ("narrow",), {"seed": seed, "config": config, **options})
                      for config in configs.values() for seed in seeds)
    rows = []
    for budget, config in configs.items():
        for seed in seeds:
            model = train_dqn("narrow", seed=seed, config=config, **options)
            scored = summarize(req, model.decide(req), test.labels)
            rows.append({"budget": int(budget), "queries": config.updates * config.env_batch,
                         "hidden": " × ".join(map(str, config.hidden)), "seed": int(seed),
                         "normalized_latency": scored["normalized_latency"]})
    return pd.DataFrame(rows)


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


def interval_display(frame: pd.DataFrame, labels: Mapping[str, str] | None = None, digits: int = 3) -> pd.DataFrame:
    """An :func:`interval_table` as text: one row per policy, one ``mean [low, high]`` column per metric."""
    text = frame.assign(text=[f"{row.mean:.{digits}f} [{row.low:.{digits}f}, {row.high:.{digits}f}]"
                              for row in frame.itertuples()])
    shown = text.pivot(index="policy", columns="metric", values="text")
    shown = shown.reindex(index=list(dict.fromkeys(frame["policy"])), columns=list(dict.fromkeys(frame["metric"])))
    shown.columns = [METRIC_LABELS.get(metric, metric) for metric in shown.columns]
    if labels is not None:
        shown.index = [labels.get(key, key) for key in shown.index]
    shown.index.name = "policy"
    return shown


def pair_key(better: str, worse: str) -> str:
    """Key of a difference interval in the results file: ``"better < worse"``."""
    return f"{better} < {worse}"


def claim_pairs(better, worse) -> list[tuple[str, str]]:
    """Every (better, worse) pair of a claim; either side may be one name or a list."""
    better = [better] if isinstance(better, str) else list(better)
    worse = [worse] if isinstance(worse, str) else list(worse)
    return [(b, w) for b, w in product(better, worse) if b != w]


def ordering_intervals(lat: Latencies, claims: Mapping | None = None, metric: str = "normalized_latency",
                       n_boot: int = uncertainty.N_BOOT, seed: int = 0,
                       level: float = uncertainty.LEVEL) -> pd.DataFrame:
    """Paired-bootstrap intervals of ``metric(better) - metric(worse)`` for every pair of every claim.

    ``claims`` maps a claim to ``(better, worse)`` (:data:`CLAIMS`, :data:`FIGURE5_CLAIMS`,
    :data:`FIGURE6_CLAIMS`; default :data:`CLAIMS`); pairs naming a policy missing from ``lat``
    are left out. All
    pairs use the same replicates (:func:`kdoffload.uncertainty.replicate_statistics`), so
    the result equals :func:`kdoffload.uncertainty.paired_difference_interval` pair by pair.
    Columns: claim, better, worse, difference, low, high, reading (``lower``: the interval is
    below 0, the claim's direction; ``higher``; or ``indistinguishable``: it contains 0).
    """
    columns = ["claim", "better", "worse", "difference", "low", "high", "reading"]
    claims = CLAIMS if claims is None else claims
    pairs = [(claim, b, w) for claim, (better, worse) in claims.items() for b, w in claim_pairs(better, worse)
             if b in lat.by_policy and w in lat.by_policy]
    if not pairs:
        return pd.DataFrame(columns=columns)
    names = list(dict.fromkeys(name for _, b, w in pairs for name in (b, w)))
    stats = uncertainty.replicate_statistics({n: lat.by_policy[n] for n in names}, lat.optimal, metric, n_boot, seed)
    means = {n: uncertainty.point_estimate(lat.by_policy[n], lat.optimal, metric)[0] for n in names}
    rows = []
    for claim, b, w in pairs:
        low, high = uncertainty.percentile_interval(stats[b] - stats[w], level)
        rows.append({"claim": claim, "better": b, "worse": w, "difference": means[b] - means[w], "low": low,
                     "high": high, "reading": uncertainty.difference_reading(low, high)})
    return pd.DataFrame(rows, columns=columns)


def difference_record(frame: pd.DataFrame) -> dict:
    """``{"better < worse": {"difference", "low", "high"}}`` of an :func:`ordering_intervals` frame."""
    return {pair_key(row.better, row.worse): {"difference": row.difference, "low": row.low, "high": row.high}
            for row in frame.itertuples()}


def claim_readings(frame: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """One verdict text per claim (and per value of the ``by`` columns) of an
    :func:`ordering_intervals` frame: ``holds`` (every pair's interval below 0), ``fails
    against …`` (some interval above 0) or ``indistinguishable from …`` (some contains 0)."""
    from .verdicts import claim_text

    keys = ["claim", *by]
    rows = [{**dict(zip(keys, key if isinstance(key, tuple) else (key,))),
             "verdict": claim_text({row.worse if len(set(group["better"])) == 1 else row.better: (row.low, row.high)
                                    for row in group.itertuples()})[0]}
            for key, group in frame.groupby(keys, sort=False)]
    table = pd.DataFrame(rows)
    return table.set_index("claim") if not by else table.pivot(index="claim", columns=list(by), values="verdict")


# --------------------------------------------------------------------------- chapter 5: readings


def _reading_runs(names: Sequence[str], seeds: Iterable[int], test_size: int, learned_readings, **options):
    """``(i, seed, output_return, req, optimal, name, decisions)`` of :func:`reading_scores`."""
    from .solvers import Greedy, solve
    from .system import sample

    for i, seed in enumerate(seeds):
        req = sample(test_size, "wide", seed=10_000 + seed)
        for output_return in (True, False):
            optimal = solve(req, method="dp", output_return=output_return)
            for name in names:
                if name in learned() and output_return not in learned_readings:
                    continue
                chosen = Greedy(output_return=output_return) if name == "greedy" else policy(name, seed, **options)
                yield i, int(seed), output_return, req, optimal, name, chosen.decide(req)


def reading_scores(names: Sequence[str], seeds: Iterable[int], test_size: int, learned_readings=(True,),
                   **options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every policy under both readings of the output, on a fresh wide test set per seed.

    For each seed, ``kd.sample(test_size, "wide", seed=10_000 + seed)`` is labelled by
    dynamic programming with the output returned to the device and with the output left
    where the last subtask ran (ambiguity 1); every policy of ``names`` is scored by
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


def reading_display(table: pd.DataFrame, names: Sequence[str], labels: Mapping[str, str] | None = None,
                    digits: int = 2) -> pd.DataFrame:
    """:func:`reading_table` as ``mean ± std`` text, one row per policy (in ``names`` order),
    one column per (output reading, normalisation); "—" where a policy was not scored."""
    text = table.apply(lambda row: f"{row['mean']:.{digits}f} ± {row['std']:.{digits}f}", axis=1)
    shown = text.unstack(["output_return", "normalisation"]).reindex(names).fillna("—")
    order = [(r, n) for r in (True, False) for n in NORMALISATIONS.values() if (r, n) in shown.columns]
    shown = shown[order]
    shown.columns = pd.MultiIndex.from_tuples(
        [("output returned" if r else "output stays", n) for r, n in shown.columns])
    if labels is not None:
        shown.index = [labels.get(name, name) for name in shown.index]
    return shown


def ordering(means: Mapping[str, float], better: str, worse: Sequence[str]) -> bool | None:
    """Whether ``means[better]`` is below every ``means[w]``; None if any of them is missing or NaN."""
    needed = [better, *worse]
    if any(name not in means or means[name] is None or np.isnan(means[name]) for name in needed):
        return None
    return bool(all(means[better] < means[name] for name in worse))


#: The paper's ordering claims checked in chapter 5: claim -> (policy, policies it should beat).
CLAIMS = {
    "Edge < Local": ("edge", ["local"]),
    "Edge < Cloud": ("edge", ["cloud"]),
    "Greedy < Local, Edge, Cloud, Random": ("greedy", ["local", "edge", "cloud", "random"]),
    "DIL < every baseline": ("dil", ["greedy", "drl_wide", "local", "edge", "cloud", "random"]),
    "KD-DIL < Baseline DIL, DRL (narrow), Greedy": ("kd_dil", ["baseline_dil", "drl_narrow", "greedy"]),
    "DRL (wide) < DRL (narrow)": ("drl_wide", ["drl_narrow"]),
}


def orderings(means: pd.DataFrame, claims: Mapping = CLAIMS) -> pd.DataFrame:
    """Which claims hold on each row of ``means`` (rows: readings, columns: policies):
    True, False, or None where a policy of the claim is missing. Adds "Random is the
    worst" (Random above every other policy present)."""
    rows = [row for _, row in means.iterrows()]
    table = pd.DataFrame({claim: [ordering(row, better, worse) for row in rows]
                          for claim, (better, worse) in claims.items()}, index=means.index)
    table["Random is the worst"] = [bool((row.drop("random").dropna() < row["random"]).all())
                                    if "random" in row and not np.isnan(row["random"]) else None for row in rows]
    return table


def orderings_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`orderings` as text (holds / fails / —), one row per claim, one column per reading."""
    shown = table.T.map(lambda value: {True: "holds", False: "fails"}.get(value, "—"))
    shown.columns = pd.MultiIndex.from_tuples(
        [("output returned" if r else "output stays", n) for r, n in shown.columns])
    return shown


# --------------------------------------------------------------------------- training histories


def histories(models: Mapping[int, object], columns: Sequence[str]) -> pd.DataFrame:
    """The training histories of one model per seed as a long frame: seed, step, metric, value.

    ``step`` is the history's index (epochs for the MLPs, updates for the DQN).
    """
    frames = []
    for seed, model in models.items():
        history = model.history[[c for c in columns if c in model.history.columns]]
        long = history.reset_index().melt(id_vars=history.index.name or "index", var_name="metric",
                                          value_name="value")
        frames.append(long.rename(columns={history.index.name or "index": "step"}).assign(seed=int(seed)))
    return pd.concat(frames, ignore_index=True)[["seed", "step", "metric", "value"]]


def config_table(config: Mapping, columns: int = 3) -> pd.DataFrame:
    """A training configuration (a dict) as a compact table of ``columns`` (setting, value) pairs
    per row (read column by column)."""
    items = [(str(key), str(value)) for key, value in config.items()]
    rows = -(-len(items) // columns)
    table = {}
    for c in range(columns):
        chunk = items[c * rows:(c + 1) * rows] + [("", "")] * rows
        table[("setting", c)] = [key for key, _ in chunk[:rows]]
        table[("value", c)] = [value for _, value in chunk[:rows]]
    frame = pd.DataFrame(table)
    frame = frame[[column for c in range(columns) for column in (("setting", c), ("value", c))]]
    frame.columns = [name for name, _ in frame.columns]
    return frame.style.hide(axis="index")


def validation_vs_test(models: Mapping[str, Mapping[int, object]], frame: pd.DataFrame,
                       labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Validation normalised latency at the kept epoch beside the test one, per policy and seed.

    ``models`` maps a policy key to {seed: trained MLP} (with ``history`` and ``best_epoch``);
    ``frame`` is a :func:`scores` frame holding the same policies and seeds.
    """
    rows = [{"policy": key, "seed": int(seed),
             "validation": model.history.loc[model.best_epoch, "val_normalized_latency"]}
            for key, by_seed in models.items() for seed, model in by_seed.items()]
    tested = frame[["policy", "seed", "normalized_latency"]].rename(columns={"normalized_latency": "test"})
    table = pd.DataFrame(rows).merge(tested, on=["policy", "seed"])
    if labels is not None:
        table["policy"] = table["policy"].map(lambda key: labels.get(key, key))
    return table.set_index(["policy", "seed"])


# --------------------------------------------------------------------------- distillation


def distillation_scores(settings: Iterable[tuple[float, float]], test: LabelledDataset, seeds: Iterable[int],
                        train_profile: str = "smoke", data_seed: int = 0) -> pd.DataFrame:
    """KD-DIL for every (T, alpha) in ``settings`` and seed: columns T, alpha, seed and the metrics."""
    req = test.requirements
    settings, seeds = list(settings), [int(seed) for seed in seeds]
    options = {"train_profile": train_profile, "data_seed": data_seed}
    train_in_parallel((learned_policy, ("kd_dil", seed), {"T": T, "alpha": alpha, **options})
                      for T, alpha in settings for seed in seeds)
    rows = []
    for T, alpha in settings:
        for seed in seeds:
            student = learned_policy("kd_dil", seed, T=T, alpha=alpha, **options)
            rows.append({"T": T, "alpha": alpha, "seed": int(seed),
                         **summarize(req, student.decide(req), test.labels)})
    return pd.DataFrame(rows)


def sweep_record(frame: pd.DataFrame, x: str, metric: str = "normalized_latency") -> dict:
    """``{x: [...], "mean": [...], "std": [...]}`` over seeds at each value of ``x`` (sorted)."""
    stats = mean_std(frame.sort_values(x), metric, by=x)
    return {x: list(stats), "mean": [v["mean"] for v in stats.values()], "std": [v["std"] for v in stats.values()]}


def softening_curves(temperatures: Sequence[float], scale: float = 1.0) -> pd.DataFrame:
    """Hinton's softening (:func:`kdoffload.distill.soften`) of the paper's example label at
    ``scale`` times each T: columns T, location, q, source (a legend label)."""
    from .distill import soften
    from .system import LOCATION_NAMES

    p = np.asarray(paper.SOFTENING_EXAMPLE["p"], dtype=np.float64)
    p = p / p.sum()
    source = "Hinton at T" if scale == 1 else f"Hinton at {scale:.2f} T"
    rows = [{"T": float(T), "location": location, "q": float(q), "source": source}
            for T in temperatures for location, q in zip(LOCATION_NAMES, soften(p, scale * T))]
    return pd.DataFrame(rows)


def matching_temperature(target, low: float = 1.0, high: float = 50.0, steps: int = 4901) -> dict:
    """The T (on a grid of ``steps`` points in [low, high]) at which Hinton's form softens the
    paper's example label closest to ``target`` (least squares over the three classes).

    Returns ``{"T": T, "q": softened label at T, "max_error": largest |q_i - target_i|}``.
    """
    from .distill import soften

    p = np.asarray(paper.SOFTENING_EXAMPLE["p"], dtype=np.float64)
    p = p / p.sum()
    target = np.asarray(target, dtype=np.float64)
    grid = np.linspace(low, high, steps)
    errors = [float(np.sum((soften(p, T) - target) ** 2)) for T in grid]
    T = float(grid[int(np.argmin(errors))])
    q = soften(p, T)
    return {"T": T, "q": q.tolist(), "max_error": float(np.max(np.abs(q - target)))}
