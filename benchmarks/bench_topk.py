"""Time per request of the top-K re-check (:mod:`kdoffload.topk`): ``k_best`` alone, and
``k_best`` plus the exact re-scoring of the ``k`` candidates by :func:`kdoffload.latency`.

Usage::

    .venv/bin/python benchmarks/bench_topk.py            # n in {6, 50}, k in {1, ..., 32}, 1,000 rows

The log-probabilities are a log-softmax of standard normal logits and the requirements
come from :func:`kdoffload.sample` (wide preset); neither is timed, nor is a network's
forward pass. Each time is the best of ``--repeat`` runs on the whole batch, divided by
the number of rows. No targets: it prints a table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import kdoffload as kd
from kdoffload.topk import k_best, recheck


def best_time(function, *args, repeat: int) -> float:
    """Best wall time in seconds over ``repeat`` calls of ``function(*args)``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - start)
    return best


def time_topk(num_subtasks: int, ks, rows: int = 1000, repeat: int = 3, seed: int = 0) -> list[dict]:
    """Microseconds per request of ``k_best`` and of ``recheck`` (k_best + latency of each
    candidate + argmin) for each ``k`` in ``ks``, on a batch of ``rows`` requests."""
    req = kd.sample(rows, "wide", num_subtasks=num_subtasks, seed=seed)
    logits = np.random.default_rng(seed).normal(size=(rows, num_subtasks, 3))
    log_probs = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
    table = []
    for k in ks:
        alone = best_time(k_best, log_probs, k, repeat=repeat)
        total = best_time(recheck, req, log_probs, k, repeat=repeat)
        table.append({"n": num_subtasks, "k": k, "k_best_us": 1e6 * alone / rows, "recheck_us": 1e6 * total / rows})
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'n':>3} {'k':>3} {'k_best us/request':>18} {'k_best + re-score us/request':>29}")
    for n in (6, 50):
        for row in time_topk(n, (1, 2, 4, 8, 16, 32), args.rows, args.repeat):
            print(f"{row['n']:>3} {row['k']:>3} {row['k_best_us']:>18.2f} {row['recheck_us']:>29.2f}")


if __name__ == "__main__":
    main()
