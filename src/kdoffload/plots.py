"""Seaborn figure helpers for the book. Each returns the matplotlib Figure it drew.

Each helper closes the figure before returning it, so a notebook cell that ends with
``plots.something(...)`` shows it exactly once (as the cell's result) whatever runs the
kernel (papermill, nbval, Jupyter); the cell's ``mystnb.figure`` metadata gives it a
caption and a name.
"""

from __future__ import annotations

import functools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .system import LOCATION_NAMES, MEGA, Requirements

#: Colour of the paper's published values in every figure.
PAPER_COLOR = "#d62728"

#: Display names of the policy keys of the results file.
POLICY_LABELS = {
    "optimal": "Optimal", "dil": "DIL", "kd_dil": "KD-DIL", "baseline_dil": "Baseline DIL",
    "greedy": "Greedy", "drl": "DRL", "local": "Local", "edge": "Edge", "cloud": "Cloud", "random": "Random",
    "optimal_exhaustive": "Optimal (exhaustive)", "optimal_dp": "Optimal (DP)", "optimal_ilp": "Optimal (ILP)",
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
    """Display name of a policy key."""
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
                    ylabel: str = "normalised latency (optimal = 1)") -> plt.Figure:
    """Bars of the mean over seeds with ± 1 std error bars; the paper's values as red marks.

    ``values`` has columns policy, seed, value (one row per policy and seed), in the
    order the bars should appear.
    """
    order = list(dict.fromkeys(values["policy"]))
    fig, ax = plt.subplots()
    sns.barplot(values, x="policy", y="value", order=order, errorbar="sd", capsize=0.15, ax=ax,
                color=sns.color_palette("colorblind")[0])
    for index, policy in enumerate(order):
        if paper and policy in paper:
            ax.plot(index, paper[policy], marker="D", color=PAPER_COLOR, markersize=8, linestyle="none",
                    label="paper" if index == min(order.index(p) for p in paper if p in order) else None)
            ax.annotate(f"paper {paper[policy]:g}", (index, paper[policy]), textcoords="offset points",
                        xytext=(0, 8), ha="center", color=PAPER_COLOR, fontsize="small")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(order)), [label(p) for p in order])
    ax.set(xlabel="", ylabel=ylabel)
    if log:
        ax.set_yscale("log")
    if paper and any(p in order for p in paper):
        ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


@_closed
def ratio_distributions(ratios: pd.DataFrame) -> plt.Figure:
    """Empirical CDFs of per-sample latency ratios (policy / optimal), log x axis.

    ``ratios`` has columns policy and ratio.
    """
    fig, ax = plt.subplots()
    data = ratios.assign(policy=ratios["policy"].map(label))
    sns.ecdfplot(data, x="ratio", hue="policy", ax=ax)
    ax.set(xscale="log", xlabel="latency / optimal latency (per sample)", ylabel="share of samples ≤ x")
    ax.axvline(1.0, color="grey", linewidth=0.8)
    fig.tight_layout()
    return fig


@_closed
def sweep(values: pd.DataFrame, x: str, y: str = "value", hue: str | None = None, paper_x=None,
          xlabel: str | None = None, ylabel: str = "normalised latency (optimal = 1)", log_x: bool = False) -> plt.Figure:
    """Mean ± 1 std over seeds of ``y`` against ``x`` (e.g. a temperature sweep), optional hue;
    ``paper_x`` marks the paper's setting with a vertical line."""
    fig, ax = plt.subplots()
    sns.lineplot(values, x=x, y=y, hue=hue, errorbar="sd", marker="o", err_style="bars", ax=ax)
    if paper_x is not None:
        ax.axvline(paper_x, color=PAPER_COLOR, linestyle="--", label=f"paper's {x} = {paper_x:g}")
        ax.legend()
    if log_x:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel or x, ylabel=ylabel)
    fig.tight_layout()
    return fig


@_closed
def learning_curves(history: pd.DataFrame, y: str = "loss", hue: str = "split") -> plt.Figure:
    """Mean ± 1 std over seeds of ``y`` per epoch; ``history`` has columns epoch, seed, ``hue``, ``y``."""
    fig, ax = plt.subplots()
    sns.lineplot(history, x="epoch", y=y, hue=hue, errorbar="sd", ax=ax)
    ax.set(xlabel="epoch", ylabel=y)
    fig.tight_layout()
    return fig


@_closed
def delay_bars(table1: dict, paper: dict | None = None) -> plt.Figure:
    """Inference delay per decision relative to Greedy, one bar per policy and regime (log y).

    ``table1`` is ``{"batched": {policy: {"vs_greedy": x, ...}}, "online": {...}}``; ``paper``
    maps a policy to the paper's Table 1 ratio (drawn as red marks).
    """
    rows = [{"regime": regime, "policy": policy, "vs_greedy": entry["vs_greedy"]}
            for regime, entries in table1.items() for policy, entry in entries.items()]
    data = pd.DataFrame(rows)
    order = list(dict.fromkeys(data["policy"]))
    fig, ax = plt.subplots()
    sns.barplot(data, x="policy", y="vs_greedy", hue="regime", order=order, ax=ax)
    if paper:
        marks = [(order.index(p), v) for p, v in paper.items() if p in order]
        ax.plot([i for i, _ in marks], [v for _, v in marks], "D", color=PAPER_COLOR, markersize=8,
                label="paper (Table 1)")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(order)), [label(p) for p in order], rotation=20, ha="right")
    ax.set(xlabel="", ylabel="delay per decision / Greedy's")
    ax.legend()
    fig.tight_layout()
    return fig
