"""Inference delay of offloading policies (the paper's Table 1, Assumptions, point 14).

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

Two forms of every policy, one normaliser per regime
----------------------------------------------------
Every policy of Table 1 is timed in two forms (:data:`FORMS`): *vectorised* (numpy over
a batch, or torch; the classes of :mod:`kdoffload.solvers`, :mod:`kdoffload.nets`,
:mod:`kdoffload.drl`) and *lean* (``<key>_lean``, the per-request code of
:mod:`kdoffload.lean_policies`), each form in both regimes. Before anything is timed,
every lean form is checked against its reference on 10,000 requirements
(:func:`kdoffload.lean_policies.check_forms`; a disagreement raises, naming the form and
the count). Each regime is normalised by Greedy in its fastest form in that regime
(:meth:`DelayReport.normaliser`), so no policy is compared with an untuned Greedy.
Beside each time, the operations one decision takes
(:func:`kdoffload.lean_policies.operations`) and the time they would take at this CPU's
measured peak rate (:func:`peak_flops`, :func:`floor_us`: the physical floor);
:func:`paper_ratio_statement` says which of the paper's ratios are reachable.

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
    run.forms()                      # per key: form, operations, floor, both regimes side by side
    print(run.paper_statement())     # which of DIL 0.51 / KD-DIL 0.17 are reachable, against which Greedy
    run.lean                         # file_bytes, parameters, disagreements on the test set, ...
    run.checks                       # every lean form against its reference (10,000 requirements)
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

from .progress import bar
from .system import Requirements, check_count

REGIMES = ("batched", "online")

#: The two forms of every policy: ``vectorised`` (numpy over a batch, or torch) and
#: ``lean`` (the per-request code of :mod:`kdoffload.lean_policies`).
FORM_NAMES = ("vectorised", "lean")

#: Every timed key: (the Table 1 policy it implements, its form, the implementation).
FORMS = {
    "optimal_exhaustive": ("optimal", "vectorised", "exhaustive search over the 3^|A| decisions, numpy"),
    "optimal_dp": ("optimal", "vectorised", "dynamic program, numpy"),
    "optimal_dp_lean": ("optimal", "lean", "dynamic program, Python floats"),
    "optimal_ilp": ("optimal", "vectorised", "integer program, CBC"),
    "greedy": ("greedy", "vectorised", "numpy"),
    "greedy_lean": ("greedy", "lean", "Python floats; a batch in numpy without the cost tensors"),
    "drl": ("drl", "vectorised", "torch"),
    "drl_lean": ("drl", "lean", "numpy, argmax of the advantages"),
    "dil": ("dil", "vectorised", "torch"),
    "dil_lean": ("dil", "lean", "numpy"),
    "kd_dil": ("kd_dil", "vectorised", "torch"),
    "kd_dil_lean": ("kd_dil", "lean", "numpy, from the lean weight file"),
    "baseline_dil": ("baseline_dil", "vectorised", "torch"),
    "baseline_dil_lean": ("baseline_dil", "lean", "numpy"),
    "local": ("local", "vectorised", "numpy"),
    "local_lean": ("local", "lean", "a stored row"),
    "edge": ("edge", "vectorised", "numpy"),
    "edge_lean": ("edge", "lean", "a stored row"),
    "cloud": ("cloud", "vectorised", "numpy"),
    "cloud_lean": ("cloud", "lean", "a stored row"),
    "random": ("random", "vectorised", "a numpy Generator per call"),
    "random_lean": ("random", "lean", "one random.Random, one draw per request"),
}

#: Row order of the table (the paper's Table 1 lists Optimal, Greedy, DRL, DIL, KD-DIL):
#: each policy's vectorised form, then its lean form.
POLICY_ORDER = tuple(FORMS)

#: Display names of the timed keys (merge over :data:`kdoffload.plots.POLICY_LABELS`).
LABELS = {
    "optimal_exhaustive": "Optimal (exhaustive)", "optimal_dp": "Optimal (DP)",
    "optimal_dp_lean": "Optimal (DP, lean)", "optimal_ilp": "Optimal (ILP)",
    "greedy": "Greedy (vectorised)", "greedy_lean": "Greedy (lean)", "drl": "DRL (torch)",
    "drl_lean": "DRL (lean numpy)", "dil": "DIL (torch)", "dil_lean": "DIL (lean numpy)",
    "kd_dil": "KD-DIL (torch)", "kd_dil_lean": "KD-DIL (lean numpy)", "baseline_dil": "Baseline DIL (torch)",
    "baseline_dil_lean": "Baseline DIL (lean numpy)", "local": "Local", "local_lean": "Local (lean)",
    "edge": "Edge", "edge_lean": "Edge (lean)", "cloud": "Cloud", "cloud_lean": "Cloud (lean)",
    "random": "Random", "random_lean": "Random (lean)",
}

#: The forms of Greedy; each regime is normalised by the fastest of them in that regime.
GREEDY_FORMS = ("greedy", "greedy_lean")


def form_of(key: str) -> tuple[str, str, str]:
    """(policy, form, implementation) of a timed key (:data:`FORMS`; else read from a ``_lean`` suffix)."""
    if key in FORMS:
        return FORMS[key]
    if key.endswith("_lean"):
        return key[:-len("_lean")], "lean", ""
    return key, "vectorised", ""

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


def peak_flops(size: int = 1024, repeats: int = 10, threads: int | None = 1) -> dict:
    """This CPU's measured peak arithmetic rate: FLOP/s of a ``size`` x ``size`` matrix
    product (``2 size^3`` operations) in float64 and in float32, the fastest of ``repeats``
    products after one untimed, on ``threads`` BLAS threads (default 1, as the timings)."""
    size = check_count("size", size)
    repeats = check_count("repeats", repeats)
    rng = np.random.default_rng(0)
    result = {"size": size, "repeats": repeats, "threads": threads,
              "method": f"numpy.matmul of two {size}x{size} matrices, 2*size^3 FLOP, fastest of {repeats}"}
    with limited_threads(threads):
        for dtype in ("float64", "float32"):
            a = rng.standard_normal((size, size)).astype(dtype)
            b = rng.standard_normal((size, size)).astype(dtype)
            out = np.empty_like(a)
            np.matmul(a, b, out=out)
            best = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                np.matmul(a, b, out=out)
                best = min(best, time.perf_counter() - start)
            result[dtype] = 2.0 * size ** 3 / best
    return result


def combine_peaks(samples: list[dict]) -> dict:
    """The highest rate of several :func:`peak_flops` samples, per precision, with every sample
    kept: load from other processes only ever lowers a sample, so the maximum is the best
    estimate of what the CPU can do."""
    if not samples:
        return {}
    combined = dict(samples[0])
    for dtype in ("float64", "float32"):
        combined[f"{dtype}_samples"] = [sample[dtype] for sample in samples]
        combined[dtype] = max(combined[f"{dtype}_samples"])
    combined["samples"] = len(samples)
    combined["method"] = f"{samples[0]['method']}; the highest of {len(samples)} samples taken over the run"
    return combined


def floor_us(ops: dict | None, peak: dict | None) -> float:
    """Microseconds one decision of ``ops`` operations (:func:`kdoffload.lean_policies.operations`)
    takes at the peak rate of its precision (:func:`peak_flops`): 0 without arithmetic, NaN
    if not counted (the integer program) or without a peak."""
    if not ops or not peak:
        return float("nan")
    if not ops.get("total"):
        return 0.0
    rate = peak.get(ops.get("dtype") or "float64")
    return float(ops["total"]) / rate * 1e6 if rate else float("nan")


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
    reference: str | tuple[str, ...] = GREEDY_FORMS

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

    def normaliser(self, regime: str) -> str | None:
        """The reference of ``regime``: the fastest (median µs per decision) of the
        ``reference`` policies measured in it (Greedy's forms), or None."""
        names = (self.reference,) if isinstance(self.reference, str) else tuple(self.reference)
        rows = [t for t in self.timings if t.regime == regime and t.policy in names]
        return min(rows, key=lambda t: t.us_per_decision).policy if rows else None

    def table1(self) -> dict:
        """``{"batched": {policy: {"us_per_decision": x, "vs_greedy": y}}, "online": {...}}``.

        ``vs_greedy`` is the policy's median µs per decision over that of Greedy in its
        fastest form in the same regime (:meth:`normaliser`; NaN if no Greedy was measured
        in that regime).
        """
        table = {}
        for regime in REGIMES:
            rows = {t.policy: t for t in self.timings if t.regime == regime}
            if not rows:
                continue
            normaliser = self.normaliser(regime)
            reference = rows.get(normaliser) if normaliser else None
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
            inputs: DelayInputs | None = None, reference: str | tuple[str, ...] = GREEDY_FORMS,
            after_round=None) -> DelayReport:
    """Time every policy in every regime on the same inputs.

    Parameters
    ----------
    policies : dict name -> policy, or an iterable of policies (keyed by ``policy.name``)
        Anything with ``decide(req) -> (n, |A|)``. Include ``"greedy"`` (and/or
        ``"greedy_lean"``): ratios are to the fastest of the ``reference`` policies.
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
    reference : str or tuple of str
        The policies ratios are taken to: in each regime, the fastest of them that was
        measured (default: Greedy's two forms, :data:`GREEDY_FORMS`).
    after_round : callable, optional
        Called untimed, with the round's index, after each interleaved round (once at the
        end if not interleaved), inside the thread limits; :func:`run_table1` samples the
        peak rate with it, so the peak is measured at several moments of the run.
    """

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
        for index, (r, job) in enumerate(bar(schedule, progress=progress, desc="delay", unit="pass")):
            if not interleave and r == 0:
                job.warm()
            job.run_pass()
            if after_round is not None and interleave and (index + 1) % len(jobs) == 0:
                after_round(r)
        if after_round is not None and not interleave:
            after_round(repeats - 1)
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
        "reference": "in each regime, the fastest measured of " + ", ".join(
            [reference] if isinstance(reference, str) else reference),
    }
    report = DelayReport(timings=timings, machine=machine, settings=settings, reference=reference)
    report.settings["normaliser"] = {regime: report.normaliser(regime) for regime in regimes}
    return report


# --------------------------------------------------------------------------- Table 1


#: Stated smaller counts for the slowest policies: the integer program starts the CBC
#: solver once per call (online) or per model of 1,000 instances (batched), about
#: 1.5 ms per decision batched and 7 ms per call online on the development machine.
SLOW_COUNTS = {"optimal_ilp": {"batched": 2_000, "online": 200}}

#: Seed of the wide-preset sample every policy is timed on; the lean forms are checked
#: against their references on ``CHECK_DECISIONS`` requirements drawn with seed
#: ``INPUT_SEED + 1``.
INPUT_SEED = 2020
CHECK_DECISIONS = 10_000

#: The heuristics of Figures 5 and 6, timed too: (key, location) of the fixed ones.
FIXED_LOCATIONS = (("local", 0), ("edge", 1), ("cloud", 2))


def table1_policies(models: dict | None = None, lean_model=None, *, lean: bool = True,
                    heuristics: bool = True, seed: int = 0) -> dict:
    """The policies of Table 1 in both forms, keyed as in the results file.

    Always the three exact solvers (``optimal_exhaustive``, ``optimal_dp``,
    ``optimal_ilp``), ``greedy`` and, with ``heuristics`` (default), ``local``, ``edge``,
    ``cloud`` and ``random`` (seed ``seed``); then each learned policy given in ``models``
    (keys among ``dil``, ``kd_dil``, ``baseline_dil``, ``drl``). With ``lean`` (default)
    each policy's lean form follows it as ``<key>_lean`` (:func:`kdoffload.lean_policies.lean_form`;
    the exact solvers share one, ``optimal_dp_lean``). ``lean_model``, if given, is the
    lean KD-DIL student (loaded from its weight file), used as ``kd_dil_lean``.
    """
    from .lean import LeanDynamicProgramming
    from .lean_policies import LeanFixedLocation, LeanGreedy, LeanRandom, lean_form
    from .solvers import DynamicProgramming, ExhaustiveSearch, FixedLocation, Greedy, IntegerProgram, RandomPolicy

    policies = {"optimal_exhaustive": ExhaustiveSearch(), "optimal_dp": DynamicProgramming()}
    if lean:
        policies["optimal_dp_lean"] = LeanDynamicProgramming()
    policies.update({"optimal_ilp": IntegerProgram(), "greedy": Greedy()})
    if lean:
        policies["greedy_lean"] = LeanGreedy()
    if heuristics:
        for key, location in FIXED_LOCATIONS:
            policies[key] = FixedLocation(location)
            if lean:
                policies[f"{key}_lean"] = LeanFixedLocation(location)
        policies["random"] = RandomPolicy(seed=seed)
        if lean:
            policies["random_lean"] = LeanRandom(seed=seed)
    for name, model in (models or {}).items():
        if not hasattr(model, "decide"):
            raise ValueError(f"models[{name!r}] has no decide(req) method")
        policies[name] = model
        if lean and not (name == "kd_dil" and lean_model is not None):
            try:
                policies[f"{name}_lean"] = lean_form(model, name=f"{name}_lean")
            except ValueError as error:
                raise ValueError(f"models[{name!r}]: {error}") from None
    if lean_model is not None:
        policies["kd_dil_lean"] = lean_model
    return policies


def lean_pairs(policies: dict) -> dict:
    """``{lean key: (reference key, reference, lean form)}`` for every ``<key>_lean`` in
    ``policies`` whose ``<key>`` is there too (the argument of
    :func:`kdoffload.lean_policies.check_forms`)."""
    return {name: (name[:-len("_lean")], policies[name[:-len("_lean")]], policy)
            for name, policy in policies.items() if name.endswith("_lean") and name[:-len("_lean")] in policies}


def table1_operations(policies: dict, num_subtasks: int = 6) -> dict:
    """Operations per decision of each policy (:func:`kdoffload.lean_policies.operations`)."""
    from .lean_policies import operations

    return {name: operations(policy, num_subtasks) for name, policy in policies.items()}


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


def equal_effort(table1: dict) -> dict:
    """Table 1 at equal implementation effort: in each regime, each policy in its fastest form.

    ``{regime: {policy: {"us_per_decision": x, "vs_greedy": y, "key": timed key}}}``, the
    schema of ``table1`` with the policies of :data:`FORMS` (``optimal``, ``greedy``,
    ``drl``, ``dil``, ``kd_dil``, ...) as keys; ``optimal`` is the fastest exact method.
    Greedy's ``vs_greedy`` is 1 by construction (the table is normalised by Greedy's
    fastest form).
    """
    result = {}
    for regime, entries in table1.items():
        best: dict[str, str] = {}
        for key, entry in entries.items():
            policy = form_of(key)[0]
            if policy not in best or entry["us_per_decision"] < entries[best[policy]]["us_per_decision"]:
                best[policy] = key
        result[regime] = {policy: {"us_per_decision": entries[key]["us_per_decision"],
                                   "vs_greedy": entries[key]["vs_greedy"], "key": key}
                          for policy, key in best.items()}
    return result


def forms_frame(table1: dict, operations: dict | None = None, peak: dict | None = None) -> pd.DataFrame:
    """One row per timed key: the policy, its form and implementation, the operations per
    decision and the time one decision takes at the peak rate (``floor_us``), then per
    regime the µs per decision, the ratio to Greedy's fastest form and the ratio to the
    floor (``x_floor``: how far the implementation is from this CPU's limit).

    Works on a results file's ``table1`` and ``table1_details`` (``operations``, ``peak``).
    """
    keys = list(dict.fromkeys(name for entries in table1.values() for name in entries))
    known = [k for k in POLICY_ORDER if k in keys]
    keys = known + [k for k in keys if k not in known]
    rows = []
    for key in keys:
        policy, form, implementation = form_of(key)
        ops = (operations or {}).get(key)
        floor = floor_us(ops, peak)
        row = {"key": key, "policy": policy, "form": form, "implementation": implementation,
               "ops_per_decision": float(ops["total"]) if ops else float("nan"), "floor_us": floor}
        for regime, entries in table1.items():
            entry = entries.get(key)
            us = entry["us_per_decision"] if entry else float("nan")
            row[f"{regime}_us"] = us
            row[f"{regime}_vs_greedy"] = entry["vs_greedy"] if entry else float("nan")
            row[f"{regime}_x_floor"] = us / floor if floor and floor > 0 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).set_index("key")


_PAPER_NAMES = {"dil": "DIL", "kd_dil": "KD-DIL", "greedy": "Greedy"}


def paper_ratio_frame(table1: dict, operations: dict | None = None, peak: dict | None = None,
                      paper: dict | None = None) -> pd.DataFrame:
    """The paper's Table 1 ratios against ours, for every pairing of forms.

    One row per (paper policy -- DIL, KD-DIL --, regime, the policy's form, Greedy's form):
    ``ratio`` = the policy's µs per decision / Greedy's, the paper's value, ``reached``
    (ratio <= the paper's), ``same_form`` and ``greedy_best`` (this Greedy form is the
    fastest in the regime, the table's normaliser). With ``operations`` and ``peak``, a
    row of regime ``"floor"``: the ratio of the lean forms' times at this CPU's peak rate
    (:func:`floor_us`), what no implementation can beat.
    """
    if paper is None:
        from .paper import TABLE1 as paper
    rows = []
    for name, value in paper.items():
        if name == "greedy":
            continue
        for regime, entries in table1.items():
            greedy_times = {g: entries[g]["us_per_decision"] for g in GREEDY_FORMS if g in entries}
            fastest = min(greedy_times, key=greedy_times.get) if greedy_times else None
            for key in (name, f"{name}_lean"):
                if key not in entries:
                    continue
                for greedy, greedy_us in greedy_times.items():
                    ratio = entries[key]["us_per_decision"] / greedy_us
                    rows.append({"policy": name, "paper": value, "regime": regime, "form": form_of(key)[1],
                                 "greedy_form": form_of(greedy)[1], "ratio": ratio, "reached": bool(ratio <= value),
                                 "same_form": form_of(key)[1] == form_of(greedy)[1],
                                 "greedy_best": greedy == fastest})
        if operations and peak:
            mine = floor_us(operations.get(f"{name}_lean") or operations.get(name), peak)
            greedy = floor_us(operations.get("greedy_lean") or operations.get("greedy"), peak)
            if mine == mine and greedy and greedy > 0:
                ratio = mine / greedy
                rows.append({"policy": name, "paper": value, "regime": "floor", "form": "lean", "greedy_form": "lean",
                             "ratio": ratio, "reached": bool(ratio <= value), "same_form": True, "greedy_best": True})
    columns = ["policy", "paper", "regime", "form", "greedy_form", "ratio", "reached", "same_form", "greedy_best"]
    return pd.DataFrame(rows, columns=columns)


def _number(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _pairing(label: str, row) -> str:
    return f"{_number(row['ratio'])} ({label} {row['form']}, Greedy {row['greedy_form']}, {row['regime']})"


def paper_ratio_statement(table1: dict, operations: dict | None = None, peak: dict | None = None,
                          paper: dict | None = None) -> str:
    """Plain sentences, with numbers, on which of the paper's Table 1 ratios (DIL 0.51,
    KD-DIL 0.17) are reachable here and against which form of Greedy.

    Per paper policy: the ratio at equal implementation effort (each in its fastest form
    for the regime, as the table normalises); against each form of Greedy (the policy in
    its fastest form); at the physical floor; and whether the paper's value is reached at
    equal effort, only against a Greedy slower than its best form, or not at all.
    """
    frame = paper_ratio_frame(table1, operations, peak, paper)
    sentences = []
    for name, group in frame.groupby("policy", sort=False):
        label, value = _PAPER_NAMES.get(name, name), float(group["paper"].iloc[0])
        timed = group[group["regime"] != "floor"]
        regimes = list(dict.fromkeys(timed["regime"]))
        best = {}  # (regime, greedy form) -> the row of the policy's fastest form
        for (regime, greedy_form), rows in timed.groupby(["regime", "greedy_form"], sort=False):
            best[regime, greedy_form] = rows.loc[rows["ratio"].idxmin()]
        equal = [best[regime, g] for regime in regimes for g in FORM_NAMES
                 if (regime, g) in best and best[regime, g]["greedy_best"]]
        text = f"{label} / Greedy (paper {value:.2f}): at equal implementation effort (each in its fastest form " \
               f"for the regime) " + " and ".join(f"{_number(r['ratio'])} {r['regime']}" for r in equal) + "."
        against = []
        for g in FORM_NAMES:
            cells = [f"{_number(best[regime, g]['ratio'])} {regime}" for regime in regimes if (regime, g) in best]
            if cells:
                against.append(f"with Greedy {g}, " + " and ".join(cells))
        if against:
            text += f" {label} in its fastest form / Greedy: " + "; ".join(against) + "."
        floor = group[group["regime"] == "floor"]
        if len(floor):
            ratio = float(floor["ratio"].iloc[0])
            text += (f" At the physical floor (each decision's operations at this CPU's peak rate) {label} takes "
                     f"{_number(ratio)} times Greedy's time, so implementations of both at their limits "
                     + ("would reach" if ratio <= value else "could not reach") + f" {value:.2f}.")
        at_equal = [r for r in equal if r["reached"]]
        unequal = timed[timed["reached"] & ~timed["greedy_best"]]
        if at_equal:
            text += (f" The paper's {value:.2f} is reached at equal effort: "
                     + "; ".join(_pairing(label, r) for r in at_equal) + ".")
        elif len(unequal):
            text += (f" The paper's {value:.2f} is reached only against a Greedy slower than its best form for the "
                     f"regime: " + "; ".join(_pairing(label, r) for _, r in unequal.iterrows()) + ".")
        elif len(timed):
            text += (f" The paper's {value:.2f} is not reached by any pairing measured; the closest is "
                     + _pairing(label, timed.loc[timed["ratio"].idxmin()]) + ".")
        sentences.append(text)
    return "\n".join(sentences)


@dataclass
class Table1Run:
    """What :func:`run_table1` measured: the timings, the lean student's file check, every
    lean form's check (``checks``), the operations per decision (``operations``) and this
    CPU's peak rate (``peak``)."""

    report: DelayReport
    lean: dict
    checks: dict = field(default_factory=dict)
    operations: dict = field(default_factory=dict)
    peak: dict = field(default_factory=dict)

    def table1(self) -> dict:
        """The results file's ``table1`` (see :meth:`DelayReport.table1`)."""
        return self.report.table1()

    def frame(self) -> pd.DataFrame:
        """The table, with the paper's Table 1 ratios beside ours (``paper_vs_greedy``), each
        key's form, its operations per decision, the time at the peak rate (``floor_us``)
        and the ratio of the median time to it (``x_floor``)."""
        from .paper import TABLE1

        frame = self.report.frame(paper=TABLE1)
        policies = frame.index.get_level_values("policy")
        floors = [floor_us(self.operations.get(name), self.peak) for name in policies]
        frame.insert(0, "form", [form_of(name)[1] for name in policies])
        frame["ops_per_decision"] = [float(self.operations[n]["total"]) if self.operations.get(n) else float("nan")
                                     for n in policies]
        frame["floor_us"] = floors
        frame["x_floor"] = [us / f if f and f > 0 else float("nan") for us, f in zip(frame["us_per_decision"], floors)]
        return frame

    def equal_effort(self) -> dict:
        """Each policy in its fastest form per regime, in ``table1``'s schema (:func:`equal_effort`)."""
        return equal_effort(self.table1())

    def forms(self) -> pd.DataFrame:
        """One row per timed key, both regimes side by side (:func:`forms_frame`)."""
        return forms_frame(self.table1(), self.operations, self.peak)

    def paper_ratios(self) -> pd.DataFrame:
        """The paper's DIL and KD-DIL ratios against every pairing of forms (:func:`paper_ratio_frame`)."""
        return paper_ratio_frame(self.table1(), self.operations, self.peak)

    def paper_statement(self) -> str:
        """Which of the paper's ratios are reachable, with numbers (:func:`paper_ratio_statement`)."""
        return paper_ratio_statement(self.table1(), self.operations, self.peak)

    def results(self) -> dict:
        """``{"table1": ..., "table1_details": {...}}``, ready for ``kdoffload.report.record``."""
        details = self.report.to_dict()
        details.pop("table1")
        table1 = self.table1()
        return {"table1": table1, "table1_details": {
            **details, "lean": self.lean, "checks": self.checks, "operations": self.operations, "peak": self.peak,
            "normaliser": {regime: self.report.normaliser(regime) for regime in table1},
            "forms": {name: list(form_of(name)) for entries in table1.values() for name in entries},
            "equal_effort": equal_effort(table1),
            "paper_statement": paper_ratio_statement(table1, self.operations, self.peak),
        }}


def run_table1(models: dict, test_req: Requirements, lean_path, *, req: Requirements | None = None,
               input_seed: int = INPUT_SEED, batched_decisions: int = 100_000, batch_size: int = 10_000,
               online_decisions: int = 10_000, counts: dict | None = None, repeats: int = MIN_REPEATS,
               warmup_batches: int = 1, warmup_calls: int = 100, threads: int | None = 1,
               progress: bool | None = None, check_req: Requirements | None = None,
               check_decisions: int = CHECK_DECISIONS, heuristics: bool = True, peak: bool = True) -> Table1Run:
    """Export the lean student, check every lean form against its reference, and time every
    policy in both forms and both regimes.

    Parameters
    ----------
    models : dict
        The learned policies by key: ``dil`` (teacher), ``kd_dil`` (distilled student,
        also exported to ``lean_path``), ``baseline_dil``, ``drl``; any may be missing.
    test_req : Requirements
        The test set on which the lean student read back from ``lean_path`` and the torch
        student must make the same decisions (``run.lean``).
    lean_path : path
        Where the lean student's weight file is written.
    req : Requirements, optional
        The timing inputs (default: ``kd.sample(max(batched, online), "wide", seed=input_seed)``).
    counts : dict, optional
        Smaller counts per policy (default :data:`SLOW_COUNTS`).
    check_req : Requirements, optional
        Where every lean form is checked against its reference (default:
        ``kd.sample(check_decisions, "wide", seed=input_seed + 1)``); a lean form that
        disagrees raises :class:`kdoffload.lean_policies.LeanMismatchError` naming it and
        the count, before anything is timed.
    heuristics : bool
        Also time Local, Edge, Cloud and Random (default True).
    peak : bool
        Measure this CPU's peak FLOP/s (:func:`peak_flops`) for the ``floor_us`` column:
        before the timing, after each interleaved round and after the timing; the highest
        sample counts (:func:`combine_peaks`).
    Other parameters as in :func:`measure`.
    """
    from .lean import export_lean, load_lean
    from .lean_policies import check_forms
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
    if check_req is None:
        check_req = sample(check_count("check_decisions", check_decisions), "wide", seed=input_seed + 1)
        checked = f"kd.sample({check_req.n}, 'wide', seed={input_seed + 1})"
    else:
        checked = f"caller-supplied Requirements, n = {check_req.n}"
    policies = table1_policies(models, lean_model, heuristics=heuristics)
    with limited_threads(threads):
        checks = check_forms(lean_pairs(policies), check_req, batch_size=batch_size)
    operations = table1_operations(policies, req.num_subtasks)
    samples = [peak_flops(threads=threads)] if peak else []

    def sample_peak(_round):  # between interleaved rounds, untimed, inside measure's thread limits
        samples.append(dict(peak_flops(repeats=3, threads=None), threads=threads))

    report = measure(policies, req, batched_decisions=batched_decisions, batch_size=batch_size,
                     online_decisions=online_decisions, counts=SLOW_COUNTS if counts is None else counts,
                     repeats=repeats, warmup_batches=warmup_batches, warmup_calls=warmup_calls,
                     threads=threads, progress=progress, after_round=sample_peak if peak else None)
    if peak:
        samples.append(peak_flops(threads=threads))
    report.settings["input"] = described
    report.settings["check_input"] = checked
    return Table1Run(report=report, lean=lean_info, checks=checks, operations=operations,
                     peak=combine_peaks(samples))


def table1_frame(table1: dict, paper: dict | None = None) -> pd.DataFrame:
    """A results file's ``table1`` dict as a frame (regime, policy) -> µs, ratio, paper ratio."""
    rows = [{"regime": regime, "policy": name, **entry}
            for regime, entries in table1.items() for name, entry in entries.items()]
    frame = pd.DataFrame(rows).set_index(["regime", "policy"])
    if paper is not None:
        frame["paper_vs_greedy"] = [paper.get(name, float("nan")) for _, name in frame.index]
    return frame
