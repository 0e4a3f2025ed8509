"""The Summary's "beyond the paper" rows: what the computation-graph chapter measured.

The paper publishes no number for task graphs, so each row carries a finding and the
evidence behind it, never a verdict against the paper. Rows read the results file's
``graphs`` entry (written by the graph chapter) and ``learning`` entry (written by the
chapter "Where learning pays"); a missing entry gives one row saying so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["beyond_rows", "learning_rows"]

_WHERE = "Beyond the paper (chapter 7)"  # the Summary's "where" column
_WHERE_LEARNING = "Beyond the paper (chapter 8)"


def _largest(frontier: list, topology: str, solver: str):
    rows = [row for row in frontier if row["topology"] == topology and row["solver"] == solver]
    return max(rows, key=lambda row: row["n"]) if rows else None


def beyond_rows(results: dict) -> pd.DataFrame:
    """One row per finding: ``where``, ``what``, ``measured`` (text), ``paper`` (always
    "no number") -- from ``results["graphs"]``."""
    graphs = results.get("graphs")
    if not graphs:
        return pd.DataFrame([{"where": _WHERE, "what": "computation graphs", "measured": "not measured yet (chapter 7)",
                              "paper": "no number"}])
    rows = []

    def add(what, measured):
        rows.append({"where": _WHERE, "what": what, "measured": measured, "paper": "no number"})

    check = graphs["chain_check"]
    add("the paper's chain as a graph: latency against the chain model",
        f"largest relative difference {check['max_relative_difference']:.1e} on {check['size']:,} requirements")
    frontier = graphs["frontier"]["seconds"]
    cut, program = _largest(frontier, "relay", "mincut"), _largest(frontier, "direct", "ilp")
    add(f"exact decision, random DAG of {cut['n']} subtasks, relay network (minimum cut)",
        f"{cut['seconds'] * 1e3:.3g} ms per request")
    add(f"exact decision, random DAG of {program['n']} subtasks, direct link (integer program)",
        f"{program['seconds'] * 1e3:.3g} ms per request")
    disagreement = max(row["max_disagreement"] for row in frontier)
    add("exact solvers agree on the optimal latency", f"largest relative difference {disagreement:.1e}")
    misses = pd.DataFrame(graphs["relay_cut_misses"])
    add("minimum cut of the relay prices, costed with the direct link",
        f"misses the optimum on {misses['missed'].min():.0%}-{misses['missed'].max():.0%} of requests "
        f"(n = {misses['n'].min()}-{misses['n'].max()}); mean excess {misses['mean_excess'].min():.1%}-"
        f"{misses['mean_excess'].max():.1%}")
    dnn = pd.DataFrame(graphs["dnn"]["solver_seconds"])
    for (topology, solver), group in dnn.groupby(["topology", "solver"], sort=False):
        add(f"exact decision on the DNN graphs, {topology}, {'minimum cut' if solver == 'mincut' else 'integer program'}",
            f"{group['seconds'].min() * 1e3:.3g}-{group['seconds'].max() * 1e3:.3g} ms per request "
            f"({', '.join(group['graph'])})")
    splits = pd.DataFrame(graphs["dnn"]["splits"])
    mixed = splits[(splits[["device", "edge", "cloud"]] > 0).sum(axis=1) > 1]
    shares = {name: float(np.mean(group.index.isin(mixed.index))) for name, group in splits.groupby("graph")}
    add("DNN graphs: share of swept bandwidths where the optimum splits the network",
        ", ".join(f"{name} {share:.0%}" for name, share in shares.items()))
    return pd.concat([pd.DataFrame(rows), learning_rows(results)], ignore_index=True)


def learning_rows(results: dict) -> pd.DataFrame:
    """One row per learning problem (its verdict) and one for top-K on the chain, from
    ``results["learning"]``."""
    learning = results.get("learning")
    if not learning:
        return pd.DataFrame([{"where": _WHERE_LEARNING, "what": "learning on computation graphs",
                              "measured": "not measured yet (chapter 8)", "paper": "no number"}])
    rows = [{"where": _WHERE_LEARNING, "what": f"does learning pay on {name} (direct link)?",
             "measured": sentence.split(": ", 1)[1], "paper": "no number"}
            for name, sentence in learning["verdicts"].items()]
    chain = pd.DataFrame(learning["chain_topk"])
    largest = chain.loc[chain["K"].idxmax()]
    rows.append({"where": _WHERE_LEARNING, "what": "chain KD student with top-K re-check",
                 "measured": f"top-{largest['K']:.0f}: {largest['mean']:.4f} [{largest['low']:.4f}, "
                             f"{largest['high']:.4f}] at {largest['cost_vs_dp']:.0f} times the dynamic "
                             f"program's time per request",
                 "paper": "no number"})
    return pd.DataFrame(rows)
