"""One sentence per point of the book's Assumptions page: the effect a run measured.

:func:`assumption_effects` reads a results file (:mod:`kdoffload.report`) and says, for each
reading the book takes where the paper is silent or lost, what it changed in this run;
a point whose chapter has not run yet says so.
"""

from __future__ import annotations

import numpy as np

from . import paper
from .report import lookup
from .verdicts import delay_key, format_stat, stat_at


def _pending(chapter: str) -> str:
    return f"not measured yet (chapter {chapter})"


def assumption_effects(results: dict) -> dict[int, str]:
    """One sentence per point of the book's Assumptions page with the effect measured in this run."""

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
    drl5, drl6 = stat_at(results, "figure5.normalized_latency.drl"), stat_at(results, "figure6.normalized_latency.drl")
    if drl5[0] is not None:
        effects[8] = (f"The DQN's normalised latency on the wide test set: {format_stat(*drl5)} trained on the wide "
                      "training set (Figure 5)"
                      + (f", {format_stat(*drl6)} trained on the 1,000 narrow requirements (Figure 6)." if drl6[0] is not None
                         else "."))
    else:
        effects[8] = _pending("3")
    kd, base = stat_at(results, "figure6.normalized_latency.kd_dil"), stat_at(results, "figure6.normalized_latency.baseline_dil")
    effects[9] = (f"Trained on the narrow set and tested on the wide one, KD-DIL reaches {format_stat(*kd)} and Baseline DIL "
                  f"{format_stat(*base)} (normalised latency).") if kd[0] is not None and base[0] is not None else _pending("4")
    switch = lookup(results, "figure6.stats_switch") or {}
    if switch.get("fit") and switch.get("wide"):
        effects[9] += (" Their inputs are standardised with moments fitted on their own narrow data; with the exact "
                       "moments of the wide ranges instead (knowledge the §5.2 premise denies them) the normalised "
                       "latency would be " + ", ".join(f"{name} {switch['wide'][name]:.3g} (not {switch['fit'][name]:.3g})"
                                                       for name in switch["fit"] if name in switch["wide"]) + ".")
    teacher, student = lookup(results, "params.teacher"), lookup(results, "params.student")
    effects[10] = (f"The stated shapes give {teacher:,} (teacher) and {student:,} (student) parameters, "
                   f"{teacher / paper.PARAMETERS['teacher']:.0%} and {student / paper.PARAMETERS['student']:.0%} of the "
                   "stated counts."
                   if teacher and student else _pending("3"))
    t5, t10 = lookup(results, "softening.T5"), lookup(results, "softening.T10")
    matching = lookup(results, "softening.matching") or {}
    if t5 and t10:
        effects[12] = f"The implemented softening gives {format_stat(t5)} at T = 5 and {format_stat(t10)} at T = 10."
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
    batched = lookup(results, f"{delay_key(results)}.batched") or {}
    online = lookup(results, f"{delay_key(results)}.online") or {}
    if "dil" in batched and "dil" in online and "kd_dil" in batched and "kd_dil" in online:
        effects[14] = ("Each policy in its fastest form, against Greedy in its fastest form, DIL / KD-DIL take "
                       f"{batched['dil']['vs_greedy']:.2f} / {batched['kd_dil']['vs_greedy']:.2f} of Greedy's delay "
                       f"batched and {online['dil']['vs_greedy']:.2f} / {online['kd_dil']['vs_greedy']:.2f} online "
                       f"(paper: {paper.TABLE1['dil']:.2f} / {paper.TABLE1['kd_dil']:.2f}).")
    else:
        effects[14] = ("Both regimes are measured; see Table 1." if batched else _pending("6"))
    return effects
