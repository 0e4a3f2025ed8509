"""Where the optimal placement of a DNN splits it, as one bandwidth sweeps.

:func:`midpoint_network` is the network at the middle of a preset's ranges;
:func:`bandwidth_sweep` varies one bandwidth of it and places a DNN graph
(:mod:`kdoffload.graphs.dnn`) optimally at each value -- by minimum cut under the relay
topology, by the integer program under the direct link -- and costs the heuristics
(:mod:`kdoffload.graphs.heuristics`) on the same requests.

Units: Hz, bytes/s, seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..checks import check_choice, check_positive_array
from ..system import PRESETS
from .dnn import CYCLES_PER_FLOP, dnn_requirements
from .families import B3_RANGE
from .heuristics import graph_heuristic
from .model import TOPOLOGIES, latency
from .solvers import IntegerProgram, MinCut

__all__ = ["HEURISTICS", "midpoint_network", "optimal_solver", "bandwidth_sweep", "split_summary"]

#: The heuristics costed beside the optimum.
HEURISTICS = ("greedy", "local", "edge", "cloud")


def midpoint_network(preset: str = "wide") -> dict:
    """p1, p2 (Hz), b1, b2 (bytes/s) at the middle of ``preset``'s ranges, and b3 at the
    middle of :data:`~kdoffload.graphs.families.B3_RANGE`."""
    ranges = PRESETS[check_choice("preset", preset, PRESETS)]
    network = {name: float(np.mean(ranges[name])) for name in ("p1", "p2", "b1", "b2")}
    network["b3"] = float(np.mean(B3_RANGE))
    return network


def optimal_solver(topology: str):
    """The fastest exact solver for ``topology``: min cut (relay) or the integer program (direct)."""
    check_choice("topology", topology, TOPOLOGIES)
    return MinCut() if topology == "relay" else IntegerProgram()


def bandwidth_sweep(name: str, bandwidth: str, values: Sequence[float], topology: str = "relay",
                    preset: str = "wide", cycles_per_flop: float = CYCLES_PER_FLOP) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Optimal placements of the DNN ``name`` as ``bandwidth`` takes each of ``values``.

    Parameters
    ----------
    name : str
        One of :data:`kdoffload.graphs.dnn.DNN_GRAPHS`.
    bandwidth : {"b1", "b2", "b3"}
        The bandwidth swept, bytes/s; the other parameters stay at
        :func:`midpoint_network` of ``preset``.
    values : sequence of float
        Its values, bytes/s (> 0).
    topology : {"relay", "direct"}
    cycles_per_flop : float
        CPU cycles per FLOP at the device and the edge (:func:`~kdoffload.graphs.dnn.dnn_requirements`).

    Returns
    -------
    placements : pandas.DataFrame
        Columns ``value``, ``node``, ``location`` (optimal, 0 device, 1 edge, 2 cloud).
    latencies : pandas.DataFrame
        Columns ``value``, ``policy`` ("optimal" and :data:`HEURISTICS`), ``latency``
        (seconds) and ``normalized`` (latency / optimal latency).
    """
    check_choice("bandwidth", bandwidth, ("b1", "b2", "b3"))
    values = check_positive_array("values", values, 1)
    network = {key: np.full(len(values), value) for key, value in midpoint_network(preset).items()}
    network[bandwidth] = values
    req = dnn_requirements(name, network, cycles_per_flop, topology)
    best = optimal_solver(topology).decide(req)
    optimum = latency(req, best)
    n = req.graph.num_nodes
    placements = pd.DataFrame({"value": np.repeat(values, n), "node": np.tile(np.arange(n), len(values)),
                               "location": best.ravel()})
    rows = [{"value": v, "policy": "optimal", "latency": t, "normalized": 1.0} for v, t in zip(values, optimum)]
    for policy in HEURISTICS:
        cost = latency(req, graph_heuristic(policy).decide(req))
        rows += [{"value": v, "policy": policy, "latency": t, "normalized": t / o}
                 for v, t, o in zip(values, cost, optimum)]
    return placements, pd.DataFrame(rows)


def split_summary(placements: pd.DataFrame) -> pd.DataFrame:
    """Per swept value: how many nodes run at each location, and the first node off the
    device (in node order, input first; -1 if none)."""
    rows = []
    for value, group in placements.groupby("value"):
        locations = group.sort_values("node")["location"].to_numpy()
        off = np.flatnonzero(locations != 0)
        rows.append({"value": value, "device": int(np.sum(locations == 0)), "edge": int(np.sum(locations == 1)),
                     "cloud": int(np.sum(locations == 2)), "first_offloaded": int(off[0]) if off.size else -1})
    return pd.DataFrame(rows)
