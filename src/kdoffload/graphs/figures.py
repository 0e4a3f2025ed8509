"""Figures of the computation-graph chapter. Each returns the matplotlib Figure it drew,
closed (as :mod:`kdoffload.plots` does), so a cell ending with one shows it once."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap

from ..plots import _closed
from ..system import LOCATION_NAMES, NUM_LOCATIONS
from .model import GraphRequirements, cost_terms
from .solvers import ishikawa_arcs

__all__ = ["SOLVER_LABELS", "FAMILY_MARKERS", "cut_graph", "frontier", "placement_maps", "heuristic_gaps", "pareto"]

#: Display names of the exact graph solvers.
SOLVER_LABELS = {"exhaustive": "exhaustive search", "mincut": "minimum cut", "ilp": "integer program (CBC)"}
#: One colour per location (device, edge, cloud) in the placement maps.
LOCATION_COLORS = ("#4c72b0", "#dd8452", "#55a868")


def _seconds(value: float) -> str:
    return f"{value:.3g}"


@_closed
def cut_graph(req: GraphRequirements, placement, output_return: bool = True, names=None) -> plt.Figure:
    """The minimum-cut graph of the first request of ``req`` (relay topology), with
    ``placement`` (one row of locations) as the cut: cut nodes on the source side
    (``z = 1``) filled, arcs the cut crosses in red, capacities in seconds.

    Columns are subtasks; in each, ``v1`` above ``v2``, the source ``s`` on top and
    the sink ``t`` at the bottom (:func:`kdoffload.graphs.solvers.ishikawa_arcs`).
    """
    unary, pairwise = cost_terms(req.take([0]), output_return)
    edges = req.graph.edges
    (source, sink), (tails, heads, caps, reverse), _ = ishikawa_arcs(unary, pairwise, edges)
    n = req.graph.num_nodes
    placement = np.asarray(placement).reshape(n)
    names = names or req.graph.names or [f"{v}" for v in range(n)]
    side = np.stack([placement >= 1, placement >= 2], axis=1).ravel()  # source side of v1, v2
    position = {2 * v + j: (2.2 * v, 2.0 - j) for v in range(n) for j in range(2)}
    s_pos, t_pos = (1.1 * (n - 1), 3.6), (1.1 * (n - 1), -0.6)
    fig, ax = plt.subplots(figsize=(2.6 * n + 1, 5.2))

    def arrow(start, end, capacity, cut, bend=0.0, style="-|>"):
        color = "#d62728" if cut else "0.45"
        ax.annotate("", xy=end, xytext=start, arrowprops={
            "arrowstyle": style, "color": color, "lw": 2.2 if cut else 1.0, "shrinkA": 15, "shrinkB": 15,
            "connectionstyle": f"arc3,rad={bend}"})
        (x1, y1), (x2, y2) = start, end  # the label sits on the curve's midpoint (arc3's Bezier at 1/2)
        where = ((x1 + x2) / 2 + 0.5 * bend * (y2 - y1), (y1 + y2) / 2 - 0.5 * bend * (x2 - x1))
        ax.text(*where, capacity, fontsize=8, color=color, ha="center", va="center",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})

    for v in range(n):
        one, two = 2 * v, 2 * v + 1
        arrow(s_pos, position[one], _seconds(source[0, v, 0]), not side[one])
        arrow(position[one], position[two], _seconds(caps[v]), side[one] and not side[two], bend=0.35)
        arrow(position[two], position[one], "∞", side[two] and not side[one], bend=0.35)
        arrow(position[two], t_pos, _seconds(sink[0, v, 1]), side[two])
    for e, (u, v) in enumerate(edges):
        span = abs(int(v) - int(u))
        for j, capacity in enumerate((caps[n + e], caps[n + len(edges) + e])):
            a, b = 2 * u + j, 2 * v + j
            bend = 0.0 if span == 1 else (-0.2 if j == 0 else 0.2)  # around the columns between
            arrow(position[a], position[b], _seconds(capacity), side[a] != side[b], bend=bend, style="<|-|>")
    for node, (x, y) in position.items():
        v, j = divmod(node, 2)
        ax.scatter([x], [y], s=700, color="#4c72b0" if side[node] else "white", edgecolor="#4c72b0", zorder=3)
        ax.text(x, y, f"{v}$_{j + 1}$", ha="center", va="center", zorder=4,
                color="white" if side[node] else "black")
    for label, (x, y) in (("s", s_pos), ("t", t_pos)):
        ax.scatter([x], [y], s=700, color="0.2", zorder=3)
        ax.text(x, y, label, ha="center", va="center", color="white", zorder=4)
    ax.set_xlim(-1.0, 2.2 * (n - 1) + 1.0)
    ax.set_ylim(-1.0, 4.0)
    ax.set_xticks([2.2 * v for v in range(n)], [f"{v}: {names[v]}" for v in range(n)])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return fig


@_closed
def frontier(times: pd.DataFrame, learned: pd.DataFrame | None = None) -> plt.Figure:
    """Seconds per decision against the number of subtasks (log-log), one colour per
    solver and one line style per topology (a :func:`~kdoffload.graphs.frontier.solver_times`
    frame). ``learned`` (optional; columns ``n``, ``seconds``, ``policy``) adds dotted
    reference lines."""
    frame = times.assign(solver=times["solver"].map(lambda s: SOLVER_LABELS.get(s, s)))
    fig, ax = plt.subplots()
    sns.lineplot(data=frame, x="n", y="seconds", hue="solver", style="topology", markers=True, ax=ax,
                 hue_order=[SOLVER_LABELS[s] for s in SOLVER_LABELS if SOLVER_LABELS[s] in set(frame["solver"])])
    if learned is not None:
        sns.lineplot(data=learned, x="n", y="seconds", hue="policy", linestyle=":", ax=ax, palette="gray")
    ax.set(xscale="log", yscale="log", xlabel="subtasks n (random layered DAGs)",
           ylabel="seconds per decision (one request)")
    ax.legend(fontsize="small", ncols=2)
    return fig


@_closed
def placement_maps(placements: Mapping[str, pd.DataFrame], xlabel: str) -> plt.Figure:
    """One panel per graph: the location of each node (rows, input at the top) at each
    swept value (columns), from frames with columns ``value``, ``node`` and ``location``
    (:func:`kdoffload.graphs.placements.bandwidth_sweep`)."""
    fig, axes = plt.subplots(1, len(placements), figsize=(2.3 * len(placements) + 1.5, 4.8), squeeze=False)
    cmap = ListedColormap(LOCATION_COLORS)
    for ax, (name, frame) in zip(axes[0], placements.items()):
        table = frame.pivot(index="node", columns="value", values="location").sort_index()
        ax.imshow(table.to_numpy(), aspect="auto", cmap=cmap, vmin=-0.5, vmax=NUM_LOCATIONS - 0.5,
                  interpolation="nearest")
        ticks = np.arange(0, table.shape[1], max(1, table.shape[1] // 4))
        ax.set_xticks(ticks, [f"{table.columns[i] / 1e6:.2g}" for i in ticks])
        ax.set(title=f"{name} ({len(table)} nodes)", xlabel=xlabel)
        ax.grid(False)
    axes[0, 0].set_ylabel("node (input at the top)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=color) for color in LOCATION_COLORS]
    fig.legend(handles, list(LOCATION_NAMES), loc="lower center", ncols=NUM_LOCATIONS, bbox_to_anchor=(0.5, -0.06))
    fig.tight_layout()
    return fig


@_closed
def heuristic_gaps(latencies: pd.DataFrame, xlabel: str) -> plt.Figure:
    """Latency of each heuristic over the optimum (log scale) against the swept value, one
    panel per graph (rows) and topology (columns), from a frame with columns ``graph``,
    ``topology``, ``value``, ``policy`` and ``normalized``."""
    frame = latencies[latencies["policy"] != "optimal"].assign(value=lambda f: f["value"] / 1e6)
    grid = sns.relplot(data=frame, x="value", y="normalized", hue="policy", col="graph", row="topology",
                       kind="line", marker="o", markersize=4, height=2.8, aspect=0.9,
                       facet_kws={"margin_titles": True})
    grid.set(xscale="log", yscale="log")
    grid.set_axis_labels(xlabel, "latency / optimal")
    grid.set_titles(row_template="{row_name}", col_template="{col_name}")
    return grid.figure


#: Marker of each policy family in :func:`pareto`.
FAMILY_MARKERS = {"exact": "s", "heuristic": "o", "seen labels": "D", "learned": "^"}


@_closed
def pareto(frame: pd.DataFrame) -> plt.Figure:
    """Normalised latency (log) against seconds per request (log), one panel per problem,
    one point per policy (marker by family), the Pareto front as a line, from the rows of
    :func:`kdoffload.graphs.payoff.measure` (columns ``problem``, ``label``, ``family``,
    ``seconds``, ``mean``, ``pareto``)."""
    problems = list(dict.fromkeys(frame["problem"]))
    columns = min(3, len(problems))
    rows = -(-len(problems) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.6 * rows), squeeze=False)
    labels = list(dict.fromkeys(frame["label"]))
    palette = dict(zip(labels, sns.color_palette("tab20", len(labels))))
    for ax, problem in zip(axes.ravel(), problems):
        rows_here = frame[frame["problem"] == problem]
        for _, row in rows_here.iterrows():
            ax.scatter(row["seconds"], row["mean"], marker=FAMILY_MARKERS.get(row["family"], "o"),
                       color=palette[row["label"]], s=40, edgecolor="black" if row["pareto"] else "none",
                       label=row["label"], zorder=3)
        front = rows_here[rows_here["pareto"]].sort_values("seconds")
        ax.step(front["seconds"], front["mean"], where="post", color="0.3", lw=1, zorder=2)
        ax.set(xscale="log", yscale="log", title=problem, xlabel="seconds per request")
        ax.set_ylabel("latency / optimal")
    for ax in axes.ravel()[len(problems):]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], marker=FAMILY_MARKERS.get(family, "o"), color=palette[label], linestyle="")
               for label, family in frame.drop_duplicates("label")[["label", "family"]].itertuples(index=False)]
    fig.legend(handles, labels, loc="lower center", ncols=4, fontsize="small", bbox_to_anchor=(0.5, -0.02 - 0.04 * rows))
    fig.tight_layout()
    return fig
