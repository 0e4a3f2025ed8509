"""Training the learned policies of several seeds at once, in worker processes.

Models missing from the cache are trained in parallel worker processes, one thread and
one seed each (:func:`train_in_parallel`, ``$KDOFFLOAD_JOBS`` workers, default every core):
:func:`learned_policies`, :func:`kdoffload.experiments.scores`,
:func:`~kdoffload.experiments.latencies`, :func:`~kdoffload.experiments.dqn_budget_curve`
and :func:`~kdoffload.experiments.distillation_scores` train all their models first, then
load them from the cache.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import joblib

from .. import registry
from ..learned import learned_policy


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
    learned = registry.names(family="learned")
    train_in_parallel((learned_policy, (name, int(seed)), options)
                      for name in dict.fromkeys(names) if name in learned for seed in seeds)


def learned_policies(name: str, seeds: Iterable[int], **options) -> dict:
    """``{seed: learned_policy(name, seed, **options)}``, the missing models trained in parallel."""
    seeds = [int(seed) for seed in seeds]
    train_learned([name], seeds, **options)
    return {seed: learned_policy(name, seed, **options) for seed in seeds}
