"""Wall time and development-set normalised latency of every learned policy, over seeds.

Trains, for each seed: the §5.1 DIL teacher (100,000 wide samples), the KD-DIL student
(T = 5, distilled from the teacher of the same seed on the 1,000 narrow samples), the
Baseline DIL student (hard labels of the same 1,000 samples), the DQN on the wide set
(Figure 5) and the DQN on the narrow set (Figure 6). Prints the wall time of each piece
and the total, then the normalised latency (mean latency / optimal mean latency) on the
wide development set (:func:`kdoffload.train.development_set`, 10,000 samples drawn apart
from the test set, where settings are chosen), mean ± std over seeds, with Greedy beside them.

Usage::

    .venv/bin/python benchmarks/bench_training.py                 # paper profile, seeds 0 1 2
    .venv/bin/python benchmarks/bench_training.py --profile smoke --seeds 0
    .venv/bin/python benchmarks/bench_training.py --cache         # reuse / fill the on-disk cache

By default nothing is read from or written to the model cache, so the times are real
training times (the labelled datasets are still loaded from the dataset cache; labelling
them is not timed). Times are wall-clock on whatever else the machine is running.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import pandas as pd
import torch

import kdoffload as kd
from kdoffload import distill, drl, nets, paper, settings, train


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="paper", choices=settings.available_profiles())
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--T", type=float, default=paper.TEMPERATURE)
    parser.add_argument("--cache", action="store_true", help="use the on-disk model cache (times then include loads)")
    parser.add_argument("--progress", action="store_true", help="show the training progress bars")
    parser.add_argument("--out", help="also write the results as JSON to this path")
    args = parser.parse_args(argv)

    options = {"profile": args.profile, "data_seed": args.data_seed, "progress": args.progress, "cache": args.cache}
    test = train.development_set(args.profile)  # never the test set: settings are chosen on these scores
    optimal_latency = kd.latency(test.requirements, test.labels).mean()

    def score(policy) -> float:
        return float(kd.latency(test.requirements, policy.decide(test.requirements)).mean() / optimal_latency)

    pieces = {
        "dil": lambda seed, models: train.train_teacher(seed=seed, **options),
        "kd_dil": lambda seed, models: distill.train_student_kd(models["dil"], T=args.T, seed=seed, **options),
        "baseline_dil": lambda seed, models: train.train_baseline_dil(seed=seed, **options),
        "drl_wide": lambda seed, models: drl.train_dqn("wide", seed=seed, **options),
        "drl_narrow": lambda seed, models: drl.train_dqn("narrow", seed=seed, **options),
    }
    rows = []
    start = time.perf_counter()
    for seed in args.seeds:
        models = {}
        for name, build in pieces.items():
            tic, cpu = time.perf_counter(), time.process_time()
            models[name] = build(seed, models)
            seconds, cpu_seconds = time.perf_counter() - tic, time.process_time() - cpu
            rows.append({"policy": name, "seed": seed, "seconds": seconds, "cpu_seconds": cpu_seconds,
                         "normalized_latency": score(models[name])})
            print(f"seed {seed}  {name:<13} {seconds:7.1f} s wall {cpu_seconds:7.1f} s CPU   "
                  f"normalised latency {rows[-1]['normalized_latency']:.4f}", flush=True)
    total, total_cpu = time.perf_counter() - start, None
    frame = pd.DataFrame(rows)
    greedy = score(kd.Greedy())

    total_cpu = frame["cpu_seconds"].sum()
    grouped = frame.groupby("policy", sort=False)
    table = pd.DataFrame({
        "wall s/seed": grouped["seconds"].mean(), "wall s total": grouped["seconds"].sum(),
        "CPU s total": grouped["cpu_seconds"].sum(),
        "normalized latency mean": grouped["normalized_latency"].mean(),
        "std": grouped["normalized_latency"].std(ddof=0),
    })
    table.loc["greedy"] = [np.nan, np.nan, np.nan, greedy, 0.0]
    times = ["wall s/seed", "wall s total", "CPU s total"]

    print()
    print(f"profile {args.profile}, seeds {args.seeds}, data seed {args.data_seed}, T = {args.T:g}, "
          f"development n = {len(test)}, cache {'on' if args.cache else 'off'}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"torch threads outside training {torch.get_num_threads()}")
    counts = nets.parameter_counts()
    print(f"parameters: teacher {counts['teacher']['real']:,} (paper {counts['teacher']['paper']:,.0f}), "
          f"student {counts['student']['real']:,} (paper ~{counts['student']['paper']:,.0f})")
    print()
    shown = table.copy().astype(object)
    for column in times:
        shown[column] = [("-" if np.isnan(v) else f"{v:.1f}") for v in table[column]]
    for column in ("normalized latency mean", "std"):
        shown[column] = [f"{v:.4f}" for v in table[column]]
    print(shown.to_string())
    print("(std over seeds, ddof = 0; CPU = process CPU time, all threads)")
    print()
    print(f"total training wall time: {total:.1f} s ({total / 60:.2f} min); CPU time {total_cpu:.1f} s")
    wins = {other: int((frame[frame.policy == "kd_dil"].set_index("seed")["normalized_latency"]
                        < frame[frame.policy == other].set_index("seed")["normalized_latency"]).sum())
            for other in ("baseline_dil", "drl_narrow")}
    print(f"KD-DIL better than Baseline DIL on {wins['baseline_dil']}/{len(args.seeds)} seeds, "
          f"than DRL (narrow) on {wins['drl_narrow']}/{len(args.seeds)} seeds")
    result = {"profile": args.profile, "seeds": args.seeds, "data_seed": args.data_seed, "T": args.T,
              "total_seconds": total, "total_cpu_seconds": total_cpu, "runs": rows, "greedy": greedy, "win_counts": wins}
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
