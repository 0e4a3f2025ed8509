"""Choose the learning rates of the teacher and the DQNs on the development set, never the test set.

Trains a model (the §5.1 DIL teacher, :data:`kdoffload.train.TEACHER_CONFIG`; the DQN on the
wide training set, Figure 5; or the DQN on the narrow set, Figure 6, with input statistics
fitted on its own data -- each with the profile's overrides) at each learning rate of a
small grid, for several seeds, in parallel worker processes (one thread each), and prints
its normalised latency on the wide development set (:func:`kdoffload.train.development_set`,
drawn apart from the test set), the committed default marked. It reads no test set and
writes no cache entry. (The students' settings: ``choose_student_settings.py``.)

Usage::

    .venv/bin/python benchmarks/choose_learning_rates.py teacher            # paper profile, seeds 0 1
    .venv/bin/python benchmarks/choose_learning_rates.py dqn_narrow --lr 3e-4 1e-3 3e-3
    .venv/bin/python benchmarks/choose_learning_rates.py dqn_wide --profile smoke --seeds 0 --jobs 1
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import replace

import joblib
import pandas as pd

import kdoffload as kd
from kdoffload import drl, settings, train

#: The models whose learning rate this script chooses, and their default grids.
MODELS = {"teacher": (2e-3, 5e-3, 1e-2), "dqn_wide": (3e-4, 1e-3, 3e-3), "dqn_narrow": (3e-4, 1e-3, 3e-3)}


def base_config(model: str, profile: str):
    """The committed configuration of ``model`` under ``profile`` (what the chapters train)."""
    if model == "teacher":
        return train.profile_config(train.TEACHER_CONFIG, profile, "teacher")
    return drl.narrow_config(profile) if model == "dqn_narrow" else train.profile_config(drl.DQN_CONFIG, profile, "dqn")


def development_score(model: str, profile: str, config, seed: int) -> float:
    """Normalised latency on the development set of ``model`` trained with ``config`` (no cache)."""
    development = train.development_set(profile)
    req = development.requirements
    if model == "teacher":
        policy = train.train_supervised(train.datasets(profile)["train"], config, seed, "dil", progress=False)
    else:
        dataset = model.removeprefix("dqn_")
        policy = drl.train_dqn(dataset, seed, config, profile, progress=False, cache=False)
    return float(kd.latency(req, policy.decide(req)).mean() / kd.latency(req, development.labels).mean())


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("--profile", default="paper", choices=settings.available_profiles())
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--lr", type=float, nargs="+", default=None, help="default: the model's grid in MODELS")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args(argv)

    base = base_config(args.model, args.profile)
    train.development_set(args.profile), train.datasets(args.profile)  # label once, before the workers
    grid = list(itertools.product(args.lr or MODELS[args.model], args.seeds))
    start = time.perf_counter()
    scores = joblib.Parallel(n_jobs=args.jobs)(
        joblib.delayed(development_score)(args.model, args.profile, replace(base, lr=lr), seed) for lr, seed in grid)
    frame = pd.DataFrame([{"lr": lr, "seed": seed, "development normalised latency": score}
                          for (lr, seed), score in zip(grid, scores)])
    table = frame.groupby("lr")["development normalised latency"].agg(["mean", "std"])
    table["default"] = ["*" if lr == base.lr else "" for lr in table.index]
    print(f"{args.model}, profile {args.profile}, seeds {args.seeds}, {time.perf_counter() - start:.0f} s")
    print(table.round(4).to_string())
    best = table["mean"].idxmin()
    default = f"{table.loc[base.lr, 'mean']:.4f}" if base.lr in table.index else "not in the grid"
    print(f"{args.model}: best on the development set lr = {best:g} ({table.loc[best, 'mean']:.4f}); "
          f"default lr = {base.lr:g} ({default})")
    return frame


if __name__ == "__main__":
    main()
