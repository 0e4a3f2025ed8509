"""Table 1 as frames and sentences: the results file's ``table1`` rendered for the book.

:func:`table1_frame` is the one long frame of a ``table1`` (or ``equal_effort``) dict;
:func:`table1_display` pivots it for the chapter; :func:`forms_frame` puts both forms of
each policy side by side with their operation counts and the physical floor;
:func:`paper_ratio_frame` and :func:`paper_ratio_statement` say which of the paper's
ratios (DIL 0.51, KD-DIL 0.17 of Greedy) are reachable here.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .. import registry
from .forms import FORM_NAMES, form_of, greedy_forms, policy_order
from .machine import floor_us


def table1_frame(table1: dict, paper: dict | None = None) -> pd.DataFrame:
    """A results file's ``table1`` dict as a frame (regime, policy) -> µs, ratio, paper ratio."""
    rows = [{"regime": regime, "policy": name, **entry}
            for regime, entries in table1.items() for name, entry in entries.items()]
    frame = pd.DataFrame(rows).set_index(["regime", "policy"])
    if paper is not None:
        frame["paper_vs_greedy"] = [paper.get(name, float("nan")) for _, name in frame.index]
    return frame


def table1_display(table1: Mapping, paper_ratios: Mapping | None = None, labels: Mapping | None = None,
                   digits: int = 3) -> pd.DataFrame:
    """:func:`table1_frame` as one row per policy: µs per decision and ratio to Greedy in
    each regime, and the paper's ratio (— where the paper gives none)."""
    long = table1_frame(dict(table1))
    policies = list(dict.fromkeys(long.index.get_level_values("policy")))
    columns = {}
    for regime in dict.fromkeys(long.index.get_level_values("regime")):
        part = long.xs(regime, level="regime")
        columns[(regime, "µs / decision")] = part["us_per_decision"]
        columns[(regime, "÷ Greedy")] = part["vs_greedy"]
    frame = pd.DataFrame(columns).reindex(policies).round(digits)
    if paper_ratios is not None:
        frame[("paper", "÷ Greedy")] = [f"{paper_ratios[p]:.2f}" if p in paper_ratios else "—" for p in policies]
    if labels is not None:
        frame.index = [labels.get(p, p) for p in policies]
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame


def forms_frame(table1: dict, operations: dict | None = None, peak: dict | None = None) -> pd.DataFrame:
    """One row per timed key: the policy, its form and implementation, the operations per
    decision and the time one decision takes at the peak rate (``floor_us``), then per
    regime the µs per decision, the ratio to Greedy's fastest form and the ratio to the
    floor (``x_floor``: how far the implementation is from this CPU's limit).

    Works on a results file's ``table1`` and ``table1_details`` (``operations``, ``peak``).
    """
    keys = list(dict.fromkeys(name for entries in table1.values() for name in entries))
    known = [k for k in policy_order() if k in keys]
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
        from ..paper import TABLE1 as paper
    rows = []
    for name, value in paper.items():
        if name == "greedy":
            continue
        for regime, entries in table1.items():
            greedy_times = {g: entries[g]["us_per_decision"] for g in greedy_forms() if g in entries}
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
        label, value = registry.label(name), float(group["paper"].iloc[0])
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
