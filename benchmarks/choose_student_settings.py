"""Choose the §5.2 students' training settings on the development set, never the test set.

The students (KD-DIL and Baseline DIL share :data:`kdoffload.train.STUDENT_CONFIG`) now
standardise their inputs with moments fitted on their own narrow data. This script trains
both on a small grid of learning rate and batch size, for several seeds, and prints their
normalised latency on the wide development set (:func:`kdoffload.train.development_set`,
drawn apart from the test set), the committed default marked. It reads no test set.

Usage::

    .venv/bin/python benchmarks/choose_student_settings.py                  # paper profile, seeds 0 1 2
    .venv/bin/python benchmarks/choose_student_settings.py --profile smoke --seeds 0
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import replace

import pandas as pd

import kdoffload as kd
from kdoffload import distill, paper, settings, train


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="paper", choices=settings.available_profiles())
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--lr", type=float, nargs="+", default=[3e-3, 1e-2, 3e-2])
    parser.add_argument("--batch-size", type=int, nargs="+", default=[32, 128])
    args = parser.parse_args(argv)

    development = train.development_set(args.profile)
    req = development.requirements
    optimal = kd.latency(req, development.labels).mean()
    narrow = train.datasets(args.profile)["narrow"]
    base = train.profile_config(train.STUDENT_CONFIG, args.profile, "student")
    rows, start = [], time.perf_counter()
    for lr, batch_size in itertools.product(args.lr, args.batch_size):
        config = replace(base, lr=lr, batch_size=batch_size)
        for seed in args.seeds:
            teacher = train.train_teacher(seed=seed, profile=args.profile, progress=False)
            students = {
                "kd_dil": distill.distill(teacher, narrow, paper.TEMPERATURE, 0.0, config, seed, progress=False),
                "baseline_dil": train.train_supervised(narrow, config, seed, "baseline_dil", progress=False),
            }
            for name, model in students.items():
                score = kd.latency(req, model.decide(req)).mean() / optimal
                rows.append({"policy": name, "lr": lr, "batch_size": batch_size, "seed": seed,
                             "development normalised latency": score})
    frame = pd.DataFrame(rows)
    table = frame.groupby(["policy", "lr", "batch_size"])["development normalised latency"].agg(["mean", "std"])
    table["default"] = [("*" if (lr, batch) == (base.lr, base.batch_size) else "")
                        for _, lr, batch in table.index]
    print(f"profile {args.profile}, seeds {args.seeds}, development n = {len(development)}, "
          f"{time.perf_counter() - start:.0f} s")
    print(table.round(4).to_string())
    for policy, group in table.groupby(level="policy"):
        best = group["mean"].idxmin()
        print(f"{policy}: best on the development set lr = {best[1]:g}, batch = {best[2]} "
              f"({group.loc[best, 'mean']:.4f}); default ({base.lr:g}, {base.batch_size}) "
              f"{group.loc[(policy, base.lr, base.batch_size), 'mean']:.4f}")
    return frame


if __name__ == "__main__":
    main()
