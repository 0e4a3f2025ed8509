"""The paper's ordering claims and how a run's latencies bear them out.

:data:`FIGURE5_CLAIMS` and :data:`FIGURE6_CLAIMS` in the keys of the results file's
figures (what the Summary judges), :data:`CLAIMS` in registered policy names (chapter 5's
readings); :func:`ordering_intervals` gives paired-bootstrap intervals of each claimed
difference (:mod:`kdoffload.uncertainty`), :func:`orderings` the verdict on means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product

import numpy as np
import pandas as pd

from .. import uncertainty
from .policies import Latencies


#: The ordering claims of the paper's Figures 5 and 6 in the keys of those figures, as
#: ``claim -> (better, worse)``: every policy of ``better`` should have a lower normalised
#: latency than every policy of ``worse`` (either may be one name or a list). The
#: Summary (:mod:`kdoffload.verdicts`) reads their difference intervals by these names.
FIGURE5_CLAIMS = {
    "DIL beats every baseline": ("dil", ["greedy", "drl", "local", "edge", "cloud", "random"]),
    "Edge beats Local": ("edge", ["local"]),
    "Edge beats Cloud": ("edge", ["cloud"]),
    "Random is far worse than the others": (["optimal", "dil", "greedy", "drl", "local", "edge", "cloud"],
                                            ["random"]),
}


#: Figure 6's claims; the second needs Figure 5's DQN (``drl_wide``) scored on the same test
#: set beside Figure 6's (``drl``, trained on the narrow set).
FIGURE6_CLAIMS = {
    "KD-DIL beats Baseline DIL, DRL and Greedy": ("kd_dil", ["baseline_dil", "drl", "greedy"]),
    "DRL is much worse with 1,000 samples than in Figure 5": ("drl_wide", ["drl"]),
}


def pair_key(better: str, worse: str) -> str:
    """Key of a difference interval in the results file: ``"better < worse"``."""
    return f"{better} < {worse}"


def claim_pairs(better, worse) -> list[tuple[str, str]]:
    """Every (better, worse) pair of a claim; either side may be one name or a list."""
    better = [better] if isinstance(better, str) else list(better)
    worse = [worse] if isinstance(worse, str) else list(worse)
    return [(b, w) for b, w in product(better, worse) if b != w]


def ordering_intervals(lat: Latencies, claims: Mapping | None = None, metric: str = "normalized_latency",
                       n_boot: int = uncertainty.N_BOOT, seed: int = 0,
                       level: float = uncertainty.LEVEL) -> pd.DataFrame:
    """Paired-bootstrap intervals of ``metric(better) - metric(worse)`` for every pair of every claim.

    ``claims`` maps a claim to ``(better, worse)`` (:data:`CLAIMS`, :data:`FIGURE5_CLAIMS`,
    :data:`FIGURE6_CLAIMS`; default :data:`CLAIMS`); pairs naming a policy missing from ``lat``
    are left out. All
    pairs use the same replicates (:func:`kdoffload.uncertainty.replicate_statistics`), so
    the result equals :func:`kdoffload.uncertainty.paired_difference_interval` pair by pair.
    Columns: claim, better, worse, difference, low, high, reading (``lower``: the interval is
    below 0, the claim's direction; ``higher``; or ``indistinguishable``: it contains 0).
    """
    columns = ["claim", "better", "worse", "difference", "low", "high", "reading"]
    claims = CLAIMS if claims is None else claims
    pairs = [(claim, b, w) for claim, (better, worse) in claims.items() for b, w in claim_pairs(better, worse)
             if b in lat.by_policy and w in lat.by_policy]
    if not pairs:
        return pd.DataFrame(columns=columns)
    names = list(dict.fromkeys(name for _, b, w in pairs for name in (b, w)))
    stats = uncertainty.replicate_statistics({n: lat.by_policy[n] for n in names}, lat.optimal, metric, n_boot, seed)
    means = {n: uncertainty.point_estimate(lat.by_policy[n], lat.optimal, metric)[0] for n in names}
    rows = []
    for claim, b, w in pairs:
        low, high = uncertainty.percentile_interval(stats[b] - stats[w], level)
        rows.append({"claim": claim, "better": b, "worse": w, "difference": means[b] - means[w], "low": low,
                     "high": high, "reading": uncertainty.difference_reading(low, high)})
    return pd.DataFrame(rows, columns=columns)


def difference_record(frame: pd.DataFrame) -> dict:
    """``{"better < worse": {"difference", "low", "high"}}`` of an :func:`ordering_intervals` frame."""
    return {pair_key(row.better, row.worse): {"difference": row.difference, "low": row.low, "high": row.high}
            for row in frame.itertuples()}


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
