"""Inference delay of offloading policies (the paper's Table 1, ambiguities.md 14).

The paper times "100,000 decisions ... divided by 100,000" and normalises to Greedy, but
says neither whether the decisions were batched nor on what hardware. This module
measures both regimes through the one policy interface (``policy.decide(req)``):

batched
    ``batched_decisions`` (default 100,000) decisions, handed to ``decide`` in batches of
    ``batch_size`` (default 10,000) requirements; figure = total time / decisions.
online
    One request at a time: ``online_decisions`` (default 10,000) sequential calls of
    ``decide`` on a :class:`~kdoffload.system.Requirements` holding a single request;
    figure = total time / calls.

What every figure includes and excludes
---------------------------------------
* The inputs are the same for every policy: one :class:`Requirements` batch ``req``;
  the batches are ``req.take(slice)`` and the single requests ``req.take(i)``, all built
  once, *before* any timing, and reused by every policy. Building (and validating) a
  ``Requirements`` is therefore never timed; everything ``decide`` does is: the cost
  tensors of the solvers, the feature preparation (``kdoffload.features`` and any input
  transform) and the tensor conversions of the learned policies, the forward passes, the
  argmax and the conversion of the result to an int64 numpy array.
* A policy timed on fewer decisions than the default (the slow ones, e.g. the integer
  program) sees a prefix of the same inputs, and the count is reported.
* Warm-up: before timing, ``decide`` is called on the first ``warmup_batches`` batches
  (batched) or the first ``warmup_calls`` requests (online); these calls are not timed.
* Each repeat times the whole pass with ``time.perf_counter`` (no per-call timer
  overhead); the cyclic garbage collector is disabled during a pass (as ``timeit``
  does; memory is still freed by reference counting).
* Passes are interleaved by default: after every policy's warm-up, each round times one
  pass of every (regime, policy), so load from other processes on a shared machine
  falls on all policies alike rather than on whichever ran at the time. The
  figure reported is the median over ``repeats`` (>= 5) passes; every pass is kept.
* Threads: torch and the BLAS under numpy are limited to ``threads`` (default 1) while
  measuring, and :func:`machine_info` records the CPU, the thread counts, the load
  average and the library versions.

Typical use (what the book's chapter 6 calls)::

    import kdoffload as kd
    from kdoffload import delay, paper, report
    teacher = kd.train_teacher(seed=0, profile=profile)
    models = {"dil": teacher, "kd_dil": kd.train_student_kd(teacher, seed=0, profile=profile),
              "baseline_dil": kd.train_baseline_dil(seed=0, profile=profile),
              "drl": kd.train_dqn("narrow", seed=0, profile=profile)}
    test = kd.train.datasets(profile, 0)["test"].requirements
    run = delay.run_table1(models, test, "kd_dil_student.kdlean")   # 100,000 batched, 10,000 online
    run.frame()                      # µs per decision, ratio to Greedy, the paper's ratio beside it
    run.lean                         # file_bytes, parameters, disagreements on the test set, ...
    run.report.machine_line          # "AMD EPYC, 2 cores / 2 logical CPUs ...; threads: torch 1, BLAS 1; ..."
    report.record(profile, run.results())   # "table1" (the results schema) and "table1_details"

:func:`measure` times any dict of policies on the same inputs; :func:`table1_frame` turns
a stored ``table1`` back into a frame.
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version as package_version

import numpy as np
import pandas as pd
from tqdm import tqdm

from .system import Requirements, check_count

REGIMES = ("batched", "online")

#: Row order of the table (the paper's Table 1 lists Optimal, Greedy, DRL, DIL, KD-DIL).
POLICY_ORDER = (
    "optimal_exhaustive", "optimal_dp", "optimal_dp_lean", "optimal_ilp", "greedy", "drl", "dil", "kd_dil",
    "baseline_dil", "kd_dil_lean",
)

MIN_REPEATS = 5


# --------------------------------------------------------------------------- machine


def _cpuinfo() -> dict[str, str | int]:
    """CPU model, logical CPUs and physical cores from /proc/cpuinfo (Linux), else platform."""
    info: dict[str, str | int] = {"model": platform.processor() or platform.machine(),
                                  "logical_cpus": os.cpu_count() or 0}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            blocks = [block for block in handle.read().split("\n\n") if block.strip()]
    except OSError:
        return info
    processors = []
    for block in blocks:
        fields = {}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        processors.append(fields)
    if processors:
        info["model"] = processors[0].get("model name", info["model"])
        info["logical_cpus"] = len(processors)
        info["physical_cores"] = len({(p.get("physical id", "0"), p.get("core id", str(i)))
                                      for i, p in enumerate(processors)})
    return info


def _version(name: str) -> str:
    try:
        return package_version(name)
    except PackageNotFoundError:
        return "not installed"


def blas_threads() -> int | None:
    """Threads of the BLAS under numpy (None if threadpoolctl is unavailable)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return None
    counts = [entry["num_threads"] for entry in threadpool_info() if entry.get("user_api") == "blas"]
    return max(counts) if counts else None


def machine_info() -> dict:
    """The machine as a dict: CPU model, cores, logical CPUs, threads in use, load, versions."""
    import torch

    cpu = _cpuinfo()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        affinity = os.cpu_count()
    return {
        "cpu": cpu.get("model"),
        "logical_cpus": cpu.get("logical_cpus", os.cpu_count()),
        "physical_cores": cpu.get("physical_cores"),
        "cpus_available": affinity,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "blas_threads": blas_threads(),
        "load_average_1min": round(load[0], 2),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "pulp": _version("pulp"),
        "kdoffload": _version("kdoffload"),
    }


def describe_machine(info: dict) -> str:
    """One line describing ``info`` (from :func:`machine_info`)."""
    return (
        f"{info['cpu']}, {info['physical_cores']} cores / {info['logical_cpus']} logical CPUs "
        f"({info['cpus_available']} available); threads: torch {info['torch_threads']}, "
        f"BLAS {info['blas_threads']}; load average (1 min) {info['load_average_1min']}; "
        f"{info['platform']}; Python {info['python']}, numpy {info['numpy']}, torch {info['torch']}, "
        f"PuLP {info['pulp']}, kdoffload {info['kdoffload']}"
    )


@contextlib.contextmanager
def limited_threads(threads: int | None = 1):
    """Limit torch and the BLAS under numpy to ``threads`` inside the block (None: leave as is)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    from .train import torch_threads

    threads = check_count("threads", threads)
    with torch_threads(threads), threadpool_limits(limits=threads):
        yield


# --------------------------------------------------------------------------- inputs


@dataclass
class DelayInputs:
    """The inputs every policy is timed on, built once before any timing.

    ``batches[k]`` is ``req.take(slice(k * batch_size, (k + 1) * batch_size))`` and
    ``requests[i]`` is ``req.take(i)`` (a ``Requirements`` with n = 1).
    """

    req: Requirements
    batch_size: int
    batched_decisions: int
    online_decisions: int
    batches: list[Requirements] = field(init=False, repr=False)
    requests: list[Requirements] = field(init=False, repr=False)
    _prefix_batches: dict = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self):
        self.batch_size = check_count("batch_size", self.batch_size)
        self.batched_decisions = check_count("batched_decisions", self.batched_decisions)
        self.online_decisions = check_count("online_decisions", self.online_decisions)
        needed = max(self.batched_decisions, self.online_decisions)
        if self.req.n < needed:
            raise ValueError(f"req holds {self.req.n} requirements but {needed} decisions were requested")
        self.batches = [
            self.req.take(slice(start, min(start + self.batch_size, self.batched_decisions)))
            for start in range(0, self.batched_decisions, self.batch_size)
        ]
        self.requests = [self.req.take(i) for i in range(self.online_decisions)]

    def batched(self, decisions: int) -> list[Requirements]:
        """Batches covering the first ``decisions`` requirements (a prefix of the same inputs)."""
        decisions = check_count("decisions", decisions)
        if decisions > self.batched_decisions:
            raise ValueError(f"at most {self.batched_decisions} batched decisions were prepared, got {decisions}")
        if decisions == self.batched_decisions:
            return self.batches
        if decisions not in self._prefix_batches:  # built once, outside any timing
            self._prefix_batches[decisions] = [
                self.req.take(slice(start, min(start + self.batch_size, decisions)))
                for start in range(0, decisions, self.batch_size)
            ]
        return self._prefix_batches[decisions]

    def online(self, decisions: int) -> list[Requirements]:
        """The first ``decisions`` single-request inputs."""
        decisions = check_count("decisions", decisions)
        if decisions > self.online_decisions:
            raise ValueError(f"at most {self.online_decisions} online decisions were prepared, got {decisions}")
        return self.requests[:decisions]


# --------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing:
    """Wall-clock times of ``repeats`` passes of one policy over the same inputs."""

    policy: str
    regime: str
    decisions: int
    calls: int
    batch_size: int
    warmup_calls: int
    seconds: tuple[float, ...]

    @property
    def repeats(self) -> int:
        return len(self.seconds)

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def us_per_decision(self) -> float:
        """Median pass time / decisions, in microseconds."""
        return self.median_seconds / self.decisions * 1e6

    @property
    def us_per_decision_min(self) -> float:
        return min(self.seconds) / self.decisions * 1e6

    @property
    def us_per_decision_max(self) -> float:
        return max(self.seconds) / self.decisions * 1e6

    def as_dict(self) -> dict:
        return {
            "policy": self.policy, "regime": self.regime, "decisions": self.decisions, "calls": self.calls,
            "batch_size": self.batch_size, "warmup_calls": self.warmup_calls, "repeats": self.repeats,
            "us_per_decision": self.us_per_decision, "us_per_decision_min": self.us_per_decision_min,
            "us_per_decision_max": self.us_per_decision_max, "seconds": list(self.seconds),
        }


def _check_output(name: str, outputs: list, inputs: list[Requirements]) -> None:
    for out, req in zip(outputs, inputs):
        shape = getattr(out, "shape", None)
        if shape != (req.n, req.num_subtasks):
            raise ValueError(
                f"policy {name!r} returned shape {shape} for a batch of {req.n} requirements; "
                f"expected {(req.n, req.num_subtasks)}"
            )


def _check_warmup(warmup_calls) -> int:
    if isinstance(warmup_calls, bool) or not isinstance(warmup_calls, (int, np.integer)) or warmup_calls < 0:
        raise ValueError(f"warmup_calls must be an integer >= 0, got {warmup_calls!r}")
    return int(warmup_calls)


class _Job:
    """The passes of one policy over one list of inputs (one row of the table)."""

    def __init__(self, policy, inputs: list[Requirements], regime: str, name: str | None, warmup_calls: int):
        if not inputs:
            raise ValueError("inputs must hold at least one Requirements")
        self.name = name or getattr(policy, "name", type(policy).__name__)
        self.decide = policy.decide
        self.inputs = inputs
        self.regime = regime
        self.warmup_calls = _check_warmup(warmup_calls)
        self.seconds: list[float] = []
        self.outputs: list | None = None

    def warm(self) -> None:
        """The untimed warm-up calls: the first ``warmup_calls`` inputs (cycled if fewer)."""
        for i in range(self.warmup_calls):
            self.decide(self.inputs[i % len(self.inputs)])

    def run_pass(self) -> None:
        """One timed pass over all inputs, the cyclic garbage collector off."""
        decide, inputs = self.decide, self.inputs
        self.outputs = None  # the previous pass's decisions are freed (by reference counting) untimed
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            outputs = [decide(req) for req in inputs]
            self.seconds.append(time.perf_counter() - start)
        finally:
            if gc_was_enabled:
                gc.enable()
        self.outputs = outputs

    def timing(self) -> Timing:
        _check_output(self.name, self.outputs, self.inputs)
        return Timing(
            policy=self.name, regime=self.regime, decisions=sum(req.n for req in self.inputs),
            calls=len(self.inputs), batch_size=max(req.n for req in self.inputs),
            warmup_calls=self.warmup_calls, seconds=tuple(self.seconds),
        )

    def decisions(self) -> np.ndarray:
        return np.concatenate([np.asarray(out) for out in self.outputs], axis=0).astype(np.int64)


def _check_repeats(repeats) -> int:
    repeats = check_count("repeats", repeats)
    if repeats < MIN_REPEATS:
        raise ValueError(f"repeats must be >= {MIN_REPEATS} (the median of at least five passes), got {repeats}")
    return repeats


def time_calls(policy, inputs: list[Requirements], *, regime: str, repeats: int = MIN_REPEATS,
               warmup_calls: int = 1, name: str | None = None, keep_decisions: bool = False):
    """Time ``repeats`` passes of ``policy.decide`` over ``inputs`` (a list of Requirements).

    Returns a :class:`Timing`; with ``keep_decisions=True`` also the decisions of the
    last pass, concatenated (n_total, |A|). Warm-up: ``decide`` on the first
    ``warmup_calls`` inputs (cycled if fewer), untimed.
    """
    repeats = _check_repeats(repeats)
    job = _Job(policy, inputs, regime, name, warmup_calls)
    job.warm()
    gc.collect()
    for _ in range(repeats):
        job.run_pass()
    timing = job.timing()
    if keep_decisions:
        return timing, job.decisions()
    return timing


# --------------------------------------------------------------------------- report


@dataclass
class DelayReport:
    """All timings of one :func:`measure` run plus the machine they ran on."""

    timings: list[Timing]
    machine: dict
    settings: dict
    reference: str = "greedy"

    @property
    def machine_line(self) -> str:
        return describe_machine(self.machine)

    def timing(self, policy: str, regime: str) -> Timing:
        for timing in self.timings:
            if timing.policy == policy and timing.regime == regime:
                return timing
        raise KeyError(f"no timing for policy {policy!r} in regime {regime!r}")

    def _order(self, names) -> list[str]:
        known = [name for name in POLICY_ORDER if name in names]
        return known + sorted(name for name in names if name not in POLICY_ORDER)

    def table1(self) -> dict:
        """``{"batched": {policy: {"us_per_decision": x, "vs_greedy": y}}, "online": {...}}``.

        ``vs_greedy`` is the policy's median µs per decision over Greedy's in the same
        regime (NaN if Greedy was not measured in that regime).
        """
        table = {}
        for regime in REGIMES:
            rows = {t.policy: t for t in self.timings if t.regime == regime}
            if not rows:
                continue
            reference = rows.get(self.reference)
            table[regime] = {
                name: {
                    "us_per_decision": float(rows[name].us_per_decision),
                    "vs_greedy": float(rows[name].us_per_decision / reference.us_per_decision)
                    if reference else float("nan"),
                }
                for name in self._order(rows)
            }
        return table

    def frame(self, paper: dict | None = None) -> pd.DataFrame:
        """One row per (regime, policy): counts, median/min/max µs per decision, ratio to Greedy.

        ``paper`` (policy -> the paper's Table 1 ratio, e.g. {"greedy": 1.0, "dil": 0.51,
        "kd_dil": 0.17}) adds a ``paper_vs_greedy`` column.
        """
        table = self.table1()
        rows = []
        for regime, entries in table.items():
            for name, entry in entries.items():
                timing = self.timing(name, regime)
                row = {
                    "regime": regime, "policy": name, "decisions": timing.decisions, "calls": timing.calls,
                    "batch_size": timing.batch_size, "warmup_calls": timing.warmup_calls,
                    "repeats": timing.repeats, "us_per_decision": entry["us_per_decision"],
                    "us_min": timing.us_per_decision_min, "us_max": timing.us_per_decision_max,
                    "vs_greedy": entry["vs_greedy"],
                }
                if paper is not None:
                    row["paper_vs_greedy"] = paper.get(name, float("nan"))
                rows.append(row)
        return pd.DataFrame(rows).set_index(["regime", "policy"])

    def to_dict(self) -> dict:
        """Everything, JSON-ready: ``table1``, every timing, the machine and the settings."""
        return {
            "table1": self.table1(), "timings": [t.as_dict() for t in self.timings],
            "machine": self.machine, "machine_line": self.machine_line, "settings": self.settings,
        }


def _default_counts(name: str, regime: str, inputs: DelayInputs, counts: dict) -> int:
    value = counts.get(name, {}).get(regime) if isinstance(counts.get(name), dict) else counts.get(name)
    if value is None:
        return inputs.batched_decisions if regime == "batched" else inputs.online_decisions
    return check_count(f"counts[{name!r}][{regime!r}]", value)


def measure(policies, req: Requirements, *, regimes=REGIMES, batched_decisions: int = 100_000,
            batch_size: int = 10_000, online_decisions: int = 10_000, counts: dict | None = None,
            repeats: int = MIN_REPEATS, warmup_batches: int = 1, warmup_calls: int = 100,
            threads: int | None = 1, interleave: bool = True, progress: bool | None = None,
            inputs: DelayInputs | None = None) -> DelayReport:
    """Time every policy in every regime on the same inputs.

    Parameters
    ----------
    policies : dict name -> policy, or an iterable of policies (keyed by ``policy.name``)
        Anything with ``decide(req) -> (n, |A|)``. Include ``"greedy"``: ratios are to it.
    req : Requirements
        The inputs; at least ``max(batched_decisions, online_decisions)`` requirements.
    regimes : subset of ("batched", "online")
    batched_decisions, batch_size : int
        Batched regime: the first ``batched_decisions`` requirements in batches of ``batch_size``.
    online_decisions : int
        Online regime: that many sequential single-request calls.
    counts : dict, optional
        Smaller counts for slow policies, ``{name: {"batched": k, "online": m}}`` (or
        ``{name: k}`` for both); they see a prefix of the same inputs.
    repeats : int
        Timed passes (>= 5); the median is reported.
    warmup_batches, warmup_calls : int
        Untimed calls before the timed passes: batches (batched) and requests (online).
    threads : int or None
        Threads for torch and the BLAS during the measurement (None: leave as is).
    interleave : bool
        True (default): warm every policy up, then time round after round, one pass of
        every (regime, policy) per round, so that load from other processes is spread
        over all policies. False: all passes of one policy, then the next.
    inputs : DelayInputs, optional
        Prepared inputs to reuse across calls (then ``req`` and the sizes are ignored).
    """
    from .data import progress_enabled

    if isinstance(policies, dict):
        named = dict(policies)
    else:
        named = {policy.name: policy for policy in policies}
    for regime in regimes:
        if regime not in REGIMES:
            raise ValueError(f"unknown regime {regime!r}; choose from {list(REGIMES)}")
    counts = counts or {}
    if inputs is None:
        inputs = DelayInputs(req, batch_size, batched_decisions if "batched" in regimes else 1,
                             online_decisions if "online" in regimes else 1)
    repeats = _check_repeats(repeats)
    jobs = []
    for regime in regimes:
        for name, policy in named.items():
            count = _default_counts(name, regime, inputs, counts)
            if regime == "batched":
                jobs.append(_Job(policy, inputs.batched(count), regime, name, warmup_batches))
            else:
                jobs.append(_Job(policy, inputs.online(count), regime, name, warmup_calls))
    # interleaved: every round times one pass of each job, so a burst of load from other
    # processes spreads over all policies instead of landing on one
    schedule = [(r, job) for r in range(repeats) for job in jobs] if interleave else \
        [(r, job) for job in jobs for r in range(repeats)]
    with limited_threads(threads):
        machine = machine_info()
        if interleave:
            for job in jobs:
                job.warm()
        gc.collect()  # once: a full collection costs ~0.2 s with torch loaded
        for r, job in tqdm(schedule, desc="delay", unit="pass", disable=not progress_enabled(progress)):
            if not interleave and r == 0:
                job.warm()
            job.run_pass()
        machine["load_average_1min_end"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    timings = [job.timing() for job in jobs]
    settings = {
        "regimes": list(regimes), "batched_decisions": inputs.batched_decisions, "batch_size": inputs.batch_size,
        "online_decisions": inputs.online_decisions, "repeats": repeats, "warmup_batches": warmup_batches,
        "warmup_calls": warmup_calls, "threads": threads, "counts": counts,
        "online_request": "a Requirements with n = 1 (req.take(i)), built before timing and shared by all policies",
        "gc": "collected once before the timed passes, disabled during each pass",
        "interleave": interleave,
        "statistic": "median over repeats of (pass time / decisions)",
    }
    return DelayReport(timings=timings, machine=machine, settings=settings)


# --------------------------------------------------------------------------- Table 1


#: Stated smaller counts for the slowest policies: the integer program starts the CBC
#: solver once per call (online) or per model of 1,000 instances (batched), about
#: 1.5 ms per decision batched and 7 ms per call online on the development machine.
SLOW_COUNTS = {"optimal_ilp": {"batched": 2_000, "online": 200}}

#: Seed of the wide-preset sample every policy is timed on.
INPUT_SEED = 2020


def table1_policies(models: dict | None = None, lean_model=None) -> dict:
    """The policies of Table 1, keyed as in the results file.

    Always the three exact solvers (``optimal_exhaustive``, ``optimal_dp``,
    ``optimal_ilp``), ``greedy`` and ``optimal_dp_lean`` (the exact dynamic program
    with the per-request treatment the lean student gets,
    :class:`kdoffload.lean.LeanDynamicProgramming`); then each learned policy given in
    ``models`` (keys among ``dil``, ``kd_dil``, ``baseline_dil``, ``drl``) and the lean
    student as ``kd_dil_lean``.
    """
    from .lean import LeanDynamicProgramming
    from .solvers import DynamicProgramming, ExhaustiveSearch, Greedy, IntegerProgram

    policies = {
        "optimal_exhaustive": ExhaustiveSearch(), "optimal_dp": DynamicProgramming(),
        "optimal_dp_lean": LeanDynamicProgramming(), "optimal_ilp": IntegerProgram(), "greedy": Greedy(),
    }
    for name, model in (models or {}).items():
        if not hasattr(model, "decide"):
            raise ValueError(f"models[{name!r}] has no decide(req) method")
        policies[name] = model
    if lean_model is not None:
        policies["kd_dil_lean"] = lean_model
    return policies


def check_lean(model, lean_model, req: Requirements, batch_size: int = 10_000) -> dict:
    """Compare the decisions of the torch ``model`` and of ``lean_model`` on ``req``.

    Both decide the whole of ``req`` batch by batch; also 1,000 requests spread over
    ``req`` one at a time (the online path of the lean model). Returns the counts of
    differing decisions (a decision is a whole row of |A| locations) and how many
    distinct decisions the torch model makes (a constant model would agree trivially).
    """
    reference = np.concatenate([model.decide(req.take(slice(s, s + batch_size)))
                                for s in range(0, req.n, batch_size)])
    batched = np.concatenate([lean_model.decide(req.take(slice(s, s + batch_size)))
                              for s in range(0, req.n, batch_size)])
    singles = np.unique(np.linspace(0, req.n - 1, min(1000, req.n)).astype(int))
    online = np.concatenate([lean_model.decide(req.take(int(i))) for i in singles])
    batched_diff = int((batched != reference).any(axis=1).sum())
    online_diff = int((online != reference[singles]).any(axis=1).sum())
    return {
        "test_decisions": int(req.n), "distinct_decisions": int(len(np.unique(reference, axis=0))),
        "disagreements": batched_diff,
        "online_checked": int(len(singles)), "online_disagreements": online_diff,
        "identical": batched_diff == 0 and online_diff == 0,
    }


@dataclass
class Table1Run:
    """What :func:`run_table1` measured: the timings and the lean student's checks."""

    report: DelayReport
    lean: dict

    def table1(self) -> dict:
        """The results file's ``table1`` (see :meth:`DelayReport.table1`)."""
        return self.report.table1()

    def frame(self) -> pd.DataFrame:
        """The table, with the paper's Table 1 ratios beside ours (``paper_vs_greedy``)."""
        from .paper import TABLE1

        return self.report.frame(paper=TABLE1)

    def results(self) -> dict:
        """``{"table1": ..., "table1_details": {...}}``, ready for ``kdoffload.report.record``."""
        details = self.report.to_dict()
        details.pop("table1")
        return {"table1": self.table1(), "table1_details": {**details, "lean": self.lean}}


def run_table1(models: dict, test_req: Requirements, lean_path, *, req: Requirements | None = None,
               input_seed: int = INPUT_SEED, batched_decisions: int = 100_000, batch_size: int = 10_000,
               online_decisions: int = 10_000, counts: dict | None = None, repeats: int = MIN_REPEATS,
               warmup_batches: int = 1, warmup_calls: int = 100, threads: int | None = 1,
               progress: bool | None = None) -> Table1Run:
    """Export the lean student, check it against the torch student, and time every policy.

    Parameters
    ----------
    models : dict
        The learned policies by key: ``dil`` (teacher), ``kd_dil`` (distilled student,
        also exported to ``lean_path``), ``baseline_dil``, ``drl``; any may be missing
        (``kd_dil`` is needed for the lean path).
    test_req : Requirements
        The test set on which the lean and torch students must make the same decisions.
    lean_path : path
        Where the lean student's weight file is written.
    req : Requirements, optional
        The timing inputs (default: ``kd.sample(max(batched, online), "wide", seed=input_seed)``).
    counts : dict, optional
        Smaller counts per policy (default :data:`SLOW_COUNTS`).
    Other parameters as in :func:`measure`.
    """
    from .lean import export_lean, load_lean
    from .system import sample

    lean_info: dict = {}
    lean_model = None
    if "kd_dil" in models:
        file_bytes = export_lean(models["kd_dil"], lean_path, name="kd_dil_lean")
        lean_model = load_lean(lean_path)
        with limited_threads(threads):
            lean_info = {"path": str(lean_path), "file_bytes": int(file_bytes),
                         "parameters": int(lean_model.num_parameters),
                         **check_lean(models["kd_dil"], lean_model, test_req, batch_size)}
    if req is None:
        req = sample(max(batched_decisions, online_decisions), "wide", seed=input_seed)
        described = f"kd.sample({req.n}, 'wide', seed={input_seed})"
    else:
        described = f"caller-supplied Requirements, n = {req.n}"
    policies = table1_policies(models, lean_model)
    report = measure(policies, req, batched_decisions=batched_decisions, batch_size=batch_size,
                     online_decisions=online_decisions, counts=SLOW_COUNTS if counts is None else counts,
                     repeats=repeats, warmup_batches=warmup_batches, warmup_calls=warmup_calls,
                     threads=threads, progress=progress)
    report.settings["input"] = described
    return Table1Run(report=report, lean=lean_info)


def table1_frame(table1: dict, paper: dict | None = None) -> pd.DataFrame:
    """A results file's ``table1`` dict as a frame (regime, policy) -> µs, ratio, paper ratio."""
    rows = [{"regime": regime, "policy": name, **entry}
            for regime, entries in table1.items() for name, entry in entries.items()]
    frame = pd.DataFrame(rows).set_index(["regime", "policy"])
    if paper is not None:
        frame["paper_vs_greedy"] = [paper.get(name, float("nan")) for _, name in frame.index]
    return frame
