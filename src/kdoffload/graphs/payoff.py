"""Where learning pays: every policy of a graph learning problem, its latency against the
optimum and its per-request decision time, the Pareto front, and a verdict per problem.

For one :class:`~kdoffload.graphs.learning.GraphProblem` (:func:`measure`):

* **quality**: the normalised latency (mean latency / mean optimal latency, the ratio of
  means) on labelled test requests, with a 95 % paired bootstrap interval over test
  requests and training seeds (:func:`kdoffload.uncertainty.bootstrap_interval`);
* **cost**: the median wall time of one decision for one request, each policy in its
  per-request form: the ILP on one request (one CBC process), the minimum cut of the
  relay prices, the heuristics' vectorised code on a batch of one, the networks as plain
  numpy matrix-vector products (:class:`~kdoffload.graphs.learning.LeanNetworkPolicy`),
  with the top-K re-check's K-best and exact costing included;
* **what each was given**: the ILP labels of ``train_size`` requests for every learned
  policy and for :class:`SeenPlacements`; nothing for the heuristics.

:func:`pareto_front` marks the policies no other policy beats on both axes;
:func:`verdict` says, in one sentence, whether a learned policy is on it.

On the chain (:func:`chain_topk`): the chapter 4 KD student with top-K re-check against
the exact dynamic program, both per request in plain numpy / Python.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import uncertainty
from ..checks import check_count
from ..threads import limited_threads
from .heuristics import graph_heuristic
from .learning import GraphDataset, GraphProblem, LeanCost, LeanNetworkPolicy, train_network
from .model import cost_terms, latency, placement_cost

__all__ = ["SeenPlacements", "RelayCut", "KS", "HEURISTICS", "policy_label", "measure", "pareto_front", "verdict",
           "decision_times", "choose_temperature", "excess_sources", "LeanChainTopK", "chain_topk"]

#: Candidates of the top-K re-check.
KS = (1, 2, 4, 8, 16, 32)
#: Heuristics measured on every problem.
HEURISTICS = ("greedy", "local", "edge", "cloud")


class SeenPlacements:
    """The ``k`` placements most often optimal in the training labels, each costed exactly
    for the request; the cheapest is kept (ties: the more frequent). A non-learned
    competitor of the top-K re-check, given the same labels and the same K."""

    def __init__(self, labels, k: int = 8):
        counts = Counter(map(tuple, np.asarray(labels, dtype=np.int64).tolist()))
        self.k = check_count("k", k)
        self.candidates = np.array([placement for placement, _ in counts.most_common(self.k)], dtype=np.int64)
        self.name = f"seen{self.k}"
        self._cost = None

    def decide(self, req) -> np.ndarray:
        if req.n == 1:  # one request: the per-request pricing of the top-K re-check
            if self._cost is None:
                self._cost = LeanCost(req.graph)
            return self.candidates[None, int(np.argmin(self._cost(req, self.candidates)))]
        unary, pairwise = cost_terms(req)
        candidates = np.broadcast_to(self.candidates, (req.n,) + self.candidates.shape)
        costs = placement_cost(unary, pairwise, req.graph.edges, candidates)
        return self.candidates[np.argmin(costs, axis=1)]


class RelayCut:
    """The minimum cut of the relay prices (exact there), used under the direct link (inexact)."""

    name = "mincut_relay"

    def decide(self, req) -> np.ndarray:
        from .solvers import MinCut

        return MinCut().decide(req.with_topology("relay"))


_LABELS = {"ilp": "ILP (exact)", "mincut_relay": "Min cut, relay prices", "greedy": "Greedy", "local": "Local",
           "edge": "Edge", "cloud": "Cloud", "teacher": "Teacher (5x256)", "baseline_student": "Baseline student",
           "kd_student": "KD student"}


def policy_label(name: str) -> str:
    """Display name of a policy key (``kd_student+top8`` -> ``KD student + top-8``)."""
    base, _, top = name.partition("+top")
    if base.startswith("seen"):
        return f"Seen placements ({base[4:]})"
    label = _LABELS.get(base, base)
    return f"{label} + top-{top}" if top else label


#: Rounds of :func:`decision_times`.
REPEATS = 5


def decision_times(policies: dict, requests: Sequence, repeats: int = REPEATS) -> dict:
    """``{name: seconds}``: the time of one ``policy.decide`` on a one-request batch, on one thread.

    In each of ``repeats`` rounds the policies take turns; each decides every request of
    ``requests`` in a row after one warm-up call (warm caches, as a server deciding request
    after request with one policy) and scores the median time per call. A policy's time is
    the median over rounds, so a slow spell of the machine falls on one round of every
    policy alike rather than on whichever policy it met.
    """
    rounds = {name: [] for name in policies}
    with limited_threads(1):
        for _ in range(repeats):
            for name, policy in policies.items():
                policy.decide(requests[0])
                block = []
                for one in requests:
                    start = time.perf_counter()
                    policy.decide(one)
                    block.append(time.perf_counter() - start)
                rounds[name].append(np.median(block))
    return {name: float(np.median(values)) for name, values in rounds.items()}


def _family(name: str) -> str:
    if name in ("ilp",):
        return "exact"
    if name.startswith(("teacher", "kd_student", "baseline_student")):
        return "learned"
    if name.startswith("seen"):
        return "seen labels"
    return "heuristic"


def measure(problem: GraphProblem, train: GraphDataset, test: GraphDataset, seeds: Sequence[int],
            temperature: float, ks: Sequence[int] = KS, timing_count: int = 30, teacher_config=None,
            student_config=None, n_boot: int = uncertainty.N_BOOT) -> pd.DataFrame:
    """Every policy on ``problem``: normalised latency with its interval, per-request time.

    Learned policies are trained on ``train`` for every seed (cached) and measured per
    seed; the KD student is distilled at ``temperature`` and also re-checked with each K
    of ``ks`` (K > 1). One row per policy: ``policy``, ``label``, ``family``, ``mean``,
    ``std`` (over seeds), ``low``, ``high`` (95 % bootstrap), ``seconds`` (per request,
    on ``timing_count`` test requests, :func:`decision_times`; the first seed's model),
    ``speedup`` (ILP seconds / seconds) and ``given`` (what the policy was given).
    """
    from ..topk import TopKRecheck

    seeds = [int(seed) for seed in seeds]
    req = test.requests
    optimal = latency(req, test.labels)
    count = min(check_count("timing_count", timing_count), len(test))
    singles = [req.take([i]) for i in range(count)]
    labels_given = f"{len(train):,} ILP labels"
    batched, lean, given = {}, {}, {}

    batched["ilp"], lean["ilp"], given["ilp"] = test.labels[None], _ILP(), "exact"
    cut = RelayCut()
    batched["mincut_relay"], lean["mincut_relay"], given["mincut_relay"] = cut.decide(req)[None], cut, "nothing"
    for name in HEURISTICS:
        heuristic = graph_heuristic(name)
        batched[name], lean[name], given[name] = heuristic.decide(req)[None], heuristic, "nothing"
    for k in sorted({8, max(ks)}):
        seen = SeenPlacements(train.labels, k)
        batched[seen.name], lean[seen.name], given[seen.name] = seen.decide(req)[None], seen, labels_given

    options = {"train_size": len(train), "data_seed": train.seed}
    for kind in ("teacher", "baseline_student", "kd_student"):
        config = teacher_config if kind == "teacher" else student_config
        extra = {"temperature": temperature, "teacher_config": teacher_config} if kind == "kd_student" else {}
        policies = {seed: train_network(problem, kind, seed, config=config, **options, **extra) for seed in seeds}
        batched[kind] = np.stack([policies[seed].decide(req) for seed in seeds])
        lean[kind], given[kind] = LeanNetworkPolicy(policies[seeds[0]]), labels_given
        if kind != "kd_student":
            continue
        for k in ks:
            if k == 1:
                continue
            name = f"{kind}+top{k}"
            batched[name] = np.stack([TopKRecheck(policies[seed], k, cost=latency).decide(req) for seed in seeds])
            lean[name], given[name] = LeanNetworkPolicy(policies[seeds[0]], k), labels_given

    # (seeds, r, n) decisions -> (seeds, r) latencies, via the (r, k, n) form of latency
    lat = {name: latency(req, decisions.transpose(1, 0, 2)).T for name, decisions in batched.items()}
    intervals = uncertainty.bootstrap_interval(lat, optimal, "normalized_latency", n_boot)
    seconds = decision_times(lean, singles)
    rows = []
    for name, values in intervals.items():
        rows.append({"problem": problem.name, "policy": name, "label": policy_label(name), "family": _family(name),
                     **values, "seconds": seconds[name], "given": given[name]})
    frame = pd.DataFrame(rows)
    frame["speedup"] = frame.loc[frame.policy == "ilp", "seconds"].iloc[0] / frame["seconds"]
    frame["pareto"] = pareto_front(frame)
    return frame


class _ILP:
    """The ILP on one request (one CBC process per decision)."""

    name = "ilp"

    def decide(self, req):
        from .solvers import IntegerProgram

        return IntegerProgram().decide(req)


def choose_temperature(problem: GraphProblem, train: GraphDataset, temperatures: Sequence[float], seed: int = 0,
                       teacher_config=None, student_config=None) -> pd.DataFrame:
    """The KD student's validation score at each temperature: one row per T with the best
    validation normalised latency of its training run (the validation split of ``train``,
    never the test set) and ``chosen`` marking the lowest (ties: the smaller T)."""
    rows = []
    for temperature in temperatures:
        policy = train_network(problem, "kd_student", seed, len(train), train.seed, temperature,
                               config=student_config, teacher_config=teacher_config)
        rows.append({"problem": problem.name, "T": float(temperature),
                     "validation": float(policy.model.history["val_normalized_latency"].min())})
    frame = pd.DataFrame(rows)
    frame["chosen"] = frame.index == frame["validation"].idxmin()
    return frame


def excess_sources(problem: GraphProblem, train: GraphDataset, test: GraphDataset, seeds: Sequence[int],
                   temperature: float, kind: str = "kd_student", worst: int = 3, teacher_config=None,
                   config=None) -> pd.DataFrame:
    """Where a learned policy's excess latency (its latency minus the optimal, summed over
    ``test``) comes from, per seed: the share of test requests it gives a placement that
    was never optimal in ``train`` (*novel*), the share of the excess those requests carry,
    and the share carried by its ``worst`` requests."""
    req = test.requests
    optimal = latency(req, test.labels)
    seen = set(map(tuple, train.labels.tolist()))
    options = {"temperature": temperature, "teacher_config": teacher_config} if kind == "kd_student" else {}
    rows = []
    for seed in seeds:
        policy = train_network(problem, kind, seed, len(train), train.seed, config=config, **options)
        decisions = policy.decide(req)
        excess = latency(req, decisions) - optimal
        novel = np.array([tuple(x) not in seen for x in decisions.tolist()])
        total = excess.sum()
        share = (lambda part: float(part / total)) if total > 0 else (lambda part: 0.0)
        rows.append({"problem": problem.name, "seed": int(seed), "novel requests": float(novel.mean()),
                     "excess on novel": share(excess[novel].sum()),
                     f"excess on the {worst} worst": share(np.sort(excess)[::-1][:worst].sum())})
    return pd.DataFrame(rows)


def pareto_front(frame: pd.DataFrame, x: str = "seconds", y: str = "mean") -> np.ndarray:
    """(rows,) bool: the rows no other row beats on both ``x`` and ``y`` (both lower is
    better; a row equal on one and lower on the other beats it)."""
    xs, ys = frame[x].to_numpy(dtype=float), frame[y].to_numpy(dtype=float)
    keep = np.ones(len(frame), dtype=bool)
    for i in range(len(frame)):
        dominated = (xs <= xs[i]) & (ys <= ys[i]) & ((xs < xs[i]) | (ys < ys[i]))
        keep[i] = not dominated.any()
    return keep


def _describe(row) -> str:
    return (f"{row.label} ({row.given}) reaches {row['mean']:.4f} [{row.low:.4f}, {row.high:.4f}] "
            f"at {row.speedup:,.0f} times the ILP's speed")


def verdict(frame: pd.DataFrame, tolerance: float = 0.01, speedup: float = 100.0) -> str:
    """One sentence on one problem's rows of :func:`measure`: is a learned policy within
    ``tolerance`` of the optimum (mean normalised latency) at least ``speedup`` times faster
    than the ILP, and is anything not learned?"""
    problem = frame["problem"].iloc[0]
    near = frame[(frame["mean"] <= 1 + tolerance) & (frame["speedup"] >= speedup)].sort_values("seconds")
    learned = near[near.family == "learned"]
    rivals = near[near.family.isin(["heuristic", "seen labels"])]
    goal = f"within {tolerance:.0%} of the optimum at {speedup:.0f} times the ILP's speed"
    if learned.empty and rivals.empty:
        best = frame[frame.family != "exact"].sort_values("mean").iloc[0]
        return f"{problem}: nothing but the ILP is {goal} (closest: {_describe(best)}); the exact solver stays."
    if learned.empty:
        return f"{problem}: learning does not pay: no learned policy is {goal}, but {_describe(rivals.iloc[0])}."
    if rivals.empty:
        return f"{problem}: learning pays: {_describe(learned.iloc[0])}, and nothing unlearned is {goal}."
    return (f"{problem}: learning works but is not needed: {_describe(learned.iloc[0])}; "
            f"the unlearned {_describe(rivals.iloc[0])} as well.")


class LeanChainTopK:
    """The chain KD student per request (lean numpy network) with top-``k`` re-check: the
    ``k`` most probable decisions costed with the chain's exact cost tensors
    (:func:`kdoffload.system.cost_tensors` of the one request)."""

    def __init__(self, model, k: int):
        from ..lean import lean_mlp

        self.lean, self.k = lean_mlp(model), check_count("k", k)
        self.name = f"{model.name}+top{self.k}"
        self._shape = (1, model.num_subtasks, 3)

    def decide(self, one):
        from ..system import cost_tensors, path_cost
        from ..topk import k_best_one

        logits = self.lean.logits_one(one).reshape(self._shape)
        if self.k == 1:
            return logits.argmax(axis=2)
        candidates = k_best_one(logits[0], self.k)
        computation, transfer = cost_tensors(one)  # one request's terms, shared by the k candidates
        costs = path_cost(np.broadcast_to(computation, (self.k,) + computation.shape[1:]),
                          np.broadcast_to(transfer, (self.k,) + transfer.shape[1:]), candidates)
        return candidates[None, int(np.argmin(costs))]


def chain_topk(students: dict, test, ks: Sequence[int] = KS, timing_count: int = 200,
               n_boot: int = uncertainty.N_BOOT) -> pd.DataFrame:
    """The chain's KD students (``{seed: MLPPolicy}``) with top-K re-check on the labelled
    chain ``test`` set: normalised latency with its interval and per-request time, beside
    the exact dynamic program's per-request time (:class:`kdoffload.lean.LeanDynamicProgramming`).

    Per request, the student is the lean numpy network and the K candidates are costed with
    the chain's exact cost tensors (:class:`LeanChainTopK`).
    """
    from ..lean import LeanDynamicProgramming
    from ..system import latency as chain_latency
    from ..topk import TopKRecheck

    seeds = sorted(students)
    req, labels = test.requirements, test.labels
    optimal = chain_latency(req, labels)
    count = min(check_count("timing_count", timing_count), len(test))
    singles = [req.take([i]) for i in range(count)]
    lat = {f"top{k}": np.stack([chain_latency(req, TopKRecheck(students[seed], k).decide(req)) for seed in seeds])
           for k in ks}
    intervals = uncertainty.bootstrap_interval(lat, optimal, "normalized_latency", n_boot)
    seconds = decision_times({"dp": LeanDynamicProgramming(),
                              **{k: LeanChainTopK(students[seeds[0]], k) for k in ks}}, singles)
    rows = [{"K": k, **intervals[f"top{k}"], "seconds": seconds[k], "dp_seconds": seconds["dp"]} for k in ks]
    frame = pd.DataFrame(rows)
    frame["cost_vs_dp"] = frame["seconds"] / frame["dp_seconds"]
    return frame
