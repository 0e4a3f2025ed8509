"""Exact solvers (exhaustive search, dynamic programming, integer program) and heuristics.

All of them implement :class:`kdoffload.policy.Policy` and minimise the additive cost
tensors of :func:`kdoffload.system.cost_tensors`, so they never need to know which
objective they minimise. Each is registered in :mod:`kdoffload.registry` at the end of
this module; an exact solver is registered as ``optimal_<method>`` and :func:`solve`
finds it by ``method``.

Ties: every exact solver returns, among the decisions whose cost is within a relative
``TIE_RTOL`` of the optimum, the lexicographically smallest one (``I_0`` most
significant, device < edge < cloud). Exhaustive search enumerates decisions in that
order; dynamic programming picks the smallest feasible location at each step of its
forward pass; the integer program adds a tiny lexicographic tie-breaking term to its
objective.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from . import registry
from .checks import check_choice, check_count, check_int
from .system import DEVICE, NUM_LOCATIONS, OBJECTIVES, Requirements, check_requirements, cost_tensors

#: Decisions whose cost is within this relative distance of the optimum count as ties.
TIE_RTOL = 1e-9


@dataclass
class CostPolicy:
    """Base for policies that read the cost tensors of an objective.

    Parameters
    ----------
    objective : {"latency", "energy", "weighted"}
    weight : float
        Latency weight of the ``weighted`` objective.
    output_return : bool
        Whether the task output must come back to the device (Assumptions, point 1).
    """

    objective: str = "latency"
    weight: float = 0.5
    output_return: bool = True

    def __post_init__(self):
        check_choice("objective", self.objective, OBJECTIVES)

    def tensors(self, req: Requirements) -> tuple[np.ndarray, np.ndarray]:
        return cost_tensors(req, self.objective, self.weight, self.output_return)


def all_decisions(num_subtasks: int) -> np.ndarray:
    """Every decision, shape (3**|A|, |A|), in lexicographic order (``I_0`` most significant)."""
    return np.array(list(itertools.product(range(NUM_LOCATIONS), repeat=num_subtasks)), dtype=np.int64)


def all_decision_costs(computation: np.ndarray, transfer: np.ndarray, decisions: np.ndarray) -> np.ndarray:
    """Cost (n, m) of each of ``m`` decisions (m, |A|) for each of ``n`` instances."""
    n, num_subtasks, _ = computation.shape
    total = transfer[:, 0, DEVICE, :][:, decisions[:, 0]]
    for t in range(num_subtasks):
        total = total + computation[:, t, :][:, decisions[:, t]]
        if t > 0:
            total = total + transfer[:, t][:, decisions[:, t - 1], decisions[:, t]]
    return total + transfer[:, num_subtasks, :, DEVICE][:, decisions[:, -1]]


@dataclass
class ExhaustiveSearch(CostPolicy):
    """Optimal decisions by scoring all 3**|A| decisions (the paper's "Optimal").

    ``max_elements`` bounds the (instances x decisions) cost matrix of one chunk, so
    memory stays at about ``8 * max_elements`` bytes whatever n is.

    ``max_placements`` (default 3**12 = 531,441) bounds 3**|A|: a larger |A| is refused
    at once with a ValueError pointing to :class:`DynamicProgramming` or
    :class:`IntegerProgram`, which find the same optimum. (At |A| = 12 scoring one
    instance already takes about a second and the table of decisions about 50 MB; at
    |A| = 30 it could never be built.)
    """

    max_elements: int = 1 << 22
    name: str = "optimal_exhaustive"
    max_placements: int = NUM_LOCATIONS ** 12

    def __post_init__(self):
        super().__post_init__()
        check_count("max_elements", self.max_elements)
        check_count("max_placements", self.max_placements)

    def check_size(self, num_subtasks: int) -> None:
        """A ValueError if 3**num_subtasks placements exceed ``max_placements``."""
        placements = NUM_LOCATIONS ** num_subtasks
        if placements > self.max_placements:
            largest = 0
            while NUM_LOCATIONS ** (largest + 1) <= self.max_placements:
                largest += 1
            raise ValueError(
                f"num_subtasks must be <= {largest} for exhaustive search, which scores all 3**|A| placements "
                f"(limit max_placements = {self.max_placements:,}), got num_subtasks = {num_subtasks} "
                f"(3**{num_subtasks} = {placements:,} placements); use method=\"dp\" or method=\"ilp\" "
                f"(DynamicProgramming or IntegerProgram), which find the same optimum"
            )

    def decide(self, req: Requirements) -> np.ndarray:
        req = check_requirements(req)
        self.check_size(req.num_subtasks)
        computation, transfer = self.tensors(req)
        decisions = all_decisions(req.num_subtasks)
        chunk = max(1, self.max_elements // len(decisions))
        result = np.empty((req.n, req.num_subtasks), dtype=np.int64)
        for start in range(0, req.n, chunk):
            part = slice(start, start + chunk)
            costs = all_decision_costs(computation[part], transfer[part], decisions)
            best = costs.min(axis=1, keepdims=True)
            first_tie = np.argmax(costs <= best * (1 + TIE_RTOL), axis=1)
            result[part] = decisions[first_tie]
        return result


@dataclass
class DynamicProgramming(CostPolicy):
    """Optimal decisions by dynamic programming along the chain (|A| * 9 steps, vectorised).

    ``cost_to_go[t, j]`` is the least cost of everything from running subtask t at
    location j to the end (its computation, later transfers and computations, and the
    return of the output). A forward pass then picks, subtask by subtask, the smallest
    location that can still finish within ``TIE_RTOL`` of the optimum.

    Requirements are processed in chunks of ``chunk_size`` so the cost tensors and the
    temporaries stay in the CPU cache (speed: ``benchmarks/NOTES.md``).
    """

    chunk_size: int = 8192
    name: str = "optimal_dp"

    def decide(self, req: Requirements) -> np.ndarray:
        req = check_requirements(req)
        if req.n <= self.chunk_size:
            return self._decide_block(*self.tensors(req))
        result = np.empty((req.n, req.num_subtasks), dtype=np.int64)
        for start in range(0, req.n, self.chunk_size):
            part = slice(start, start + self.chunk_size)
            result[part] = self._decide_block(*self.tensors(req.take(part)))
        return result

    @staticmethod
    def _decide_block(computation: np.ndarray, transfer: np.ndarray) -> np.ndarray:
        n, num_subtasks, _ = computation.shape
        locations = range(NUM_LOCATIONS)
        cost_to_go = np.empty((num_subtasks, NUM_LOCATIONS, n))
        for i in locations:
            np.add(computation[:, -1, i], transfer[:, num_subtasks, i, DEVICE], out=cost_to_go[-1, i])
        scratch = np.empty(n)
        for t in range(num_subtasks - 2, -1, -1):
            for i in locations:
                best = cost_to_go[t, i]
                np.add(transfer[:, t + 1, i, 0], cost_to_go[t + 1, 0], out=best)
                for j in locations[1:]:
                    np.add(transfer[:, t + 1, i, j], cost_to_go[t + 1, j], out=scratch)
                    np.minimum(best, scratch, out=best)
                best += computation[:, t, i]
        first = [transfer[:, 0, DEVICE, j] + cost_to_go[0, j] for j in locations]
        threshold = np.minimum(np.minimum(first[0], first[1]), first[2]) * (1 + TIE_RTOL)
        rows = np.arange(n)
        previous = np.full(n, DEVICE)
        spent = np.zeros(n)
        result = np.empty((n, num_subtasks), dtype=np.int64)
        for t in range(num_subtasks):
            hop = transfer[rows, t, previous, :] if t else transfer[:, 0, DEVICE, :]
            fits_device = spent + hop[:, DEVICE] + cost_to_go[t, DEVICE] <= threshold
            fits_edge = spent + hop[:, 1] + cost_to_go[t, 1] <= threshold
            choice = np.where(fits_device, DEVICE, np.where(fits_edge, 1, 2))
            spent += hop[rows, choice] + computation[rows, t, choice]
            result[:, t] = previous = choice
        return result


@dataclass
class IntegerProgram(CostPolicy):
    """Optimal decisions from a 0-1 integer program solved by PuLP's bundled CBC.

    The placement is a shortest path through a layered graph: a source (the device
    holding the input), one layer of three nodes per subtask, and a sink (the device
    receiving the output). Binary ``x[t, i, j]`` = 1 if the path goes from location i
    of subtask t-1 to location j of subtask t; its cost is ``transfer[t, i, j] +
    computation[t, j]``. Constraints: one unit leaves the source, and flow is conserved
    at every node. The constraint matrix is a network matrix, so the LP relaxation is
    integral and CBC solves it without branching. ``batch_size`` instances share one
    model (they are independent blocks), which amortises the start-up of CBC.

    Each instance's costs are scaled so that the cheapest of the three single-location
    decisions costs ``objective_scale`` (1000), which leaves its argmin unchanged; a term
    of at most ``1e-7 * objective_scale`` favouring lexicographically smaller decisions
    breaks ties. The factor 1000 matters: CBC's tolerances are absolute (about 1e-7 in
    its preprocessing, 1e-10 for the simplex here), and at |A| = 8 the smallest step of
    the tie-break term is ``1e-7 / 3**8 * objective_scale``, about 1.5e-8; with costs
    scaled to 1 it was 1.5e-11 and CBC ignored it (an all-zero-cost instance came back
    with cloud placements). CBC's preprocessing is switched off: the LP relaxation is
    already integral.
    """

    batch_size: int = 1000
    objective_scale: float = 1000.0
    name: str = "optimal_ilp"

    def decide(self, req: Requirements) -> np.ndarray:
        req = check_requirements(req)
        computation, transfer = self.tensors(req)
        result = np.empty((req.n, req.num_subtasks), dtype=np.int64)
        for start in range(0, req.n, self.batch_size):
            part = slice(start, start + self.batch_size)
            result[part] = self._solve_batch(computation[part], transfer[part])
        return result

    @staticmethod
    def edge_costs(computation: np.ndarray, transfer: np.ndarray, objective_scale: float = 1000.0) -> np.ndarray:
        """Scaled edge costs (n, |A| + 1, 3, 3) of the layered graph, tie-break term included.

        Layer t < |A| holds the edges into subtask t (from the device for t = 0, so only
        row ``i = 0`` is used); layer |A| holds the edges to the sink (column 0).
        """
        n, num_subtasks, _ = computation.shape
        edges = transfer.copy()
        edges[:, :num_subtasks] += computation[:, :, None, :]
        fixed = np.stack([
            edges[:, 0, DEVICE, j] + edges[:, 1:num_subtasks, j, j].sum(axis=1) + edges[:, num_subtasks, j, DEVICE]
            for j in range(NUM_LOCATIONS)
        ], axis=1)
        scale = fixed.min(axis=1)
        # If a single-location decision is free, the optimum is 0: scale by the smallest
        # positive edge instead, so that every decision of positive cost costs at least
        # ``objective_scale`` and cannot lose to a zero-cost one on the tie-break term.
        smallest_edge = np.where(edges > 0, edges, np.inf).min(axis=(1, 2, 3))
        fallback = np.where(np.isfinite(smallest_edge), smallest_edge, 1.0)
        scale = np.where(scale > 0, scale, fallback)
        edges *= objective_scale / scale[:, None, None, None]
        place_value = NUM_LOCATIONS ** np.arange(num_subtasks - 1, -1, -1) / NUM_LOCATIONS ** num_subtasks
        tie_break = 1e-7 * objective_scale * place_value[:, None] * np.arange(NUM_LOCATIONS)[None, :]
        edges[:, :num_subtasks] += tie_break[None, :, None, :]
        return edges

    def _solve_batch(self, computation: np.ndarray, transfer: np.ndarray) -> np.ndarray:
        import pulp  # imported here: the other solvers need no LP library

        n, num_subtasks, _ = computation.shape
        edges = self.edge_costs(computation, transfer, self.objective_scale)
        model = pulp.LpProblem("offloading", pulp.LpMinimize)
        objective_terms = []
        node_in, node_out = {}, {}
        variables = {}
        for k in range(n):
            for t in range(num_subtasks + 1):
                sources = [DEVICE] if t == 0 else range(NUM_LOCATIONS)
                targets = [DEVICE] if t == num_subtasks else range(NUM_LOCATIONS)
                for i in sources:
                    for j in targets:
                        var = pulp.LpVariable(f"x_{k}_{t}_{i}_{j}", cat=pulp.LpBinary)
                        variables[k, t, i, j] = var
                        objective_terms.append((var, float(edges[k, t, i, j])))
                        if t < num_subtasks:
                            node_in.setdefault((k, t, j), []).append(var)
                        if t > 0:
                            node_out.setdefault((k, t - 1, i), []).append(var)
        model.setObjective(pulp.LpAffineExpression(objective_terms))
        for k in range(n):
            model.addConstraint(pulp.lpSum(variables[k, 0, DEVICE, j] for j in range(NUM_LOCATIONS)) == 1, f"src_{k}")
            for t in range(num_subtasks):
                for j in range(NUM_LOCATIONS):
                    inflow = pulp.LpAffineExpression([(v, 1.0) for v in node_in[k, t, j]])
                    outflow = pulp.LpAffineExpression([(v, -1.0) for v in node_out[k, t, j]])
                    model.addConstraint(inflow + outflow == 0, f"flow_{k}_{t}_{j}")
        status = model.solve(pulp.PULP_CBC_CMD(msg=False, options=["dualTolerance 1e-10", "primalTolerance 1e-10", "preprocess off"]))
        if pulp.LpStatus[status] != "Optimal":
            raise RuntimeError(f"CBC did not solve the offloading program: status {pulp.LpStatus[status]}")
        decisions = np.empty((n, num_subtasks), dtype=np.int64)
        for k in range(n):
            for t in range(num_subtasks):
                flows = [sum(v.varValue or 0.0 for v in node_in[k, t, j]) for j in range(NUM_LOCATIONS)]
                decisions[k, t] = int(np.argmax(flows))
        return decisions


@dataclass
class Greedy(CostPolicy):
    """Subtask by subtask, the location minimising its own computation cost plus the
    transfer from the previous subtask's location (Assumptions, point 7); ties go to the
    lower location index. The return of the output is not looked ahead to."""

    name: str = "greedy"

    def decide(self, req: Requirements) -> np.ndarray:
        req = check_requirements(req)
        computation, transfer = self.tensors(req)
        rows = np.arange(req.n)
        previous = np.full(req.n, DEVICE)
        result = np.empty((req.n, req.num_subtasks), dtype=np.int64)
        for t in range(req.num_subtasks):
            previous = result[:, t] = np.argmin(computation[:, t] + transfer[rows, t, previous, :], axis=1)
        return result


@dataclass
class FixedLocation:
    """Every subtask at one location: 0 ("local"), 1 ("edge") or 2 ("cloud")."""

    location: int
    name: str = ""

    def __post_init__(self):
        if isinstance(self.location, (bool, np.bool_)) or self.location not in (0, 1, 2):
            raise ValueError(f"location must be 0, 1 or 2, got location = {self.location!r}")
        self.location = int(self.location)
        self.name = self.name or ("local", "edge", "cloud")[self.location]

    def decide(self, req: Requirements) -> np.ndarray:
        req = check_requirements(req)
        return np.full((req.n, req.num_subtasks), self.location, dtype=np.int64)


@dataclass
class RandomPolicy:
    """Each subtask at a uniformly random location; ``decide`` is a pure function of
    ``seed`` and the batch size (a fresh ``numpy.random.Generator`` per call)."""

    seed: int = 0
    name: str = "random"

    def __post_init__(self):
        check_int("seed", self.seed, minimum=0)

    def decide(self, req: Requirements) -> np.ndarray:
        req = check_requirements(req)
        return np.random.default_rng(self.seed).integers(0, NUM_LOCATIONS, size=(req.n, req.num_subtasks))


#: Prefix of the registered names of the exact solvers: ``optimal_<method>``.
EXACT_PREFIX = "optimal_"


def exact_methods() -> tuple[str, ...]:
    """The ``method`` names of the registered exact solvers (``"dp"``, ``"exhaustive"``, ``"ilp"``)."""
    return tuple(name.removeprefix(EXACT_PREFIX) for name in registry.names(family="exact"))


def exact_solver(method: str, name: str = "method", **cost_options):
    """The registered exact solver ``optimal_<method>`` with ``cost_options``; a ValueError
    naming the argument ``name`` for an unknown method."""
    check_choice(name, method, exact_methods())
    return registry.build(EXACT_PREFIX + method, **cost_options)


def solve(req: Requirements, method: str = "dp", objective: str = "latency", weight: float = 0.5,
          output_return: bool = True) -> np.ndarray:
    """Optimal decisions (n, |A|) by ``method`` in {"dp", "exhaustive", "ilp"}.

    ``req`` must be a :class:`~kdoffload.Requirements`; ``"exhaustive"`` refuses
    |A| > 12 (see :class:`ExhaustiveSearch`).
    """
    req = check_requirements(req)
    solver = exact_solver(method, objective=objective, weight=weight, output_return=output_return)
    return solver.decide(req)


def heuristic(name: str, seed: int = 0, **cost_options) -> object:
    """A registered heuristic policy by name ("greedy", "local", "edge", "cloud", "random", ...).

    ``cost_options`` (objective, weight, output_return) go to the policies that read costs.
    """
    check_choice("heuristic", name, registry.names(family="heuristic"))
    return registry.build(name, seed=seed, **cost_options)


# --------------------------------------------------------------------------- registrations

_OPTIMAL = {"family": "exact", "key": "optimal", "key_label": "Optimal"}


def _vectorised(key: str, label: str, implementation: str) -> registry.Timed:
    return registry.Timed(key, "vectorised", label, implementation)


def _lean(key: str, label: str, implementation: str) -> registry.Timed:
    return registry.Timed(key, "lean", label, implementation)


registry.register(
    "optimal_exhaustive", label="Optimal (exhaustive)", order=10, **_OPTIMAL,
    build=lambda seed=0, **cost: ExhaustiveSearch(**cost),
    table1=[_vectorised("optimal_exhaustive", "Optimal (exhaustive)",
                        "exhaustive search over the 3^|A| decisions, numpy")])
registry.register(
    "optimal_dp", label="Optimal (DP)", order=11, **_OPTIMAL,
    build=lambda seed=0, **cost: DynamicProgramming(**cost),
    table1=[_vectorised("optimal_dp", "Optimal (DP)", "dynamic program, numpy"),
            _lean("optimal_dp_lean", "Optimal (DP, lean)", "dynamic program, Python floats")])
registry.register(
    "optimal_ilp", label="Optimal (ILP)", order=12, **_OPTIMAL,
    build=lambda seed=0, **cost: IntegerProgram(**cost),
    table1=[_vectorised("optimal_ilp", "Optimal (ILP)", "integer program, CBC")])
registry.register(
    "greedy", label="Greedy", family="heuristic", order=20,
    build=lambda seed=0, **cost: Greedy(**cost),
    table1=[_vectorised("greedy", "Greedy (vectorised)", "numpy"),
            _lean("greedy_lean", "Greedy (lean)", "Python floats; a batch in numpy without the cost tensors")])
for _location, _name in enumerate(("local", "edge", "cloud")):
    registry.register(
        _name, label=_name.capitalize(), family="heuristic", order=70 + _location,
        build=lambda seed=0, _location=_location, **cost: FixedLocation(_location),
        table1=[_vectorised(_name, _name.capitalize(), "numpy"),
                _lean(f"{_name}_lean", f"{_name.capitalize()} (lean)", "a stored row")])
registry.register(
    "random", label="Random", family="heuristic", order=80, seeded=True, stochastic=True,
    build=lambda seed=0, **cost: RandomPolicy(seed=seed),
    table1=[_vectorised("random", "Random", "a numpy Generator per call"),
            _lean("random_lean", "Random (lean)", "one random.Random, one draw per request")])
