"""Choose the §5.1 teacher's learning rate on the development set, never the test set.

Trains the DIL teacher (:data:`kdoffload.train.TEACHER_CONFIG`, with the profile's
overrides) at each learning rate of a small grid, for several seeds, in parallel worker
processes (one thread each), and prints its normalised latency on the wide development set
(:func:`kdoffload.train.development_set`, drawn apart from the test set), the committed
default marked. It reads no test set and writes no cache entry.

Usage::

    .venv/bin/python benchmarks/choose_teacher_settings.py                  # paper profile, seeds 0 1
    .venv/bin/python benchmarks/choose_teacher_settings.py --profile smoke --seeds 0 --jobs 1
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import replace

import joblib
import pandas as pd

import kdoffload as kd
from kdoffload import settings, train


def development_score(profile: str, config, seed: int) -> float:
    """Normalised latency on the development set of a teacher trained with ``config``."""
    development = train.development_set(profile)
    req = development.requirements
    model = train.train_supervised(train.datasets(profile)["train"], config, seed, "dil", progress=False)
    return float(kd.latency(req, model.decide(req)).mean() / kd.latency(req, development.labels).mean())


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="paper", choices=settings.available_profiles())
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--lr", type=float, nargs="+", default=[2e-3, 5e-3, 1e-2])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args(argv)

    base = train.profile_config(train.TEACHER_CONFIG, args.profile, "teacher")
    train.development_set(args.profile), train.datasets(args.profile)  # label once, before the workers
    grid = list(itertools.product(args.lr, args.seeds))
    start = time.perf_counter()
    scores = joblib.Parallel(n_jobs=args.jobs)(
        joblib.delayed(development_score)(args.profile, replace(base, lr=lr), seed) for lr, seed in grid)
    frame = pd.DataFrame([{"lr": lr, "seed": seed, "development normalised latency": score}
                          for (lr, seed), score in zip(grid, scores)])
    table = frame.groupby("lr")["development normalised latency"].agg(["mean", "std"])
    table["default"] = ["*" if lr == base.lr else "" for lr in table.index]
    print(f"profile {args.profile}, seeds {args.seeds}, {time.perf_counter() - start:.0f} s")
    print(table.round(4).to_string())
    best = table["mean"].idxmin()
    print(f"teacher: best on the development set lr = {best:g} ({table.loc[best, 'mean']:.4f}); "
          f"default lr = {base.lr:g} ({table.loc[base.lr, 'mean']:.4f})" if base.lr in table.index else
          f"teacher: best on the development set lr = {best:g}; default lr = {base.lr:g} not in the grid")
    return frame


if __name__ == "__main__":
    main()
