"""Experiments on how the learned policies are trained: input statistics, DQN budgets,
distillation settings, the softening of the paper's example, training histories."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import paper
from ..data import LabelledDataset
from ..evaluate import summarize
from ..learned import learned_policy
from .parallel import train_in_parallel
from .policies import mean_std, scores


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

    from ..checks import check_count
    from ..drl import narrow_config

    budget = check_count("budget", budget)
    base = narrow_config(train_profile)
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
    from ..drl import train_dqn

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
    from ..distill import soften
    from ..system import LOCATION_NAMES

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
    from ..distill import soften

    p = np.asarray(paper.SOFTENING_EXAMPLE["p"], dtype=np.float64)
    p = p / p.sum()
    target = np.asarray(target, dtype=np.float64)
    grid = np.linspace(low, high, steps)
    errors = [float(np.sum((soften(p, T) - target) ** 2)) for T in grid]
    T = float(grid[int(np.argmin(errors))])
    q = soften(p, T)
    return {"T": T, "q": q.tolist(), "max_error": float(np.max(np.abs(q - target)))}
