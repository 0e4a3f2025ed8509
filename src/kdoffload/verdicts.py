"""The Summary's verdicts: the paper's numbers and claims beside ours.

:func:`summary_rows` reads a results file (see :mod:`kdoffload.report`) and the paper's
numbers (:mod:`kdoffload.paper`) and gives one row per published number or claim with a
verdict; :func:`tally` counts the verdicts of the rows that are results and :func:`summary_table`
styles the rows. (The sentence per Assumptions point is :mod:`kdoffload.assumptions`.)

**Verdicts.** Four: ``reproduced``, ``differs``, ``indistinguishable`` and ``cannot be
checked``. Where the results file holds bootstrap intervals (:mod:`kdoffload.uncertainty`:
``{"mean", "std", "low", "high"}`` per policy, and ``{"difference", "low", "high"}`` per
ordered pair under ``<figure>.differences.<metric>."better < worse"``), they decide:

* a **number** is *reproduced* when our point estimate lies in the paper's tolerance band
  (the paper's value ± ``rtol`` of it); *indistinguishable* when the point is outside the
  band but our interval ``[low, high]`` overlaps it; *differs* when the whole interval is
  outside the band (:func:`number_verdict`);
* an **ordering** "A beats B" is *reproduced* when the interval of ``A - B`` lies below 0
  for every pair of the claim; *differs* when some pair's interval lies above 0 (the
  reverse ordering is established); otherwise some interval contains 0 and it is
  *indistinguishable* — this includes exact ties such as median ratios of 1.000 and 1.000
  (:func:`claim_text`);
* a **bound** ("less than 10 % above optimal") is an ordering against a constant: reproduced
  when the whole interval is on the claimed side, differs when it is wholly on the other,
  else indistinguishable.

An equality claim is judged by the point estimate and a direction claim by the whole
interval because the tolerance band already says what "close enough" means, while a
direction needs the uncertainty to be on one side of 0.

Where a result has no interval (results files written before intervals, the Table 1
timings, parameter counts), the **old rule** decides and the row's ``uncertainty`` column
says so: a number is reproduced within ``max(rtol * |paper|, 2 std over seeds)`` on the one
fixed test set, else it differs; an ordering holds or fails on the means (an exact tie is
indistinguishable).

**Kinds.** Every row has a ``kind``: ``setting echoed`` (a setting of the run set beside
the paper's: sample sizes, ``|A|``, T, layer shapes — they match by choice, not by
finding), ``identity`` (Optimal = 1 in Figures 5 and 6, Greedy = 1.00 × Greedy in Table 1:
true by construction) or ``result``. :func:`tally` counts results only.
"""

from __future__ import annotations

import copy

import numpy as np

from . import paper
from .experiments.claims import FIGURE5_CLAIMS, FIGURE6_CLAIMS, claim_pairs, pair_key
from .report import lookup, merge

# --- the paper's numbers beside ours ------------------------------------------------------------

#: Verdicts of the Summary chapter.
REPRODUCED, DIFFERS, UNCHECKABLE = "reproduced", "differs", "cannot be checked"
INDISTINGUISHABLE = "indistinguishable"
VERDICTS = (REPRODUCED, INDISTINGUISHABLE, DIFFERS, UNCHECKABLE)

#: Kinds of summary rows (module docstring).
SETTING, IDENTITY, RESULT = "setting echoed", "identity", "result"

#: What decided a row's verdict (the ``uncertainty`` column).
BASIS_INTERVAL = "bootstrap"  # interval over test samples and seeds (kdoffload.uncertainty)
BASIS_SEEDS = "2 sd, seeds"  # no interval: 2 sd over seeds on one fixed test set
BASIS_POINT = "point"  # no interval: point estimates
BASIS_EXACT = "exact"
BASIS_NONE = "—"

#: A number of ours reproduces the paper's if it lies within this share of the paper's
#: value (and, without an interval, also if within two standard deviations over seeds).
RELATIVE_TOLERANCE = 0.05
#: Tolerance of the inference-delay ratios of Table 1 (they depend on the hardware).
DELAY_TOLERANCE = 0.25


def tolerance_band(paper_value, rtol: float = RELATIVE_TOLERANCE, std=None) -> tuple[float, float]:
    """``[low, high]`` accepted as the paper's value: ``paper_value`` ± ``max(rtol * |value|, 2 std)``.

    ``paper_value`` may be a (low, high) pair when the paper gives two values for one number
    (e.g. the 63 % it states and the 67 % its Table 1 implies): the band then runs from the
    lower value's band to the higher one's.
    """
    low, high = (paper_value, paper_value) if np.isscalar(paper_value) else sorted(paper_value)
    spread = 2 * (std or 0.0)
    return (low - max(rtol * abs(low), spread), high + max(rtol * abs(high), spread))


def number_verdict(paper_value, mean, std=None, rtol: float = RELATIVE_TOLERANCE, low=None, high=None) -> str:
    """Verdict on one number of ours against the paper's.

    With an interval (``low`` and ``high``): ``reproduced`` if ``mean`` lies in
    ``paper ± rtol * |paper|``, ``indistinguishable`` if it does not but ``[low, high]``
    overlaps that band, ``differs`` if the interval lies wholly outside. Without one (the
    old rule): ``reproduced`` if ``mean`` is within ``max(rtol * |paper|, 2 std)`` of the
    paper's value, else ``differs``. ``cannot be checked`` if either number is missing.
    ``paper_value`` may be a (low, high) pair (:func:`tolerance_band`).
    """
    if paper_value is None or mean is None:
        return UNCHECKABLE
    if low is None or high is None:
        band_low, band_high = tolerance_band(paper_value, rtol, std)
        return REPRODUCED if band_low <= mean <= band_high else DIFFERS
    band_low, band_high = tolerance_band(paper_value, rtol)
    if band_low <= mean <= band_high:
        return REPRODUCED
    return INDISTINGUISHABLE if low <= band_high and high >= band_low else DIFFERS


def bound_verdict(bound: float, mean, low=None, high=None) -> str:
    """Verdict on "ours is below ``bound``": with an interval, ``reproduced`` if ``high`` <
    bound, ``differs`` if ``low`` >= bound, else ``indistinguishable``; without one, on the
    point (``mean`` < bound)."""
    if mean is None:
        return UNCHECKABLE
    if low is None or high is None:
        return REPRODUCED if mean < bound else DIFFERS
    if high < bound:
        return REPRODUCED
    return DIFFERS if low >= bound else INDISTINGUISHABLE


def claim_text(intervals: dict) -> tuple[str, str]:
    """Text and verdict of an ordering claim from the difference interval ``(low, high)`` of
    (better - worse) for each pair, keyed by the name to show (the other side of the pair).

    ``holds`` (reproduced) if every interval is below 0; ``fails against …`` (differs) if
    some interval is above 0; else ``indistinguishable from …`` (some contains 0).
    """
    failing = [name for name, (low, high) in intervals.items() if low > 0]
    unclear = [name for name, (low, high) in intervals.items() if low <= 0 <= high]
    if failing:
        return "fails against " + ", ".join(failing), DIFFERS
    if unclear:
        return "indistinguishable from " + ", ".join(unclear), INDISTINGUISHABLE
    return "holds", REPRODUCED


def _entry(results: dict, key: str) -> dict:
    """``{"mean", "std", "low", "high"}`` at ``key`` (a number gives only ``mean``); missing parts None."""
    value = lookup(results, key)
    if isinstance(value, dict):
        return {part: value.get(part) for part in ("mean", "std", "low", "high")}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"mean": float(value), "std": None, "low": None, "high": None}
    return {"mean": None, "std": None, "low": None, "high": None}


def stat_at(results: dict, key: str):
    """(mean, std) at ``key`` of the results: a number, or a {"mean", "std"} dict; (None, None) if missing."""
    entry = _entry(results, key)
    return entry["mean"], entry["std"]


def _has_interval(entry: dict) -> bool:
    return entry["low"] is not None and entry["high"] is not None


def format_stat(mean, std=None, low=None, high=None) -> str:
    if mean is None:
        return "—"
    if isinstance(mean, (tuple, list)):
        return "(" + ", ".join(f"{v:.2f}" for v in mean) + ")"
    text = f"{mean:.4g}"
    if low is not None and high is not None:
        return text + f" [{low:.4g}, {high:.4g}]"
    return text + (f" ± {std:.2g}" if std else "")


def _pairs(results: dict, section: str, metric: str, better, worse, label: str = "worse", require_all: bool = True):
    """An ordering claim on ``<section>.<metric>``: (text, verdict, basis).

    Every (better, worse) pair whose two policies have a mean is judged: by the stored
    difference intervals at ``<section>.differences.<metric>."b < w"`` if every such pair
    has one, else by the means (old rule; an exact tie is indistinguishable). ``label``
    names each pair in the text by its ``worse`` or its ``better`` policy. With a policy
    missing the verdict is ``cannot be checked`` (unless a present pair already fails),
    or, if not ``require_all``, judged on the pairs present.
    """
    pairs = claim_pairs(better, worse)
    means = {name: stat_at(results, f"{section}.{metric}.{name}")[0] for pair in pairs for name in pair}
    present = [(b, w) for b, w in pairs if means[b] is not None and means[w] is not None]
    if not present:
        return "—", UNCHECKABLE, BASIS_NONE
    name = (lambda b, w: w) if label == "worse" else (lambda b, w: b)
    stored = {(b, w): lookup(results, f"{section}.differences.{metric}.{pair_key(b, w)}") for b, w in present}
    if all(isinstance(v, dict) and v.get("low") is not None and v.get("high") is not None for v in stored.values()):
        text, verdict = claim_text({name(b, w): (v["low"], v["high"]) for (b, w), v in stored.items()})
        basis = BASIS_INTERVAL
    else:
        # the old rule: (difference, difference) as a degenerate interval; ties contain 0
        text, verdict = claim_text({name(b, w): (means[b] - means[w],) * 2 for b, w in present})
        basis = BASIS_POINT
    if len(present) < len(pairs):
        missing = sorted({n for pair in pairs for n in pair if means[n] is None})
        text += " (missing: " + ", ".join(missing) + ")"
        if verdict != DIFFERS and require_all:
            verdict = UNCHECKABLE
    return text, verdict, basis


def _with_fallback(results: dict) -> dict:
    """``results`` with Figure 5 filled from chapter 5's default reading where chapter 3 has
    not recorded it yet (the DQN of Figure 5, ``drl_wide`` there, is ``drl`` here): the
    policies' entries, and the difference intervals of pairs whose two policies both came
    from chapter 5."""
    variant = "output_return=True/ratio_of_means"
    rename = {"drl_wide": "drl"}
    fallback = lookup(results, f"baselines.variants.{variant}") or {}
    differences = lookup(results, f"baselines.differences.{variant}") or {}
    if not fallback and not differences:
        return results
    results = copy.deepcopy(results)
    values = {rename.get(k, k): v for k, v in fallback.items()
              if lookup(results, f"figure5.normalized_latency.{rename.get(k, k)}") is None}
    pairs = {}
    for key, value in differences.items():
        b, w = (rename.get(part, part) for part in key.split(" < "))
        if b in values and w in values:  # never a chapter-5 difference beside chapter-3 means
            pairs[pair_key(b, w)] = value
    return merge(results, {"figure5": {"normalized_latency": values, "differences": {"normalized_latency": pairs}}})


def delay_key(results: dict) -> str:
    """Where the Table 1 ratios to judge are: at equal implementation effort (each policy,
    Greedy included, in its fastest form for the regime) when the run recorded them, else
    the plain table."""
    return "table1_details.equal_effort" if lookup(results, "table1_details.equal_effort") else "table1"


class _Rows:
    """The rows of the Summary being built from one results file (:func:`summary_rows`)."""

    def __init__(self, results: dict):
        self.results = results
        self.rows: list[dict] = []

    def add(self, where, what, paper_text, ours_text, verdict, kind=RESULT, *, basis=None):
        if basis is None or verdict == UNCHECKABLE:
            basis = BASIS_NONE if verdict == UNCHECKABLE else BASIS_POINT
        self.rows.append({"where": where, "what": what, "kind": kind, "paper": paper_text, "ours": ours_text,
                          "verdict": verdict, "uncertainty": basis})

    def add_number(self, where, what, value, key, rtol=RELATIVE_TOLERANCE, kind=RESULT, paper_text=None):
        entry = _entry(self.results, key)
        verdict = number_verdict(value, entry["mean"], entry["std"], rtol, entry["low"], entry["high"])
        basis = BASIS_INTERVAL if _has_interval(entry) else BASIS_SEEDS if entry["std"] is not None else BASIS_POINT
        self.add(where, what, f"{value:g}" if paper_text is None else paper_text, format_stat(**entry), verdict, kind,
                 basis=basis)


METRIC = "normalized_latency"


def _figure5(rows: _Rows) -> None:
    """Figure 5's bars and the claims of its text."""
    results, add, add_number = rows.results, rows.add, rows.add_number
    fig5, metric = "figure5", METRIC
    for policy, value in paper.FIGURE5.items():
        add_number("Figure 5", f"normalised latency, {policy}", value, f"{fig5}.{metric}.{policy}",
                   kind=IDENTITY if policy == "optimal" else RESULT)
    for what, (better, worse) in FIGURE5_CLAIMS.items():
        if what.startswith("Random"):
            continue
        text, verdict, basis = _pairs(results, fig5, metric, better, worse)
        add("Figure 5 (text)", what, "claimed", text, verdict, basis=basis)
    # Random: every other policy below it
    better, worse = FIGURE5_CLAIMS["Random is far worse than the others"]
    text, verdict, basis = _pairs(results, fig5, metric, better, worse, label="better", require_all=False)
    random_mean = stat_at(results, f"{fig5}.{metric}.random")[0]
    others = [v for v in (stat_at(results, f"{fig5}.{metric}.{name}")[0] for name in better) if v is not None]
    if random_mean is not None and others:
        text = f"Random {random_mean:.3g} vs next worst {max(others):.3g}" + ("" if text == "holds" else f"; {text}")
    add("Figure 5 (text)", "Random is far worse than the others", "claimed", text, verdict, basis=basis)
    dil = _entry(results, f"{fig5}.{metric}.dil")
    bound = 1 + paper.DIL_INCREASE_BOUND
    dil_text = "—" if dil["mean"] is None else f"{dil['mean'] - 1:+.1%}" + (
        f" [{dil['low'] - 1:+.1%}, {dil['high'] - 1:+.1%}]" if _has_interval(dil) else "")
    add("Figure 5 (text)", "DIL's latency is less than 10 % above optimal", "claimed", dil_text,
        bound_verdict(bound, dil["mean"], dil["low"], dil["high"]),
        basis=BASIS_INTERVAL if _has_interval(dil) else BASIS_POINT)


def _figure6(rows: _Rows) -> None:
    """Figure 6's bars and the claims of its text."""
    results, add, add_number = rows.results, rows.add, rows.add_number
    fig5, fig6, metric = "figure5", "figure6", METRIC
    for policy, value in paper.FIGURE6.items():
        add_number("Figure 6", f"normalised latency, {policy}", value, f"{fig6}.{metric}.{policy}",
                   kind=IDENTITY if policy == "optimal" else RESULT)
    what = "KD-DIL beats Baseline DIL, DRL and Greedy"
    text, verdict, basis = _pairs(results, fig6, metric, *FIGURE6_CLAIMS[what])
    add("Figure 6 (text)", what, "claimed", text, verdict, basis=basis)
    what = "DRL is much worse with 1,000 samples than in Figure 5"
    drl5, drl6 = stat_at(results, f"{fig5}.{metric}.drl")[0], stat_at(results, f"{fig6}.{metric}.drl")[0]
    stored = lookup(results, f"{fig6}.differences.{metric}.{pair_key('drl_wide', 'drl')}")
    if drl5 is None or drl6 is None:
        add("Figure 6 (text)", what, "claimed", "—", UNCHECKABLE)
    elif isinstance(stored, dict) and stored.get("low") is not None and stored.get("high") is not None:
        reading, verdict = claim_text({"Figure 5's DRL": (stored["low"], stored["high"])})
        add("Figure 6 (text)", what, "claimed", f"{drl6:.3g} vs {drl5:.3g} ({reading})", verdict,
            basis=BASIS_INTERVAL)
    else:
        add("Figure 6 (text)", what, "claimed", f"{drl6:.3g} vs {drl5:.3g}",
            claim_text({"Figure 5's DRL": (drl5 - drl6,) * 2})[1])


def _table1(rows: _Rows) -> None:
    """Table 1's ratios and the claims of its text, per regime."""
    results, add, add_number = rows.results, rows.add, rows.add_number
    implied_cut = 1 - paper.TABLE1["kd_dil"] / paper.TABLE1["dil"]
    delay = delay_key(results)
    for regime in ("batched", "online"):
        for policy, value in paper.TABLE1.items():
            add_number(f"Table 1 ({regime})", f"inference delay / Greedy's, {policy}", value,
                       f"{delay}.{regime}.{policy}.vs_greedy", DELAY_TOLERANCE,
                       IDENTITY if policy == "greedy" else RESULT, f"{value:.2f}")
        dil = stat_at(results, f"{delay}.{regime}.dil.vs_greedy")[0]
        kd_dil = stat_at(results, f"{delay}.{regime}.kd_dil.vs_greedy")[0]
        cut = None if dil is None or kd_dil is None else 1 - kd_dil / dil
        add(f"Table 1 ({regime})", "KD-DIL's delay is 63 % below DIL's",
            f"{paper.KD_DELAY_CUT:.0%} stated; {implied_cut:.0%} by its Table 1",
            "—" if cut is None else f"{cut:.0%}",
            number_verdict((paper.KD_DELAY_CUT, implied_cut), cut, rtol=DELAY_TOLERANCE))
        add(f"Table 1 ({regime})", "Greedy is slightly slower than DIL", "claimed",
            "—" if dil is None else f"DIL {dil:.2f} × Greedy", bound_verdict(1.0, dil))
        # The paper's Optimal is exhaustive search; at equal effort its fastest form stands for it.
        exact = "optimal" if delay.endswith("equal_effort") else "optimal_exhaustive"
        slow = {name: stat_at(results, f"{delay}.{regime}.{name}.vs_greedy")[0] for name in (exact, "drl")}
        if dil is None or any(v is None for v in slow.values()):
            add(f"Table 1 ({regime})", "Optimal and DRL take hundreds of times DIL's delay", "claimed", "—", UNCHECKABLE)
        else:
            factors = {name: value / dil for name, value in slow.items()}
            add(f"Table 1 ({regime})", "Optimal and DRL take hundreds of times DIL's delay", "claimed",
                ", ".join(f"{name} {factor:.3g}×" for name, factor in factors.items()),
                REPRODUCED if min(factors.values()) >= paper.SLOW_FACTOR else DIFFERS)


def _sizes_and_settings(rows: _Rows) -> None:
    """Parameter counts, the settings echoed (sizes, |A|, T, layer shapes) and the softening example."""
    results, add = rows.results, rows.add
    for net, value in paper.PARAMETERS.items():
        mean, _ = stat_at(results, f"params.{net}")
        add("§5.1–5.2", f"parameters of the {net}", f"{value:,.0f}", "—" if mean is None else f"{mean:,.0f}",
            number_verdict(value, mean, rtol=0.1), basis=BASIS_EXACT)
    teacher, student = stat_at(results, "params.teacher")[0], stat_at(results, "params.student")[0]
    reduction = None if not teacher or student is None else 1 - student / teacher
    add("§5.2", "student's parameters below the teacher's", f"{paper.STUDENT_REDUCTION:.3%}",
        "—" if reduction is None else f"{reduction:.3%}", number_verdict(paper.STUDENT_REDUCTION, reduction, rtol=1e-3),
        basis=BASIS_EXACT)
    settings = [("§5.1", "wide training requirements", paper.DATASET_SIZES["train"], "settings.train_size"),
                ("§5.1", "wide test requirements", paper.DATASET_SIZES["test"], "settings.test_size"),
                ("§5.2", "narrow training requirements", paper.DATASET_SIZES["narrow"], "settings.narrow_size"),
                ("§5.1", "subtasks |A|", paper.NUM_SUBTASKS, "settings.num_subtasks"),
                ("§4, §5.2", "temperature T of KD-DIL", paper.TEMPERATURE, "figure6.T")]
    for where, what, value, key in settings:
        ours = lookup(results, key)
        add(where, f"setting: {what}", f"{value:,}", "—" if ours is None else f"{ours:,}",
            UNCHECKABLE if ours is None else REPRODUCED if ours == value else DIFFERS, SETTING, basis=BASIS_EXACT)
    for net, hidden in (("teacher", paper.TEACHER_HIDDEN), ("student", paper.STUDENT_HIDDEN)):
        ours = lookup(results, f"settings.{net}_hidden")
        add("§5.1–5.2", f"setting: hidden layers of the {net}", " × ".join(map(str, hidden)),
            "—" if ours is None else " × ".join(map(str, ours)),
            UNCHECKABLE if ours is None else REPRODUCED if tuple(ours) == tuple(hidden) else DIFFERS, SETTING,
            basis=BASIS_EXACT)
    for temperature, softened in paper.SOFTENING_EXAMPLE["softened"].items():
        ours = lookup(results, f"softening.T{temperature}")
        if ours is None:
            add("§4", f"softened example label at T = {temperature}", format_stat(softened), "—", UNCHECKABLE)
        else:
            close = all(abs(a - b) <= 0.015 for a, b in zip(ours, softened))
            add("§4", f"softened example label at T = {temperature}", format_stat(softened), format_stat(ours),
                REPRODUCED if close else DIFFERS, basis=BASIS_EXACT)


def summary_rows(results: dict) -> list[dict]:
    """Every number and claim the paper publishes, beside ours, with a verdict.

    The paper's numbers come from :mod:`kdoffload.paper`; ours from ``results`` (the results
    file). Columns: where, what, kind, paper, ours, verdict, uncertainty (what decided the
    verdict; module docstring). Missing results give ``cannot be checked``.
    """
    # Until Figure 5 is recorded (chapter 3), its baselines come from chapter 5's default variant.
    rows = _Rows(_with_fallback(results))
    for section in (_figure5, _figure6, _table1, _sizes_and_settings):
        section(rows)
    return rows.rows


def tally(rows) -> dict[str, int]:
    """How many rows of kind ``result`` have each verdict (settings echoed and identities
    are left out: they match by choice or by construction). ``rows`` are :func:`summary_rows`
    (a list of dicts or a frame); every verdict of :data:`VERDICTS` is a key."""
    records = rows.to_dict("records") if hasattr(rows, "to_dict") else list(rows)
    counts = dict.fromkeys(VERDICTS, 0)
    for row in records:
        if row["kind"] == RESULT:
            counts[row["verdict"]] += 1
    return counts


#: Background colour of each verdict in the Summary's tables.
VERDICT_STYLES = {REPRODUCED: "background-color: #d4edda", DIFFERS: "background-color: #f8d7da",
                  INDISTINGUISHABLE: "background-color: #fff3cd"}


def summary_table(rows, uuid: str = "summary"):
    """A pandas Styler of summary rows (a frame of :func:`summary_rows`), verdicts coloured."""
    import pandas as pd

    frame = pd.DataFrame(rows).set_index(["where", "what"])
    return frame.style.set_uuid(uuid).apply(
        lambda column: [VERDICT_STYLES.get(v, "color: #6c757d") for v in column], subset=["verdict"])
