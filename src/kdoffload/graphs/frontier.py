"""Where exact placement becomes expensive: decision times of the exact graph solvers.

:func:`solver_times` measures, per request, how long each exact solver of
:mod:`kdoffload.graphs.solvers` takes to place one random layered DAG
(:func:`kdoffload.graphs.families.random_dag`, one structure per instance) as the number
of subtasks grows, under the relay and the direct topology, and checks on the way that the
solvers agree on the optimal latency. :func:`relay_cut_misses` measures what the minimum
cut loses where it is not exact: with the direct device<->cloud link, it optimises the
relay prices and its placement is costed with the direct link.

Times are wall-clock seconds per decision (one request per call, the on-line setting of
the book's Table 1), sampling excluded, on however many threads the solver uses (CBC and
PyMaxflow: one).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import registry
from ..checks import check_choice, check_count
from ..progress import bar
from .dnn import CYCLES_PER_FLOP, DNN_GRAPHS, dnn_requirements
from .families import random_dag, sample_network
from .model import TOPOLOGIES, GraphRequirements, latency
from .solvers import TIE_RTOL, IntegerProgram, MinCut

__all__ = ["FRONTIER_SOLVERS", "EXHAUSTIVE_LIMIT", "instances", "solver_times", "relay_cut_misses",
           "relative_excess", "dnn_solver_times"]

#: The exact solvers timed by :func:`solver_times`: the registered exact graph policies, by name.
FRONTIER_SOLVERS = {info.name: type(info.build()) for info in registry.policies("graph", "exact")}
#: Largest graph exhaustive search is timed on (3**n placements).
EXHAUSTIVE_LIMIT = 10


def instances(n: int, count: int, topology: str = "relay", seed: int = 0, preset: str = "wide") -> list:
    """``count`` random layered DAGs of ``n`` nodes, one request each, daggen's default
    shape parameters; instance ``i`` is seeded by ``(seed, n, i)``."""
    check_count("n", n)
    check_count("count", count)
    check_choice("topology", topology, TOPOLOGIES)
    return [random_dag(n, requests=1, preset=preset, topology=topology, seed=np.random.default_rng([seed, n, i]))
            for i in range(count)]


def relative_excess(cost: np.ndarray, best: np.ndarray) -> np.ndarray:
    """``cost / best - 1`` (0 where the two are within :data:`TIE_RTOL` relative)."""
    excess = np.asarray(cost, dtype=float) / np.asarray(best, dtype=float) - 1.0
    return np.where(np.abs(excess) <= TIE_RTOL, 0.0, excess)


def _timed(solver, req: GraphRequirements) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    placement = solver.decide(req)
    return placement, time.perf_counter() - start


def solver_times(sizes: Sequence[int], count: int, topologies: Sequence[str] = TOPOLOGIES, seed: int = 0,
                 solvers: Sequence[str] = tuple(FRONTIER_SOLVERS), progress: bool | None = None) -> pd.DataFrame:
    """Seconds per decision of each exact solver on ``count`` DAGs of each size and topology.

    A solver is timed only where it is exact (min cut: relay topology) and, for
    exhaustive search, up to :data:`EXHAUSTIVE_LIMIT` nodes. Every solver's latency is
    checked against the first solver's on every instance.

    Returns
    -------
    pandas.DataFrame
        One row per (topology, n, solver): ``seconds`` (mean per decision), ``median``,
        ``count`` and ``max_disagreement`` (largest relative difference of its optimal
        latency from the reference solver's on the same instances; 0 means they agree).

    Raises
    ------
    ValueError
        For an unknown solver or topology, naming it.
    """
    for name in solvers:
        check_choice("solver", name, FRONTIER_SOLVERS)
    for topology in topologies:
        check_choice("topology", topology, TOPOLOGIES)
    sizes = [check_count("n", n) for n in sizes]
    rows = []
    cases = [(topology, n) for topology in topologies for n in sizes]
    for topology, n in bar(cases, progress=progress, desc="solver times", unit="size"):
        names = [name for name in solvers
                 if topology in FRONTIER_SOLVERS[name].topologies and (name != "exhaustive" or n <= EXHAUSTIVE_LIMIT)]
        batch = instances(n, count, topology, seed)
        seconds = {name: [] for name in names}
        costs = {name: [] for name in names}
        for req in batch:
            for name in names:
                placement, elapsed = _timed(FRONTIER_SOLVERS[name](), req)
                seconds[name].append(elapsed)
                costs[name].append(float(latency(req, placement)[0]))
        reference = np.array(costs[names[0]])
        for name in names:
            rows.append({"topology": topology, "n": n, "solver": name, "seconds": float(np.mean(seconds[name])),
                         "median": float(np.median(seconds[name])), "count": count,
                         "max_disagreement": float(np.max(np.abs(relative_excess(costs[name], reference))))})
    return pd.DataFrame(rows)


def relay_cut_misses(sizes: Sequence[int], count: int, seed: int = 0,
                     progress: bool | None = None) -> pd.DataFrame:
    """How often and by how much the minimum cut misses the optimum with the direct link.

    On ``count`` direct-link DAGs per size, the cut placement optimal for the relay
    prices (:meth:`GraphRequirements.with_topology`) is costed with the direct link and
    compared with the integer program's optimum.

    Returns
    -------
    pandas.DataFrame
        One row per size: ``n``, ``count``, ``missed`` (share of instances whose cut
        latency exceeds the optimum by more than :data:`TIE_RTOL` relative),
        ``mean_excess`` (mean relative excess over all instances), ``median_miss`` and
        ``max_miss`` (relative excess among the missed instances; NaN if none).
    """
    rows = []
    for n in bar([check_count("n", n) for n in sizes], progress=progress, desc="min-cut misses", unit="size"):
        excess = []
        for req in instances(n, count, "direct", seed):
            best = latency(req, IntegerProgram().decide(req))
            cut = latency(req, MinCut().decide(req.with_topology("relay")))
            excess.append(float(relative_excess(cut, best)[0]))
        excess = np.array(excess)
        missed = excess[excess > 0]
        rows.append({"n": n, "count": count, "missed": float(np.mean(excess > 0)), "mean_excess": float(excess.mean()),
                     "median_miss": float(np.median(missed)) if missed.size else float("nan"),
                     "max_miss": float(missed.max()) if missed.size else float("nan")})
    return pd.DataFrame(rows)


def dnn_solver_times(count: int, seed: int = 0, names: Sequence[str] = DNN_GRAPHS,
                     cycles_per_flop: float = CYCLES_PER_FLOP, progress: bool | None = None) -> pd.DataFrame:
    """Seconds per decision of the minimum cut and the integer program on the DNN graphs.

    ``count`` requests per graph, networks drawn from the wide preset
    (:func:`~kdoffload.graphs.families.sample_network`), one request per call; the cut
    under the relay topology, the integer program under both.

    Returns
    -------
    pandas.DataFrame
        One row per (graph, topology, solver): ``nodes``, ``edges``, ``seconds`` (mean
        per decision), ``max_disagreement`` (of the relay integer program from the cut).
    """
    rows = []
    for name in bar(list(names), progress=progress, desc="DNN solver times", unit="graph"):
        network = sample_network(count, "wide", seed=np.random.default_rng([seed, len(name)]))
        relay = dnn_requirements(name, network, cycles_per_flop, "relay")
        graph = relay.graph
        cut_cost = None
        for topology, solver in (("relay", "mincut"), ("relay", "ilp"), ("direct", "ilp")):
            req = relay if topology == "relay" else relay.with_topology("direct")
            timed = [_timed(FRONTIER_SOLVERS[solver](), req.take(k)) for k in range(count)]
            cost = latency(req, np.concatenate([placement for placement, _ in timed]))
            cut_cost = cost if cut_cost is None else cut_cost  # the first row: the cut, relay
            disagreement = np.max(np.abs(relative_excess(cost, cut_cost))) if topology == "relay" else np.nan
            rows.append({"graph": name, "nodes": graph.num_nodes, "edges": graph.num_edges, "topology": topology,
                         "solver": solver, "seconds": float(np.mean([t for _, t in timed])),
                         "max_disagreement": float(disagreement)})
    return pd.DataFrame(rows)
