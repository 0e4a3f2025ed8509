"""Task graphs as learning problems: fixed structures whose requests vary, exact labels,
and the learned policies of chapters 3-4 (teacher, KD student, Baseline student) on them.

A :class:`GraphProblem` fixes one graph structure and a topology (the direct
device-cloud link by default, where the minimum cut is not exact and the exact solver is
the integer program); its requests vary. Two kinds:

* a DNN graph of :mod:`kdoffload.graphs.dnn` (``"mobilenet_v2"``, ``"resnet50"``,
  ``"vit_b16"``, ``"bert_base"``): the node work is fixed (FLOPs x ``cycles_per_flop``);
  the frequencies ``p1``, ``p2`` and bandwidths ``b1``, ``b2`` are drawn from the wide
  preset, ``b3`` from :data:`kdoffload.graphs.B3_RANGE`, and every byte moved (the
  activations, the task input and output) is multiplied by one input scale per request,
  log-uniform on :data:`INPUT_SCALE_RANGE` (a larger or smaller input, e.g. image
  resolution or sequence length). Features: the 6 numbers that vary, ``(p1, p2, b1, b2,
  b3, input scale)``;
* ``"dag30"``: one random layered DAG of :data:`DAG_NODES` nodes (structure drawn once,
  seed :data:`DAG_SEED`), every node's cycles and every edge's, input's and output's
  bytes drawn per request from the wide preset, the network as above. Features: every
  weight that varies -- cycles (n), edge bytes (m), input bytes of the sources, output
  bytes of the sinks -- then ``(p1, p2, b1, b2, b3)``.

Every feature is divided by a fixed scale, the upper end of its range (the chain's
:func:`kdoffload.features` rule); the networks' input pipeline then takes logs and
standardises with moments fitted on their training data (``stats="fit"``).

Labels are exact: the integer program (:class:`~kdoffload.graphs.IntegerProgram`), in
worker processes, cached on disk (:func:`labelled`). The networks are the chain's:
:func:`kdoffload.train.fit` trains them on a :class:`GraphBatch` (features, validation
by normalised latency), :func:`kdoffload.distill.distill` distils them, at the widths of
:data:`TEACHER_CONFIG` and :data:`STUDENT_CONFIG`. A trained network becomes a graph
policy through :class:`NetworkPolicy` (batched) or :class:`LeanNetworkPolicy` (one
request, plain numpy, :mod:`kdoffload.lean`).

Units: cycles, Hz, bytes, bytes/s, seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import cached_property

import joblib
import numpy as np

from .. import __version__
from ..checks import check_choice, check_count, check_int, show
from ..data import memory
from ..evaluate import Scorer
from ..system import NUM_LOCATIONS, PRESETS
from .dnn import DNN_GRAPHS, dnn_graph, dnn_info
from .families import B3_RANGE, layered_dag, sample_network, sample_weights
from .model import TOPOLOGIES, GraphRequirements, check_graph_requirements, cost_terms, placement_cost

__all__ = [
    "PROBLEMS", "DAG_NODES", "DAG_SEED", "INPUT_SCALE_RANGE", "CYCLES_PER_FLOP", "TEACHER_CONFIG", "STUDENT_CONFIG",
    "GraphProblem", "problem", "GraphBatch", "GraphDataset", "GraphScorer", "labelled", "NetworkPolicy",
    "LeanCost", "LeanNetworkPolicy", "train_network", "KINDS",
]

#: The problems: the four DNN graphs and one random layered DAG.
PROBLEMS = DNN_GRAPHS + ("dag30",)
#: Nodes and structure seed of the random DAG problem.
DAG_NODES = 30
DAG_SEED = 3
#: Range of the per-request factor on every byte of a DNN request (log-uniform).
INPUT_SCALE_RANGE = (0.25, 4.0)
#: Cycles per FLOP of the DNN problems: a core at 16 float32 FLOPs per cycle (chapter 7's choice).
CYCLES_PER_FLOP = 0.0625
#: Seeds of the training and test requests are drawn apart: test seed = data seed + this.
TEST_SEED_OFFSET = 1_000

#: Scale (divisor) of each network feature: the upper end of its range.
_NETWORK_SCALE = {"p1": PRESETS["wide"]["p1"][1], "p2": PRESETS["wide"]["p2"][1], "b1": PRESETS["wide"]["b1"][1],
                  "b2": PRESETS["wide"]["b2"][1], "b3": B3_RANGE[1]}


def _training_configs():
    from ..train import STUDENT_CONFIG as chain_student
    from ..train import TEACHER_CONFIG as chain_teacher

    # The chain's settings with input statistics fitted on the training data (the wide
    # moments are those of the chain's features), the teacher's batches sized for a few
    # thousand samples, and no early stopping: on a few hundred validation requests whose
    # optimum is one of a handful of placements, the validation score reaches 1.000 in the
    # one-cycle warm-up and stopping there keeps an undertrained network.
    return (replace(chain_teacher, stats="fit", batch_size=128, epochs=60, patience=None),
            replace(chain_student, epochs=100, patience=None))


@dataclass(frozen=True)
class GraphProblem:
    """One fixed graph structure with requests that vary; see the module docstring.

    Parameters
    ----------
    name : str
        One of :data:`PROBLEMS`.
    topology : {"relay", "direct"}
        Default ``"direct"`` (the minimum cut is inexact there; labels come from the ILP).
    cycles_per_flop : float
        Cycles per FLOP of a DNN problem's nodes (> 0); unused by ``"dag30"``.
    """

    name: str
    topology: str = "direct"
    cycles_per_flop: float = CYCLES_PER_FLOP

    def __post_init__(self):
        check_choice("problem", self.name, PROBLEMS)
        check_choice("topology", self.topology, TOPOLOGIES)
        if not np.isfinite(self.cycles_per_flop) or self.cycles_per_flop <= 0:
            raise ValueError(f"cycles_per_flop must be a finite number > 0, got cycles_per_flop = "
                             f"{show(self.cycles_per_flop)}")

    @property
    def is_dnn(self) -> bool:
        return self.name in DNN_GRAPHS

    @cached_property
    def graph(self):
        """The :class:`~kdoffload.graphs.TaskGraph` every request of the problem shares."""
        return dnn_graph(self.name) if self.is_dnn else layered_dag(DAG_NODES, seed=DAG_SEED)

    @property
    def num_nodes(self) -> int:
        return self.graph.num_nodes

    @cached_property
    def feature_names(self) -> tuple:
        """Names of the feature columns, in order."""
        network = tuple(_NETWORK_SCALE)
        if self.is_dnn:
            return network + ("input_scale",)
        graph = self.graph
        return (tuple(f"cycles[{v}]" for v in range(graph.num_nodes))
                + tuple(f"data[{u}->{v}]" for u, v in graph.edges.tolist())
                + tuple(f"input[{v}]" for v in np.flatnonzero(graph.sources))
                + tuple(f"output[{v}]" for v in np.flatnonzero(graph.sinks)) + network)

    @property
    def width(self) -> int:
        """Number of features."""
        return len(self.feature_names)

    @cached_property
    def _dnn_base(self) -> dict:
        info = dnn_info(self.name)
        return {"cycles": info["flops"] * self.cycles_per_flop, "data": info["data"],
                "input_data": info["input_data"], "output_data": info["output_data"],
                "input_total": float(info["input_data"].sum())}

    def sample(self, n: int, seed: int = 0) -> GraphRequirements:
        """``n`` requests of the problem, drawn from ``seed`` (an int >= 0)."""
        n = check_count("n", n)
        rng = np.random.default_rng([check_int("seed", seed, minimum=0), PROBLEMS.index(self.name)])
        if self.is_dnn:
            base = self._dnn_base
            low, high = np.log(INPUT_SCALE_RANGE)
            scale = np.exp(rng.uniform(low, high, n))[:, None]
            weights = {"cycles": base["cycles"], "data": scale * base["data"],
                       "input_data": scale * base["input_data"], "output_data": scale * base["output_data"]}
        else:
            weights = sample_weights(self.graph, n, "wide", seed=rng)
        network = sample_network(n, "wide", seed=rng)
        return GraphRequirements(self.graph, topology=self.topology, **weights, **network)

    def check(self, req) -> GraphRequirements:
        """``req`` if it holds requests of this problem's graph and topology, else a ValueError."""
        req = check_graph_requirements(req)
        if req.graph != self.graph:
            raise ValueError(f"req must hold requests of the graph of problem {self.name!r} "
                             f"({self.num_nodes} nodes), got a graph of {req.num_nodes} nodes")
        if req.topology != self.topology:
            raise ValueError(f"req must have topology {self.topology!r} (problem {self.name!r}), "
                             f"got topology = {req.topology!r}")
        return req

    def _columns(self, req: GraphRequirements, rows) -> list:
        network = [getattr(req, key)[rows] / scale for key, scale in _NETWORK_SCALE.items()]
        if self.is_dnn:
            return network + [req.input_data[rows].sum(axis=-1) / self._dnn_base["input_total"]
                              / INPUT_SCALE_RANGE[1]]
        graph, data_high = self.graph, PRESETS["wide"]["D"][1]
        weights = [req.cycles[rows] / PRESETS["wide"]["E"][1], req.data[rows] / data_high,
                   req.input_data[rows][..., graph.sources] / data_high,
                   req.output_data[rows][..., graph.sinks] / data_high]
        return weights + network

    def features(self, req) -> np.ndarray:
        """Features (r, :attr:`width`) float32 of the requests ``req`` (see the module docstring)."""
        req = self.check(req)
        if req.b3 is None:
            raise ValueError(f"req must carry b3 (bytes/s): it is a feature of problem {self.name!r}")
        columns = self._columns(req, slice(None))
        return np.concatenate([np.reshape(column, (req.n, -1)) for column in columns], axis=1).astype(np.float32)

    def features_one(self, req: GraphRequirements) -> np.ndarray:
        """Features (width,) float32 of the first request of ``req``, unchecked (the lean per-request path)."""
        columns = self._columns(req, 0)
        if self.is_dnn:  # six scalars
            return np.array(columns, dtype=np.float32)
        return np.concatenate([np.atleast_1d(column) for column in columns]).astype(np.float32)


def problem(name: str, topology: str = "direct") -> GraphProblem:
    """The problem ``name`` (one of :data:`PROBLEMS`) under ``topology``."""
    return GraphProblem(name, topology)


class GraphScorer(Scorer):
    """Placements on fixed requests scored against fixed optimal placements: the chain's
    :class:`kdoffload.evaluate.Scorer` (normalised latency, accuracies) with the graph's
    summed latency."""

    def __init__(self, req: GraphRequirements, optimal):
        self.unary, self.pairwise = cost_terms(req)
        self.edges = req.graph.edges
        self.optimal = np.asarray(optimal, dtype=np.int64)
        if self.optimal.shape != (req.n, req.num_nodes):
            raise ValueError(f"labels must have shape (r, n) = {(req.n, req.num_nodes)}, "
                             f"got labels.shape = {self.optimal.shape}")
        self.optimal_latencies = self.latencies(self.optimal)
        self.optimal_mean = self.optimal_latencies.mean()

    def latencies(self, decisions: np.ndarray) -> np.ndarray:
        """Summed latency (r,) of ``decisions`` (r, n), seconds."""
        return placement_cost(self.unary, self.pairwise, self.edges, np.asarray(decisions, dtype=np.int64))


@dataclass(frozen=True)
class GraphBatch:
    """Requests of one problem as a training batch of :func:`kdoffload.train.fit`:
    ``features()``, ``take(index)``, ``scorer(labels)``, ``num_subtasks`` (nodes), ``width``."""

    problem: GraphProblem
    requests: GraphRequirements

    @property
    def n(self) -> int:
        return self.requests.n

    @property
    def num_subtasks(self) -> int:
        return self.problem.num_nodes

    @property
    def width(self) -> int:
        return self.problem.width

    def features(self) -> np.ndarray:
        return self.problem.features(self.requests)

    def take(self, index) -> "GraphBatch":
        return GraphBatch(self.problem, self.requests.take(index))

    def scorer(self, labels) -> GraphScorer:
        return GraphScorer(self.requests, labels)


@dataclass(frozen=True)
class GraphDataset:
    """Requests of a problem with their exact labels (the graph :class:`kdoffload.LabelledDataset`)."""

    requirements: GraphBatch
    labels: np.ndarray
    seed: int
    solver: str = "ilp"

    def __len__(self) -> int:
        return self.requirements.n

    @property
    def problem(self) -> GraphProblem:
        return self.requirements.problem

    @property
    def requests(self) -> GraphRequirements:
        return self.requirements.requests


def _solve_chunk(name: str, topology: str, n: int, seed: int, start: int, stop: int) -> np.ndarray:
    from .solvers import IntegerProgram

    req = GraphProblem(name, topology).sample(n, seed).take(np.arange(start, stop))
    return IntegerProgram().decide(req)


def _labels(name, topology, n, seed, version, progress):
    from ..experiments.parallel import training_jobs
    from ..progress import bar

    bounds = np.linspace(0, n, min(n, 8 * training_jobs()) + 1).astype(int)
    chunks = list(zip(bounds[:-1], bounds[1:]))
    tasks = (joblib.delayed(_solve_chunk)(name, topology, n, seed, int(a), int(b)) for a, b in chunks)
    results = joblib.Parallel(n_jobs=min(training_jobs(), len(chunks)), return_as="generator")(tasks)
    parts = list(bar(results, total=len(chunks), progress=progress, desc=f"ILP labels {name}", unit="chunk"))
    return np.concatenate(parts).astype(np.int64)


_cached_labels = memory.cache(_labels, ignore=["progress"])


def labelled(problem: GraphProblem, n: int, seed: int = 0, progress: bool | None = None,
             cache: bool = True) -> GraphDataset:
    """``n`` requests of ``problem`` drawn from ``seed`` with exact ILP labels.

    The integer programs are solved in worker processes (``$KDOFFLOAD_JOBS``, default
    every core), one request per program; the labels are cached on disk
    (:data:`kdoffload.data.memory`), keyed by the problem, ``n``, ``seed`` and the version.
    Labels do not depend on the number of workers.
    """
    n = check_count("n", n)
    seed = check_int("seed", seed, minimum=0)
    function = _cached_labels if cache else _labels
    labels = function(problem.name, problem.topology, n, seed, __version__, progress)
    return GraphDataset(GraphBatch(problem, problem.sample(n, seed)), labels, seed)


class NetworkPolicy:
    """A trained :class:`~kdoffload.nets.MLPPolicy` as a graph policy of its problem
    (batched form): ``decide(req)`` is the argmax of each node's 3 logits; calling it
    gives the logits (r, n, 3), what :class:`kdoffload.topk.TopKRecheck` re-checks."""

    def __init__(self, problem: GraphProblem, model, name: str | None = None):
        if getattr(model, "input_width", None) != problem.width or model.num_subtasks != problem.num_nodes:
            raise ValueError(f"the network must take problem {problem.name!r}'s {problem.width} features and "
                             f"decide its {problem.num_nodes} nodes, got input_width = "
                             f"{getattr(model, 'input_width', None)}, num_subtasks = {model.num_subtasks}")
        self.problem, self.model = problem, model
        self.name = name or model.name

    def __call__(self, req) -> np.ndarray:
        return self.model.logits(self.problem.features(req))

    def decide(self, req) -> np.ndarray:
        return self.model.decide(self.problem.features(req))


class LeanCost:
    """The summed latency of ``k`` candidate placements of one request, in few numpy calls:
    the per-request form of :func:`kdoffload.graphs.latency` (output returned), used by the
    top-K re-check. Per request it builds the 3 x 3 hop matrix from ``b1``, ``b2``, ``b3``
    in Python floats, the (n, 3) node terms, and reads each candidate's node and edge
    terms with one gather each; the graph's index arrays are prepared once.
    """

    def __init__(self, graph):
        self._nodes = np.arange(graph.num_nodes)
        self._tails, self._heads = graph.edges[:, 0].copy(), graph.edges[:, 1].copy()

    @staticmethod
    def hops(req: GraphRequirements) -> np.ndarray:
        """(3, 3) seconds per byte of the first request (:func:`~kdoffload.graphs.hop_matrix`'s rule)."""
        d01, d12 = 1.0 / float(req.b1[0]), 1.0 / float(req.b2[0])
        d02 = d01 + d12
        if req.topology == "direct":
            d03 = 1.0 / float(req.b3[0])
            d01, d12, d02 = min(d01, d03 + d12), min(d12, d01 + d03), min(d02, d03)
        return np.array([[0.0, d01, d02], [d01, 0.0, d12], [d02, d12, 0.0]])

    def __call__(self, req: GraphRequirements, candidates: np.ndarray) -> np.ndarray:
        """Seconds (k,) of ``candidates`` (k, n) for the first request of ``req``."""
        hop = self.hops(req)
        cycles = req.cycles[0]
        unary = np.outer(cycles, (1.0 / float(req.p1[0]), 1.0 / float(req.p2[0]), 0.0))
        unary += np.outer(req.input_data[0], hop[0])
        unary += np.outer(req.output_data[0], hop[:, 0])
        total = unary[self._nodes, candidates].sum(axis=1)
        if len(self._tails):
            total += (hop[candidates[:, self._tails], candidates[:, self._heads]] * req.data[0]).sum(axis=1)
        return total


class LeanNetworkPolicy:
    """The per-request form of a :class:`NetworkPolicy`: the problem's features of one
    request and the network's forward pass in plain numpy (:func:`kdoffload.lean.lean_mlp`,
    matrix-vector products), then the argmax per node -- or, with ``k > 1``, the cheapest
    of the ``k`` most probable placements (:func:`kdoffload.topk.k_best_one`), priced
    exactly by :class:`LeanCost`."""

    def __init__(self, policy: NetworkPolicy, k: int = 1):
        from ..lean import lean_mlp

        self.problem = policy.problem
        self.lean = lean_mlp(policy.model)
        self.k = check_count("k", k)
        self.name = policy.name if self.k == 1 else f"{policy.name}+top{self.k}"
        self._shape = (1, self.problem.num_nodes, NUM_LOCATIONS)
        self._cost = LeanCost(self.problem.graph)

    def logits_one(self, req: GraphRequirements) -> np.ndarray:
        """Logits (1, n, 3) of the first request of ``req``."""
        return self.lean.logits(self.lean.inputs(self.problem.features_one(req))).reshape(self._shape)

    def decide(self, req: GraphRequirements) -> np.ndarray:
        """Placement (1, n) int64 of a one-request ``req`` (the per-request form)."""
        if req.n != 1:
            raise ValueError(f"the per-request form decides one request at a time, got req.n = {req.n}")
        logits = self.logits_one(req)
        if self.k == 1:
            return logits.argmax(axis=2)
        from ..topk import k_best_one

        candidates = k_best_one(logits[0], self.k)
        return candidates[None, int(np.argmin(self._cost(req, candidates)))]


#: The learned policies on a problem: the teacher on hard labels, the student distilled
#: from it, the student on hard labels.
KINDS = ("teacher", "kd_student", "baseline_student")


def _train(name, topology, kind, seed, config, teacher_config, train_size, data_seed, temperature, version,
           progress):
    from ..distill import distill
    from ..train import train_supervised

    problem = GraphProblem(name, topology)
    data = labelled(problem, train_size, data_seed, progress=progress)
    start = time.perf_counter()
    if kind == "kd_student":
        teacher = train_network(problem, "teacher", seed, train_size, data_seed, config=teacher_config,
                                progress=progress)
        model = distill(teacher.model, data, temperature, config=config, seed=seed, name=kind, progress=progress)
    else:
        model = train_supervised(data, config, seed, kind, progress)
    model.train_seconds = time.perf_counter() - start
    return model


_cached_train = memory.cache(_train, ignore=["progress"])


def train_network(problem: GraphProblem, kind: str, seed: int = 0, train_size: int = 2000, data_seed: int = 0,
                  temperature: float = 5.0, config=None, teacher_config=None, progress: bool | None = None,
                  cache: bool = True) -> NetworkPolicy:
    """A learned policy of ``kind`` (:data:`KINDS`) on ``problem``, trained on the
    ``train_size`` labelled requests of :func:`labelled` (``data_seed``).

    ``"teacher"``: ``config`` (default :data:`TEACHER_CONFIG`, 5 x 256) on the exact labels;
    ``"baseline_student"``: ``config`` (default :data:`STUDENT_CONFIG`, 2 x 32) on the exact
    labels; ``"kd_student"``: ``config`` (default :data:`STUDENT_CONFIG`) on the probabilities
    of the teacher of the same seed (trained with ``teacher_config``, default
    :data:`TEACHER_CONFIG`) softened at ``temperature`` (:func:`kdoffload.distill.distill`,
    soft labels only). Every kind sees the same requests and labels. Cached on disk, keyed
    by every argument but ``progress``; the model's ``train_seconds`` excludes labelling.
    """
    check_choice("kind", kind, KINDS)
    if config is None:
        config = TEACHER_CONFIG if kind == "teacher" else STUDENT_CONFIG
    if kind == "kd_student":
        teacher_config = TEACHER_CONFIG if teacher_config is None else teacher_config
        from ..distill import _check_temperature

        temperature = _check_temperature(temperature)
    else:
        teacher_config, temperature = None, 1.0
    function = _cached_train if cache else _train
    model = function(problem.name, problem.topology, kind, int(seed), config, teacher_config,
                     check_count("train_size", train_size), int(data_seed), temperature, __version__, progress)
    return NetworkPolicy(problem, model, name=kind)


TEACHER_CONFIG, STUDENT_CONFIG = _training_configs()
