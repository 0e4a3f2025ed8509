"""The timing harness: time any policies' ``decide`` on the same inputs, in two regimes.

batched
    ``batched_decisions`` decisions, handed to ``decide`` in batches of ``batch_size``
    requirements; figure = total time / decisions.
online
    One request at a time: ``online_decisions`` sequential calls of ``decide`` on a
    :class:`~kdoffload.system.Requirements` holding a single request; figure = total
    time / calls.

What a figure includes: everything ``decide`` does (cost tensors, feature preparation,
tensor conversions, forward passes, argmax, conversion to int64). What it excludes: the
inputs, built once before any timing (:class:`DelayInputs`) and shared by every policy; a
policy timed on fewer decisions sees a prefix of them. Untimed warm-up calls come first;
each pass is timed whole with ``time.perf_counter`` with the cyclic garbage collector off;
passes are interleaved across policies (round after round), so load from other processes
falls on all alike; the figure is the median over ``repeats`` (>= 5) passes, every pass
kept. Threads are limited while measuring (:func:`kdoffload.threads.limited_threads`) and
the machine recorded (:func:`kdoffload.timing.machine.machine_info`).
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..checks import check_count
from ..paper import TABLE1_DECISIONS
from ..progress import bar
from ..system import Requirements
from ..threads import limited_threads
from .forms import greedy_forms, policy_order
from .machine import describe_machine, machine_info

REGIMES = ("batched", "online")

#: Fewest timed passes of a policy (the figure is their median).
MIN_REPEATS = 5


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


# --------------------------------------------------------------------------- report


@dataclass
class DelayReport:
    """All timings of one :func:`measure` run plus the machine they ran on."""

    timings: list[Timing]
    machine: dict
    settings: dict
    reference: str | tuple[str, ...] = field(default_factory=greedy_forms)

    @property
    def machine_line(self) -> str:
        return describe_machine(self.machine)

    def timing(self, policy: str, regime: str) -> Timing:
        for timing in self.timings:
            if timing.policy == policy and timing.regime == regime:
                return timing
        raise KeyError(f"no timing for policy {policy!r} in regime {regime!r}")

    def _order(self, names) -> list[str]:
        order = policy_order()
        known = [name for name in order if name in names]
        return known + sorted(name for name in names if name not in order)

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

        :func:`kdoffload.timing.render.table1_frame` of :meth:`table1` with each timing's
        counts; ``paper`` (policy -> the paper's Table 1 ratio) adds ``paper_vs_greedy``.
        """
        from .render import table1_frame

        frame = table1_frame(self.table1(), paper)
        counts = pd.DataFrame([{"regime": t.regime, "policy": t.policy, "decisions": t.decisions, "calls": t.calls,
                                "batch_size": t.batch_size, "warmup_calls": t.warmup_calls, "repeats": t.repeats,
                                "us_min": t.us_per_decision_min, "us_max": t.us_per_decision_max}
                               for t in self.timings]).set_index(["regime", "policy"])
        frame = frame.join(counts)
        columns = ["decisions", "calls", "batch_size", "warmup_calls", "repeats", "us_per_decision", "us_min",
                   "us_max", "vs_greedy"] + (["paper_vs_greedy"] if paper is not None else [])
        return frame[columns]

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


def measure(policies, req: Requirements, *, regimes=REGIMES, batched_decisions: int = TABLE1_DECISIONS,
            batch_size: int = 10_000, online_decisions: int = 10_000, counts: dict | None = None,
            repeats: int = MIN_REPEATS, warmup_batches: int = 1, warmup_calls: int = 100,
            threads: int | None = 1, interleave: bool = True, progress: bool | None = None,
            inputs: DelayInputs | None = None, reference: str | tuple[str, ...] | None = None,
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
        measured (default: Greedy's forms, :func:`kdoffload.timing.forms.greedy_forms`).
    after_round : callable, optional
        Called untimed, with the round's index, after each interleaved round (once at the
        end if not interleaved), inside the thread limits; :func:`run_table1` samples the
        peak rate with it, so the peak is measured at several moments of the run.
    """

    reference = greedy_forms() if reference is None else reference
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
