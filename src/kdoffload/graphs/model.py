"""Task graphs: a DAG of subtasks placed on device, edge or cloud, and its summed latency.

The chain of the paper (:mod:`kdoffload.system`) generalised to a directed acyclic graph
(paper §6). A task is a :class:`TaskGraph` (the structure: ``n`` nodes, ``m`` directed
edges); a batch of ``r`` requests on one structure is a :class:`GraphRequirements`
(the weights and the network of each request). Every node runs once, at location
0 (end device), 1 (edge server) or 2 (cloud). Two objectives: the **summed latency** of
the paper (sequential execution: every computation and every transfer, one after
another) and the **makespan** (see below). The terms:

* node ``v`` computes for ``E_v / p1`` on the device, ``E_v / p2`` on the edge and 0 in
  the cloud (seconds; ``E_v`` in cycles, ``p`` in Hz);
* edge ``(u, v)`` moves ``D_uv`` bytes from the location of ``u`` to that of ``v``;
* ``input_data[v]`` bytes (non-zero only at source nodes) move from the device to ``v``;
* ``output_data[v]`` bytes (non-zero only at sink nodes) move from ``v`` back to the
  device if ``output_return`` is True (the chain's default), else they stay (no cost).

Moving ``d`` bytes costs ``d * hop[i, j]`` seconds (:func:`hop_matrix`):

* ``topology="relay"`` (the paper's network): device<->edge ``1/b1``, edge<->cloud
  ``1/b2``, device<->cloud relayed through the edge, ``1/b1 + 1/b2`` (b in bytes/s);
* ``topology="direct"``: an extra device<->cloud link of ``b3`` bytes/s, and a byte
  takes the cheaper path of the triangle device-edge-cloud. Device<->cloud costs
  ``min(1/b1 + 1/b2, 1/b3)``; device<->edge ``min(1/b1, 1/b3 + 1/b2)`` and edge<->cloud
  ``min(1/b2, 1/b1 + 1/b3)`` (a byte may also detour over the direct link when that is
  cheaper), so ``hop`` is the shortest-path distance of that triangle.

Makespan: branches at different locations run in parallel, with no contention (any
number of nodes and transfers at once, also at one location); a node starts when all its
inputs have arrived (a source when its task input has) and takes its computation time;
the makespan is the last arrival of a task output on the device (``output_return``) or
the last finish. It is the longest path through the DAG with placement-dependent
lengths, so it never exceeds the summed latency and equals it on a chain.

With ``relay``, ``hop`` is a distance on the line device - edge - cloud, which is what
makes the minimum-cut solver exact (:mod:`kdoffload.graphs.solvers`). A chain graph
reproduces :func:`kdoffload.system.latency` (:func:`kdoffload.graphs.families.chain`).

Units: cycles, Hz, bytes, bytes/s, seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import check_array, check_choice, check_count, show
from ..system import CLOUD, DEVICE, EDGE, NUM_LOCATIONS, check_locations

__all__ = [
    "TOPOLOGIES", "OBJECTIVES", "TaskGraph", "GraphRequirements", "check_graph_requirements",
    "hop_matrix", "node_terms", "edge_terms", "cost_terms", "check_placements", "placement_cost", "placement_makespan",
    "latency", "makespan", "cost",
]

#: Network topologies: the paper's relay (device<->cloud through the edge) and a direct link.
TOPOLOGIES = ("relay", "direct")
#: Objectives of the graph model: summed latency (the paper's) and makespan (parallel branches).
OBJECTIVES = ("latency", "makespan")


def _edge_text(edges: np.ndarray, k: int) -> str:
    return f"edges[{k}] = ({int(edges[k, 0])}, {int(edges[k, 1])})"


def _find_cycle(num_nodes: int, edges: np.ndarray, remaining: np.ndarray) -> list[int]:
    """Nodes of one directed cycle among ``remaining`` (nodes Kahn's algorithm could not order).

    Every remaining node has a remaining predecessor, so walking predecessors must repeat a node.
    """
    predecessor = {}
    for k, (u, v) in enumerate(edges):
        if remaining[u] and remaining[v]:
            predecessor.setdefault(int(v), int(u))
    start = int(np.flatnonzero(remaining)[0])
    seen, walk, node = {}, [], start
    while node not in seen:
        seen[node] = len(walk)
        walk.append(node)
        node = predecessor[node]
    cycle = walk[seen[node]:]
    return cycle[::-1]  # forwards: each node has an edge to the next


@dataclass(frozen=True)
class TaskGraph:
    """The structure of a task: ``num_nodes`` subtasks and directed data edges.

    Parameters
    ----------
    num_nodes : int
        Number of subtasks ``n`` (>= 1), numbered 0 .. n-1.
    edges : array-like (m, 2) of int
        Directed edges ``(u, v)``: ``v`` needs data produced by ``u``. May be empty.
        No self-loops, no duplicates, only known nodes, and no directed cycle.
    names : tuple of str, optional
        A label per node (for plots and provenance); defaults to ``("0", "1", ...)``.

    Attributes
    ----------
    sources, sinks : array (n,) of bool
        Nodes without predecessors / without successors.
    order : array (n,) of int
        A topological order (Kahn's algorithm, smallest index first).

    Raises
    ------
    ValueError
        In the format ``<field> must be <rule>, got <field> = <value>``, e.g.
        ``edges must be acyclic, got edges[1] = (1, 2) on the cycle 1 -> 2 -> 0 -> 1``
        for ``TaskGraph(3, [(0, 1), (1, 2), (2, 0)])``.
    """

    num_nodes: int
    edges: np.ndarray = ()
    names: tuple | None = None

    def __post_init__(self):
        n = check_count("num_nodes", self.num_nodes)
        try:
            edges = np.asarray(self.edges)
        except (TypeError, ValueError):
            raise ValueError(f"edges must be an (m, 2) array of node indices, got edges = {show(self.edges)}") from None
        if edges.size == 0:
            edges = np.zeros((0, 2), dtype=np.int64)
        if edges.ndim != 2 or edges.shape[1] != 2:
            raise ValueError(f"edges must have shape (m, 2), got edges.shape = {edges.shape}")
        if not np.issubdtype(edges.dtype, np.integer):
            try:
                values = edges.astype(np.float64)
            except (TypeError, ValueError):
                values = np.full(edges.shape, np.nan)
            bad = ~np.isfinite(values) | (values != np.round(values)) | (edges.dtype == np.bool_)
            if bad.any():
                k = int(np.argwhere(bad)[0, 0])
                raise ValueError(f"edges must hold integer node indices, got edges[{k}] = {show(tuple(edges[k].tolist()))}")
            edges = values
        edges = edges.astype(np.int64)
        bad = (edges < 0) | (edges >= n)
        if bad.any():
            k = int(np.argwhere(bad)[0, 0])
            raise ValueError(f"edges must join known nodes 0..{n - 1} (num_nodes = {n}), got {_edge_text(edges, k)}")
        loops = edges[:, 0] == edges[:, 1]
        if loops.any():
            k = int(np.flatnonzero(loops)[0])
            raise ValueError(f"edges must not contain a self-loop, got {_edge_text(edges, k)}")
        keys = edges[:, 0] * n + edges[:, 1]
        _, first, counts = np.unique(keys, return_index=True, return_counts=True)
        if (counts > 1).any():
            key = keys[first[counts > 1][0]]
            k = int(np.flatnonzero(keys == key)[1])
            raise ValueError(f"edges must be unique, got {_edge_text(edges, k)} twice")
        indegree = np.bincount(edges[:, 1], minlength=n)
        successors = [[] for _ in range(n)]
        for u, v in edges.tolist():
            successors[u].append(v)
        remaining_in = indegree.copy()
        ready = sorted(np.flatnonzero(indegree == 0).tolist(), reverse=True)
        order = []
        while ready:
            u = ready.pop()
            order.append(u)
            for v in successors[u]:
                remaining_in[v] -= 1
                if remaining_in[v] == 0:
                    ready.append(v)
            ready.sort(reverse=True)
        if len(order) < n:
            remaining = np.ones(n, dtype=bool)
            remaining[order] = False
            cycle = _find_cycle(n, edges, remaining)
            u, v = cycle[0], cycle[1 % len(cycle)]
            k = int(np.flatnonzero((edges[:, 0] == u) & (edges[:, 1] == v))[0])
            path = " -> ".join(str(node) for node in cycle + [cycle[0]])
            raise ValueError(f"edges must be acyclic, got {_edge_text(edges, k)} on the cycle {path}")
        names = tuple(str(i) for i in range(n)) if self.names is None else tuple(str(x) for x in self.names)
        if len(names) != n:
            raise ValueError(f"names must have one entry per node (num_nodes = {n}), got len(names) = {len(names)}")
        edges.setflags(write=False)
        object.__setattr__(self, "num_nodes", n)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "names", names)
        order = np.array(order, dtype=np.int64)
        order.setflags(write=False)
        object.__setattr__(self, "order", order)

    @property
    def num_edges(self) -> int:
        """Number of edges ``m``."""
        return int(self.edges.shape[0])

    @property
    def sources(self) -> np.ndarray:
        """(n,) bool: nodes without predecessors (they may receive task input from the device)."""
        return np.bincount(self.edges[:, 1], minlength=self.num_nodes) == 0

    @property
    def sinks(self) -> np.ndarray:
        """(n,) bool: nodes without successors (they may return task output to the device)."""
        return np.bincount(self.edges[:, 0], minlength=self.num_nodes) == 0

    def __eq__(self, other) -> bool:
        return (isinstance(other, TaskGraph) and self.num_nodes == other.num_nodes
                and np.array_equal(self.edges, other.edges) and self.names == other.names)

    def __hash__(self) -> int:
        return hash((self.num_nodes, self.edges.tobytes(), self.names))


def _rows(name: str, value, columns: int | None, shape: str, strict: bool) -> np.ndarray:
    """``value`` as a float array of shape (rows, columns) (or (rows,) if ``columns`` is None).

    A per-request field accepts one row for all requests: (columns,) for per-node or
    per-edge weights, a scalar for a network parameter.
    """
    try:
        ndim = np.ndim(value)
    except (TypeError, ValueError):
        ndim = -1
    wanted = (1, 2) if columns is not None else (0, 1)
    if ndim == 0 and columns is None:
        try:
            array = check_array(name, np.reshape(value, 1), 1, shape, minimum=0.0, strict=strict)
        except ValueError as error:  # name the scalar as given, not as element [0]
            raise ValueError(str(error).replace(f"{name}[0] = ", f"{name} = ")) from None
        return array
    array = check_array(name, value, ndim if ndim in wanted else wanted[-1], shape, minimum=0.0, strict=strict)
    if columns is None:
        return array.reshape(-1)
    if array.shape[-1] != columns:
        raise ValueError(f"{name} must have shape {shape} with {columns} columns, got {name}.shape = {array.shape}")
    return array if array.ndim == 2 else array[None, :]


@dataclass(frozen=True)
class GraphRequirements:
    """A batch of ``r`` requests to place one task graph, each with its weights and network.

    Every weight may be given once for all requests (a 1-d array over nodes or edges, a
    scalar for a network parameter) or per request (one row per request); the batch size
    ``r`` is the largest number of rows, and every field has 1 or ``r`` rows.

    Parameters
    ----------
    graph : TaskGraph
        The structure shared by all requests.
    cycles : array (r, n) or (n,)
        Computation of each node, CPU cycles; finite, >= 0.
    data : array (r, m) or (m,)
        Bytes moved along each edge of ``graph.edges`` (same order); finite, >= 0.
    input_data : array (r, n) or (n,), optional
        Task input, bytes, sent by the device to each node; non-zero only at source
        nodes. Default: none.
    output_data : array (r, n) or (n,), optional
        Task output, bytes, returned to the device by each node (if ``output_return``);
        non-zero only at sink nodes. Default: none.
    p1, p2 : float or array (r,)
        CPU frequency of the end device and of the edge server, Hz; finite, > 0.
    b1, b2 : float or array (r,)
        Bandwidth device<->edge and edge<->cloud, bytes/s; finite, > 0.
    b3 : float or array (r,), optional
        Bandwidth of the direct device<->cloud link, bytes/s; finite, > 0. Required with
        ``topology="direct"``; kept but unused with ``"relay"`` (so one batch can be
        costed under both, see :meth:`with_topology`).
    topology : {"relay", "direct"}
        See :func:`hop_matrix`.

    Raises
    ------
    ValueError
        Naming the field, the rule and the value, e.g. ``cycles must not be NaN, got
        cycles[0, 2] = nan`` or ``input_data must be 0 at non-source nodes, got
        input_data[0, 3] = 5.0 (node 3 has a predecessor)``.
    """

    graph: TaskGraph
    cycles: np.ndarray
    data: np.ndarray
    p1: np.ndarray
    p2: np.ndarray
    b1: np.ndarray
    b2: np.ndarray
    input_data: np.ndarray | None = None
    output_data: np.ndarray | None = None
    b3: np.ndarray | None = None
    topology: str = "relay"

    def __post_init__(self):
        graph = self.graph
        if not isinstance(graph, TaskGraph):
            raise ValueError(f"graph must be a kdoffload.graphs.TaskGraph, got graph = {show(graph)}")
        n, m = graph.num_nodes, graph.num_edges
        check_choice("topology", self.topology, TOPOLOGIES)
        if self.topology == "direct" and self.b3 is None:
            raise ValueError("b3 must be given (bytes/s, > 0) with topology 'direct', got b3 = None")
        fields = {
            "cycles": _rows("cycles", self.cycles, n, "(r, n) or (n,)", strict=False),
            "data": _rows("data", self.data, m, "(r, m) or (m,)", strict=False),
            "input_data": _rows("input_data", np.zeros(n) if self.input_data is None else self.input_data,
                                n, "(r, n) or (n,)", strict=False),
            "output_data": _rows("output_data", np.zeros(n) if self.output_data is None else self.output_data,
                                 n, "(r, n) or (n,)", strict=False),
        }
        for name in ("p1", "p2", "b1", "b2") + (("b3",) if self.b3 is not None else ()):
            fields[name] = _rows(name, getattr(self, name), None, "() or (r,)", strict=True)
        rows = {name: array.shape[0] for name, array in fields.items()}
        r = max(rows.values())
        for name, count in rows.items():
            if count not in (1, r):
                raise ValueError(f"{name} must have 1 or r = {r} rows (r from {max(rows, key=rows.get)}), "
                                 f"got {name}.shape = {fields[name].shape}")
        for name, allowed, role, why in (("input_data", graph.sources, "source", "has a predecessor"),
                                         ("output_data", graph.sinks, "sink", "has a successor")):
            bad = (fields[name] != 0) & ~allowed[None, :]
            if bad.any():
                i, v = (int(x) for x in np.argwhere(bad)[0])
                raise ValueError(f"{name} must be 0 at non-{role} nodes, got {name}[{i}, {v}] = "
                                 f"{fields[name][i, v]} (node {v} {why})")
        for name, array in fields.items():
            full = np.broadcast_to(array, (r,) + array.shape[1:]) if array.shape[0] != r else array
            full = np.ascontiguousarray(full)
            full.setflags(write=False)
            object.__setattr__(self, name, full)

    @property
    def n(self) -> int:
        """Number of requests ``r`` in the batch (``len(req)``)."""
        return int(self.cycles.shape[0])

    @property
    def num_nodes(self) -> int:
        """Number of subtasks (nodes) of the graph."""
        return self.graph.num_nodes

    #: Alias of :attr:`num_nodes`, the name the chain model uses.
    num_subtasks = num_nodes

    def __len__(self) -> int:
        return self.n

    def take(self, index) -> "GraphRequirements":
        """The requests at ``index`` (an integer, slice, integer array or boolean mask)."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        pick = {name: getattr(self, name)[index] for name in
                ("cycles", "data", "input_data", "output_data", "p1", "p2", "b1", "b2")}
        return GraphRequirements(self.graph, b3=None if self.b3 is None else self.b3[index],
                                 topology=self.topology, **pick)

    def with_topology(self, topology: str, b3=None) -> "GraphRequirements":
        """The same requests under another topology (and, if given, another ``b3``)."""
        fields = {name: getattr(self, name) for name in
                  ("cycles", "data", "input_data", "output_data", "p1", "p2", "b1", "b2")}
        return GraphRequirements(self.graph, b3=self.b3 if b3 is None else b3, topology=topology, **fields)


def check_graph_requirements(req, name: str = "req") -> GraphRequirements:
    """``req`` if it is a :class:`GraphRequirements`, else a TypeError saying what it is."""
    if isinstance(req, GraphRequirements):
        return req
    raise TypeError(f"{name} must be a kdoffload.graphs.GraphRequirements, got {show(req)}")


def hop_matrix(req: GraphRequirements) -> np.ndarray:
    """Seconds per byte between each pair of locations, shape (r, 3, 3), 0 on the diagonal.

    ``relay``: device<->edge ``1/b1``, edge<->cloud ``1/b2``, device<->cloud ``1/b1 + 1/b2``.
    ``direct``: the shortest-path distances of the triangle with links ``1/b1``, ``1/b2``
    and ``1/b3`` (device<->cloud), see the module docstring.
    """
    req = check_graph_requirements(req)
    d01, d12 = 1.0 / req.b1, 1.0 / req.b2
    d02 = d01 + d12
    if req.topology == "direct":
        d03 = 1.0 / req.b3
        d01, d12, d02 = np.minimum(d01, d03 + d12), np.minimum(d12, d01 + d03), np.minimum(d02, d03)
    hop = np.zeros((req.n, NUM_LOCATIONS, NUM_LOCATIONS))
    hop[:, DEVICE, EDGE] = hop[:, EDGE, DEVICE] = d01
    hop[:, EDGE, CLOUD] = hop[:, CLOUD, EDGE] = d12
    hop[:, DEVICE, CLOUD] = hop[:, CLOUD, DEVICE] = d02
    return hop


def node_terms(req: GraphRequirements, output_return: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-node times, each (r, n, 3) in seconds, indexed ``[k, v, a]`` (node ``v`` at ``a``).

    Returns
    -------
    computation : ``E_v / p1``, ``E_v / p2`` or 0.
    inbound : moving the task input ``input_data[v]`` from the device to ``a``.
    outbound : moving the task output ``output_data[v]`` from ``a`` to the device (0 if
        not ``output_return``).
    """
    req = check_graph_requirements(req)
    hop = hop_matrix(req)
    computation = np.zeros((req.n, req.num_nodes, NUM_LOCATIONS))
    computation[:, :, DEVICE] = req.cycles / req.p1[:, None]
    computation[:, :, EDGE] = req.cycles / req.p2[:, None]
    inbound = req.input_data[:, :, None] * hop[:, None, DEVICE, :]
    outbound = req.output_data[:, :, None] * hop[:, None, :, DEVICE]
    if not output_return:
        outbound = np.zeros_like(outbound)
    return computation, inbound, outbound


def edge_terms(req: GraphRequirements) -> np.ndarray:
    """(r, m, 3, 3) seconds: ``[k, e, a, b]`` moves edge ``e = (u, v)``'s data from ``a`` to ``b``."""
    req = check_graph_requirements(req)
    return req.data[:, :, None, None] * hop_matrix(req)[:, None, :, :]


def cost_terms(req: GraphRequirements, output_return: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The summed latency split into per-node and per-edge terms (seconds).

    Parameters
    ----------
    req : GraphRequirements
    output_return : bool
        Whether sink outputs go back to the device (True, the chain's default) or stay.

    Returns
    -------
    unary : array (r, n, 3)
        ``unary[k, v, a]``: latency of placing node ``v`` at location ``a`` -- its
        computation, its task input from the device and (if ``output_return``) its task
        output back to the device (the sum of :func:`node_terms`).
    pairwise : array (r, m, 3, 3)
        ``pairwise[k, e, a, b]``: latency of edge ``e = (u, v)`` with ``u`` at ``a`` and
        ``v`` at ``b``, i.e. ``data[k, e] * hop[k, a, b]`` (:func:`edge_terms`).

    The latency of a placement ``x`` is ``sum_v unary[v, x_v] + sum_e pairwise[e, x_u, x_v]``.
    """
    computation, inbound, outbound = node_terms(req, output_return)
    return computation + inbound + outbound, edge_terms(req)


def check_placements(placements, req: GraphRequirements) -> np.ndarray:
    """``placements`` as int64 of shape (r, n) or (r, k, n) with values in {0, 1, 2}."""
    req = check_graph_requirements(req)
    array = np.asarray(placements)
    if array.ndim not in (2, 3) or array.shape[0] != req.n or array.shape[-1] != req.num_nodes:
        raise ValueError(f"placements must have shape (r, n) = {(req.n, req.num_nodes)} or (r, k, n), "
                         f"got placements.shape = {array.shape}")
    return check_locations("placements", array)


def placement_cost(unary: np.ndarray, pairwise: np.ndarray, edges: np.ndarray, placements: np.ndarray) -> np.ndarray:
    """Cost of placements (r, n) -> (r,) or (r, k, n) -> (r, k) under given terms (no checks)."""
    squeeze = placements.ndim == 2
    if squeeze:
        placements = placements[:, None, :]
    r, k, n = placements.shape
    rows = np.arange(r)[:, None, None]
    total = unary[rows, np.arange(n)[None, None, :], placements].sum(axis=2)
    if len(edges):
        u, v = edges[:, 0], edges[:, 1]
        total = total + pairwise[rows, np.arange(len(edges))[None, None, :],
                                 placements[:, :, u], placements[:, :, v]].sum(axis=2)
    return total[:, 0] if squeeze else total


def placement_makespan(computation: np.ndarray, inbound: np.ndarray, outbound: np.ndarray, pairwise: np.ndarray,
                       graph: TaskGraph, placements: np.ndarray) -> np.ndarray:
    """Makespan of placements (r, n) -> (r,) or (r, k, n) -> (r, k) under given terms (no checks).

    Finish times in topological order: ``f_v = computation[v, x_v] + max(inbound[v, x_v],
    max over edges (u, v) of f_u + pairwise[e, x_u, x_v])``; the makespan is ``max_v f_v +
    outbound[v, x_v]``.
    """
    squeeze = placements.ndim == 2
    if squeeze:
        placements = placements[:, None, :]
    r = placements.shape[0]
    rows = np.arange(r)[:, None]
    incoming = [[] for _ in range(graph.num_nodes)]
    for e, (u, v) in enumerate(graph.edges.tolist()):
        incoming[v].append((e, u))
    finish = np.zeros(placements.shape)
    span = np.zeros(placements.shape[:2])
    for v in graph.order.tolist():
        here = placements[:, :, v]
        start = inbound[rows, v, here]
        for e, u in incoming[v]:
            start = np.maximum(start, finish[:, :, u] + pairwise[rows, e, placements[:, :, u], here])
        finish[:, :, v] = start + computation[rows, v, here]
        span = np.maximum(span, finish[:, :, v] + outbound[rows, v, here])
    return span[:, 0] if squeeze else span


def latency(req: GraphRequirements, placements, output_return: bool = True) -> np.ndarray:
    """Summed latency in seconds of ``placements``.

    Parameters
    ----------
    req : GraphRequirements
    placements : array (r, n) or (r, k, n) of {0, 1, 2}
        One placement per request, or ``k`` placements per request.
    output_return : bool
        Whether sink outputs return to the device.

    Returns
    -------
    array (r,) or (r, k)
        Seconds.
    """
    req = check_graph_requirements(req)
    placements = check_placements(placements, req)
    unary, pairwise = cost_terms(req, output_return)
    return placement_cost(unary, pairwise, req.graph.edges, placements)


def makespan(req: GraphRequirements, placements, output_return: bool = True) -> np.ndarray:
    """Makespan in seconds of ``placements`` (r, n) -> (r,) or (r, k, n) -> (r, k).

    Branches run in parallel without contention; see the module docstring.
    """
    req = check_graph_requirements(req)
    placements = check_placements(placements, req)
    return placement_makespan(*node_terms(req, output_return), edge_terms(req), req.graph, placements)


def cost(req: GraphRequirements, placements, objective: str = "latency", output_return: bool = True) -> np.ndarray:
    """:func:`latency` or :func:`makespan` of ``placements`` by ``objective`` (seconds)."""
    check_choice("objective", objective, OBJECTIVES)
    return (latency if objective == "latency" else makespan)(req, placements, output_return)
