"""Exact placement of task graphs: exhaustive search, minimum cut, integer program.

Every solver is a policy (:class:`kdoffload.policy.Policy`): a ``name`` and
``decide(req) -> (r, n) int64`` locations (0 device, 1 edge, 2 cloud) for a
:class:`~kdoffload.graphs.model.GraphRequirements`. Each declares where it is exact --
``topologies`` and ``objectives`` -- and raises a ValueError when asked outside them,
never returning a silently wrong placement:

=================  ================  ============  ==============================
solver             topologies        objectives    size
=================  ================  ============  ==============================
ExhaustiveSearch   relay, direct     latency       n <= 10 (3**n placements)
MinCut             relay             latency       any (polynomial)
IntegerProgram     relay, direct     latency       any (CBC; exponential worst case)
=================  ================  ============  ==============================

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
forced to ``x_ua x_vb``. Exact for any topology. The weak linearisation (``y_ab >=
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
import pulp

from ..checks import check_choice, check_count
from ..system import NUM_LOCATIONS
from .model import OBJECTIVES, TOPOLOGIES, GraphRequirements, check_graph_requirements, cost_terms

__all__ = ["TIE_RTOL", "GraphSolver", "ExhaustiveSearch", "MinCut", "IntegerProgram", "EXACT_SOLVERS", "solve",
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
    objective : str
        Must be one of the class's ``objectives``.

    Class attributes ``topologies`` and ``objectives`` say where a solver is exact; asked
    outside them it raises a ValueError naming the field, e.g. ``topology must be one of
    ['relay'] for mincut (...), got topology = 'direct'``.
    """

    output_return: bool = True
    objective: str = "latency"
    name: str = "graph_solver"

    topologies = TOPOLOGIES
    objectives = OBJECTIVES
    why_exact = ""

    def __post_init__(self):
        self._check("objective", self.objective, self.objectives,
                    "the graph model has summed latency only; makespan is not implemented")

    def _check(self, field: str, value, allowed, reason: str = "") -> None:
        if value not in allowed:
            reason = reason or self.why_exact
            reason = f" ({reason})" if reason else ""
            raise ValueError(f"{field} must be one of {sorted(allowed)} for {self.name}{reason}, "
                             f"got {field} = {value!r}")

    def terms(self, req: GraphRequirements) -> tuple[np.ndarray, np.ndarray]:
        """``(unary, pairwise)`` of ``req`` after checking it is within the solver's exactness."""
        req = check_graph_requirements(req)
        self._check("topology", req.topology, self.topologies)
        return cost_terms(req, self.output_return)

    def decide(self, req: GraphRequirements) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def all_placements(num_nodes: int) -> np.ndarray:
    """Every placement, shape (3**n, n), in lexicographic order (node 0 most significant)."""
    return np.array(list(itertools.product(range(NUM_LOCATIONS), repeat=num_nodes)), dtype=np.int64)


@dataclass
class ExhaustiveSearch(GraphSolver):
    """Optimal placements by pricing all 3**n of them (vectorised), for any topology.

    The costs of one instance are built as an n-dimensional (3, ..., 3) array: each
    node's terms are broadcast along its axis, each edge's (3, 3) terms along its two
    axes, so pricing all placements takes ``n + m`` array additions of 3**n elements.
    ``max_elements`` bounds one chunk of instances (``chunk * 3**n`` floats);
    ``max_nodes`` (10) refuses larger graphs with a ValueError.
    """

    max_nodes: int = 10
    max_elements: int = 1 << 21
    name: str = "exhaustive"

    def __post_init__(self):
        super().__post_init__()
        check_count("max_nodes", self.max_nodes)
        check_count("max_elements", self.max_elements)

    def decide(self, req: GraphRequirements) -> np.ndarray:
        req = check_graph_requirements(req)
        n = req.num_nodes
        if n > self.max_nodes:
            raise ValueError(f"num_nodes must be <= {self.max_nodes} for exhaustive search (3**n placements; "
                             f"max_nodes = {self.max_nodes}), got num_nodes = {n}; use MinCut (relay) or "
                             f"IntegerProgram (any topology)")
        unary, pairwise = self.terms(req)
        size = NUM_LOCATIONS ** n
        chunk = max(1, self.max_elements // size)
        result = np.empty((req.n, n), dtype=np.int64)
        for start in range(0, req.n, chunk):
            part = slice(start, start + chunk)
            costs = self.costs(unary[part], pairwise[part], req.graph.edges).reshape(-1, size)
            best = costs.min(axis=1, keepdims=True)
            first = np.argmax(costs <= best * (1 + TIE_RTOL), axis=1)
            result[part] = np.stack(np.unravel_index(first, (NUM_LOCATIONS,) * n), axis=1)
        return result

    @staticmethod
    def costs(unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray) -> np.ndarray:
        """Cost of every placement, shape (r, 3, ..., 3): axis ``1 + v`` is node ``v``'s location."""
        r, n, _ = unary.shape
        total = np.zeros((r,) + (NUM_LOCATIONS,) * n)
        for v in range(n):
            shape = [r] + [1] * n
            shape[1 + v] = NUM_LOCATIONS
            total += unary[:, v].reshape(shape)
        for e, (u, v) in enumerate(edges.tolist()):
            terms = pairwise[:, e] if u < v else pairwise[:, e].transpose(0, 2, 1)
            shape = [r] + [1] * n
            shape[1 + min(u, v)] = shape[1 + max(u, v)] = NUM_LOCATIONS
            total += terms.reshape(shape)
        return total


def ishikawa_arcs(unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray):
    """Arcs of the minimum-cut graph of ``r`` instances (disjoint union), relay topology only.

    Node ``2 + 2 * (k * n + v)`` is ``v1`` and the next one ``v2`` of node ``v`` of
    instance ``k``; 0 is the source, 1 the sink (see the module docstring).

    Returns
    -------
    terminal : (source_caps, sink_caps), each (r, n, 2)
        Capacity of ``s -> v_j`` and ``v_j -> t`` (seconds).
    inner : (tails, heads, caps, reverse_caps)
        Arcs between inner nodes, numbered from 0 (= node ``v1`` of node 0, instance 0).
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
    why_exact = "exact only where moving a byte costs a distance on the line device - edge - cloud"

    def __post_init__(self):
        super().__post_init__()
        check_count("batch_size", self.batch_size)

    def decide(self, req: GraphRequirements) -> np.ndarray:
        unary, pairwise = self.terms(req)
        edges = check_graph_requirements(req).graph.edges
        result = np.empty(unary.shape[:2], dtype=np.int64)
        for start in range(0, len(unary), self.batch_size):
            part = slice(start, start + self.batch_size)
            result[part] = self._solve(unary[part], pairwise[part], edges)
        return result

    @staticmethod
    def _solve(unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray) -> np.ndarray:
        import maxflow  # PyMaxflow

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


def marginal_program(unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray):
    """The marginal-form program of ``r`` instances as arrays (independent blocks).

    Columns per instance: ``x[v, a]`` at ``3 v + a`` (binary), then ``y[e, a, b]`` at
    ``3 n + 9 e + 3 a + b`` (continuous, >= 0). Rows per instance: ``one[v]`` (``sum_a
    x_va = 1``) at ``v``, ``out[e, a]`` (``sum_b y_eab - x_ua = 0``) at ``n + 3 e + a``,
    ``in[e, b]`` (``sum_a y_eab - x_vb = 0``) at ``n + 3 m + 3 e + b``.

    Returns
    -------
    cost : (r * columns,) objective coefficients
    rows, cols, values : the nonzeros of the constraint matrix
    rhs : (r * rows,) right-hand sides (all equalities)
    binary : (r * columns,) bool
    """
    r, n, _ = unary.shape
    m = len(edges)
    ncol, nrow = 3 * n + 9 * m, n + 6 * m
    e = np.arange(m)
    a = np.arange(3)
    x = 3 * np.arange(n)[:, None] + a[None, :]  # (n, 3)
    y = 3 * n + 9 * e[:, None, None] + 3 * a[None, :, None] + a[None, None, :]  # (m, 3, 3)
    one_rows = np.repeat(np.arange(n), 3)
    out_rows = n + 3 * e[:, None] + a[None, :]  # (m, 3)
    in_rows = n + 3 * m + 3 * e[:, None] + a[None, :]
    rows = np.concatenate([one_rows, np.repeat(out_rows.ravel(), 3), out_rows.ravel(),
                           np.broadcast_to(in_rows[:, None, :], (m, 3, 3)).ravel(), in_rows.ravel()])
    cols = np.concatenate([x.ravel(), y.ravel(), x[edges[:, 0]].ravel() if m else np.zeros(0, int),
                           y.ravel(), x[edges[:, 1]].ravel() if m else np.zeros(0, int)])
    values = np.concatenate([np.ones(3 * n), np.ones(9 * m), -np.ones(3 * m), np.ones(9 * m), -np.ones(3 * m)])
    block = np.arange(r)[:, None]
    rows = (rows[None, :] + nrow * block).ravel()
    cols = (cols[None, :] + ncol * block).ravel()
    values = np.tile(values, r)
    cost = np.concatenate([unary.reshape(r, -1), pairwise.reshape(r, -1)], axis=1).ravel()
    rhs = np.tile(np.concatenate([np.ones(n), np.zeros(6 * m)]), r)
    binary = np.tile(np.arange(ncol) < 3 * n, r)
    return cost, rows, cols, values, rhs, binary


def write_mps(path: str, cost, rows, cols, values, rhs, binary) -> None:
    """A minimisation with equality rows in free MPS (columns ``C<j>``, rows ``R<i>``)."""
    order = np.lexsort((rows, cols))
    rows, cols, values = rows[order], cols[order], values[order]
    lines = ["NAME graph_offloading", "ROWS", " N obj"]
    lines += [f" E R{i}" for i in range(len(rhs))]
    lines.append("COLUMNS")
    starts = np.searchsorted(cols, np.arange(len(cost) + 1))
    integer = False
    costs, binary = cost.tolist(), binary.tolist()
    for j in range(len(costs)):
        if binary[j] != integer:
            integer = bool(binary[j])
            lines.append(f" M{j} 'MARKER' '{'INTORG' if integer else 'INTEND'}'")
        if costs[j] != 0.0:
            lines.append(f" C{j} obj {costs[j]!r}")
        lines += [f" C{j} R{i} {v:g}" for i, v in zip(rows[starts[j]:starts[j + 1]].tolist(),
                                                     values[starts[j]:starts[j + 1]].tolist())]
    if integer:
        lines.append(f" M{len(cost)} 'MARKER' 'INTEND'")
    lines.append("RHS")
    lines += [f" rhs R{i} {v:g}" for i, v in enumerate(rhs.tolist()) if v != 0.0]
    lines.append("BOUNDS")
    lines += [f" BV BND       C{j}" for j in np.flatnonzero(binary).tolist()]
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


@dataclass
class IntegerProgram(GraphSolver):
    """Optimal placements from a 0-1 program in the marginal form, solved by CBC, any topology.

    See the module docstring for the formulation. Two ways to hand it to CBC (PuLP's
    bundled binary), which give the same program:

    * ``modeller="arrays"`` (default): the constraint matrix is assembled with NumPy
      (:func:`marginal_program`) and written as MPS directly; the solution file is
      read back. PuLP's modelling layer cost about 135 ms of the 240 ms per instance at
      n = 100 (building 2,300 variables and 1,400 rows as Python objects, writing and
      reading the files); this path costs a few ms.
    * ``modeller="pulp"``: the same program built with PuLP (``LpVariable``,
      ``LpAffineExpression``) and solved with ``PULP_CBC_CMD``; the reference for the first.

    Requests of one graph share a model (independent blocks), which amortises CBC's
    start-up (5 ms): ``batch_nodes // n`` of them (at least 1). Measured on one core
    (direct link, arrays): n = 20, 1/2/5/10/20 per model: 48/77/148/139/141 instances/s;
    n = 100, 1/2/5/10: 21/22/18/15 instances/s. ``objective_scale`` is the cost of each
    instance's cheapest single-location placement once scaled (CBC's tolerances are
    absolute).
    """

    batch_nodes: int = 100
    objective_scale: float = 1000.0
    modeller: str = "arrays"
    name: str = "ilp"

    def __post_init__(self):
        super().__post_init__()
        check_count("batch_nodes", self.batch_nodes)
        check_choice("modeller", self.modeller, ("arrays", "pulp"))

    def decide(self, req: GraphRequirements) -> np.ndarray:
        unary, pairwise = self.terms(req)
        edges = check_graph_requirements(req).graph.edges
        unary, pairwise = self.scaled(unary, pairwise, edges, self.objective_scale)
        solve_block = self._solve_arrays if self.modeller == "arrays" else self._solve_pulp
        result = np.empty(unary.shape[:2], dtype=np.int64)
        batch = max(1, self.batch_nodes // unary.shape[1])
        for start in range(0, len(unary), batch):
            part = slice(start, start + batch)
            result[part] = solve_block(unary[part], pairwise[part], edges)
        return result

    @staticmethod
    def scaled(unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray, objective_scale: float):
        """Terms scaled per instance so the cheapest single-location placement costs ``objective_scale``.

        If that placement is free, by the smallest positive term instead (all zero: 1).
        """
        diagonal = pairwise[:, :, np.arange(NUM_LOCATIONS), np.arange(NUM_LOCATIONS)]  # (r, m, 3)
        uniform = unary.sum(axis=1) + diagonal.sum(axis=1)  # (r, 3)
        scale = uniform.min(axis=1)
        everything = np.concatenate([unary.reshape(len(unary), -1), pairwise.reshape(len(pairwise), -1)], axis=1)
        smallest = np.where(everything > 0, everything, np.inf).min(axis=1)
        scale = np.where(scale > 0, scale, np.where(np.isfinite(smallest), smallest, 1.0))
        factor = objective_scale / scale
        return unary * factor[:, None, None], pairwise * factor[:, None, None, None]

    @staticmethod
    def _solve_arrays(unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray) -> np.ndarray:
        r, n, _ = unary.shape
        program = marginal_program(unary, pairwise, edges)
        columns = len(program[0])
        with tempfile.TemporaryDirectory(prefix="kdoffload_graph_ilp_") as folder:
            model, solution = os.path.join(folder, "model.mps"), os.path.join(folder, "model.sol")
            write_mps(model, *program)
            command = [pulp.PULP_CBC_CMD().path, model, *CBC_OPTIONS, "-solve", "-printingOptions", "all",
                       "-solution", solution]
            finished = subprocess.run(command, capture_output=True, text=True)
            if not os.path.exists(solution):
                raise RuntimeError(f"CBC failed on the graph placement program (exit {finished.returncode}): "
                                   f"{finished.stdout[-500:]}{finished.stderr[-500:]}")
            values = read_solution(solution, columns)
        ncol = columns // r
        x = values.reshape(r, ncol)[:, :3 * n].reshape(r, n, 3)
        return x.argmax(axis=2).astype(np.int64)

    @staticmethod
    def _solve_pulp(unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray) -> np.ndarray:
        r, n, _ = unary.shape
        locations = range(NUM_LOCATIONS)
        model = pulp.LpProblem("graph_offloading", pulp.LpMinimize)
        objective = []
        x = {}
        for k in range(r):
            for v in range(n):
                for a in locations:
                    var = x[k, v, a] = pulp.LpVariable(f"x_{k}_{v}_{a}", cat=pulp.LpBinary)
                    objective.append((var, float(unary[k, v, a])))
                model.addConstraint(pulp.LpAffineExpression([(x[k, v, a], 1.0) for a in locations]) == 1,
                                    f"one_{k}_{v}")
            for e, (u, v) in enumerate(edges.tolist()):
                y = [[pulp.LpVariable(f"y_{k}_{e}_{a}_{b}", lowBound=0) for b in locations] for a in locations]
                for a in locations:
                    for b in locations:
                        if pairwise[k, e, a, b] != 0.0:
                            objective.append((y[a][b], float(pairwise[k, e, a, b])))
                for a in locations:
                    row = [(y[a][b], 1.0) for b in locations] + [(x[k, u, a], -1.0)]
                    model.addConstraint(pulp.LpAffineExpression(row) == 0, f"out_{k}_{e}_{a}")
                for b in locations:
                    column = [(y[a][b], 1.0) for a in locations] + [(x[k, v, b], -1.0)]
                    model.addConstraint(pulp.LpAffineExpression(column) == 0, f"in_{k}_{e}_{b}")
        model.setObjective(pulp.LpAffineExpression(objective))
        options = [" ".join(CBC_OPTIONS[i:i + 2]) for i in range(4, len(CBC_OPTIONS), 2)]
        status = model.solve(pulp.PULP_CBC_CMD(msg=False, presolve=False, cuts=False, options=options))
        if pulp.LpStatus[status] != "Optimal":
            raise RuntimeError(f"CBC did not solve the graph placement program: status {pulp.LpStatus[status]}")
        values = np.array([[[x[k, v, a].varValue or 0.0 for a in locations] for v in range(n)] for k in range(r)])
        return values.argmax(axis=2).astype(np.int64)


#: The exact graph solvers by name.
EXACT_SOLVERS = {"exhaustive": ExhaustiveSearch, "mincut": MinCut, "ilp": IntegerProgram}


def solve(req: GraphRequirements, method: str = "ilp", output_return: bool = True) -> np.ndarray:
    """Optimal placements (r, n) of ``req`` by ``method`` in {"exhaustive", "mincut", "ilp"}.

    Raises a ValueError where the method is not exact (``mincut`` with ``topology="direct"``)
    or too large (``exhaustive`` beyond 10 nodes).
    """
    solver = EXACT_SOLVERS[check_choice("method", method, EXACT_SOLVERS)]
    return solver(output_return=output_return).decide(req)
