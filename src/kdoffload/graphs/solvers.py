"""Exact placement of task graphs: exhaustive search, minimum cut, integer program.

Every solver is a policy (:class:`kdoffload.policy.Policy`): a ``name`` and
``decide(req) -> (r, n) int64`` locations (0 device, 1 edge, 2 cloud) for a
:class:`~kdoffload.graphs.model.GraphRequirements`. Each declares where it is exact --
``topologies`` and ``objectives`` -- and raises a ValueError when asked outside them,
never returning a silently wrong placement:

=================  ================  ==================  ==================================
solver             topologies        objectives          size
=================  ================  ==================  ==================================
ExhaustiveSearch   relay, direct     latency, makespan   n <= 10 (3**n placements)
MinCut             relay             latency             any (polynomial)
IntegerProgram     relay, direct     latency, makespan   any (CBC; exponential worst case)
=================  ================  ==================  ==================================

Ties: exhaustive search returns the lexicographically first optimum (node 0 most
significant, device < edge < cloud, within a relative ``TIE_RTOL``); min cut and the
integer program return *an* optimum, so compare them by cost (within 1e-9 relative).

Minimum cut (Ishikawa 2003)
---------------------------
With the relay topology, moving a byte between locations ``a`` and ``b`` costs
``|[a >= 1] - [b >= 1]| / b1 + |[a >= 2] - [b >= 2]| / b2``: a distance on the line
device - edge - cloud. Write ``z_v1 = [x_v >= 1]`` and ``z_v2 = [x_v >= 2]`` (so
``z_v2 <= z_v1``). The summed latency becomes ``sum_v theta_v(x_v) + sum_(u,v) D_uv
(|z_u1 - z_v1| / b1 + |z_u2 - z_v2| / b2)``, and one s-t cut of this graph, with two
nodes ``v1``, ``v2`` per subtask, prices every placement exactly (``z = 1`` on the
source side):

* ``s -> v1`` of capacity ``theta_v(device)``, ``v1 -> v2`` of ``theta_v(edge)``,
  ``v2 -> t`` of ``theta_v(cloud)``: exactly one is cut, the one of ``x_v``;
* ``v2 -> v1`` of infinite capacity: a cut with ``v2`` on the source side and ``v1`` on
  the sink side (``z_v2 > z_v1``) is infinite, so every finite cut is a placement;
* ``u1 <-> v1`` of ``D_uv / b1`` both ways and ``u2 <-> v2`` of ``D_uv / b2``: cut
  exactly when the edge's data crosses the device<->edge or edge<->cloud hop.

A finite cut costs the latency of its placement, so a minimum cut is an optimal placement
(``theta_v`` is shifted by its minimum over the three locations first, a constant). With
the direct link, device<->cloud may cost less than the sum of the two hops; the
distance is no longer on a line, the cut overprices those transfers, and MinCut refuses
(``decide(req.with_topology("relay"))`` optimises the relay prices instead; see
``benchmarks/bench_graphs.py`` for how often and by how much that misses).

Max-flow library: PyMaxflow (Boykov-Kolmogorov, float64 capacities). Measured at
n = 50 (random layered DAGs with default parameters, about 80 edges, so 102 cut nodes
and 530 arcs; one core; 200 DAGs one per call / 200 requests of one DAG in one
disjoint-union graph):

* PyMaxflow 1.3.2: 5,100 / 17,600 instances/s; float64 capacities, no scaling;
* scipy 1.17 ``maximum_flow`` (Dinic): 320 / 6,200 instances/s, and it needs integer
  capacities *and silently casts them to int32* (a capacity of 2**40 + 1 became 1).
  The infinite arcs must exceed the sum of the finite ones, so an instance's latencies
  get about 2**30 units in all: a rounding error of about 1e-9 of that total per arc,
  which breaks an agreement to 1e-9 relative;
* igraph 1.0 ``st_mincut``: 185 / 630 instances/s (floats fine; Python lists in and out);
* networkx 3.6 ``minimum_cut``: 63 instances/s (floats fine; pure Python).

PyMaxflow is 16x faster than scipy one instance at a time and exact in floats; its
wheels (manylinux, numpy only) install from PyPI. Its licence is GPL-3.0 (the
Boykov-Kolmogorov code), unlike this package's MIT; it is imported only when MinCut runs.

Integer program (PuLP + CBC)
----------------------------
Binary ``x_va`` (node ``v`` at location ``a``, ``sum_a x_va = 1``) and, per edge ``(u,
v)``, nine nonnegative ``y_ab`` with ``sum_b y_ab = x_ua`` and ``sum_a y_ab = x_vb``
(the marginal, or local-polytope, form); objective ``sum theta_v(a) x_va + sum
pairwise_e(a, b) y_ab``. The ``y`` need no integrality: with integral ``x`` they are
forced to ``x_ua x_vb``. Exact for any topology. For the makespan, continuous finish
times ``f_v`` and ``T`` join: ``f_v >= computation_v(x) + inbound_v(x)``, per edge ``f_v
>= f_u + pairwise_e(y) + computation_v(x)`` and ``T >= f_v + outbound_v(x)``, minimising
``T`` -- every duration is linear in ``x`` and ``y``, so no big-M is needed, and with
integral ``x`` the least ``T`` is the longest path. The weak linearisation (``y_ab >=
x_ua + x_vb - 1``, ``y >= 0``, instead of the marginal equalities) is exact too, but its
LP relaxation is loose (``x = 1/3`` everywhere and ``y = 0`` is feasible) and CBC
branches. Measured once on one core (``bench_graphs.weak_form``: direct link, n = 20,
PuLP models, CBC's default switches), seconds per instance, weak vs marginal: one model
per instance 0.037-0.054 vs 0.035-0.043; 20 instances in one model 0.245 vs 0.031; 100
in one model 1.37 (137 s in all) vs 0.061. Only the marginal form is shipped, and a
model holds a few requests at most (``batch_nodes``).

Each instance's costs are scaled so that the cheapest single-location placement costs
``objective_scale`` (1000) before CBC sees them (its tolerances are absolute), with
primal and dual tolerances of 1e-10 and presolve, preprocessing, cuts and heuristics off
(:data:`CBC_OPTIONS`).

Units: the costs are seconds; cycles, Hz, bytes, bytes/s in the requirements.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np

from .. import registry
from ..checks import check_choice, check_count
from ..system import NUM_LOCATIONS
from .model import (
    OBJECTIVES, TOPOLOGIES, GraphRequirements, TaskGraph, check_graph_requirements, cost_terms, edge_terms,
    node_terms,
)

__all__ = ["TIE_RTOL", "GraphSolver", "ExhaustiveSearch", "MinCut", "IntegerProgram", "solve",
           "all_placements", "ishikawa_arcs"]

#: Placements whose cost is within this relative distance of the optimum count as ties.
TIE_RTOL = 1e-9


@dataclass
class GraphSolver:
    """Base of the exact graph solvers: the objective and where the solver is exact.

    Parameters
    ----------
    output_return : bool
        Whether sink outputs go back to the device (as for chains).
    objective : {"latency", "makespan"}
        Summed latency or makespan (:mod:`kdoffload.graphs.model`); must be one of the
        class's ``objectives``.

    Class attributes ``topologies`` and ``objectives`` say where a solver is exact; asked
    outside them it raises a ValueError naming the field, e.g. ``topology must be one of
    ['relay'] for mincut (...), got topology = 'direct'``.
    """

    output_return: bool = True
    objective: str = "latency"
    name: str = "graph_solver"

    topologies = TOPOLOGIES
    objectives = OBJECTIVES
    why_topology = ""
    why_objective = ""

    def __post_init__(self):
        check_choice("objective", self.objective, OBJECTIVES)
        self._check("objective", self.objective, self.objectives, self.why_objective)

    def _check(self, field: str, value, allowed, reason: str = "") -> None:
        if value not in allowed:
            reason = f" ({reason})" if reason else ""
            raise ValueError(f"{field} must be one of {sorted(allowed)} for {self.name}{reason}, "
                             f"got {field} = {value!r}")

    def checked(self, req: GraphRequirements) -> GraphRequirements:
        """``req`` after checking it is a GraphRequirements within the solver's exactness."""
        req = check_graph_requirements(req)
        self._check("topology", req.topology, self.topologies, self.why_topology)
        return req

    def decide(self, req: GraphRequirements) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def all_placements(num_nodes: int) -> np.ndarray:
    """Every placement, shape (3**n, n), in lexicographic order (node 0 most significant)."""
    return np.array(list(itertools.product(range(NUM_LOCATIONS), repeat=num_nodes)), dtype=np.int64)


def _axes(count: int, n: int, *nodes: int) -> list[int]:
    """Shape (count, 1, ..., 1) with 3 on the axes of ``nodes`` (axis ``1 + v`` is node ``v``)."""
    shape = [count] + [1] * n
    for v in nodes:
        shape[1 + v] = NUM_LOCATIONS
    return shape


def _oriented(pairwise: np.ndarray, e: int, u: int, v: int) -> np.ndarray:
    """Edge ``e``'s (count, 3, 3) terms with the smaller node index first."""
    return pairwise[:, e] if u < v else pairwise[:, e].transpose(0, 2, 1)


@dataclass
class ExhaustiveSearch(GraphSolver):
    """Optimal placements by pricing all 3**n of them (vectorised), any topology and objective.

    The costs of one instance are an n-dimensional (3, ..., 3) array: each node's terms
    are broadcast along its axis, each edge's (3, 3) terms along its two axes, so pricing
    all placements takes ``n + m`` array operations of 3**n elements (for the makespan,
    maxima of finish times in topological order). ``max_elements`` bounds the arrays of
    one chunk of instances; ``max_nodes`` (10) refuses larger graphs with a ValueError.
    """

    max_nodes: int = 10
    max_elements: int = 1 << 21
    name: str = "exhaustive"

    def __post_init__(self):
        super().__post_init__()
        check_count("max_nodes", self.max_nodes)
        check_count("max_elements", self.max_elements)

    def decide(self, req: GraphRequirements) -> np.ndarray:
        req = self.checked(req)
        n = req.num_nodes
        if n > self.max_nodes:
            raise ValueError(f"num_nodes must be <= {self.max_nodes} for exhaustive search (3**n placements; "
                             f"max_nodes = {self.max_nodes}), got num_nodes = {n}; use MinCut (relay) or "
                             f"IntegerProgram (any topology)")
        size = NUM_LOCATIONS ** n
        if self.objective == "latency":
            unary, pairwise = cost_terms(req, self.output_return)
            chunk = max(1, self.max_elements // size)

            def costs(part):
                return self.costs(unary[part], pairwise[part], req.graph.edges)
        else:
            terms = node_terms(req, self.output_return) + (edge_terms(req),)
            chunk = max(1, self.max_elements // (size * (n + 1)))

            def costs(part):
                return self.makespans(*(term[part] for term in terms), req.graph)
        result = np.empty((req.n, n), dtype=np.int64)
        for start in range(0, req.n, chunk):
            part = slice(start, start + chunk)
            flat = costs(part).reshape(-1, size)
            best = flat.min(axis=1, keepdims=True)
            first = np.argmax(flat <= best * (1 + TIE_RTOL), axis=1)
            result[part] = np.stack(np.unravel_index(first, (NUM_LOCATIONS,) * n), axis=1)
        return result

    @staticmethod
    def costs(unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray) -> np.ndarray:
        """Summed latency of every placement, shape (r, 3, ..., 3): axis ``1 + v`` is node ``v``."""
        r, n, _ = unary.shape
        total = np.zeros((r,) + (NUM_LOCATIONS,) * n)
        for v in range(n):
            total += unary[:, v].reshape(_axes(r, n, v))
        for e, (u, v) in enumerate(edges.tolist()):
            total += _oriented(pairwise, e, u, v).reshape(_axes(r, n, min(u, v), max(u, v)))
        return total

    @staticmethod
    def makespans(computation: np.ndarray, inbound: np.ndarray, outbound: np.ndarray, pairwise: np.ndarray,
                  graph: TaskGraph) -> np.ndarray:
        """Makespan of every placement, shape (r, 3, ..., 3) (finish times in topological order)."""
        r, n, _ = computation.shape
        incoming = [[] for _ in range(n)]
        for e, (u, v) in enumerate(graph.edges.tolist()):
            incoming[v].append((e, u))
        finish = [None] * n
        span = np.zeros((r,) + (NUM_LOCATIONS,) * n)
        for v in graph.order.tolist():
            start = inbound[:, v].reshape(_axes(r, n, v))
            for e, u in incoming[v]:
                arrival = finish[u] + _oriented(pairwise, e, u, v).reshape(_axes(r, n, min(u, v), max(u, v)))
                start = np.maximum(start, arrival)
            finish[v] = start + computation[:, v].reshape(_axes(r, n, v))
            np.maximum(span, finish[v] + outbound[:, v].reshape(_axes(r, n, v)), out=span)
        return span


def ishikawa_arcs(unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray):
    """Arcs of the minimum-cut graph of ``r`` instances (disjoint union), relay topology only.

    Cut node ``2 * (k * n + v)`` is ``v1`` and the next one ``v2`` of subtask ``v`` of
    instance ``k``; the source ``s`` and the sink ``t`` are implicit (see the module
    docstring for the construction).

    Returns
    -------
    terminal : (source_caps, sink_caps), each (r, n, 2)
        Capacity of ``s -> v_j`` and ``v_j -> t`` (seconds), ``j = 1, 2`` along the last axis.
    inner : (tails, heads, caps, reverse_caps)
        Two-way arcs between cut nodes: ``v1 -> v2`` (reverse: "infinite", more than all
        finite arcs of the instance together), then ``u1 <-> v1`` and ``u2 <-> v2`` per edge.
    offset : array (r,)
        Constant removed from the unary terms (sum over nodes of their minimum).
    """
    r, n, _ = unary.shape
    base = unary.min(axis=2)
    theta = unary - base[:, :, None]
    first = 2 * np.arange(r * n).reshape(r, n)
    w1 = pairwise[:, :, 0, 1]
    w2 = pairwise[:, :, 1, 2]
    # "Infinite": more than every finite arc of the instance together.
    infinite = theta.sum(axis=(1, 2)) + 2.0 * (w1.sum(axis=1) + w2.sum(axis=1)) + 1.0
    source = np.zeros((r, n, 2))
    sink = np.zeros((r, n, 2))
    source[:, :, 0] = theta[:, :, 0]
    sink[:, :, 1] = theta[:, :, 2]
    u, v = edges[:, 0], edges[:, 1]
    tails = np.concatenate([first.ravel(), first[:, u].ravel(), first[:, u].ravel() + 1])
    heads = np.concatenate([first.ravel() + 1, first[:, v].ravel(), first[:, v].ravel() + 1])
    caps = np.concatenate([theta[:, :, 1].ravel(), w1.ravel(), w2.ravel()])
    reverse = np.concatenate([np.repeat(infinite, n), w1.ravel(), w2.ravel()])
    return (source, sink), (tails, heads, caps, reverse), base.sum(axis=1)


@dataclass
class MinCut(GraphSolver):
    """Optimal placements by one s-t minimum cut (Ishikawa 2003), relay topology only.

    See the module docstring for the construction, the argument and the choice of
    PyMaxflow. ``batch_size`` requests of one graph share one max-flow graph (a disjoint
    union: its minimum cut is the union of theirs), which amortises the Python overhead.
    """

    batch_size: int = 256
    name: str = "mincut"

    topologies = ("relay",)
    objectives = ("latency",)
    why_topology = "exact only where moving a byte costs a distance on the line device - edge - cloud"
    why_objective = "a cut prices a sum of per-node and per-pair terms; the makespan is a longest path"

    def __post_init__(self):
        super().__post_init__()
        check_count("batch_size", self.batch_size)

    def decide(self, req: GraphRequirements) -> np.ndarray:
        req = self.checked(req)
        unary, pairwise = cost_terms(req, self.output_return)
        edges = req.graph.edges
        result = np.empty(unary.shape[:2], dtype=np.int64)
        for start in range(0, len(unary), self.batch_size):
            part = slice(start, start + self.batch_size)
            result[part] = self._solve(unary[part], pairwise[part], edges)
        return result

    @staticmethod
    def _solve(unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray) -> np.ndarray:
        try:
            import maxflow  # PyMaxflow (GPL-3.0): the optional extra kdoffload[graphs]
        except ImportError as error:
            raise ImportError("MinCut needs PyMaxflow: pip install 'kdoffload[graphs]' (or PyMaxflow>=1.3); "
                              "IntegerProgram and ExhaustiveSearch solve the same graphs without it") from error

        r, n, _ = unary.shape
        (source, sink), (tails, heads, caps, reverse), _ = ishikawa_arcs(unary, pairwise, edges)
        count = 2 * r * n
        graph = maxflow.Graph[float](count, len(tails))
        nodes = graph.add_nodes(count)
        graph.add_edges(tails, heads, caps, reverse)
        graph.add_grid_tedges(nodes, source.ravel(), sink.ravel())
        graph.maxflow()
        on_source_side = ~graph.get_grid_segments(nodes).reshape(r, n, 2)
        return on_source_side.sum(axis=2).astype(np.int64)


#: CBC's switches for the graph program: exactness comes from branch and bound alone, so
#: presolve, preprocessing, cuts and heuristics (which cost 60 % of CBC's time at n = 100
#: and never changed the optimum here) are off; primal and dual tolerances 1e-10.
CBC_OPTIONS = ("presolve", "off", "preprocess", "off", "cuts", "off", "heuristics", "off",
               "primalTolerance", "1e-10", "dualTolerance", "1e-10")


@dataclass
class Block:
    """One instance of the program: its (scaled) terms, each in the units of the objective.

    ``computation``, ``inbound``, ``outbound`` (n, 3) and ``pairwise`` (m, 3, 3) as in
    :func:`kdoffload.graphs.model.node_terms` and :func:`~kdoffload.graphs.model.edge_terms`.
    """

    computation: np.ndarray
    inbound: np.ndarray
    outbound: np.ndarray
    pairwise: np.ndarray
    graph: TaskGraph


@dataclass
class Program:
    """A minimisation over nonnegative columns, as arrays.

    ``cost`` (columns,), the nonzeros ``rows``, ``cols``, ``values`` of the constraint
    matrix, ``senses`` ("E" or "G") and ``rhs`` per row, ``binary`` (columns,) bool, and
    ``x_columns``: for each block, the (n, 3) columns of its ``x``.
    """

    cost: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    senses: np.ndarray
    rhs: np.ndarray
    binary: np.ndarray
    x_columns: list


def block_program(block: Block, objective: str = "latency"):
    """The marginal-form program of one instance (offsets 0), see the module docstring.

    Columns: ``x[v, a]`` at ``3 v + a`` (binary), ``y[e, a, b]`` at ``3 n + 9 e + 3 a + b``
    and, for the makespan, finish times ``f[v]`` at ``3 n + 9 m + v`` and ``T`` last.
    Rows: ``sum_a x_va = 1``; per edge ``sum_b y_eab = x_ua`` and ``sum_a y_eab = x_vb``;
    for the makespan ``f_v >= (computation + inbound)[v, x_v]``, per edge ``f_v >= f_u +
    pairwise[e, x_u, x_v] + computation[v, x_v]`` (linear in ``x`` and ``y``) and ``T >=
    f_v + outbound[v, x_v]``.

    Returns (cost, rows, cols, values, senses, rhs, binary) for :class:`Program`.
    """
    n = block.graph.num_nodes
    edges = block.graph.edges
    m = len(edges)
    e, a, nodes = np.arange(m), np.arange(3), np.arange(n)
    x = 3 * nodes[:, None] + a[None, :]  # (n, 3)
    y = 3 * n + 9 * e[:, None, None] + 3 * a[None, :, None] + a[None, None, :]  # (m, 3, 3)
    u, v = edges[:, 0], edges[:, 1]
    out_rows = n + 3 * e[:, None] + a[None, :]  # (m, 3): sum_b y_eab - x_ua = 0
    in_rows = n + 3 * m + 3 * e[:, None] + a[None, :]  # (m, 3): sum_a y_eab - x_vb = 0
    entries = [
        (np.repeat(nodes, 3), x.ravel(), np.ones(3 * n)),
        (np.repeat(out_rows.ravel(), 3), y.ravel(), np.ones(9 * m)),
        (out_rows.ravel(), x[u].ravel(), -np.ones(3 * m)),
        (np.broadcast_to(in_rows[:, None, :], (m, 3, 3)).ravel(), y.ravel(), np.ones(9 * m)),
        (in_rows.ravel(), x[v].ravel(), -np.ones(3 * m)),
    ]
    senses = ["E"] * (n + 6 * m)
    rhs = [1.0] * n + [0.0] * (6 * m)
    columns = 3 * n + 9 * m
    if objective == "latency":
        cost = np.concatenate([(block.computation + block.inbound + block.outbound).ravel(), block.pairwise.ravel()])
    else:
        f = columns + nodes
        finish_time = columns + n
        start_rows = n + 6 * m + nodes
        edge_rows = n + 6 * m + n + e
        end_rows = n + 6 * m + n + m + nodes
        entries += [
            (start_rows, f, np.ones(n)),
            (np.repeat(start_rows, 3), x.ravel(), -(block.computation + block.inbound).ravel()),
            (edge_rows, f[v], np.ones(m)),
            (edge_rows, f[u], -np.ones(m)),
            (np.repeat(edge_rows, 9), y.ravel(), -block.pairwise.ravel()),
            (np.repeat(edge_rows, 3), x[v].ravel(), -block.computation[v].ravel()),
            (end_rows, np.full(n, finish_time), np.ones(n)),
            (end_rows, f, -np.ones(n)),
            (np.repeat(end_rows, 3), x.ravel(), -block.outbound.ravel()),
        ]
        senses += ["G"] * (2 * n + m)
        rhs += [0.0] * (2 * n + m)
        columns += n + 1
        cost = np.zeros(columns)
        cost[finish_time] = 1.0
    rows, cols, values = (np.concatenate(parts) for parts in zip(*entries))
    keep = values != 0.0
    binary = np.arange(columns) < 3 * n
    return cost, rows[keep], cols[keep], values[keep], np.array(senses), np.array(rhs), binary


def stack_programs(blocks: list, objective: str = "latency") -> Program:
    """One program of independent blocks (row and column offsets added)."""
    parts, x_columns, row_offset, col_offset = [], [], 0, 0
    for block in blocks:
        cost, rows, cols, values, senses, rhs, binary = block_program(block, objective)
        parts.append((cost, rows + row_offset, cols + col_offset, values, senses, rhs, binary))
        x_columns.append(col_offset + np.arange(3 * block.graph.num_nodes).reshape(-1, 3))
        row_offset += len(rhs)
        col_offset += len(cost)
    return Program(*(np.concatenate(field) for field in zip(*parts)), x_columns=x_columns)


def write_mps(path: str, program: Program) -> None:
    """``program`` in MPS (columns ``C<j>``, rows ``R<i>``; the BOUNDS line in fixed columns,
    which CBC's reader needs there)."""
    order = np.lexsort((program.rows, program.cols))
    rows, cols, values = program.rows[order].tolist(), program.cols[order], program.values[order].tolist()
    lines = ["NAME graph_offloading", "ROWS", " N obj"]
    lines += [f" {sense} R{i}" for i, sense in enumerate(program.senses.tolist())]
    lines.append("COLUMNS")
    starts = np.searchsorted(cols, np.arange(len(program.cost) + 1)).tolist()
    integer = False
    costs, binary = program.cost.tolist(), program.binary.tolist()
    for j in range(len(costs)):
        if binary[j] != integer:
            integer = binary[j]
            lines.append(f" M{j} 'MARKER' '{'INTORG' if integer else 'INTEND'}'")
        if costs[j] != 0.0:
            lines.append(f" C{j} obj {costs[j]!r}")
        lines += [f" C{j} R{i} {value!r}" for i, value in zip(rows[starts[j]:starts[j + 1]],
                                                              values[starts[j]:starts[j + 1]])]
    if integer:
        lines.append(f" M{len(costs)} 'MARKER' 'INTEND'")
    lines.append("RHS")
    lines += [f" rhs R{i} {value!r}" for i, value in enumerate(program.rhs.tolist()) if value != 0.0]
    lines.append("BOUNDS")
    lines += [f" BV BND       C{j}" for j in np.flatnonzero(program.binary).tolist()]
    lines.append("ENDATA")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def read_solution(path: str, columns: int) -> np.ndarray:
    """Column values from a CBC ``-solution`` file written with ``-printingOptions all``."""
    with open(path) as handle:
        status = handle.readline()
        if not status.startswith("Optimal"):
            raise RuntimeError(f"CBC did not solve the graph placement program: {status.strip()!r}")
        values = np.zeros(columns)
        for line in handle:
            fields = line.split()
            if fields and fields[0] == "**":  # CBC marks infeasibilities with "**"
                fields = fields[1:]
            values[int(fields[0])] = float(fields[2])
    return values


def solve_with_cbc(program: Program) -> np.ndarray:
    """Column values of an optimum of ``program``, by PuLP's bundled CBC on an MPS file."""
    with tempfile.TemporaryDirectory(prefix="kdoffload_graph_ilp_") as folder:
        model, solution = os.path.join(folder, "model.mps"), os.path.join(folder, "model.sol")
        write_mps(model, program)
        import pulp  # imported here: the other solvers need no LP library

        command = [pulp.PULP_CBC_CMD().path, model, *CBC_OPTIONS, "-solve", "-printingOptions", "all",
                   "-solution", solution]
        finished = subprocess.run(command, capture_output=True, text=True)
        if not os.path.exists(solution):
            raise RuntimeError(f"CBC failed on the graph placement program (exit {finished.returncode}): "
                               f"{finished.stdout[-500:]}{finished.stderr[-500:]}")
        return read_solution(solution, len(program.cost))


def solve_with_pulp(program: Program) -> np.ndarray:
    """Column values of an optimum of ``program``, modelled with PuLP and solved by ``PULP_CBC_CMD``."""
    import pulp

    model = pulp.LpProblem("graph_offloading", pulp.LpMinimize)
    columns = [pulp.LpVariable(f"c{j}", lowBound=0, upBound=1 if binary else None,
                               cat=pulp.LpBinary if binary else pulp.LpContinuous)
               for j, binary in enumerate(program.binary.tolist())]
    order = np.argsort(program.rows, kind="stable")
    rows, cols, values = program.rows[order], program.cols[order].tolist(), program.values[order].tolist()
    starts = np.searchsorted(rows, np.arange(len(program.rhs) + 1)).tolist()
    senses = {"E": pulp.LpConstraintEQ, "G": pulp.LpConstraintGE}
    for i, (sense, rhs) in enumerate(zip(program.senses.tolist(), program.rhs.tolist())):
        expression = pulp.LpAffineExpression([(columns[j], value) for j, value in
                                              zip(cols[starts[i]:starts[i + 1]], values[starts[i]:starts[i + 1]])])
        model.addConstraint(pulp.LpConstraint(expression, senses[sense], f"r{i}", rhs))
    model.setObjective(pulp.LpAffineExpression([(columns[j], c) for j, c in enumerate(program.cost.tolist()) if c]))
    options = [" ".join(CBC_OPTIONS[i:i + 2]) for i in range(4, len(CBC_OPTIONS), 2)]
    status = model.solve(pulp.PULP_CBC_CMD(msg=False, presolve=False, cuts=False, options=options))
    if pulp.LpStatus[status] != "Optimal":
        raise RuntimeError(f"CBC did not solve the graph placement program: status {pulp.LpStatus[status]}")
    return np.array([column.varValue or 0.0 for column in columns])


@dataclass
class IntegerProgram(GraphSolver):
    """Optimal placements from a 0-1 program in the marginal form, solved by CBC: any
    topology, latency or makespan.

    See the module docstring for the formulation. Two ways to hand it to CBC (PuLP's
    bundled binary), which give the same program:

    * ``modeller="arrays"`` (default): the constraint matrix is assembled with NumPy
      (:func:`block_program`) and written as MPS directly; the solution file is read
      back. PuLP's modelling layer cost about 135 ms of the 240 ms per instance at
      n = 100 (building 2,300 variables and 1,400 rows as Python objects, writing and
      reading the files); this path costs a few ms.
    * ``modeller="pulp"``: the same arrays turned into a PuLP model and solved with
      ``PULP_CBC_CMD`` (PuLP writes and reads the files); the reference for the first.

    Several instances share one model (independent blocks), which amortises CBC's start-up
    (5 ms): up to ``batch_nodes`` nodes in all, at least one instance. Measured on one
    core (direct link, arrays, one DAG): n = 20, 1/2/5/10/20 requests per model:
    48/77/148/139/141 instances/s; n = 100, 1/2/5/10: 21/22/18/15 instances/s.
    :meth:`decide_many` packs requests of *different* graphs the same way. The makespan
    program branches more (its LP relaxation spreads ``x`` to shorten the longest path):
    on one core, direct link, 35 instances/s at n = 20 and 1.2 at n = 100, against 83
    and 13 for the summed latency (``benchmarks/bench_graphs.py``).

    Each instance's terms are scaled so that its cheapest single-location placement has a
    summed latency of ``objective_scale`` (1000), since CBC's tolerances are absolute; the
    makespan never exceeds the summed latency, so it is at most that.
    """

    batch_nodes: int = 100
    objective_scale: float = 1000.0
    modeller: str = "arrays"
    name: str = "ilp"

    def __post_init__(self):
        super().__post_init__()
        check_count("batch_nodes", self.batch_nodes)
        check_choice("modeller", self.modeller, ("arrays", "pulp"))

    def blocks(self, req: GraphRequirements) -> list:
        """One scaled :class:`Block` per request of ``req`` (checked)."""
        req = self.checked(req)
        computation, inbound, outbound = node_terms(req, self.output_return)
        pairwise = edge_terms(req)
        factor = self.scale_factors(computation + inbound + outbound, pairwise, self.objective_scale)
        return [Block(computation[k] * factor[k], inbound[k] * factor[k], outbound[k] * factor[k],
                      pairwise[k] * factor[k], req.graph) for k in range(req.n)]

    def decide(self, req: GraphRequirements) -> np.ndarray:
        return np.stack(self._solve_blocks(self.blocks(req)))

    def decide_many(self, requests) -> list:
        """Placements for a sequence of :class:`GraphRequirements` (any graphs), packed into
        shared models of up to ``batch_nodes`` nodes; a list of (r_i, n_i) arrays."""
        blocks = [self.blocks(req) for req in requests]
        flat = self._solve_blocks([block for group in blocks for block in group])
        result, start = [], 0
        for group in blocks:
            result.append(np.stack(flat[start:start + len(group)]).reshape(len(group), -1))
            start += len(group)
        return result

    def _solve_blocks(self, blocks: list) -> list:
        solve = solve_with_cbc if self.modeller == "arrays" else solve_with_pulp
        placements, batch, nodes = [], [], 0
        for index, block in enumerate(blocks):
            batch.append(block)
            nodes += block.graph.num_nodes
            following = blocks[index + 1].graph.num_nodes if index + 1 < len(blocks) else None
            if following is None or nodes + following > self.batch_nodes:
                program = stack_programs(batch, self.objective)
                values = solve(program)
                placements += [values[columns].argmax(axis=1).astype(np.int64) for columns in program.x_columns]
                batch, nodes = [], 0
        return placements

    @staticmethod
    def scale_factors(unary: np.ndarray, pairwise: np.ndarray, objective_scale: float) -> np.ndarray:
        """Per-instance factors (r,) giving the cheapest single-location placement a latency of
        ``objective_scale``; if that placement is free, the smallest positive term instead (all zero: 1)."""
        diagonal = pairwise[:, :, np.arange(NUM_LOCATIONS), np.arange(NUM_LOCATIONS)]  # (r, m, 3)
        uniform = unary.sum(axis=1) + diagonal.sum(axis=1)  # (r, 3)
        scale = uniform.min(axis=1)
        everything = np.concatenate([unary.reshape(len(unary), -1), pairwise.reshape(len(pairwise), -1)], axis=1)
        smallest = np.where(everything > 0, everything, np.inf).min(axis=1)
        scale = np.where(scale > 0, scale, np.where(np.isfinite(smallest), smallest, 1.0))
        return objective_scale / scale

    @classmethod
    def scaled(cls, unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray, objective_scale: float):
        """``(unary, pairwise)`` multiplied by :meth:`scale_factors` (``edges`` unused; kept for callers)."""
        factor = cls.scale_factors(unary, pairwise, objective_scale)
        return unary * factor[:, None, None], pairwise * factor[:, None, None, None]


def solve(req: GraphRequirements, method: str = "ilp", objective: str = "latency",
          output_return: bool = True) -> np.ndarray:
    """Optimal placements (r, n) of ``req`` by ``method`` in {"exhaustive", "mincut", "ilp"}.

    Raises a ValueError where the method is not exact (``mincut`` with ``topology="direct"``
    or the makespan) or too large (``exhaustive`` beyond 10 nodes).
    """
    check_choice("method", method, registry.names("graph", "exact"))
    return registry.build(method, model="graph", objective=objective, output_return=output_return).decide(req)


_EXACT = {"family": "exact", "model": "graph", "key": "optimal", "key_label": "Optimal"}
registry.register("exhaustive", label="Optimal (exhaustive)", order=10, **_EXACT,
                  build=lambda seed=0, **cost: ExhaustiveSearch(**cost))
registry.register("mincut", label="Optimal (minimum cut)", order=11, **_EXACT,
                  build=lambda seed=0, **cost: MinCut(**cost))
registry.register("ilp", label="Optimal (ILP)", order=12, **_EXACT,
                  build=lambda seed=0, **cost: IntegerProgram(**cost))
