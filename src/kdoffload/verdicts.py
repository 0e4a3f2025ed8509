"""The Summary's verdicts: the paper's numbers and claims beside ours.

:func:`summary_rows` reads a results file (see :mod:`kdoffload.report`) and the paper's
numbers (:mod:`kdoffload.paper`) and gives one row per published number or claim with a
verdict; :func:`summary_table` styles those rows and :func:`assumption_effects` gives one
sentence per point of ``ambiguities.md`` with the effect measured in a run.
"""

from __future__ import annotations

import json

import numpy as np

from . import paper
from .report import lookup, merge


# --- the paper's numbers beside ours ------------------------------------------------------------

#: Verdicts of the Summary chapter.
REPRODUCED, DIFFERS, UNCHECKABLE = "reproduced", "differs", "cannot be checked"

#: A number of ours reproduces the paper's if they differ by at most this share of the
#: paper's value, or by at most two standard deviations over seeds, whichever is larger.
RELATIVE_TOLERANCE = 0.05


def number_verdict(paper_value, mean, std=None, rtol: float = RELATIVE_TOLERANCE) -> str:
    """``reproduced`` if ``mean`` is within ``max(rtol * |paper|, 2 std)`` of the paper's value."""
    if paper_value is None or mean is None:
        return UNCHECKABLE
    tolerance = max(rtol * abs(paper_value), 2 * (std or 0.0))
    return REPRODUCED if abs(mean - paper_value) <= tolerance else DIFFERS


def _stat(results: dict, key: str):
    """(mean, std) at ``key`` of the results: a number, or a {"mean", "std"} dict; (None, None) if missing."""
    value = lookup(results, key)
    if isinstance(value, dict):
        return value.get("mean"), value.get("std")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), None
    return None, None


def _fmt(mean, std=None) -> str:
    if mean is None:
        return "—"
    if isinstance(mean, (tuple, list)):
        return "(" + ", ".join(f"{v:.2f}" for v in mean) + ")"
    text = f"{mean:.4g}"
    return text + (f" ± {std:.2g}" if std else "")


def _ordering(results: dict, key: str, better: str, worse) -> tuple[str, str]:
    """Check that policy ``better`` has a lower mean than every policy in ``worse`` at ``key``."""
    worse = [worse] if isinstance(worse, str) else list(worse)
    better_mean, _ = _stat(results, f"{key}.{better}")
    others = {name: _stat(results, f"{key}.{name}")[0] for name in worse}
    present = {name: value for name, value in others.items() if value is not None}
    if better_mean is None or not present:
        return "—", UNCHECKABLE
    failing = [name for name, value in present.items() if not better_mean < value]
    text = "holds" if not failing else "fails against " + ", ".join(failing)
    if len(present) < len(worse) and not failing:
        text += " (missing: " + ", ".join(sorted(set(worse) - set(present))) + ")"
    verdict = DIFFERS if failing else (REPRODUCED if len(present) == len(worse) else UNCHECKABLE)
    return text, verdict


def summary_rows(results: dict) -> list[dict]:
    """Every number and claim the paper publishes, beside ours, with a verdict.

    The paper's numbers come from :mod:`kdoffload.paper`; ours from ``results`` (the results
    file). Missing results give ``cannot be checked``.
    """

    rows = []
    # Until Figure 5 is recorded (chapter 3), its baselines come from chapter 5's default variant.
    fallback = lookup(results, "baselines.variants.output_return=True/ratio_of_means") or {}
    if fallback:
        results = merge(json.loads(json.dumps(results)),
                        {"figure5": {"normalized_latency": {k: v for k, v in fallback.items()
                                                            if lookup(results, f"figure5.normalized_latency.{k}") is None}}})

    def add(where, what, paper_text, ours_text, verdict):
        rows.append({"where": where, "what": what, "paper": paper_text, "ours": ours_text, "verdict": verdict})

    for policy, value in paper.FIGURE5.items():
        mean, std = _stat(results, f"figure5.normalized_latency.{policy}")
        add("Figure 5", f"normalised latency, {policy}", f"{value:g}", _fmt(mean, std), number_verdict(value, mean, std))
    fig5 = "figure5.normalized_latency"
    for what, better, worse in [
        ("DIL beats every baseline", "dil", ["greedy", "drl", "local", "edge", "cloud", "random"]),
        ("Edge beats Local", "edge", "local"),
        ("Edge beats Cloud", "edge", "cloud"),
    ]:
        add("Figure 5 (text)", what, "claimed", *_ordering(results, fig5, better, worse))
    random_text, random_verdict = "—", UNCHECKABLE
    others = [_stat(results, f"{fig5}.{name}")[0] for name in ("optimal", "dil", "greedy", "drl", "local", "edge", "cloud")]
    random_mean = _stat(results, f"{fig5}.random")[0]
    if random_mean is not None and any(v is not None for v in others):
        worst_other = max(v for v in others if v is not None)
        random_text = f"Random {random_mean:.3g} vs next worst {worst_other:.3g}"
        random_verdict = REPRODUCED if random_mean > worst_other else DIFFERS
    add("Figure 5 (text)", "Random is far worse than the others", "claimed", random_text, random_verdict)
    dil_mean = _stat(results, f"{fig5}.dil")[0]
    add("Figure 5 (text)", "DIL's latency is less than 10 % above optimal", "claimed",
        "—" if dil_mean is None else f"{dil_mean - 1:+.1%}",
        UNCHECKABLE if dil_mean is None else REPRODUCED if dil_mean < 1 + paper.DIL_INCREASE_BOUND else DIFFERS)


    for policy, value in paper.FIGURE6.items():
        mean, std = _stat(results, f"figure6.normalized_latency.{policy}")
        add("Figure 6", f"normalised latency, {policy}", f"{value:g}", _fmt(mean, std), number_verdict(value, mean, std))
    add("Figure 6 (text)", "KD-DIL beats Baseline DIL, DRL and Greedy", "claimed",
        *_ordering(results, "figure6.normalized_latency", "kd_dil", ["baseline_dil", "drl", "greedy"]))
    drl5, drl6 = _stat(results, f"{fig5}.drl")[0], _stat(results, "figure6.normalized_latency.drl")[0]
    if drl5 is None or drl6 is None:
        add("Figure 6 (text)", "DRL is much worse with 1,000 samples than in Figure 5", "claimed", "—", UNCHECKABLE)
    else:
        add("Figure 6 (text)", "DRL is much worse with 1,000 samples than in Figure 5", "claimed",
            f"{drl6:.3g} vs {drl5:.3g}", REPRODUCED if drl6 > drl5 else DIFFERS)

    for regime in ("batched", "online"):
        for policy, value in paper.TABLE1.items():
            mean, std = _stat(results, f"table1.{regime}.{policy}.vs_greedy")
            add(f"Table 1 ({regime})", f"inference delay / Greedy's, {policy}", f"{value:.2f}", _fmt(mean, std),
                number_verdict(value, mean, std, rtol=0.25))
        dil = _stat(results, f"table1.{regime}.dil.vs_greedy")[0]
        kd_dil = _stat(results, f"table1.{regime}.kd_dil.vs_greedy")[0]
        cut = None if dil is None or kd_dil is None else 1 - kd_dil / dil
        add(f"Table 1 ({regime})", "KD-DIL's delay is 63 % below DIL's", f"{paper.KD_DELAY_CUT:.0%}",
            "—" if cut is None else f"{cut:.0%}", number_verdict(paper.KD_DELAY_CUT, cut, rtol=0.25))
        add(f"Table 1 ({regime})", "Greedy is slightly slower than DIL", "claimed",
            "—" if dil is None else f"DIL {dil:.2f} × Greedy",
            UNCHECKABLE if dil is None else REPRODUCED if dil < 1 else DIFFERS)
        slow = {name: _stat(results, f"table1.{regime}.{name}.vs_greedy")[0] for name in ("optimal_exhaustive", "drl")}
        if dil is None or any(v is None for v in slow.values()):
            add(f"Table 1 ({regime})", "Optimal and DRL take hundreds of times DIL's delay", "claimed", "—", UNCHECKABLE)
        else:
            factors = {name: value / dil for name, value in slow.items()}
            add(f"Table 1 ({regime})", "Optimal and DRL take hundreds of times DIL's delay", "claimed",
                ", ".join(f"{name} {factor:.3g}×" for name, factor in factors.items()),
                REPRODUCED if min(factors.values()) >= paper.SLOW_FACTOR else DIFFERS)

    for net, value in paper.PARAMETERS.items():
        mean, _ = _stat(results, f"params.{net}")
        add("§5.1–5.2", f"parameters of the {net}", f"{value:,.0f}", "—" if mean is None else f"{mean:,.0f}",
            number_verdict(value, mean, rtol=0.1))
    teacher, student = _stat(results, "params.teacher")[0], _stat(results, "params.student")[0]
    reduction = None if not teacher or student is None else 1 - student / teacher
    add("§5.2", "student's parameters below the teacher's", f"{paper.STUDENT_REDUCTION:.3%}",
        "—" if reduction is None else f"{reduction:.3%}", number_verdict(paper.STUDENT_REDUCTION, reduction, rtol=1e-3))
    settings = [("§5.1", "wide training requirements", paper.DATASET_SIZES["train"], "settings.train_size"),
                ("§5.1", "wide test requirements", paper.DATASET_SIZES["test"], "settings.test_size"),
                ("§5.2", "narrow training requirements", paper.DATASET_SIZES["narrow"], "settings.narrow_size"),
                ("§5.1", "subtasks |A|", paper.NUM_SUBTASKS, "settings.num_subtasks"),
                ("§4, §5.2", "temperature T of KD-DIL", paper.TEMPERATURE, "figure6.T")]
    for where, what, value, key in settings:
        ours = lookup(results, key)
        add(where, f"setting: {what}", f"{value:,}", "—" if ours is None else f"{ours:,}",
            UNCHECKABLE if ours is None else REPRODUCED if ours == value else DIFFERS)
    for net, hidden in (("teacher", paper.TEACHER_HIDDEN), ("student", paper.STUDENT_HIDDEN)):
        ours = lookup(results, f"settings.{net}_hidden")
        add("§5.1–5.2", f"setting: hidden layers of the {net}", " × ".join(map(str, hidden)),
            "—" if ours is None else " × ".join(map(str, ours)),
            UNCHECKABLE if ours is None else REPRODUCED if tuple(ours) == tuple(hidden) else DIFFERS)
    for temperature, softened in paper.SOFTENING_EXAMPLE["softened"].items():
        ours = lookup(results, f"softening.T{temperature}")
        if ours is None:
            add("§4", f"softened example label at T = {temperature}", _fmt(softened), "—", UNCHECKABLE)
        else:
            close = all(abs(a - b) <= 0.015 for a, b in zip(ours, softened))
            add("§4", f"softened example label at T = {temperature}", _fmt(softened), _fmt(ours),
                REPRODUCED if close else DIFFERS)
    return rows


#: Background colour of each verdict in the Summary's tables.
VERDICT_STYLES = {REPRODUCED: "background-color: #d4edda", DIFFERS: "background-color: #f8d7da"}


def summary_table(rows, uuid: str = "summary"):
    """A pandas Styler of summary rows (a frame of :func:`summary_rows`), verdicts coloured."""
    import pandas as pd

    frame = pd.DataFrame(rows).set_index(["where", "what"])
    return frame.style.set_uuid(uuid).apply(
        lambda column: [VERDICT_STYLES.get(v, "color: #6c757d") for v in column], subset=["verdict"])


def _pending(chapter: str) -> str:
    return f"not measured yet (chapter {chapter})"


def assumption_effects(results: dict) -> dict[int, str]:
    """One sentence per point of ambiguities.md with the effect measured in this run."""

    effects = {}
    default = lookup(results, "baselines.variants.output_return=True/ratio_of_means") or {}
    stays = lookup(results, "baselines.variants.output_return=False/ratio_of_means") or {}
    orderings = lookup(results, "baselines.orderings") or {}
    if default and stays:
        readings = [{claim: by_variant.get(f"output_return={r}/ratio_of_means") for claim, by_variant in orderings.items()}
                    for r in (True, False)]
        flips = [claim for claim in orderings if None not in (readings[0][claim], readings[1][claim])
                 and readings[0][claim] != readings[1][claim]]
        effects[1] = ("Normalised latency (ratio of means) with the output returned / left in place: "
                      + ", ".join(f"{name} {default[name]['mean']:.3g} / {stays[name]['mean']:.3g}"
                                  for name in ("greedy", "local", "edge", "cloud") if name in default and name in stays)
                      + ". Orderings that change: " + (", ".join(flips) if flips else "none") + ".")
    else:
        effects[1] = _pending("5")
    cv = lookup(results, "system.mean_latency_cv") or {}
    top = lookup(results, "system.top1_share") or {}
    if cv and top:
        effects[6] = ("Across independent test sets the mean latency varies by (coefficient of variation) "
                      + ", ".join(f"{name} {cv[name]:.3f}" for name in ("optimal", "local", "edge", "cloud") if name in cv)
                      + "; the worst 1 % of samples carry "
                      + ", ".join(f"{name} {top[name]:.0%}" for name in ("optimal", "edge", "cloud") if name in top)
                      + " of the total latency.")
        ordering = lookup(results, "baselines.orderings.Edge < Local") or {}
        if ordering:
            holds = [variant for variant, ok in ordering.items() if ok]
            effects[6] += (" 'Edge beats Local' holds under: " + (", ".join(holds) if holds else "no reading") + ".")
    else:
        effects[6] = _pending("1")
    if default and "greedy" in default:
        effects[7] = f"Greedy's normalised latency: {default['greedy']['mean']:.3g} (default reading)."
    else:
        effects[7] = _pending("5")
    drl5, drl6 = _stat(results, "figure5.normalized_latency.drl"), _stat(results, "figure6.normalized_latency.drl")
    if drl5[0] is not None:
        effects[8] = (f"The DQN's normalised latency on the wide test set: {_fmt(*drl5)} trained on the wide "
                      "training set (Figure 5)"
                      + (f", {_fmt(*drl6)} trained on the 1,000 narrow requirements (Figure 6)." if drl6[0] is not None
                         else "."))
    else:
        effects[8] = _pending("3")
    kd, base = _stat(results, "figure6.normalized_latency.kd_dil"), _stat(results, "figure6.normalized_latency.baseline_dil")
    effects[9] = (f"Trained on the narrow set and tested on the wide one, KD-DIL reaches {_fmt(*kd)} and Baseline DIL "
                  f"{_fmt(*base)} (normalised latency).") if kd[0] is not None and base[0] is not None else _pending("4")
    teacher, student = lookup(results, "params.teacher"), lookup(results, "params.student")
    effects[10] = (f"The stated shapes give {teacher:,} (teacher) and {student:,} (student) parameters, "
                   f"{teacher / paper.PARAMETERS['teacher']:.0%} and {student / paper.PARAMETERS['student']:.0%} of the "
                   "stated counts."
                   if teacher and student else _pending("3"))
    t5, t10 = lookup(results, "softening.T5"), lookup(results, "softening.T10")
    matching = lookup(results, "softening.matching") or {}
    if t5 and t10:
        effects[12] = f"The implemented softening gives {_fmt(t5)} at T = 5 and {_fmt(t10)} at T = 10."
        if matching:
            effects[12] += (" The paper's examples match Hinton's form at T = "
                            + " and T = ".join(f"{m['T']:.2f} (within {m['max_error']:.3f})" for _, m in
                                               sorted(matching.items(), key=lambda item: float(item[0][1:])))
                            + ", about 1.3 times the stated temperatures.")
        sweep = lookup(results, "temperature_sweep") or {}
        if sweep.get("T") and sweep.get("kd_dil", {}).get("mean"):
            means = sweep["kd_dil"]["mean"]
            best = int(np.argmin(means))
            effects[12] += (f" Over T in {{{', '.join(f'{t:g}' for t in sweep['T'])}}} KD-DIL's normalised latency "
                            f"ranges from {min(means):.3g} (T = {sweep['T'][best]:g}) to {max(means):.3g}.")
    else:
        effects[12] = _pending("4")
    config = lookup(results, "training.teacher") or {}
    best_epochs = lookup(results, "training.teacher_best_epoch") or {}
    if config:
        effects[13] = (f"The teacher: {config.get('optimizer')} at learning rate {config.get('lr'):g}, batch "
                       f"{config.get('batch_size')}, at most {config.get('epochs')} epochs, "
                       f"{config.get('val_fraction', 0):.0%} held out for validation"
                       + (f"; kept epochs {', '.join(str(e) for e in best_epochs.values())}" if best_epochs else "")
                       + ".")
    else:
        effects[13] = _pending("3")
    batched = lookup(results, "table1.batched") or {}
    online = lookup(results, "table1.online") or {}
    if "dil" in batched and "dil" in online and "kd_dil" in batched and "kd_dil" in online:
        effects[14] = ("DIL / KD-DIL take "
                       f"{batched['dil']['vs_greedy']:.2f} / {batched['kd_dil']['vs_greedy']:.2f} of Greedy's delay "
                       f"batched and {online['dil']['vs_greedy']:.2f} / {online['kd_dil']['vs_greedy']:.2f} online "
                       f"(paper: {paper.TABLE1['dil']:.2f} / {paper.TABLE1['kd_dil']:.2f}).")
    else:
        effects[14] = ("Both regimes are measured; see Table 1." if batched else _pending("6"))
    return effects
