"""The experiments of chapters 3–6: the policies of Figures 5 and 6 over training seeds.

Every policy is named by its key in the results file (``optimal``, ``dil``, ``kd_dil``,
``baseline_dil``, ``greedy``, ``local``, ``edge``, ``cloud``, ``random``) or, for the two
DQNs, by ``drl_wide`` (Figure 5, trained on the wide training set) and ``drl_narrow``
(Figure 6, trained on the narrow §5.2 set). :func:`policy` returns it for one seed:

* the learned ones come from the cached entry points :func:`kdoffload.train.train_teacher`,
  :func:`kdoffload.train.train_baseline_dil`, :func:`kdoffload.distill.train_student_kd`
  and :func:`kdoffload.drl.train_dqn`, so every chapter that asks for the same
  (policy, seed, ``train_profile``, ``data_seed``, T, alpha) gets the same model, trained
  once; the KD-DIL student of seed ``s`` is distilled from the teacher of seed ``s``;
* ``random`` is seeded by the seed, the other rule-based policies ignore it;
* ``optimal`` is the exact dynamic program (the same decisions as the test set's CBC
  labels, see chapter 2).

:func:`scores` evaluates a set of policies for every seed on one labelled test set;
:func:`mean_std` and :func:`mean_std_table` turn that into the results file's
``{"mean", "std"}`` entries and a display table. Standard deviations are over seeds
(pandas' ``std``, ddof = 1, as seaborn's ``errorbar="sd"`` draws them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import paper
from .data import LabelledDataset
from .evaluate import latency_ratios, summarize
from .solvers import DynamicProgramming, heuristic

#: Bars of Figure 5 (§5.1) and Figure 6 (§5.2), in the paper's order, as
#: {key in the results file: policy name for :func:`policy`}.
FIGURE5 = {"optimal": "optimal", "dil": "dil", "greedy": "greedy", "drl": "drl_wide", "local": "local",
           "edge": "edge", "cloud": "cloud", "random": "random"}
FIGURE6 = {"optimal": "optimal", "kd_dil": "kd_dil", "baseline_dil": "baseline_dil", "drl": "drl_narrow",
           "greedy": "greedy"}

RULE_BASED = ("optimal", "greedy", "local", "edge", "cloud", "random")
LEARNED = ("dil", "kd_dil", "baseline_dil", "drl_wide", "drl_narrow")

#: Columns of :func:`scores` (those of :func:`kdoffload.evaluate.summarize`).
METRICS = ("normalized_latency", "mean_ratio", "median_ratio", "accuracy", "subtask_accuracy")
METRIC_LABELS = {"normalized_latency": "normalised latency", "mean_ratio": "mean ratio",
                 "median_ratio": "median ratio", "accuracy": "accuracy (whole decision)",
                 "subtask_accuracy": "accuracy (per subtask)"}


def _mapping(policies) -> dict[str, str]:
    if isinstance(policies, Mapping):
        return dict(policies)
    return {name: name for name in policies}


def learned_policy(name: str, seed: int = 0, train_profile: str = "smoke", data_seed: int = 0,
                   T: float = paper.TEMPERATURE, alpha: float = 0.0, progress: bool | None = None):
    """The learned policy ``name`` (one of :data:`LEARNED`) of training seed ``seed``.

    Through the cached entry points, so a second call (from any chapter) loads the model.
    ``T`` and ``alpha`` matter for ``kd_dil`` only.
    """
    from .distill import train_student_kd
    from .drl import train_dqn
    from .train import train_baseline_dil, train_teacher

    options = {"seed": int(seed), "profile": train_profile, "data_seed": int(data_seed), "progress": progress}
    if name == "dil":
        return train_teacher(**options)
    if name == "kd_dil":
        teacher = train_teacher(**options)
        return train_student_kd(teacher, T=T, alpha=alpha, **options)
    if name == "baseline_dil":
        return train_baseline_dil(**options)
    if name in ("drl_wide", "drl_narrow"):
        return train_dqn(name.removeprefix("drl_"), **options)
    raise ValueError(f"unknown learned policy {name!r}; choose one of {list(LEARNED)}")


def policy(name: str, seed: int = 0, **options):
    """Any policy by name: :data:`RULE_BASED` or :data:`LEARNED` (``options`` as in
    :func:`learned_policy`)."""
    if name == "optimal":
        return DynamicProgramming()
    if name in RULE_BASED:
        return heuristic(name, seed=seed)
    return learned_policy(name, seed, **options)


def scores(policies, test: LabelledDataset, seeds: Iterable[int], **options) -> pd.DataFrame:
    """One row per (policy, seed): the metrics of :func:`kdoffload.summarize` on ``test``.

    ``policies`` maps the key to show (e.g. ``"drl"``) to a policy name for :func:`policy`
    (e.g. ``"drl_wide"``), or is a sequence of names used as their own keys. The
    reference decisions are ``test.labels`` (the exact labels). ``options`` go to
    :func:`learned_policy` (``train_profile``, ``data_seed``, ``T``, ``alpha``).
    """
    req = test.requirements
    rows = []
    for seed in seeds:
        for key, name in _mapping(policies).items():
            decisions = policy(name, seed, **options).decide(req)
            rows.append({"policy": key, "seed": int(seed), **summarize(req, decisions, test.labels)})
    return pd.DataFrame(rows)


def ratios(policies, test: LabelledDataset, seed: int = 0, **options) -> pd.DataFrame:
    """Per-sample latency ratios (policy / optimal) on ``test`` for one seed: columns policy, ratio."""
    req = test.requirements
    frames = [pd.DataFrame({"policy": key, "ratio": latency_ratios(req, policy(name, seed, **options).decide(req),
                                                                   test.labels)})
              for key, name in _mapping(policies).items()]
    return pd.concat(frames, ignore_index=True)


def mean_std(frame: pd.DataFrame, metric: str = "normalized_latency", by: str = "policy") -> dict:
    """``{group: {"mean": m, "std": s}}`` of ``metric`` over the rows of each group (seeds)."""
    grouped = frame.groupby(by, sort=False)[metric]
    return {key: {"mean": float(group.mean()), "std": float(group.std()) if len(group) > 1 else 0.0}
            for key, group in grouped}


def mean_std_table(frame: pd.DataFrame, metrics: Sequence[str] = METRICS, by: str = "policy",
                   digits: int = 3, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A display table: one row per group, one ``mean ± std`` column per metric."""
    table = {}
    for metric in metrics:
        stats = mean_std(frame, metric, by)
        table[METRIC_LABELS.get(metric, metric)] = {
            key: f"{value['mean']:.{digits}f} ± {value['std']:.{digits}f}" for key, value in stats.items()}
    table = pd.DataFrame(table)
    if labels is not None:
        table.index = [labels.get(key, key) for key in table.index]
    table.index.name = by
    return table


def bar_values(frame: pd.DataFrame, metric: str = "normalized_latency") -> pd.DataFrame:
    """Columns policy, seed, value (the input of :func:`kdoffload.plots.normalized_bars`)."""
    return frame[["policy", "seed", metric]].rename(columns={metric: "value"})


# --------------------------------------------------------------------------- chapter 5: readings


def reading_scores(names: Sequence[str], seeds: Iterable[int], test_size: int, learned_readings=(True,),
                   **options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every policy under both readings of the output, on a fresh wide test set per seed.

    For each seed, ``kd.sample(test_size, "wide", seed=10_000 + seed)`` is labelled by
    dynamic programming with the output returned to the device and with the output left
    where the last subtask ran (ambiguity 1); every policy of ``names`` is scored by
    :func:`kdoffload.summarize` under each reading. Greedy is built for the reading;
    a learned policy (trained on output-returned labels) is scored only under the
    readings in ``learned_readings``. ``options`` go to :func:`learned_policy`.

    Returns ``(scores, ratios)``: one row per (seed, output_return, policy) with the
    metrics, and the per-sample ratios (policy, ratio) of the first seed, output returned.
    """
    from .solvers import Greedy, solve
    from .system import sample

    rows, ratio_frames = [], []
    for i, seed in enumerate(seeds):
        req = sample(test_size, "wide", seed=10_000 + seed)
        for output_return in (True, False):
            optimal = solve(req, method="dp", output_return=output_return)
            for name in names:
                if name in LEARNED and output_return not in learned_readings:
                    continue
                chosen = Greedy(output_return=output_return) if name == "greedy" else policy(name, seed, **options)
                decisions = chosen.decide(req)
                rows.append({"seed": int(seed), "output_return": output_return, "policy": name,
                             **summarize(req, decisions, optimal, output_return)})
                if output_return and i == 0:
                    ratio_frames.append(pd.DataFrame({"policy": name, "ratio": latency_ratios(
                        req, decisions, optimal, output_return)}))
    return pd.DataFrame(rows), pd.concat(ratio_frames, ignore_index=True)


#: The three normalisations of chapter 5: column of :func:`scores` -> display name.
NORMALISATIONS = {"normalized_latency": "ratio of means", "mean_ratio": "mean ratio",
                  "median_ratio": "median ratio"}


def reading_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds of each normalisation of a :func:`reading_scores` frame,
    indexed by (output_return, normalisation, policy)."""
    long = frame.melt(id_vars=["seed", "output_return", "policy"], value_vars=list(NORMALISATIONS),
                      var_name="normalisation")
    long["normalisation"] = long["normalisation"].map(NORMALISATIONS)
    return long.groupby(["output_return", "normalisation", "policy"], sort=False)["value"].agg(["mean", "std"])


def reading_display(table: pd.DataFrame, names: Sequence[str], labels: Mapping[str, str] | None = None,
                    digits: int = 2) -> pd.DataFrame:
    """:func:`reading_table` as ``mean ± std`` text, one row per policy (in ``names`` order),
    one column per (output reading, normalisation); "—" where a policy was not scored."""
    text = table.apply(lambda row: f"{row['mean']:.{digits}f} ± {row['std']:.{digits}f}", axis=1)
    shown = text.unstack(["output_return", "normalisation"]).reindex(names).fillna("—")
    order = [(r, n) for r in (True, False) for n in NORMALISATIONS.values() if (r, n) in shown.columns]
    shown = shown[order]
    shown.columns = pd.MultiIndex.from_tuples(
        [("output returned" if r else "output stays", n) for r, n in shown.columns])
    if labels is not None:
        shown.index = [labels.get(name, name) for name in shown.index]
    return shown


def ordering(means: Mapping[str, float], better: str, worse: Sequence[str]) -> bool | None:
    """Whether ``means[better]`` is below every ``means[w]``; None if any of them is missing or NaN."""
    needed = [better, *worse]
    if any(name not in means or means[name] is None or np.isnan(means[name]) for name in needed):
        return None
    return bool(all(means[better] < means[name] for name in worse))


#: The paper's ordering claims checked in chapter 5: claim -> (policy, policies it should beat).
CLAIMS = {
    "Edge < Local": ("edge", ["local"]),
    "Edge < Cloud": ("edge", ["cloud"]),
    "Greedy < Local, Edge, Cloud, Random": ("greedy", ["local", "edge", "cloud", "random"]),
    "DIL < every baseline": ("dil", ["greedy", "drl_wide", "local", "edge", "cloud", "random"]),
    "KD-DIL < Baseline DIL, DRL (narrow), Greedy": ("kd_dil", ["baseline_dil", "drl_narrow", "greedy"]),
    "DRL (wide) < DRL (narrow)": ("drl_wide", ["drl_narrow"]),
}


def orderings(means: pd.DataFrame, claims: Mapping = CLAIMS) -> pd.DataFrame:
    """Which claims hold on each row of ``means`` (rows: readings, columns: policies):
    True, False, or None where a policy of the claim is missing. Adds "Random is the
    worst" (Random above every other policy present)."""
    rows = [row for _, row in means.iterrows()]
    table = pd.DataFrame({claim: [ordering(row, better, worse) for row in rows]
                          for claim, (better, worse) in claims.items()}, index=means.index)
    table["Random is the worst"] = [bool((row.drop("random").dropna() < row["random"]).all())
                                    if "random" in row and not np.isnan(row["random"]) else None for row in rows]
    return table


def orderings_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`orderings` as text (holds / fails / —), one row per claim, one column per reading."""
    shown = table.T.map(lambda value: {True: "holds", False: "fails"}.get(value, "—"))
    shown.columns = pd.MultiIndex.from_tuples(
        [("output returned" if r else "output stays", n) for r, n in shown.columns])
    return shown


# --------------------------------------------------------------------------- training histories


def histories(models: Mapping[int, object], columns: Sequence[str]) -> pd.DataFrame:
    """The training histories of one model per seed as a long frame: seed, step, metric, value.

    ``step`` is the history's index (epochs for the MLPs, updates for the DQN).
    """
    frames = []
    for seed, model in models.items():
        history = model.history[[c for c in columns if c in model.history.columns]]
        long = history.reset_index().melt(id_vars=history.index.name or "index", var_name="metric",
                                          value_name="value")
        frames.append(long.rename(columns={history.index.name or "index": "step"}).assign(seed=int(seed)))
    return pd.concat(frames, ignore_index=True)[["seed", "step", "metric", "value"]]


def config_table(config: Mapping, columns: int = 3) -> pd.DataFrame:
    """A training configuration (a dict) as a compact table of ``columns`` (setting, value) pairs
    per row (read column by column)."""
    items = [(str(key), str(value)) for key, value in config.items()]
    rows = -(-len(items) // columns)
    table = {}
    for c in range(columns):
        chunk = items[c * rows:(c + 1) * rows] + [("", "")] * rows
        table[("setting", c)] = [key for key, _ in chunk[:rows]]
        table[("value", c)] = [value for _, value in chunk[:rows]]
    frame = pd.DataFrame(table)
    frame = frame[[column for c in range(columns) for column in (("setting", c), ("value", c))]]
    frame.columns = [name for name, _ in frame.columns]
    return frame.style.hide(axis="index")


def validation_vs_test(models: Mapping[str, Mapping[int, object]], frame: pd.DataFrame,
                       labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Validation normalised latency at the kept epoch beside the test one, per policy and seed.

    ``models`` maps a policy key to {seed: trained MLP} (with ``history`` and ``best_epoch``);
    ``frame`` is a :func:`scores` frame holding the same policies and seeds.
    """
    rows = [{"policy": key, "seed": int(seed),
             "validation": model.history.loc[model.best_epoch, "val_normalized_latency"]}
            for key, by_seed in models.items() for seed, model in by_seed.items()]
    tested = frame[["policy", "seed", "normalized_latency"]].rename(columns={"normalized_latency": "test"})
    table = pd.DataFrame(rows).merge(tested, on=["policy", "seed"])
    if labels is not None:
        table["policy"] = table["policy"].map(lambda key: labels.get(key, key))
    return table.set_index(["policy", "seed"])


# --------------------------------------------------------------------------- distillation


def distillation_scores(settings: Iterable[tuple[float, float]], test: LabelledDataset, seeds: Iterable[int],
                        train_profile: str = "smoke", data_seed: int = 0) -> pd.DataFrame:
    """KD-DIL for every (T, alpha) in ``settings`` and seed: columns T, alpha, seed and the metrics."""
    req = test.requirements
    rows = []
    for T, alpha in settings:
        for seed in seeds:
            student = learned_policy("kd_dil", seed, train_profile, data_seed, T=T, alpha=alpha)
            rows.append({"T": T, "alpha": alpha, "seed": int(seed),
                         **summarize(req, student.decide(req), test.labels)})
    return pd.DataFrame(rows)


def sweep_record(frame: pd.DataFrame, x: str, metric: str = "normalized_latency") -> dict:
    """``{x: [...], "mean": [...], "std": [...]}`` over seeds at each value of ``x`` (sorted)."""
    stats = mean_std(frame.sort_values(x), metric, by=x)
    return {x: list(stats), "mean": [v["mean"] for v in stats.values()], "std": [v["std"] for v in stats.values()]}


def softening_curves(temperatures: Sequence[float], scale: float = 1.0) -> pd.DataFrame:
    """Hinton's softening (:func:`kdoffload.distill.soften`) of the paper's example label at
    ``scale`` times each T: columns T, location, q, source (a legend label)."""
    from .distill import soften
    from .system import LOCATION_NAMES

    p = np.asarray(paper.SOFTENING_EXAMPLE["p"], dtype=np.float64)
    p = p / p.sum()
    source = "Hinton at T" if scale == 1 else f"Hinton at {scale:.2f} T"
    rows = [{"T": float(T), "location": location, "q": float(q), "source": source}
            for T in temperatures for location, q in zip(LOCATION_NAMES, soften(p, scale * T))]
    return pd.DataFrame(rows)


def matching_temperature(target, low: float = 1.0, high: float = 50.0, steps: int = 4901) -> dict:
    """The T (on a grid of ``steps`` points in [low, high]) at which Hinton's form softens the
    paper's example label closest to ``target`` (least squares over the three classes).

    Returns ``{"T": T, "q": softened label at T, "max_error": largest |q_i - target_i|}``.
    """
    from .distill import soften

    p = np.asarray(paper.SOFTENING_EXAMPLE["p"], dtype=np.float64)
    p = p / p.sum()
    target = np.asarray(target, dtype=np.float64)
    grid = np.linspace(low, high, steps)
    errors = [float(np.sum((soften(p, T) - target) ** 2)) for T in grid]
    T = float(grid[int(np.argmin(errors))])
    q = soften(p, T)
    return {"T": T, "q": q.tolist(), "max_error": float(np.max(np.abs(q - target)))}


# --------------------------------------------------------------------------- Table 1


def table1_display(table1: Mapping, paper_ratios: Mapping | None = None, labels: Mapping | None = None,
                   digits: int = 3) -> pd.DataFrame:
    """The results file's ``table1`` as one row per policy: µs per decision and ratio to Greedy
    in each regime, and the paper's ratio (— where the paper gives none)."""
    policies = list(dict.fromkeys(name for entries in table1.values() for name in entries))
    columns = {}
    for regime, entries in table1.items():
        columns[(regime, "µs / decision")] = {p: entries[p]["us_per_decision"] for p in entries}
        columns[(regime, "÷ Greedy")] = {p: entries[p]["vs_greedy"] for p in entries}
    frame = pd.DataFrame(columns).reindex(policies).round(digits)
    if paper_ratios is not None:
        frame[("paper", "÷ Greedy")] = [f"{paper_ratios[p]:.2f}" if p in paper_ratios else "—" for p in policies]
    if labels is not None:
        frame.index = [labels.get(p, p) for p in policies]
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame
