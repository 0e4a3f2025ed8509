"""Throughput and agreement of the exact solvers, and the cost of the paper's datasets.

Usage::

    .venv/bin/python benchmarks/bench_solvers.py           # full run (several minutes)
    .venv/bin/python benchmarks/bench_solvers.py --quick   # reduced sizes, about a minute

Prints a table with a PASS/FAIL column against these targets (2 cores):

* dynamic programming: >= 1,000,000 instances/s on >= 1,000,000 instances (vectorised);
* exhaustive search: 10,000 instances in <= 2 s;
* ILP (PuLP + CBC): >= 300 instances/s through ``kdoffload.label(..., n_jobs=2)``;
* the three exact solvers agree on 100 % of the random instances (each preset, |A| in
  {1, 2, 3, 6, 8});
* the paper's 111,000 labelled samples (``kdoffload.paper_datasets()``, ILP labels):
  <= 8 min from an empty cache and <= 5 s from the cache.

``--quick`` divides every size by 10 (the dataset one too) and scales the time targets of
the dataset build with it; rates keep their targets. Sampling is not timed. The exit
status is 1 if any target is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass

os.environ.setdefault("KDOFFLOAD_PROGRESS", "0")

import numpy as np  # noqa: E402

import kdoffload as kd  # noqa: E402
from kdoffload import data  # noqa: E402


@dataclass
class Row:
    what: str
    instances: int
    seconds: float
    target: str
    ok: bool
    note: str = ""

    @property
    def rate(self) -> float:
        return self.instances / self.seconds if self.seconds > 0 else float("inf")


def timed(function, *args, repeat: int = 1, **kwargs):
    """(result of the last call, best wall time over ``repeat`` calls)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return result, best


def throughput(scale: int, rows: list[Row]) -> None:
    n_dp = 1_000_000 // scale
    req = kd.sample(n_dp, seed=1)
    _, seconds = timed(kd.solve, req, method="dp", repeat=3)
    rows.append(Row("DP, vectorised (|A|=6)", n_dp, seconds, ">= 1,000,000 /s", n_dp / seconds >= 1_000_000,
                    "best of 3"))

    n_ex = 10_000 // scale
    req = kd.sample(n_ex, seed=2)
    _, seconds = timed(kd.solve, req, method="exhaustive", repeat=3)
    target = 2.0 / scale
    rows.append(Row("exhaustive (3^6 = 729 decisions)", n_ex, seconds, f"<= {target:g} s", seconds <= target,
                    "best of 3"))

    n_ilp = 20_000 // scale
    req = kd.sample(n_ilp, seed=3)
    chunk_size = min(2000, max(1, n_ilp // 8))  # the default 2000 at full size; >= 2 chunks per worker
    parallel, seconds = timed(kd.label, req, solver="ilp", n_jobs=2, chunk_size=chunk_size, progress=False)
    rows.append(Row("ILP via label(n_jobs=2)", n_ilp, seconds, ">= 300 /s", n_ilp / seconds >= 300,
                    "incl. worker start-up"))
    single, seconds = timed(kd.label, req, solver="ilp", n_jobs=1, chunk_size=chunk_size, progress=False)
    rows.append(Row("ILP via label(n_jobs=1)", n_ilp, seconds, "(info)", True))
    if not np.array_equal(parallel, single):
        rows.append(Row("ILP n_jobs=2 == n_jobs=1", n_ilp, 0.0, "identical", False))


def agreement(scale: int, rows: list[Row]) -> None:
    n = 10_000 // scale
    for preset in ("wide", "narrow"):
        for num_subtasks in (1, 2, 3, 6, 8):
            req = kd.sample(n, preset=preset, num_subtasks=num_subtasks, seed=100 + num_subtasks)
            start = time.perf_counter()
            dp = kd.solve(req, method="dp")
            exhaustive = kd.solve(req, method="exhaustive")
            ilp = kd.label(req, solver="ilp", n_jobs=2, chunk_size=min(2000, max(1, n // 4)), progress=False)
            seconds = time.perf_counter() - start
            share_ex = (exhaustive == dp).all(axis=1).mean()
            share_ilp = (ilp == dp).all(axis=1).mean()
            rows.append(Row(f"agreement {preset}, |A|={num_subtasks}", n, seconds, "100 %",
                            share_ex == 1.0 and share_ilp == 1.0,
                            f"exh=dp {100 * share_ex:.3f} %, ilp=dp {100 * share_ilp:.3f} %"))


def paper_data(scale: int, rows: list[Row]) -> None:
    sizes = dict(train_size=100_000 // scale, test_size=10_000 // scale, narrow_size=1_000 // scale)
    total = sum(sizes.values())
    old_memory, old_cached = data.memory, data._cached_build_dataset
    try:
        with tempfile.TemporaryDirectory(prefix="kdoffload-bench-") as directory:
            data.set_cache_dir(directory)
            cold, seconds = timed(kd.paper_datasets, solver="ilp", n_jobs=2, progress=False, **sizes)
            target = 8 * 60 / scale
            rows.append(Row("paper datasets, ILP, cold cache", total, seconds, f"<= {target:g} s", seconds <= target))
            warm, seconds = timed(kd.paper_datasets, solver="ilp", n_jobs=2, progress=False, **sizes)
            same = all(np.array_equal(cold[k].labels, warm[k].labels) for k in cold)
            target = 5.0 / scale if scale > 1 else 5.0
            rows.append(Row("paper datasets, ILP, cached", total, seconds, f"<= {target:g} s",
                            seconds <= target and same, "identical" if same else "DIFFERENT"))
            check = {k: (d.labels == kd.solve(d.requirements, method="dp")).all(axis=1).mean() for k, d in cold.items()}
            rows.append(Row("paper datasets: ILP labels == DP", total, 0.0, "100 %",
                            all(v == 1.0 for v in check.values()),
                            ", ".join(f"{k} {100 * v:.3f} %" for k, v in check.items())))
    finally:
        data.memory, data._cached_build_dataset = old_memory, old_cached


def print_table(rows: list[Row]) -> None:
    header = f"{'benchmark':<38} {'instances':>10} {'seconds':>9} {'instances/s':>13}  {'target':<17} {'result':<6} note"
    print(header)
    print("-" * len(header))
    for row in rows:
        rate = f"{row.rate:,.0f}" if row.seconds > 0 else "-"
        seconds = f"{row.seconds:.3f}" if row.seconds > 0 else "-"
        print(f"{row.what:<38} {row.instances:>10,} {seconds:>9} {rate:>13}  {row.target:<17} "
              f"{'PASS' if row.ok else 'FAIL':<6} {row.note}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="divide every size by 10")
    parser.add_argument("--skip-datasets", action="store_true", help="do not build the paper's datasets")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    print(f"kdoffload {kd.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs"
          f"{', QUICK (sizes / 10)' if args.quick else ''}", flush=True)
    rows: list[Row] = []
    start = time.perf_counter()
    for step in (throughput, agreement) + (() if args.skip_datasets else (paper_data,)):
        step(scale, rows)
        print(f"  ... {step.__name__} done after {time.perf_counter() - start:.0f} s", flush=True)
    print()
    print_table(rows)
    failed = [row.what for row in rows if not row.ok]
    print()
    print("all targets met" if not failed else f"{len(failed)} target(s) missed: {'; '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
