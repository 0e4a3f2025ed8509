"""The paper's Table 1: every policy timed in both forms and both regimes, with its checks.

:func:`run_table1` exports the lean KD-DIL student, checks every lean form against its
reference (:func:`kdoffload.lean_policies.check_forms`; a disagreement raises before
anything is timed), counts each decision's operations, measures the CPU's peak rate and
times every policy (:func:`kdoffload.timing.harness.measure`). The policies and their
keys come from :mod:`kdoffload.registry` (:func:`table1_policies`). Each regime is
normalised by Greedy in its fastest form in that regime, so no policy is compared with
an untuned Greedy.

The paper times "100,000 decisions ... divided by 100,000" without saying whether they
were batched or on what hardware (the book's Assumptions page, point 14).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import registry
from ..checks import check_count
from ..paper import TABLE1_DECISIONS
from ..system import Requirements
from ..threads import limited_threads
from .forms import form_of
from .harness import MIN_REPEATS, DelayReport, measure
from .machine import combine_peaks, floor_us, peak_flops
from .render import forms_frame, paper_ratio_frame, paper_ratio_statement

#: Stated smaller counts for the slowest policies: the integer program starts the CBC
#: solver once per call (online) or per model of 1,000 instances (batched); its times
#: are in ``benchmarks/NOTES.md``.
SLOW_COUNTS = {"optimal_ilp": {"batched": 2_000, "online": 200}}

#: Seed of the wide-preset sample every policy is timed on; the lean forms are checked
#: against their references on ``CHECK_DECISIONS`` requirements drawn with seed
#: ``INPUT_SEED + 1``.
INPUT_SEED = 2020
CHECK_DECISIONS = 10_000

#: The Table 1 key of the lean KD-DIL student that :func:`run_table1` exports and reads back.
LEAN_STUDENT = "kd_dil_lean"

def table1_policies(models: dict | None = None, lean_model=None, *, lean: bool = True,
                    heuristics: bool = True, seed: int = 0) -> dict:
    """The policies of Table 1 in both forms, keyed as in the results file.

    First every registered rule-based policy that lists Table 1 forms
    (:mod:`kdoffload.registry`), in registry order, built with ``seed`` (heuristics other
    than Greedy, the normaliser, only with ``heuristics``); then the learned ones in
    ``models``, keyed by their vectorised Table 1 key (``dil``, ``kd_dil``,
    ``baseline_dil``, ``drl``), in the order given. With ``lean`` (default) each policy's
    lean form follows it under its lean key (:func:`kdoffload.lean_policies.lean_form`);
    ``lean_model``, if given, is the lean KD-DIL student read from its weight file, added
    last as ``kd_dil_lean``. The order is the order of measurement.

    Raises ValueError for a key of ``models`` that no registered learned policy times, and
    for a model without a ``decide`` method or without a lean form.
    """
    from ..lean_policies import lean_form

    learned = {timed.key: info for info in registry.policies(family="learned") for timed in info.table1
               if timed.form == "vectorised"}
    models = dict(models or {})
    unknown = sorted(set(models) - set(learned))
    if unknown:
        raise ValueError(f"models must be keyed by the Table 1 keys of learned policies {sorted(learned)}, "
                         f"got {unknown}")
    policies: dict = {}

    def add(info, reference):
        for timed in info.table1:
            if timed.form == "vectorised":
                policies[timed.key] = reference
            elif lean and not (timed.key == LEAN_STUDENT and lean_model is not None):
                try:
                    policies[timed.key] = lean_form(reference, name=timed.key)
                except ValueError as error:
                    raise ValueError(f"{timed.key}: {error}") from None

    for info in registry.policies():
        if info.family == "learned" or not info.table1:
            continue
        if heuristics or info.family == "exact" or info.name == "greedy":
            add(info, info.build(seed=seed))
    for key, model in models.items():
        if not hasattr(model, "decide"):
            raise ValueError(f"models[{key!r}] has no decide(req) method")
        add(learned[key], model)
    if lean_model is not None:
        policies[LEAN_STUDENT] = lean_model
    return policies


def lean_pairs(policies: dict) -> dict:
    """``{lean key: (reference key, reference, lean form)}`` for every ``<key>_lean`` in
    ``policies`` whose ``<key>`` is there too (the argument of
    :func:`kdoffload.lean_policies.check_forms`)."""
    return {name: (name[:-len("_lean")], policies[name[:-len("_lean")]], policy)
            for name, policy in policies.items() if name.endswith("_lean") and name[:-len("_lean")] in policies}


def table1_operations(policies: dict, num_subtasks: int = 6) -> dict:
    """Operations per decision of each policy (:func:`kdoffload.lean_policies.operations`)."""
    from ..lean_policies import operations

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
        from ..paper import TABLE1

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
               input_seed: int = INPUT_SEED, batched_decisions: int = TABLE1_DECISIONS, batch_size: int = 10_000,
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
    from ..lean import export_lean, load_lean
    from ..lean_policies import check_forms
    from ..system import sample

    lean_info: dict = {}
    lean_model = None
    if "kd_dil" in models:
        file_bytes = export_lean(models["kd_dil"], lean_path, name=LEAN_STUDENT)
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
