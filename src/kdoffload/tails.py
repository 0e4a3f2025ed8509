"""How heavy the tail of each policy's latency ratio is, measured on many requirements.

The bandwidths ``b1 ~ U(0, 2] MB/s`` and ``b2 ~ U(0, 3] MB/s`` reach arbitrarily close to 0,
so ``1/b`` has the tail ``P(1/b > x) = 1/(B x)`` (tail index 1, no mean). A policy that
always transmits inherits it. A policy that transmits only when it is cheap (Greedy) may
not: whether its latency ratio to the optimum has a mean is a question for a measurement.

:func:`tail_table` draws ``n`` wide-preset requirements in chunks (so ``n = 10**6`` fits in
memory), solves each exactly with the dynamic program, and reports per policy the largest
latency ratio and the Hill estimate of its tail index (Hill, 1975): for the ``k`` largest
ratios ``X_(1) >= ... >= X_(k+1)``,

    alpha = 1 / mean_i log(X_(i) / X_(k+1)),  i = 1..k.

``alpha <= 1`` means no finite mean, ``1 < alpha <= 2`` a finite mean but no finite
variance; a bounded ratio gives a large ``alpha``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .checks import check_count, check_int
from .progress import bar
from .solvers import heuristic, solve
from .system import latency, sample


def hill_tail_index(values: np.ndarray, top: int) -> float:
    """Hill's estimate of the tail index from the ``top`` largest of ``values`` (all > 0).

    Parameters
    ----------
    values : numpy.ndarray
        Positive samples (here: latency ratios, dimensionless).
    top : int
        Number ``k`` of order statistics used; needs ``k < len(values)``.
    """
    values = np.asarray(values, dtype=float).ravel()
    top = check_count("top", top)
    if top >= len(values):
        raise ValueError(f"top must be smaller than the number of values ({len(values)}), got top = {top}")
    if (values <= 0).any():
        raise ValueError("values must be positive for the Hill estimate")
    largest = np.sort(values)[-(top + 1):]
    return float(1.0 / np.mean(np.log(largest[1:] / largest[0])))


def tail_table(n: int = 1_000_000, seed: int = 0, policies=("local", "edge", "cloud", "greedy"),
               chunk_size: int = 100_000, top: int = 1_000, progress: bool | None = None) -> pd.DataFrame:
    """Largest latency ratio (policy / optimal) and its Hill tail index for each policy.

    Parameters
    ----------
    n : int
        Number of wide-preset requirements (|A| = 6).
    seed : int
        Seed; chunk ``i`` uses the ``i``-th child of ``numpy.random.SeedSequence(seed)``.
    policies : sequence of str
        Rule-based policies (names of :func:`kdoffload.solvers.heuristic`).
    chunk_size : int
        Requirements drawn and solved at once.
    top : int
        Order statistics for the Hill estimate (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per policy: ``max ratio``, ``99.99 % quantile``, ``mean ratio`` and
        ``tail index (Hill)``.
    """
    n = check_count("n", n)
    seed = check_int("seed", seed, minimum=0)
    chunk_size = check_count("chunk_size", chunk_size)
    deciders = {name: heuristic(name) for name in policies}
    chunks = -(-n // chunk_size)
    children = np.random.SeedSequence(seed).spawn(chunks)
    ratios = {name: [] for name in policies}
    for index in bar(range(chunks), progress=progress, desc="tail check", unit="chunk"):
        size = min(chunk_size, n - index * chunk_size)
        req = sample(size, "wide", seed=int(children[index].generate_state(1)[0]))
        optimal = latency(req, solve(req, method="dp"))
        for name, policy in deciders.items():
            ratios[name].append(latency(req, policy.decide(req)) / optimal)
    rows = {}
    for name, parts in ratios.items():
        values = np.concatenate(parts)
        rows[name] = {"max ratio": values.max(), "99.99 % quantile": np.quantile(values, 0.9999),
                      "mean ratio": values.mean(), "tail index (Hill)": hill_tail_index(values, top)}
    return pd.DataFrame(rows).T
