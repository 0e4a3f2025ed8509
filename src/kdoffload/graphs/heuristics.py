"""Heuristic placements of task graphs: greedy, fixed locations, random.

The chain heuristics of :mod:`kdoffload.solvers` (``Greedy``, ``FixedLocation``,
``RandomPolicy``, ``heuristic``) for a :class:`~kdoffload.graphs.model.GraphRequirements`.
Each is a policy (:class:`kdoffload.policy.Policy`): a ``name`` and ``decide(req) ->
(r, n) int64`` locations (0 device, 1 edge, 2 cloud). On the paper's chain as a graph
(:func:`~kdoffload.graphs.families.chain_requirements`) they decide exactly as the chain
policies do. Given anything but a GraphRequirements, ``decide`` raises the TypeError of
:func:`~kdoffload.graphs.model.check_graph_requirements`, as the exact graph solvers do.

Units: costs in seconds (cycles, Hz, bytes, bytes/s in the requirements).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import registry
from ..checks import check_choice, check_int, show
from ..system import NUM_LOCATIONS
from .model import OBJECTIVES, GraphRequirements, check_graph_requirements, edge_terms, node_terms

__all__ = ["GRAPH_HEURISTICS", "GraphGreedy", "GraphFixedLocation", "GraphRandom", "graph_heuristic"]

#: Names accepted by :func:`graph_heuristic` (registered below, model "graph").
GRAPH_HEURISTICS = ("greedy", "local", "edge", "cloud", "random")
_FIXED = ("local", "edge", "cloud")


@dataclass
class GraphGreedy:
    """Node by node in topological order, the location that is cheapest for that node alone.

    The chain's :class:`kdoffload.solvers.Greedy` on a DAG. Nodes are visited in
    ``graph.order`` (Kahn's algorithm, smallest index first: the node numbering itself
    when that is topological). Each node takes the location minimising its price, ties
    going to the lower location index; the return of the task output is not looked
    ahead to, so ``output_return`` never changes the decisions (as for the chain).

    * ``objective="latency"``: the price of node ``v`` at ``a`` is its computation
      ``E_v / p`` (0 in the cloud), plus moving its task input (sources) from the
      device to ``a``, plus moving the data of every edge ``(u, v)`` from ``x_u`` to ``a``
      (all predecessors are already placed), in seconds, under the requirements' own
      topology (:func:`~kdoffload.graphs.model.node_terms`,
      :func:`~kdoffload.graphs.model.edge_terms`).
    * ``objective="makespan"``: the price is the finish time of ``v`` at ``a`` (earliest
      finish time, no contention, as in :func:`~kdoffload.graphs.model.makespan`):
      ``computation[v, a] + max(inbound[v, a], max over (u, v) of f_u + data_uv *
      hop[x_u, a])`` seconds, ``f_u`` the finish time of ``u`` at its chosen location.
      On a chain both prices differ by the common ``f_u``, so both greedies agree there.

    Vectorised over the ``r`` requests; the loop runs over nodes and their in-edges.

    Parameters
    ----------
    output_return : bool
        Whether sink outputs return to the device; kept for the signature of the graph
        solvers and of the chain ``Greedy``, it changes nothing here.
    objective : {"latency", "makespan"}
    """

    output_return: bool = True
    objective: str = "latency"
    name: str = "greedy"

    def __post_init__(self):
        check_choice("objective", self.objective, OBJECTIVES)

    def decide(self, req: GraphRequirements) -> np.ndarray:
        req = check_graph_requirements(req)
        computation, inbound, _ = node_terms(req, self.output_return)
        pairwise = edge_terms(req)
        incoming = [[] for _ in range(req.num_nodes)]
        for e, (u, v) in enumerate(req.graph.edges.tolist()):
            incoming[v].append((e, u))
        rows = np.arange(req.n)
        result = np.empty((req.n, req.num_nodes), dtype=np.int64)
        finish = np.empty((req.n, req.num_nodes))
        for v in req.graph.order.tolist():
            if self.objective == "latency":
                price = computation[:, v] + inbound[:, v]
                for e, u in incoming[v]:
                    price = price + pairwise[rows, e, result[:, u]]
            else:
                start = inbound[:, v]
                for e, u in incoming[v]:
                    start = np.maximum(start, finish[:, u, None] + pairwise[rows, e, result[:, u]])
                price = start + computation[:, v]
            result[:, v] = choice = np.argmin(price, axis=1)
            finish[:, v] = price[rows, choice]  # read by the makespan prices only
        return result


@dataclass
class GraphFixedLocation:
    """Every node at one location: 0 ("local"), 1 ("edge") or 2 ("cloud")."""

    location: int
    name: str = ""

    def __post_init__(self):
        integer = isinstance(self.location, (int, np.integer)) and not isinstance(self.location, (bool, np.bool_))
        if not integer or not 0 <= self.location < NUM_LOCATIONS:
            raise ValueError(f"location must be 0, 1 or 2, got location = {show(self.location)}")
        self.location = int(self.location)
        self.name = self.name or _FIXED[self.location]

    def decide(self, req: GraphRequirements) -> np.ndarray:
        req = check_graph_requirements(req)
        return np.full((req.n, req.num_nodes), self.location, dtype=np.int64)


@dataclass
class GraphRandom:
    """Each node at a uniformly random location; ``decide`` is a pure function of ``seed``
    and the batch shape (r, n) (a fresh ``numpy.random.Generator`` per call, drawing as
    the chain's ``RandomPolicy``)."""

    seed: int = 0
    name: str = "random"

    def __post_init__(self):
        check_int("seed", self.seed, minimum=0)

    def decide(self, req: GraphRequirements) -> np.ndarray:
        req = check_graph_requirements(req)
        return np.random.default_rng(self.seed).integers(0, NUM_LOCATIONS, size=(req.n, req.num_nodes))


def graph_heuristic(name: str, seed: int = 0, **options) -> object:
    """A graph heuristic by name: "greedy", "local", "edge", "cloud" or "random".

    ``options`` (``output_return``, ``objective``) go to :class:`GraphGreedy`; ``seed``
    to :class:`GraphRandom`; the fixed locations take neither, as in
    :func:`kdoffload.solvers.heuristic`.
    """
    check_choice("heuristic", name, registry.names("graph", "heuristic"))
    return registry.build(name, seed=seed, model="graph", **options)


registry.register("greedy", label="Greedy", family="heuristic", order=20, model="graph",
                  build=lambda seed=0, **cost: GraphGreedy(**cost))
for _location, _name in enumerate(_FIXED):
    registry.register(_name, label=_name.capitalize(), family="heuristic", order=70 + _location, model="graph",
                      build=lambda seed=0, _location=_location, **cost: GraphFixedLocation(_location))
registry.register("random", label="Random", family="heuristic", order=80, model="graph", seeded=True,
                  stochastic=True, build=lambda seed=0, **cost: GraphRandom(seed=seed))
