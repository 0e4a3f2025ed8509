"""Seaborn figure helpers for the book. Each returns the matplotlib Figure it drew.

Each helper closes the figure before returning it, so a notebook cell that ends with
``plots.something(...)`` shows it exactly once (as the cell's result) whatever runs the
kernel (papermill, nbval, Jupyter); the cell's ``mystnb.figure`` metadata gives it a
caption and a name.
"""

from __future__ import annotations

import functools

import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np
import pandas as pd
import seaborn as sns

from . import registry
from .system import LOCATION_NAMES, MEGA, Requirements

#: Colour of the paper's published values in every figure.
PAPER_COLOR = "#d62728"

#: Display names of the policy names and results-file keys, read live from :mod:`kdoffload.registry`.
POLICY_LABELS = registry.Labels()

#: Display names of the columns of training histories (kdoffload.train, kdoffload.drl).
HISTORY_LABELS = {
    "train_loss": "training loss", "val_loss": "validation loss", "val_accuracy": "validation accuracy",
    "val_subtask_accuracy": "validation accuracy per subtask",
    "val_normalized_latency": "validation normalised latency", "mean_reward": "mean reward", "loss": "TD loss",
    "epsilon": "exploration ε",
}


def _closed(draw):
    """Close the figure ``draw`` returns (it stays usable, and displays as the cell result)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        fig = draw(*args, **kwargs)
        plt.close(fig)
        return fig

    return wrapper


def setup() -> None:
    """The book's plotting style (seaborn whitegrid, a fixed figure size and resolution)."""
    sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")
    plt.rcParams.update({"figure.figsize": (7.5, 4.0), "figure.dpi": 100, "savefig.bbox": "tight",
                         "axes.titlesize": "medium"})


def label(policy: str) -> str:
    """Display name of a policy name or results-file key (the key itself if unknown)."""
    return POLICY_LABELS.get(policy, policy)


@_closed
def requirement_distributions(samples: dict[str, Requirements]) -> plt.Figure:
    """Histograms of the six fields of S for each named sample (e.g. wide and narrow presets)."""
    fields = [("E", "ε (10⁶ cycles)"), ("D", "d (MB)"), ("p1", "p₁ (MHz)"),
              ("p2", "p₂ (MHz)"), ("b1", "b₁ (MB/s)"), ("b2", "b₂ (MB/s)")]
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.2))
    colors = sns.color_palette("colorblind", len(samples))
    for ax, (field_name, axis_label) in zip(axes.flat, fields):
        for color, (name, req) in zip(colors, samples.items()):
            values = np.ravel(getattr(req, field_name)) / MEGA
            sns.histplot(x=values, stat="density", element="step", bins=40, color=color, label=name, ax=ax)
        ax.set(xlabel=axis_label, ylabel="")
    for row in axes:
        row[0].set_ylabel("density")
    axes.flat[2].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


@_closed
def heavy_tail(inverse_bandwidth: np.ndarray, latencies: dict[str, np.ndarray], bandwidth_high: float) -> plt.Figure:
    """Left: survival function of 1/b with the exact law 1/(B x); right: running mean latency.

    ``inverse_bandwidth`` is 1/b in s/MB; ``latencies`` maps a policy key to per-sample
    latencies (s) in sampling order; ``bandwidth_high`` is B in MB/s.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    x = np.sort(inverse_bandwidth)
    survival = 1.0 - np.arange(len(x)) / len(x)
    left.loglog(x, survival, label="sampled")
    grid = np.geomspace(1 / bandwidth_high, x[-1], 50)
    left.loglog(grid, np.minimum(1.0, 1.0 / (bandwidth_high * grid)), "--", color="k", label="1 / (B x)")
    left.set(xlabel="1/b₁ (s per MB)", ylabel="P(1/b₁ > x)", title="tail of 1/b₁: slope −1, infinite mean")
    left.legend()
    n = np.arange(1, len(next(iter(latencies.values()))) + 1)
    for key, values in latencies.items():
        right.plot(n, np.cumsum(values) / n, label=label(key))
    right.set(xscale="log", yscale="log", xlabel="samples n", ylabel="mean latency of first n (s)",
              title="running mean latency")
    right.legend()
    fig.tight_layout()
    return fig


@_closed
def label_balance(shares: pd.DataFrame) -> plt.Figure:
    """Stacked bars of the share of each location per subtask; ``shares`` has columns
    dataset, subtask, location, share."""
    datasets = list(dict.fromkeys(shares["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.6), sharey=True, squeeze=False)
    colors = sns.color_palette("colorblind", 3)
    for ax, dataset in zip(axes[0], datasets):
        table = shares[shares["dataset"] == dataset].pivot(index="subtask", columns="location", values="share")
        table = table[[name for name in LOCATION_NAMES if name in table.columns]]
        bottom = np.zeros(len(table))
        for color, location in zip(colors, table.columns):
            ax.bar(table.index, table[location], bottom=bottom, color=color, label=location)
            bottom += table[location].to_numpy()
        ax.set(title=dataset, xlabel="subtask t", ylim=(0, 1))
    axes[0][0].set_ylabel("share of optimal labels")
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


@_closed
def normalized_bars(values: pd.DataFrame, paper: dict | None = None, log: bool = False,
                    ylabel: str = "normalised latency (optimal = 1)", annotate: bool = True,
                    points: bool = False) -> plt.Figure:
    """Bars of the mean over seeds with ± 1 std error bars; the paper's values as red marks.

    ``values`` has columns policy, seed, value (one row per policy and seed), in the
    order the bars should appear. ``annotate`` writes each mean under its bar's label.
    ``log`` asks for a log axis, used when the means span more than a factor of 5.
    ``points`` draws each mean as a point instead of a bar, so the axis need not start at 0
    and close values (1.10 against 1.13) stay apart.
    """
    order = list(dict.fromkeys(values["policy"]))
    fig, ax = plt.subplots()
    draw = sns.pointplot if points else sns.barplot
    style = {"linestyle": "none", "markers": "o"} if points else {}
    draw(values, x="policy", y="value", order=order, errorbar="sd", capsize=0.15, ax=ax,
         color=sns.color_palette("colorblind")[0], **style)
    for index, policy in enumerate(order):
        if paper and policy in paper:
            ax.plot(index, paper[policy], marker="D", color=PAPER_COLOR, markersize=8, linestyle="none",
                    label="paper" if index == min(order.index(p) for p in paper if p in order) else None)
            ax.annotate(f"paper {paper[policy]:g}", (index, paper[policy]), textcoords="offset points",
                        xytext=(0, -14), ha="center", va="top", color=PAPER_COLOR, fontsize="small",
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                              "alpha": 0.8})
    ax.axhline(1.0, color="grey", linewidth=0.8)
    means = values.groupby("policy", sort=False)["value"].mean()
    ticks = [label(p) + (f"\n{means[p]:.3g}" if annotate else "") for p in order]
    ax.set_xticks(range(len(order)), ticks)
    ax.set(xlabel="", ylabel=ylabel)
    if log and means.max() > 5 * means.min():  # a log axis only pays off over a wide range
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    if paper and any(p in order for p in paper):
        ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


@_closed
def ratio_distributions(ratios: pd.DataFrame, groups: dict[str, list[str]] | None = None) -> plt.Figure:
    """Empirical CDFs of per-sample latency ratios (policy / optimal), log x axis.

    ``ratios`` has columns policy and ratio. ``groups`` ({panel title: [policy, ...]})
    draws one panel per group (a policy may appear in several); default one panel.
    """
    groups = groups or {"": list(dict.fromkeys(ratios["policy"]))}
    fig, axes = plt.subplots(1, len(groups), figsize=(7.5 if len(groups) == 1 else 4.3 * len(groups), 4.0),
                             sharey=True, squeeze=False)
    upper = ratios.loc[np.isfinite(ratios["ratio"]), "ratio"].quantile(0.995)
    for ax, (title, members) in zip(axes[0], groups.items()):
        data = ratios[ratios["policy"].isin(members)]
        data = data.assign(policy=pd.Categorical(data["policy"].map(label), [label(m) for m in members]))
        sns.ecdfplot(data, x="ratio", hue="policy", ax=ax, palette="colorblind")
        ax.set(xscale="log", xlabel="latency / optimal (per sample)", title=title,
               xlim=(0.95, max(2.0, upper)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        ax.axvline(1.0, color="grey", linewidth=0.8)
        ax.get_legend().set_title("")
    axes[0][0].set_ylabel("share of samples ≤ x")
    fig.tight_layout()
    return fig


@_closed
def sweep(values: pd.DataFrame, x: str, y: str = "value", hue: str | None = None, paper_x=None,
          xlabel: str | None = None, ylabel: str = "normalised latency (optimal = 1)", log_x: bool = False,
          log_y: bool = False) -> plt.Figure:
    """Mean ± 1 std over seeds of ``y`` against ``x`` (e.g. a temperature sweep), optional hue;
    ``paper_x`` marks the paper's setting with a vertical line."""
    fig, ax = plt.subplots()
    if hue == "policy":
        values = values.assign(policy=values["policy"].map(label))
    sns.lineplot(values, x=x, y=y, hue=hue, errorbar="sd", marker="o", err_style="bars", ax=ax)
    if paper_x is not None:
        ax.axvline(paper_x, color=PAPER_COLOR, linestyle="--", label=f"paper's {x} = {paper_x:g}")
    if hue is not None or paper_x is not None:
        ax.legend(title="")
    if log_x:
        ax.set_xscale("log")
        ax.minorticks_off()
    ticks = sorted(values[x].unique())
    if len(ticks) <= 12:
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    if log_y:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel or x, ylabel=ylabel)
    fig.tight_layout()
    return fig


@_closed
def delay_bars(table1: dict, paper: dict | None = None) -> plt.Figure:
    """Inference delay per decision relative to Greedy, one horizontal bar per policy and regime
    (log scale).

    ``table1`` is ``{"batched": {policy: {"vs_greedy": x, ...}}, "online": {...}}``; ``paper``
    maps a policy to the paper's Table 1 ratio (drawn as red marks).
    """
    rows = [{"regime": regime, "policy": policy, "vs_greedy": entry["vs_greedy"]}
            for regime, entries in table1.items() for policy, entry in entries.items()]
    data = pd.DataFrame(rows)
    order = list(dict.fromkeys(data["policy"]))
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(order) + 1.2))
    sns.barplot(data, y="policy", x="vs_greedy", hue="regime", order=order, orient="h", ax=ax)
    if paper:
        marks = [(order.index(p), v) for p, v in paper.items() if p in order]
        ax.plot([v for _, v in marks], [i for i, _ in marks], "D", color=PAPER_COLOR, markersize=8,
                label="paper (Table 1)")
    ax.axvline(1.0, color="grey", linewidth=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.set_yticks(range(len(order)), [label(p) for p in order])
    ax.set(ylabel="", xlabel="delay per decision / Greedy's (log scale)")
    ax.legend(title="", loc="lower right")
    fig.tight_layout()
    return fig


@_closed
def training_history(history: pd.DataFrame, metrics: list[str], xlabel: str = "epoch",
                     best: dict | None = None) -> plt.Figure:
    """One panel per metric: mean ± 1 std over seeds against the training step.

    ``history`` is the long frame of :func:`kdoffload.experiments.histories` (seed, step,
    metric, value); ``best`` ({seed: step}) marks the kept checkpoint of each seed.
    """
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        data = history[history["metric"] == metric]
        sns.lineplot(data, x="step", y="value", errorbar="sd", marker="o" if data["step"].nunique() <= 30 else None,
                     ax=ax)
        for step in sorted(set((best or {}).values())):
            ax.axvline(step, color="grey", linestyle=":", linewidth=1)
        ax.set(xlabel=xlabel, ylabel="", title=HISTORY_LABELS.get(metric, metric))
        if metric == "val_normalized_latency" and data["value"].max() > 5 * data["value"].min():
            ax.set_yscale("log")  # early epochs can be far off; a log axis keeps the end readable
            ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
            ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    fig.tight_layout()
    return fig


@_closed
def budget_curve(curve: pd.DataFrame, bands: dict[str, tuple[float, float, float]]) -> plt.Figure:
    """Normalised latency of the narrow DQN against its reward-query budget (log axes),
    mean over seeds with the range over seeds as bars, one line per trunk size; ``bands``
    maps a label to (mean, low, high) of a policy drawn as a horizontal line in a shaded
    interval."""
    fig, ax = plt.subplots()
    palette = sns.color_palette("colorblind")
    sns.lineplot(curve, x="queries", y="normalized_latency", hue="hidden", errorbar=("pi", 100), marker="o",
                 err_style="bars", ax=ax, palette=palette[:curve["hidden"].nunique()])
    for index, (name, (mean, low, high)) in enumerate(bands.items()):
        color = palette[3 + index]
        ax.axhspan(low, high, color=color, alpha=0.2)
        ax.axhline(mean, color=color, linestyle="--", label=name)
    ax.set(xscale="log", yscale="log", xlabel="simulator reward queries of the narrow DQN",
           ylabel="normalised latency (optimal = 1)")
    ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.legend(title="DQN trunk / policy", fontsize="small")
    fig.tight_layout()
    return fig


@_closed
def softening(curves: pd.DataFrame, paper_points: dict) -> plt.Figure:
    """Softened probabilities of the paper's example label against T (Hinton's form, lines)
    with the paper's printed values (red diamonds). ``curves`` has columns T, location, q
    and optionally source (one line style per source); ``paper_points`` maps T to the
    paper's (q_device, q_edge, q_cloud)."""
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    style = "source" if "source" in curves and curves["source"].nunique() > 1 else None
    sns.lineplot(curves, x="T", y="q", hue="location", style=style, ax=ax, palette="colorblind")
    for i, (T, values) in enumerate(paper_points.items()):
        ax.plot([T] * len(values), values, "D", color=PAPER_COLOR, markersize=7, linestyle="none",
                label="paper's example" if i == 0 else None)
    ax.set(xscale="log", xlabel="temperature T", ylabel="softened probability q", ylim=(0, 1))
    ticks = [1, 2, 3, 5, 10, 20]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.legend(title="", loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig
