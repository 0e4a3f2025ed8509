"""Per-request ("lean") forms of every policy of Table 1, what each decision costs, and the check.

The delay table (:mod:`kdoffload.timing`) times every policy in two forms: the
*vectorised* one (numpy over a batch, or torch; the classes of :mod:`kdoffload.solvers`,
:mod:`kdoffload.nets`, :mod:`kdoffload.drl`) and the *lean* one, the leanest honest code
for one requirement, given here. Each lean form is a policy (``name``, ``decide(req)``)
that decides a batch too (row by row, or with numpy for the networks), and each must make
the same decisions as its vectorised reference (:func:`check_forms`).

================  ==========================================  ============================
policy            lean form                                   reference (vectorised)
================  ==========================================  ============================
Optimal           :class:`kdoffload.lean.LeanDynamicProgramming`  ``DynamicProgramming``
Greedy            :class:`LeanGreedy` (Python floats; numpy   ``Greedy``
                  without cost tensors for a batch)
Local/Edge/Cloud  :class:`LeanFixedLocation` (a stored row)   ``FixedLocation``
Random            :class:`LeanRandom` (one draw per request)  ``RandomPolicy``
DIL, KD-DIL,      :class:`kdoffload.lean.LeanMLP` (numpy,     ``MLPPolicy`` (torch)
Baseline DIL      one matrix-vector product per layer)
DRL               :class:`LeanQNetwork` (numpy trunk and      ``QNetwork`` (torch)
                  advantage head, argmax over 3^|A| actions)
================  ==========================================  ============================

Every per-request form returns a new (1, |A|) int64 array, the copy of a row of a table of
all 3^|A| decisions (:func:`kdoffload.lean.decision_rows`).

Same decisions
--------------
:func:`check_form` compares a lean form with its reference on every requirement of a set
(>= 10,000 in :func:`kdoffload.timing.run_table1`): the reference decides in batches, the
lean form one request at a time (its online path) and in batches; a decision is a whole
row of |A| locations. :func:`check_forms` raises :class:`LeanMismatchError` naming every
lean form that disagrees and on how many requirements.

Random is checked by distribution, not by equality: the reference draws
``default_rng(seed).integers(0, 3, (n, |A|))`` afresh in every call (a pure function of
the seed and the batch size, so one request at a time it would repeat one decision
forever), whereas :class:`LeanRandom` keeps one ``random.Random(seed)`` and draws one
decision code, uniform on ``[0, 3^|A|)``, per request: each subtask's location is
independent and uniform on {0, 1, 2}, the reference's distribution. :func:`check_random`
tests that (chi-square homogeneity of the lean and reference decisions, jointly over the
3^|A| decisions and per subtask) and that the lean form is seeded: a batch equals the same
number of single requests from a generator with the same seed.

Operations per decision
-----------------------
:func:`operations` counts the arithmetic of one decision as each implementation performs
it (float32 FLOPs for the networks, float64 operations for the solvers; see its docstring).
"""

from __future__ import annotations

import copy
import random

import numpy as np

from .lean import (LeanDynamicProgramming, LeanMLP, decide_each, decision_rows, lean_mlp, mlp_operations,
                   network_arrays)
from .system import NUM_LOCATIONS, Requirements, check_count

__all__ = [
    "LeanGreedy", "LeanFixedLocation", "LeanRandom", "LeanQNetwork", "LeanMismatchError", "lean_form",
    "operations", "check_form", "check_random", "check_forms",
]


# --------------------------------------------------------------------------- heuristics


class LeanGreedy:
    """Greedy (:class:`kdoffload.solvers.Greedy`, latency) written for speed.

    Subtask by subtask, the location minimising its computation plus the transfer from
    the previous location, ties to the lower index; the same float64 operations as the
    vectorised form (a transfer of a zero hop, staying put, is left out: ``x + d * 0.0 ==
    x``), so the same decisions. Costs are finite for positive bandwidths.

    One request (and batches of fewer than ``BATCH_FROM``) runs in Python floats; a batch
    runs in numpy without the cost tensors (three products D/b per subtask instead of
    nine, the previous location carried as two boolean masks), the same care the lean
    student's batch path gets (:meth:`kdoffload.lean.LeanMLP.decide`).
    """

    name = "greedy_lean"
    BATCH_FROM = 16

    def __init__(self, name: str | None = None):
        if name:
            self.name = name

    def decide(self, req: Requirements) -> np.ndarray:
        if req.n >= self.BATCH_FROM:
            return self._batch(req)
        return decide_each(self._one, req)

    @staticmethod
    def _batch(req: Requirements) -> np.ndarray:
        n, num = req.E.shape
        h1 = 1.0 / req.b1
        h2 = 1.0 / req.b2
        h12 = h1 + h2
        data = req.D[:, :num]
        dh1, dh2, dh12 = data * h1[:, None], data * h2[:, None], data * h12[:, None]
        device, edge = req.E / req.p1[:, None], req.E / req.p2[:, None]
        result = np.empty((n, num), dtype=np.int64)
        where, minimum = np.where, np.minimum
        at_device = at_edge = None
        for t in range(num):
            a, b, c = dh1[:, t], dh2[:, t], dh12[:, t]
            if t == 0:  # the input starts on the device
                c0, c1, c2 = device[:, 0], edge[:, 0] + a, c
            else:
                c0 = device[:, t] + where(at_device, 0.0, where(at_edge, a, c))
                c1 = edge[:, t] + where(at_edge, 0.0, where(at_device, a, b))
                c2 = where(at_device, c, where(at_edge, b, 0.0))
            to_edge = c1 < c0                    # ties to the lower location
            to_cloud = c2 < minimum(c0, c1)
            at_edge = to_edge & ~to_cloud
            at_device = ~(to_edge | to_cloud)
            result[:, t] = where(to_cloud, 2, to_edge)
        return result

    @staticmethod
    def _one(E, D, p1, p2, b1, b2) -> int:
        h1 = 1.0 / b1      # device <-> edge, seconds per byte
        h2 = 1.0 / b2      # edge <-> cloud
        h12 = h1 + h2      # device <-> cloud, relayed through the edge
        code = previous = 0
        for e, d in zip(E, D):  # D[t] moves from the previous location to subtask t's
            if previous == 0:
                c0, c1, c2 = e / p1, e / p2 + d * h1, d * h12
            elif previous == 1:
                c0, c1, c2 = e / p1 + d * h1, e / p2, d * h2
            else:
                c0, c1, c2 = e / p1 + d * h12, e / p2 + d * h2, 0.0
            if c0 <= c1:
                previous = 0 if c0 <= c2 else 2
            else:
                previous = 1 if c1 <= c2 else 2
            code = 3 * code + previous
        return code

    @staticmethod
    def operations(num_subtasks: int) -> dict:
        """Per subtask 2 divisions, 2 multiplications, at most 2 additions and 2 comparisons;
        3 operations for the hops (the per-request code). The batch path does 3 + 10 |A|:
        3 products and 2 divisions per subtask, 2 additions and 3 comparisons."""
        num = int(num_subtasks)
        return {"total": 3 + 8 * num, "setup": 3, "per_subtask": 8, "batch_path_total": 3 + 10 * num,
                "dtype": "float64",
                "counted": "float64 operations of the per-request code, at most 2 additions per subtask "
                           "(1 unless the previous subtask ran in the cloud); branches not counted"}


class LeanFixedLocation:
    """Every subtask at ``location`` (0 local, 1 edge, 2 cloud): a copy of a stored row."""

    def __init__(self, location: int, name: str | None = None):
        if location not in (0, 1, 2):
            raise ValueError(f"location must be 0, 1 or 2, got location = {location!r}")
        self.location = int(location)
        self.name = name or f"{('local', 'edge', 'cloud')[self.location]}_lean"
        self._rows: dict[int, np.ndarray] = {}

    def decide(self, req: Requirements) -> np.ndarray:
        row = self._rows.get(req.num_subtasks)
        if row is None:
            row = self._rows[req.num_subtasks] = np.full((1, req.num_subtasks), self.location, dtype=np.int64)
        if req.n == 1:
            return row.copy()
        return np.repeat(row, req.n, axis=0)

    @staticmethod
    def operations(num_subtasks: int) -> dict:
        return {"total": 0, "dtype": None, "counted": "no arithmetic: a constant decision"}


class LeanRandom:
    """Each subtask at a uniformly random location, one request at a time.

    One ``random.Random(seed)`` for the policy's lifetime; each request draws one code
    uniform on ``[0, 3^|A|)``, the index of the decision in lexicographic order, so the
    |A| locations are independent and uniform on {0, 1, 2}. A batch of n draws n codes in
    turn: the same decisions as n single requests from the same state. Unlike
    :class:`kdoffload.solvers.RandomPolicy`, successive calls give different decisions
    (see the module docstring for how it is checked).
    """

    name = "random_lean"

    def __init__(self, seed: int = 0, name: str | None = None):
        self.seed = seed
        self._rng = random.Random(seed)
        if name:
            self.name = name

    def decide(self, req: Requirements) -> np.ndarray:
        num = req.num_subtasks
        draw, count = self._rng.randrange, NUM_LOCATIONS ** num
        if req.n == 1:
            return decision_rows([draw(count)], num)
        return decision_rows([draw(count) for _ in range(req.n)], num)

    @staticmethod
    def operations(num_subtasks: int) -> dict:
        return {"total": 0, "draws": 1, "dtype": None,
                "counted": "no arithmetic; one random draw (Mersenne Twister bits, with rejection)"}


# --------------------------------------------------------------------------- the DQN


class LeanQNetwork(LeanMLP):
    """The DQN's decision in plain numpy: the input pipeline and trunk of
    :class:`kdoffload.drl.QNetwork`, its advantage head, and the argmax over the 3^|A|
    actions (first maximum on ties, as torch's).

    The dueling head's value stream and the mean of the advantages add the same number to
    every action of a requirement, so they cannot change which action scores highest; the
    lean form leaves them out and takes the argmax of the advantages. (In floating point,
    adding them could in principle merge two advantages that differ in the last bit;
    :func:`check_form` would count such a case as a disagreement.) Build it with
    :meth:`from_model`.
    """

    def __init__(self, header: dict, values: np.ndarray):
        super().__init__(header, values)
        self.num_actions = self.layer_shapes[-1][1]
        if self.num_actions != NUM_LOCATIONS ** self.num_subtasks:
            raise ValueError(f"the last layer gives {self.num_actions} outputs, but |A| = {self.num_subtasks} "
                             f"has {NUM_LOCATIONS ** self.num_subtasks} actions")

    @classmethod
    def from_model(cls, model, name: str | None = None) -> "LeanQNetwork":
        """The lean form of a :class:`kdoffload.drl.QNetwork` (weights copied as float32)."""
        from torch import nn

        scaler = model.scaler
        transform = str(scaler.transform)
        mean = scaler.mean.detach().cpu().numpy() if transform != "none" else None
        std = scaler.std.detach().cpu().numpy() if transform != "none" else None
        body = nn.Sequential(*model.trunk, model.advantage)
        header, arrays = network_arrays(body, int(model.num_subtasks), transform, mean, std,
                                        name=name or f"{model.name}_lean", outputs=False)
        values = np.concatenate([np.asarray(a, dtype=np.float32).reshape(-1) for a in arrays])
        return cls(header, values)

    def operations(self) -> dict:
        """Operations per decision (:func:`kdoffload.lean.mlp_operations`, one argmax over the actions)."""
        return mlp_operations(self.layer_shapes, self.num_subtasks, self.transform, head="actions")

    def decide_one(self, req: Requirements) -> np.ndarray:
        return decision_rows([int(self.logits_one(req).argmax())], self.num_subtasks)

    def decide(self, req: Requirements) -> np.ndarray:
        """Locations (n, |A|) int64: the action with the highest advantage for each requirement."""
        self.check_subtasks(req)
        if req.n == 1:
            return self.decide_one(req)
        best = self.logits(self.inputs(self.features(req))).argmax(axis=1)
        return decision_rows(best.tolist(), self.num_subtasks)

    def __repr__(self) -> str:
        shapes = " -> ".join([str(self.layer_shapes[0][0])] + [str(o) for _, o in self.layer_shapes])
        return f"LeanQNetwork(name={self.name!r}, layers {shapes}, {self.num_parameters} parameters)"


# --------------------------------------------------------------------------- lean form of a policy


def lean_form(policy, name: str | None = None):
    """The lean (per-request) form of ``policy``, named ``name`` (default: its name + "_lean").

    Greedy -> :class:`LeanGreedy`; FixedLocation -> :class:`LeanFixedLocation`;
    RandomPolicy -> :class:`LeanRandom` (same seed); an exact solver (dynamic program,
    exhaustive search, integer program) -> :class:`kdoffload.lean.LeanDynamicProgramming`;
    an MLP policy (or a Linear/ReLU ``Sequential``) -> :class:`kdoffload.lean.LeanMLP`;
    a QNetwork -> :class:`LeanQNetwork`. The solvers' lean forms minimise latency only:
    another objective raises a ``ValueError``, as does a policy with no lean form.
    """
    from .drl import QNetwork
    from .nets import MLPPolicy
    from .solvers import DynamicProgramming, ExhaustiveSearch, FixedLocation, Greedy, IntegerProgram, RandomPolicy

    base = getattr(policy, "name", None) or type(policy).__name__
    name = name or f"{base}_lean"
    if isinstance(policy, (Greedy, DynamicProgramming, ExhaustiveSearch, IntegerProgram)):
        if policy.objective != "latency":
            raise ValueError(f"the lean form of {base!r} minimises latency; the policy minimises {policy.objective!r}")
        if isinstance(policy, Greedy):
            return LeanGreedy(name=name)
        return LeanDynamicProgramming(output_return=policy.output_return, name=name)
    if isinstance(policy, FixedLocation):
        return LeanFixedLocation(policy.location, name=name)
    if isinstance(policy, RandomPolicy):
        return LeanRandom(policy.seed, name=name)
    if isinstance(policy, QNetwork):
        return LeanQNetwork.from_model(policy, name=name)
    if isinstance(policy, MLPPolicy):
        return lean_mlp(policy, name=name)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None
    if torch is not None and isinstance(policy, torch.nn.Sequential):
        return lean_mlp(policy, name=name)
    raise ValueError(f"no lean form for policy {base!r} ({type(policy).__name__})")


# --------------------------------------------------------------------------- operations


def _cost_tensor_operations(num: int) -> int:
    """Latency cost tensors: 1/b1, 1/b2 and their sum; 2 |A| computation divisions;
    9 (|A| + 1) transfer multiplications."""
    return 3 + 2 * num + 9 * (num + 1)


def operations(policy, num_subtasks: int = 6) -> dict | None:
    """Operations per decision of ``policy`` (a dict with ``total``, ``dtype`` -- the
    arithmetic's precision, None if there is none -- and how they were ``counted``), or
    None for the integer program (a simplex run has no fixed count). Networks count
    ``2 * in * out`` per Linear layer plus activations, the feature and input pipeline and
    the argmax comparisons (:func:`kdoffload.lean.mlp_operations`); solvers count float64
    additions, multiplications, divisions and comparisons (a min of three is two
    comparisons), not branches or index bookkeeping.

    Lean forms count their own code (their ``operations`` method). The vectorised forms:

    * Greedy: the cost tensors, then per subtask 3 additions and an argmin of 3 (2 comparisons);
    * dynamic program: the cost tensors; 3 additions for the last subtask; per earlier
      subtask and location 3 additions, a min of 3 and 1 addition; the threshold (3
      additions, 2 comparisons, 1 multiplication); per subtask of the forward pass both
      feasibility tests (4 additions, 2 comparisons) and 2 additions;
    * exhaustive search: the cost tensors, then for each of the 3^|A| decisions 2|A|
      additions and 2 comparisons (the minimum, the tie test), and 1 multiplication;
    * an MLP policy: as its lean form (same network, same pipeline);
    * a QNetwork: as its lean form, plus the value head (2 * width) and the dueling
      combination (a mean of the advantages and two operations per action).
    """
    from .drl import QNetwork
    from .nets import MLPPolicy
    from .solvers import DynamicProgramming, ExhaustiveSearch, FixedLocation, Greedy, IntegerProgram, RandomPolicy

    num = check_count("num_subtasks", num_subtasks)
    actions = NUM_LOCATIONS ** num
    if isinstance(policy, (LeanGreedy, LeanFixedLocation, LeanRandom)):
        return policy.operations(num)
    if isinstance(policy, LeanDynamicProgramming):
        return policy.operations(num)
    if isinstance(policy, LeanMLP):  # LeanQNetwork included
        return policy.operations()
    if isinstance(policy, Greedy):
        tensors = _cost_tensor_operations(num)
        return {"total": tensors + 5 * num, "cost_tensors": tensors, "per_subtask": 5, "dtype": "float64",
                "counted": "the latency cost tensors, then per subtask 3 additions and an argmin of 3"}
    if isinstance(policy, DynamicProgramming):
        tensors = _cost_tensor_operations(num)
        total = tensors + 3 + 18 * (num - 1) + 6 + 8 * num
        return {"total": total, "cost_tensors": tensors, "dtype": "float64",
                "counted": "the latency cost tensors, the backward recursion (6 per location and subtask), "
                           "the threshold, and both feasibility tests of the forward pass"}
    if isinstance(policy, ExhaustiveSearch):
        tensors = _cost_tensor_operations(num)
        return {"total": tensors + actions * (2 * num + 2) + 1, "cost_tensors": tensors, "decisions": actions,
                "dtype": "float64",
                "counted": "the latency cost tensors, then 2|A| additions and 2 comparisons per decision"}
    if isinstance(policy, IntegerProgram):
        return None
    if isinstance(policy, FixedLocation):
        return LeanFixedLocation.operations(num)
    if isinstance(policy, RandomPolicy):
        return {"total": 0, "draws": num, "dtype": None,
                "counted": "no arithmetic; a new generator per call and |A| random draws"}
    if isinstance(policy, QNetwork):
        form = lean_form(policy)
        ops, actions = form.operations(), form.num_actions  # the network's own |A|
        width = policy.advantage.in_features
        extra = 2 * width + actions + 2 * actions if policy.dueling else 0
        return dict(ops, total=ops["total"] + extra, flops=ops["flops"] + extra, dueling_head=extra,
                    counted=ops["counted"] + "; plus the value head and the dueling combination")
    if isinstance(policy, MLPPolicy):
        return lean_form(policy).operations()
    return None


# --------------------------------------------------------------------------- checks


class LeanMismatchError(ValueError):
    """A lean form that does not make its reference's decisions (see :func:`check_forms`)."""


def _in_batches(policy, req: Requirements, batch_size: int) -> np.ndarray:
    return np.concatenate([np.asarray(policy.decide(req.take(slice(s, s + batch_size))))
                           for s in range(0, req.n, batch_size)]).astype(np.int64)


def _singles(req: Requirements, singles) -> list[Requirements]:
    if singles is None:
        return [req.take(i) for i in range(req.n)]
    if len(singles) != req.n:
        raise ValueError(f"singles must hold the {req.n} requirements of req one by one, got {len(singles)}")
    return singles


def check_form(lean, reference, req: Requirements, *, batch_size: int = 10_000, singles=None,
               name: str | None = None, reference_name: str | None = None) -> dict:
    """Compare the decisions of the lean form ``lean`` with those of ``reference`` on ``req``.

    The reference decides in batches of ``batch_size``; the lean form decides every
    requirement one at a time (``singles``: ``req`` split into single requests, built once
    and shared by several checks) and in batches. Returns the counts of requirements whose
    decision (a whole row) differs, and how many distinct decisions the reference makes (a
    constant policy agrees trivially). Does not raise: see :func:`check_forms`.
    """
    singles = _singles(req, singles)
    expected = _in_batches(reference, req, batch_size)
    batched = _in_batches(lean, req, batch_size)
    one_by_one = np.concatenate([np.asarray(lean.decide(single)) for single in singles]).astype(np.int64)
    per_request = int((one_by_one != expected).any(axis=1).sum())
    in_batches = int((batched != expected).any(axis=1).sum())
    return {
        "policy": name or getattr(lean, "name", type(lean).__name__),
        "reference": reference_name or getattr(reference, "name", type(reference).__name__),
        "method": "equality", "checked": int(req.n),
        "distinct_decisions": int(len(np.unique(expected, axis=0))),
        "disagreements_per_request": per_request, "disagreements_batched": in_batches,
        "disagreements": max(per_request, in_batches), "identical": per_request == 0 and in_batches == 0,
    }


def check_random(lean, reference, req: Requirements, *, singles=None, alpha: float = 1e-3,
                 name: str | None = None, reference_name: str | None = None) -> dict:
    """Check a random lean form by distribution and by seeded equality (module docstring).

    The reference decides ``req`` in one call; a copy of ``lean`` (same state) decides it
    one request at a time, another copy in one batch. ``identical`` is True when the two
    lean passes give the same decisions (seeded equality) and no chi-square homogeneity
    test of lean against reference -- over the 3^|A| decisions (when every expected count
    is >= 5) and per subtask over the 3 locations -- has a p-value below ``alpha`` divided
    by the number of tests.
    """
    from scipy.stats import chi2_contingency

    singles = _singles(req, singles)
    expected = np.asarray(reference.decide(req)).astype(np.int64)
    one_by_one = np.concatenate([np.asarray(d) for d in map(copy.deepcopy(lean).decide, singles)]).astype(np.int64)
    batched = np.asarray(copy.deepcopy(lean).decide(req)).astype(np.int64)
    seeded = bool(np.array_equal(one_by_one, batched))
    num = req.num_subtasks
    places = NUM_LOCATIONS ** np.arange(num - 1, -1, -1)
    tables = [np.stack([np.bincount(d[:, t], minlength=NUM_LOCATIONS) for d in (one_by_one, expected)])
              for t in range(num)]
    if req.n >= 5 * NUM_LOCATIONS ** num:  # joint test only when the expected counts allow it
        tables.append(np.stack([np.bincount(d @ places, minlength=NUM_LOCATIONS ** num)
                                for d in (one_by_one, expected)]))
    p_values = [float(chi2_contingency(t[:, t.sum(axis=0) > 0])[1]) for t in tables]
    p_min = min(p_values)
    same_distribution = p_min >= alpha / len(p_values)
    return {
        "policy": name or getattr(lean, "name", type(lean).__name__),
        "reference": reference_name or getattr(reference, "name", type(reference).__name__),
        "method": "distribution", "checked": int(req.n), "tests": len(p_values), "p_value_min": p_min,
        "alpha": alpha, "seeded_equality": seeded, "same_distribution": bool(same_distribution),
        "disagreements": int((one_by_one != batched).any(axis=1).sum()),
        "identical": bool(seeded and same_distribution),
    }


def check_forms(forms: dict, req: Requirements, *, batch_size: int = 10_000, raise_on_mismatch: bool = True,
                singles=None) -> dict:
    """Check every lean form against its reference on ``req``; raise if any disagrees.

    ``forms`` maps a lean form's name to ``(reference_name, reference, lean)``. Random
    policies (:class:`LeanRandom`) are checked with :func:`check_random`, all others with
    :func:`check_form`. Returns ``{name: result}``; with ``raise_on_mismatch`` (default) a
    :class:`LeanMismatchError` names every lean form that disagrees with its reference and
    on how many of the requirements.
    """
    singles = _singles(req, singles)
    results = {}
    for name, (reference_name, reference, lean) in forms.items():
        if isinstance(lean, LeanRandom):
            results[name] = check_random(lean, reference, req, singles=singles, name=name,
                                         reference_name=reference_name)
        else:
            results[name] = check_form(lean, reference, req, batch_size=batch_size, singles=singles, name=name,
                                       reference_name=reference_name)
    failed = {name: r for name, r in results.items() if not r["identical"]}
    if failed and raise_on_mismatch:
        lines = []
        for name, r in failed.items():
            if r["method"] == "equality":
                lines.append(f"lean form {name!r} disagrees with {r['reference']!r} on "
                             f"{r['disagreements_per_request']:,} of {r['checked']:,} requirements one at a time "
                             f"and on {r['disagreements_batched']:,} in batches")
            else:
                lines.append(f"lean form {name!r} does not match {r['reference']!r} in distribution or seeding "
                             f"on {r['checked']:,} requirements (smallest p-value {r['p_value_min']:.2g}, "
                             f"seeded equality {r['seeded_equality']}, {r['disagreements']:,} batch/single "
                             f"disagreements)")
        raise LeanMismatchError("lean forms that do not make their reference's decisions:\n  " + "\n  ".join(lines))
    return results
