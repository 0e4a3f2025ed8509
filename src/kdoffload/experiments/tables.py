"""Display formatting of the experiments' frames: the tables the chapters show.

Nothing here computes a result: each function turns a frame of
:mod:`kdoffload.experiments` into text cells (``mean ± std``, ``mean [low, high]``,
holds / fails), with display labels (:data:`kdoffload.plots.POLICY_LABELS`) where given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from .output_readings import NORMALISATIONS
from .policies import METRICS, mean_std


METRIC_LABELS = {"normalized_latency": "normalised latency", "mean_ratio": "mean ratio",
                 "median_ratio": "median ratio", "accuracy": "accuracy (whole decision)",
                 "subtask_accuracy": "accuracy (per subtask)"}


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


def interval_display(frame: pd.DataFrame, labels: Mapping[str, str] | None = None, digits: int = 3) -> pd.DataFrame:
    """An :func:`interval_table` as text: one row per policy, one ``mean [low, high]`` column per metric."""
    text = frame.assign(text=[f"{row.mean:.{digits}f} [{row.low:.{digits}f}, {row.high:.{digits}f}]"
                              for row in frame.itertuples()])
    shown = text.pivot(index="policy", columns="metric", values="text")
    shown = shown.reindex(index=list(dict.fromkeys(frame["policy"])), columns=list(dict.fromkeys(frame["metric"])))
    shown.columns = [METRIC_LABELS.get(metric, metric) for metric in shown.columns]
    if labels is not None:
        shown.index = [labels.get(key, key) for key in shown.index]
    shown.index.name = "policy"
    return shown


def claim_readings(frame: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """One verdict text per claim (and per value of the ``by`` columns) of an
    :func:`ordering_intervals` frame: ``holds`` (every pair's interval below 0), ``fails
    against …`` (some interval above 0) or ``indistinguishable from …`` (some contains 0)."""
    from ..verdicts import claim_text

    keys = ["claim", *by]
    rows = [{**dict(zip(keys, key if isinstance(key, tuple) else (key,))),
             "verdict": claim_text({row.worse if len(set(group["better"])) == 1 else row.better: (row.low, row.high)
                                    for row in group.itertuples()})[0]}
            for key, group in frame.groupby(keys, sort=False)]
    table = pd.DataFrame(rows)
    return table.set_index("claim") if not by else table.pivot(index="claim", columns=list(by), values="verdict")


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


def orderings_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`orderings` as text (holds / fails / —), one row per claim, one column per reading."""
    shown = table.T.map(lambda value: {True: "holds", False: "fails"}.get(value, "—"))
    shown.columns = pd.MultiIndex.from_tuples(
        [("output returned" if r else "output stays", n) for r, n in shown.columns])
    return shown


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
