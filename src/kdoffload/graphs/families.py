"""Families of task graphs: random layered DAGs in the style of daggen, and the paper's chain.

Random layered DAGs follow daggen (Suter & Hunold, https://github.com/frs69wq/daggen),
the generator most dependency-aware offloading and scheduling work uses:

* ``fat`` sets the width: the mean number of nodes per level is ``int(n ** fat)``
  (``fat`` near 0: a thin, chain-like graph; near 1: wide and shallow);
* ``regularity`` in [0, 1]: each level's width is drawn uniformly within
  ``+-100 * (1 - regularity)`` % of the mean (at least 1; the last level takes what is
  left of ``n``);
* ``density`` in [0, 1]: a node of level ``i >= 1`` draws
  ``min(1 + int(U[0, density * w_{i-1})), w_{i-1})`` parents (``w_{i-1}`` the width of
  the level above; duplicates are dropped, so it may get fewer);
* ``jump`` >= 1: each parent is taken from level ``i - 1 - int(U[0, jump))`` (at least
  level 0), so edges may skip up to ``jump - 1`` levels;
* ``ccr``, the communication-to-computation ratio, scales the data (below).

Nodes are numbered level by level, so every edge goes from a smaller to a larger index.
Level 0 nodes are sources; a node no one draws as a parent is a sink (at any level).

Weights and networks are drawn like :func:`kdoffload.system.sample`: uniformly from a
preset's ranges (:data:`kdoffload.system.PRESETS`), each value as ``high - U[0, high -
low)`` so a bandwidth or frequency is never exactly 0. Cycles ``E_v`` come from the
``E`` range; edge data, source inputs and sink outputs from the ``D`` range scaled by
``ccr / preset_ccr(preset)``. The ratio is measured on the device: ``ccr`` = (mean bytes
of one edge / mean ``b1``) / (mean cycles of one node / mean ``p1``), i.e. how many times
longer moving an average edge over the device<->edge link takes than computing an
average node on the device. ``ccr=None`` keeps the preset's own ratio (2.75 for
``wide``, 3.03 for ``narrow``: the paper's data sizes).

The direct link's bandwidth ``b3`` (bytes/s) is drawn from :data:`B3_RANGE`, our choice
(the paper has no such link): the same range as ``b1``, a link to the cloud as fast as
the one to the edge on average.

Units: cycles, Hz, bytes, bytes/s.
"""

from __future__ import annotations

import numpy as np

from ..checks import check_choice, check_count, check_in_range, check_int
from ..system import MEGA, PRESETS, Requirements, check_requirements
from .model import TOPOLOGIES, GraphRequirements, TaskGraph

__all__ = [
    "B3_RANGE", "preset_ccr", "chain", "chain_requirements", "paper_chain", "layered_dag",
    "sample_network", "sample_weights", "random_requirements", "random_dag",
]

#: Range (low, high] of the direct device<->cloud bandwidth b3, bytes/s (our choice).
B3_RANGE = (0.0, 2 * MEGA)


def _uniform(rng: np.random.Generator, low: float, high: float, size) -> np.ndarray:
    """Uniform on (low, high], as ``kdoffload.system.sample`` draws."""
    return high - rng.uniform(0.0, high - low, size=size)


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int("seed", seed, minimum=0))


def preset_ccr(preset: str = "wide") -> float:
    """The communication-to-computation ratio of a preset's ranges (dimensionless).

    (mean D / mean b1) / (mean E / mean p1): seconds to move an average datum over the
    device<->edge link per second of computing an average subtask on the device.
    """
    ranges = PRESETS[check_choice("preset", preset, PRESETS)]
    mean = {name: sum(bounds) / 2 for name, bounds in ranges.items()}
    return (mean["D"] / mean["b1"]) / (mean["E"] / mean["p1"])


def chain(num_subtasks: int) -> TaskGraph:
    """The chain 0 -> 1 -> ... -> num_subtasks - 1 (the paper's task structure)."""
    num_subtasks = check_count("num_subtasks", num_subtasks)
    edges = np.stack([np.arange(num_subtasks - 1), np.arange(1, num_subtasks)], axis=1)
    return TaskGraph(num_subtasks, edges, names=tuple(f"subtask {t}" for t in range(num_subtasks)))


def chain_requirements(req: Requirements, b3=None, topology: str = "relay") -> GraphRequirements:
    """The chain requirements ``req`` (:class:`kdoffload.Requirements`) as a graph.

    Node ``t`` has ``E[:, t]`` cycles; edge ``(t-1, t)`` carries ``D[:, t]`` bytes; node 0
    receives the task input ``D[:, 0]`` from the device and the last node returns the task
    output ``D[:, |A|]``. Under ``topology="relay"`` its latency equals
    :func:`kdoffload.system.latency` for both readings of ``output_return``.
    """
    req = check_requirements(req)
    size = req.num_subtasks
    input_data = np.zeros((req.n, size))
    output_data = np.zeros((req.n, size))
    input_data[:, 0] = req.D[:, 0]
    output_data[:, -1] = req.D[:, -1]
    return GraphRequirements(chain(size), cycles=req.E, data=req.D[:, 1:size], input_data=input_data,
                             output_data=output_data, p1=req.p1, p2=req.p2, b1=req.b1, b2=req.b2,
                             b3=b3, topology=topology)


def sample_network(n: int, preset: str = "wide", seed=0, b3_range: tuple[float, float] = B3_RANGE) -> dict:
    """Draw ``n`` networks: arrays p1, p2 (Hz), b1, b2, b3 (bytes/s) of shape (n,)."""
    n = check_count("n", n)
    ranges = PRESETS[check_choice("preset", preset, PRESETS)]
    rng = _rng(seed)
    network = {name: _uniform(rng, *ranges[name], n) for name in ("p1", "p2", "b1", "b2")}
    network["b3"] = _uniform(rng, *b3_range, n)
    return network


def sample_weights(graph: TaskGraph, n: int = 1, preset: str = "wide", ccr: float | None = None, seed=0) -> dict:
    """Draw weights for ``n`` requests on ``graph``.

    Returns
    -------
    dict
        ``cycles`` (n, nodes) in cycles, ``data`` (n, edges), ``input_data`` and
        ``output_data`` (n, nodes) in bytes (zero off the sources / sinks).
    """
    n = check_count("n", n)
    ranges = PRESETS[check_choice("preset", preset, PRESETS)]
    scale = 1.0 if ccr is None else check_in_range("ccr", ccr, 0.0, 1e6) / preset_ccr(preset)
    rng = _rng(seed)
    low, high = ranges["D"]
    nodes, edges = graph.num_nodes, graph.num_edges
    return {
        "cycles": _uniform(rng, *ranges["E"], (n, nodes)),
        "data": scale * _uniform(rng, low, high, (n, edges)),
        "input_data": scale * _uniform(rng, low, high, (n, nodes)) * graph.sources,
        "output_data": scale * _uniform(rng, low, high, (n, nodes)) * graph.sinks,
    }


def random_requirements(graph: TaskGraph, n: int = 1, preset: str = "wide", topology: str = "relay",
                        ccr: float | None = None, seed=0, b3_range: tuple[float, float] = B3_RANGE) -> GraphRequirements:
    """``n`` random requests on ``graph``: weights (:func:`sample_weights`) and networks.

    One seed (or ``numpy.random.Generator``) draws both; ``b3`` is always drawn, so the
    same seed gives the same instance under either topology.
    """
    check_choice("topology", topology, TOPOLOGIES)
    rng = _rng(seed)
    weights = sample_weights(graph, n, preset, ccr, rng)
    network = sample_network(n, preset, rng, b3_range)
    return GraphRequirements(graph, topology=topology, **weights, **network)


def paper_chain(n: int, preset: str = "wide", num_subtasks: int = 6, topology: str = "relay", seed: int = 0,
                b3_range: tuple[float, float] = B3_RANGE) -> GraphRequirements:
    """The paper's chain as a graph: :func:`kdoffload.sample` then :func:`chain_requirements`.

    With the same seed the weights equal ``kdoffload.sample(n, preset, num_subtasks, seed)``;
    ``b3`` is drawn from a second generator seeded with ``seed + 1``.
    """
    from ..system import sample

    req = sample(n, preset=preset, num_subtasks=num_subtasks, seed=seed)
    b3 = _uniform(np.random.default_rng(check_int("seed", seed, minimum=0) + 1), *b3_range, req.n)
    return chain_requirements(req, b3=b3, topology=topology)


def _around(rng: np.random.Generator, x: int, percent: float) -> int:
    """daggen's getIntRandomNumberAround: an int >= 1 within +-percent % of x."""
    r = -percent + 2 * percent * rng.random()
    return max(1, int(x * (1.0 + r / 100.0)))


def layered_dag(n: int, fat: float = 0.5, density: float = 0.5, regularity: float = 0.5, jump: int = 1,
                seed=0) -> TaskGraph:
    """A random layered DAG of ``n`` nodes in the style of daggen (see the module docstring).

    Parameters
    ----------
    n : int
        Number of nodes (>= 1).
    fat : float in [0, 1]
        Width: about ``n ** fat`` nodes per level.
    density : float in [0, 1]
        Share of the level above a node draws as parents.
    regularity : float in [0, 1]
        1: every level as wide as the mean; 0: widths vary by up to +-100 %.
    jump : int >= 1
        Edges span at most ``jump`` levels.
    seed : int or numpy.random.Generator

    Returns
    -------
    TaskGraph
        Names ``"L<level>.<index>"``.
    """
    n = check_count("n", n)
    fat = check_in_range("fat", fat, 0.0, 1.0)
    density = check_in_range("density", density, 0.0, 1.0)
    regularity = check_in_range("regularity", regularity, 0.0, 1.0)
    jump = check_count("jump", jump)
    rng = _rng(seed)
    mean_width = int(np.exp(fat * np.log(n)))
    widths, total = [], 0
    while total < n:
        width = min(_around(rng, mean_width, 100.0 - 100.0 * regularity), n - total)
        widths.append(width)
        total += width
    starts = np.concatenate([[0], np.cumsum(widths)])
    edges = []
    for level in range(1, len(widths)):
        above = widths[level - 1]
        for j in range(widths[level]):
            child = starts[level] + j
            count = min(1 + int(rng.uniform(0.0, density * above)), above)
            parents = set()
            for _ in range(count):
                parent_level = max(0, level - 1 - int(rng.uniform(0.0, jump)))
                parents.add(starts[parent_level] + int(rng.uniform(0.0, widths[parent_level])))
            edges.extend((int(parent), int(child)) for parent in sorted(parents))
    names = tuple(f"L{level}.{j}" for level, width in enumerate(widths) for j in range(width))
    return TaskGraph(n, np.array(edges, dtype=np.int64).reshape(-1, 2), names=names)


def random_dag(n: int, requests: int = 1, fat: float = 0.5, density: float = 0.5, regularity: float = 0.5,
               jump: int = 1, ccr: float | None = None, preset: str = "wide", topology: str = "relay",
               seed: int = 0, b3_range: tuple[float, float] = B3_RANGE) -> GraphRequirements:
    """A random layered DAG (:func:`layered_dag`) with ``requests`` random requests on it.

    One seed (an int >= 0 or a ``numpy.random.Generator``) draws the structure, then the
    weights and networks; the same seed gives the same instance under either topology.
    """
    rng = _rng(seed)
    graph = layered_dag(n, fat, density, regularity, jump, rng)
    return random_requirements(graph, requests, preset, topology, ccr, rng, b3_range)
