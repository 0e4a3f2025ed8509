"""The readings map: Figure 5's orderings under every reading of the lost equations.

This goes beyond the paper (issue 11, item 7). The paper's copy lost its equations, so
the cost model the book uses is one reading among several (points 1, 2, 4 and 6 of the
Assumptions chapter).
:func:`sweep` crosses four switches of that model,

* ``output_return``: the task output ``D_|A|`` returns to the device (True, the book's
  default) or stays where the last subtask ran (False);
* ``bandwidth_floor``: b1 and b2 are drawn as the preset says and then floored,
  ``b = max(b, floor)``, at 0, 0.1 or 0.5 MB/s (:data:`BANDWIDTH_FLOORS`). U[0, B] puts
  mass near 0, so ``1/b`` has an infinite mean; a floor cuts that tail at ``1/floor``;
* ``units``: the preset's numbers read as MB and MB/s (``"MB"``, the default), data
  sizes read in Mbit (``"data_Mbit"``: D is 1/8 as many bytes) or bandwidths read in
  Mbit/s (``"bandwidth_Mbit"``: b is 1/8 as many bytes/s);
* ``topology``: device<->cloud traffic relayed through the edge (``"relay"``, the
  default, ``d/b1 + d/b2``) or direct (``"direct"``, ``d/b2``, see :class:`Reading`),

that is 2 x 3 x 3 x 2 = 36 readings (:func:`all_readings`), with four normalisations of
the latency (:data:`NORMALISATIONS`), each on ``n_test_sets`` independent test sets.

Under each reading the exact optimum is solved again by dynamic programming on that
reading's costs, and Greedy decides on those costs too. Local, Edge, Cloud and Random
do not read costs, so their decisions are the same under every reading (only their
latency changes). The learned policies (DIL, KD-DIL, DRL) are left out: they imitate
labels of the default reading, and a fair comparison would need one trained model per
reading (36 trainings).

Figure 5's claims (§5.1 of the paper), as :func:`claims_per_test_set` checks them on each
test set: Edge below Local; Edge below Cloud; Random worst of the heuristics shown
(Random above Greedy, Local, Edge and Cloud); and DIL, at 1.095, below every baseline.
DIL is not swept, so the last one is checked through its one published number: it needs
every heuristic above 1.095 (:data:`kdoffload.paper.FIGURE5`). Which heuristic is best
(``best_policy``) is reported, and "Greedy best of the rule-based" is a separate column:
the paper's text never says so (Figure 5's bars are lost).

Common random numbers: each test set is ONE draw of the preset (``n`` requirements,
``SeedSequence(seed).spawn(n_test_sets)`` gives one child per test set) plus one draw of
the Random policy's decisions, and every reading is derived from that same draw (floors
and unit readings are deterministic maps of the drawn numbers). Differences between
readings on one test set are therefore due to the reading, not to sampling noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .progress import bar
from . import paper
from .solvers import DynamicProgramming, Greedy, RandomPolicy
from .system import (
    CLOUD, DEVICE, EDGE, MEGA, NUM_LOCATIONS, Requirements, check_choice, check_count, check_decisions,
    path_cost, sample,
)

#: Bandwidth floors of the sweep, bytes/s (0, 0.1 MB/s and 0.5 MB/s).
BANDWIDTH_FLOORS = (0.0, 0.1 * MEGA, 0.5 * MEGA)

#: Unit readings -> (factor on the data sizes D, factor on the bandwidths b1, b2).
UNITS = {"MB": (1.0, 1.0), "data_Mbit": (0.125, 1.0), "bandwidth_Mbit": (1.0, 0.125)}

#: Device<->cloud routes.
TOPOLOGIES = ("relay", "direct")

#: The four normalisations: key -> display name (the frame's ``normalisation`` column).
#: The first three are those of chapter 5 (:data:`kdoffload.experiments.NORMALISATIONS`).
NORMALISATIONS = {
    "normalized_latency": "ratio of means",  # mean(T_policy) / mean(T_optimal)
    "mean_ratio": "mean ratio",  # mean_k T_policy,k / T_optimal,k
    "median_ratio": "median ratio",  # median_k T_policy,k / T_optimal,k
    "ratio_of_medians": "ratio of medians",  # median(T_policy) / median(T_optimal)
}

#: Policies of the sweep, in display order; all but ``optimal`` are "heuristics".
POLICIES = ("optimal", "greedy", "local", "edge", "cloud", "random")
HEURISTICS = POLICIES[1:]

#: The claims of Figure 5 (§5.1) that the sweep can test, in the order shown.
FIGURE5_CLAIMS = ("Edge < Local", "Edge < Cloud", "Random is the worst", "every heuristic > DIL's 1.095")

#: A claim the paper does not make in its text, reported beside them.
EXTRA_CLAIMS = ("Greedy best of the rule-based",)

#: Column of :func:`ordering_frequencies`: all of :data:`FIGURE5_CLAIMS` on the same test set.
ALL_FIGURE5 = "all of Figure 5"

READING_COLUMNS = ("output_return", "bandwidth_floor", "units", "topology")


@dataclass(frozen=True)
class Reading:
    """One reading of the lost cost equations.

    Parameters
    ----------
    output_return : bool
        True: the output ``D_|A|`` goes back to the device; False: it stays where the last
        subtask ran (no cost).
    bandwidth_floor : float
        Floor on the drawn b1 and b2, ``b = max(b, floor)``, in bytes/s of the preset's own
        reading (>= 0; 0 changes nothing, since the presets draw b > 0). It acts on the
        number drawn from the preset, before ``units`` reinterprets it: with
        ``units="bandwidth_Mbit"`` a floor of 100_000 is 0.1 Mbit/s. So the floor always
        cuts the same share of the preset's range (0.1 MB/s is 5% of b1's [0, 2]) and
        ``units`` stays a pure rescaling of every transfer.
    units : {"MB", "data_Mbit", "bandwidth_Mbit"}
        "MB": D in bytes and b in bytes/s as drawn (MB = 10**6 bytes). "data_Mbit": the
        preset's D is in Mbit, so D is divided by 8 (every transfer takes 1/8 the time).
        "bandwidth_Mbit": the preset's b1, b2 are in Mbit/s, so they are divided by 8
        (every transfer takes 8 times as long). Computation is unchanged.
    topology : {"relay", "direct"}
        How data moves between device and cloud. Device<->edge always costs ``d/b1``
        and edge<->cloud ``d/b2``.

        * "relay" (the book's default, Assumptions point 2): through the edge, store and
          forward, ``d/b1 + d/b2``.
        * "direct": ``d/b2``. The device reaches the cloud over the wide-area path alone,
          without paying the wireless hop to the edge. The requirement S has only two
          bandwidths, and b2 is the only one that describes a path into the cloud (the
          paper's "Internet" connection, which it blames for the cloud's latency); so a
          device<->cloud transfer that does not relay can only be charged ``d/b2``.
          It is also a bound: any route that crosses the wide-area link at b2, store and
          forward (``d/b1 + d/b2``) or pipelined (``d * max(1/b1, 1/b2)``), costs at least
          ``d/b2``. "relay" and "direct" thus bracket every such reading, and "direct" is
          the one most favourable to the cloud.
    """

    output_return: bool = True
    bandwidth_floor: float = 0.0
    units: str = "MB"
    topology: str = "relay"

    def __post_init__(self):
        if not isinstance(self.output_return, (bool, np.bool_)):
            raise ValueError(f"output_return must be True or False, got output_return = {self.output_return!r}")
        floor = self.bandwidth_floor
        if isinstance(floor, (bool, np.bool_)) or not isinstance(floor, (int, float, np.integer, np.floating)):
            raise ValueError(f"bandwidth_floor must be a number of bytes/s, got bandwidth_floor = {floor!r}")
        if not math.isfinite(floor) or floor < 0:
            raise ValueError(f"bandwidth_floor must be finite and >= 0 (bytes/s), got bandwidth_floor = {floor!r}")
        check_choice("units", self.units, UNITS)
        check_choice("topology", self.topology, TOPOLOGIES)
        object.__setattr__(self, "output_return", bool(self.output_return))
        object.__setattr__(self, "bandwidth_floor", float(floor))

    @property
    def label(self) -> str:
        """A short display name, e.g. ``"returned, ≥ 0.1 MB/s, MB, relay"``."""
        output = "returned" if self.output_return else "stays"
        return f"{output}, ≥ {self.bandwidth_floor / MEGA:g} MB/s, {self.units}, {self.topology}"

    @property
    def is_default(self) -> bool:
        """Whether this is the book's reading (output returned, no floor, MB, relay)."""
        return self == Reading()

    def as_dict(self) -> dict:
        """The four fields as a dict (the reading columns of :func:`sweep`)."""
        return {name: getattr(self, name) for name in READING_COLUMNS}


def all_readings() -> list[Reading]:
    """The 36 readings: output returned / stays x 3 floors x 3 unit readings x relay / direct,
    the book's default first."""
    return [Reading(output_return, floor, units, topology)
            for output_return in (True, False) for floor in BANDWIDTH_FLOORS
            for units in UNITS for topology in TOPOLOGIES]


def derive(req: Requirements, reading: Reading) -> Requirements:
    """The requirements in bytes and bytes/s under ``reading``: b1, b2 floored, then D and
    b rescaled by the unit reading. The default reading returns ``req`` itself."""
    data_factor, bandwidth_factor = UNITS[reading.units]
    if reading.bandwidth_floor == 0 and data_factor == 1 and bandwidth_factor == 1:
        return req
    b1 = np.maximum(req.b1, reading.bandwidth_floor) * bandwidth_factor
    b2 = np.maximum(req.b2, reading.bandwidth_floor) * bandwidth_factor
    return Requirements(E=req.E, D=req.D * data_factor, p1=req.p1, p2=req.p2, b1=b1, b2=b2)


def hop_matrix(req: Requirements, topology: str = "relay") -> np.ndarray:
    """Seconds per byte between each pair of locations (n, 3, 3) under ``topology``
    (:func:`kdoffload.system.hop_matrix` for "relay")."""
    check_choice("topology", topology, TOPOLOGIES)
    inv_b1, inv_b2 = 1.0 / req.b1, 1.0 / req.b2
    matrix = np.zeros((req.n, NUM_LOCATIONS, NUM_LOCATIONS))
    matrix[:, DEVICE, EDGE] = matrix[:, EDGE, DEVICE] = inv_b1
    matrix[:, EDGE, CLOUD] = matrix[:, CLOUD, EDGE] = inv_b2
    matrix[:, DEVICE, CLOUD] = matrix[:, CLOUD, DEVICE] = inv_b1 + inv_b2 if topology == "relay" else inv_b2
    return matrix


def _tensors(req: Requirements, output_return: bool, topology: str) -> tuple[np.ndarray, np.ndarray]:
    computation = np.zeros((req.n, req.num_subtasks, NUM_LOCATIONS))
    computation[:, :, DEVICE] = req.E / req.p1[:, None]
    computation[:, :, EDGE] = req.E / req.p2[:, None]
    transfer = req.D[:, :, None, None] * hop_matrix(req, topology)[:, None, :, :]
    if not output_return:
        transfer[:, -1] = 0.0
    return computation, transfer


def cost_tensors(req: Requirements, reading: Reading = Reading()) -> tuple[np.ndarray, np.ndarray]:
    """Latency tensors (computation (n, |A|, 3), transfer (n, |A| + 1, 3, 3)), in seconds,
    of the drawn requirements ``req`` under ``reading``; same layout and meaning as
    :func:`kdoffload.system.cost_tensors`, which they equal for the default reading."""
    return _tensors(derive(req, reading), reading.output_return, reading.topology)


def latency(req: Requirements, decisions, reading: Reading = Reading()) -> np.ndarray:
    """End-to-end latency (n,) in seconds of ``decisions`` (n, |A|) under ``reading``."""
    return path_cost(*cost_tensors(req, reading), check_decisions(decisions, req))


class _ReadingCosts:
    """Shared by the two cost-reading policies: latency only, ``output_return`` from the reading."""

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.reading, Reading):
            raise ValueError(f"reading must be a Reading, got reading = {self.reading!r}")
        if self.objective != "latency":
            raise ValueError(f"a reading defines latency only, got objective = {self.objective!r}")
        self.output_return = self.reading.output_return

    def tensors(self, req: Requirements) -> tuple[np.ndarray, np.ndarray]:
        return cost_tensors(req, self.reading)


@dataclass
class ReadingDynamicProgramming(_ReadingCosts, DynamicProgramming):
    """The exact dynamic program of :class:`kdoffload.DynamicProgramming` on ``reading``'s
    latency (``objective`` must stay "latency"; ``output_return`` is the reading's)."""

    reading: Reading = field(default_factory=Reading)
    name: str = "optimal"


@dataclass
class ReadingGreedy(_ReadingCosts, Greedy):
    """:class:`kdoffload.Greedy` (no look-ahead) on ``reading``'s latency."""

    reading: Reading = field(default_factory=Reading)
    name: str = "greedy"


def normalise(policy_latency, optimal_latency) -> dict[str, float]:
    """The four normalisations of a policy's latencies (n,) against the optimal ones (n,),
    keyed as :data:`NORMALISATIONS`.

    A sample whose optimal latency is 0 gets ratio 1 if the policy's is 0 too, else inf
    (as :func:`kdoffload.latency_ratios`).
    """
    policy_latency = np.asarray(policy_latency, dtype=np.float64)
    optimal_latency = np.asarray(optimal_latency, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = policy_latency / optimal_latency
        zero = optimal_latency == 0
        ratios[zero] = np.where(policy_latency[zero] == 0, 1.0, np.inf)
        return {
            "normalized_latency": float(policy_latency.mean() / optimal_latency.mean()),
            "mean_ratio": float(ratios.mean()),
            "median_ratio": float(np.median(ratios)),
            "ratio_of_medians": float(np.median(policy_latency) / np.median(optimal_latency)),
        }


def _normalisation_keys(normalisations) -> list[str]:
    if normalisations is None:
        return list(NORMALISATIONS)
    if isinstance(normalisations, str):
        normalisations = [normalisations]
    names = {display: key for key, display in NORMALISATIONS.items()}
    keys = []
    for name in normalisations:
        if name not in NORMALISATIONS and name not in names:
            raise ValueError(f"unknown normalisation {name!r}; choose one of {sorted(NORMALISATIONS)} "
                             f"(or their display names {sorted(names)})")
        keys.append(names.get(name, name))
    return keys


def sweep(test_size: int = 10_000, n_test_sets: int = 20, seed: int = 0, readings=None, normalisations=None,
          preset: str = "wide", num_subtasks: int = 6, progress: bool | None = None) -> pd.DataFrame:
    """Every policy of :data:`POLICIES` under every reading and normalisation, per test set.

    Parameters
    ----------
    test_size : int
        Requirements per test set (the paper's test set has 10,000).
    n_test_sets : int
        Independent test sets (>= 2, so that the spread over test sets exists).
    seed : int
        Seeds everything: ``SeedSequence(seed).spawn(n_test_sets)`` gives one child per
        test set, and each child spawns two more, whose first 32-bit words seed the
        requirements (:func:`kdoffload.sample`) and the Random policy's decisions.
    readings : sequence of Reading, optional
        Default :func:`all_readings`.
    normalisations : sequence of str, optional
        Keys or display names of :data:`NORMALISATIONS`; default all four.
    preset, num_subtasks
        As :func:`kdoffload.sample`.
    progress : bool or None
        A bar over test sets (None: see :mod:`kdoffload.progress`).

    Returns
    -------
    DataFrame, one row per (test set, reading, policy, normalisation): columns
    ``test_set``, ``output_return``, ``bandwidth_floor``, ``units``, ``topology``,
    ``reading`` (:attr:`Reading.label`), ``policy``, ``normalisation`` (display name) and
    ``value``. All test sets share nothing; all readings of one test set share its draw
    (common random numbers, see the module docstring).
    """
    test_size = check_count("test_size", test_size)
    if isinstance(n_test_sets, bool) or not isinstance(n_test_sets, (int, np.integer)) or n_test_sets < 2:
        raise ValueError(f"n_test_sets must be an integer >= 2, got n_test_sets = {n_test_sets!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got seed = {seed!r}")
    readings = all_readings() if readings is None else list(readings)
    for reading in readings:
        if not isinstance(reading, Reading):
            raise ValueError(f"readings must hold Reading objects, got {reading!r}")
    if not readings:
        raise ValueError("readings must not be empty, got readings = []")
    keys = _normalisation_keys(normalisations)
    children = np.random.SeedSequence(seed).spawn(int(n_test_sets))
    # Group the readings by their derived requirements (floor, units), so each is derived once.
    groups: dict[tuple, list[Reading]] = {}
    for reading in readings:
        groups.setdefault((reading.bandwidth_floor, reading.units), []).append(reading)
    fixed = {"local": DEVICE, "edge": EDGE, "cloud": CLOUD}
    columns = {name: [] for name in ("test_set", "reading_index", "policy", "normalisation", "value")}
    index_of = {reading: i for i, reading in enumerate(readings)}
    for test_set, child in enumerate(bar(children, progress=progress, desc="readings", unit="test set")):
        requirements_seed, random_seed = (int(c.generate_state(1)[0]) for c in child.spawn(2))
        drawn = sample(test_size, preset, num_subtasks, seed=requirements_seed)
        decisions = {name: np.full((test_size, num_subtasks), location, dtype=np.int64)
                     for name, location in fixed.items()}
        decisions["random"] = RandomPolicy(seed=random_seed).decide(drawn)
        for (floor, units), members in groups.items():
            req = derive(drawn, members[0])
            for reading in members:
                computation, transfer = _tensors(req, reading.output_return, reading.topology)
                chosen = dict(decisions)
                chosen["optimal"] = _optimal(computation, transfer)
                chosen["greedy"] = _greedy(computation, transfer)
                latencies = {name: path_cost(computation, transfer, chosen[name]) for name in POLICIES}
                for name in POLICIES:
                    values = normalise(latencies[name], latencies["optimal"])
                    for key in keys:
                        columns["test_set"].append(test_set)
                        columns["reading_index"].append(index_of[reading])
                        columns["policy"].append(name)
                        columns["normalisation"].append(NORMALISATIONS[key])
                        columns["value"].append(values[key])
    frame = pd.DataFrame(columns)
    table = pd.DataFrame([{**r.as_dict(), "reading": r.label} for r in readings])
    frame = frame.join(table, on="reading_index").drop(columns="reading_index")
    order = ["test_set", *READING_COLUMNS, "reading", "policy", "normalisation", "value"]
    return frame[order]


def _optimal(computation: np.ndarray, transfer: np.ndarray, chunk_size: int = 8192) -> np.ndarray:
    """:class:`kdoffload.DynamicProgramming` on given tensors, in cache-sized chunks."""
    n = computation.shape[0]
    result = np.empty(computation.shape[:2], dtype=np.int64)
    for start in range(0, n, chunk_size):
        part = slice(start, start + chunk_size)
        result[part] = DynamicProgramming._decide_block(computation[part], transfer[part])
    return result


def _greedy(computation: np.ndarray, transfer: np.ndarray) -> np.ndarray:
    """:class:`kdoffload.Greedy` on given tensors."""
    n, num_subtasks, _ = computation.shape
    rows = np.arange(n)
    previous = np.full(n, DEVICE)
    result = np.empty((n, num_subtasks), dtype=np.int64)
    for t in range(num_subtasks):
        previous = result[:, t] = np.argmin(computation[:, t] + transfer[rows, t, previous, :], axis=1)
    return result


def _check_frame(frame: pd.DataFrame) -> None:
    needed = {"test_set", *READING_COLUMNS, "reading", "policy", "normalisation", "value"}
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise ValueError(f"frame must be a sweep() frame; missing columns {missing}")
    absent = sorted(set(POLICIES) - set(frame["policy"]))
    if absent:
        raise ValueError(f"frame must hold every policy of {list(POLICIES)}; missing {absent}")


def _cells() -> list[str]:
    return [*READING_COLUMNS, "reading", "normalisation"]


def claims_per_test_set(frame: pd.DataFrame) -> pd.DataFrame:
    """Which claims hold on each test set: one row per (reading, normalisation, test set),
    a boolean column per claim of :data:`FIGURE5_CLAIMS` and :data:`EXTRA_CLAIMS`, the
    column :data:`ALL_FIGURE5`, and ``best_policy`` (the heuristic of least value; exact
    ties are all named, e.g. ``"greedy = cloud"`` when both have median ratio 1).

    Every comparison is strict: a tie does not make "Edge < Local" hold.
    "Random is the worst": Random above Greedy, Local, Edge and Cloud. "every heuristic >
    DIL's 1.095": all five heuristics above :data:`kdoffload.paper.FIGURE5` ``["dil"]``,
    which the paper's "DIL outperforms every baseline" needs (DIL is not swept).
    """
    _check_frame(frame)
    wide = frame.pivot_table(index=[*_cells(), "test_set"], columns="policy", values="value", sort=False)
    others = [p for p in HEURISTICS if p != "random"]
    claims = pd.DataFrame(index=wide.index)
    claims["Edge < Local"] = wide["edge"] < wide["local"]
    claims["Edge < Cloud"] = wide["edge"] < wide["cloud"]
    claims["Random is the worst"] = wide[others].lt(wide["random"], axis=0).all(axis=1)
    claims["every heuristic > DIL's 1.095"] = (wide[list(HEURISTICS)] > paper.FIGURE5["dil"]).all(axis=1)
    claims[ALL_FIGURE5] = claims[list(FIGURE5_CLAIMS)].all(axis=1)
    rest = [p for p in HEURISTICS if p != "greedy"]
    claims["Greedy best of the rule-based"] = wide[rest].gt(wide["greedy"], axis=0).all(axis=1)
    heuristics = wide[list(HEURISTICS)]
    tied = heuristics.eq(heuristics.min(axis=1), axis=0)
    claims["best_policy"] = [" = ".join(p for p, best in zip(HEURISTICS, row) if best) for row in tied.to_numpy()]
    return claims.reset_index()


def ordering_frequencies(frame: pd.DataFrame) -> pd.DataFrame:
    """For each (reading, normalisation) cell: the share of test sets on which each claim
    of :func:`claims_per_test_set` holds, ``best_policy`` (the heuristic most often best)
    and ``best_share`` (how often it is), and ``n_test_sets``."""
    claims = claims_per_test_set(frame)
    names = [*FIGURE5_CLAIMS, ALL_FIGURE5, *EXTRA_CLAIMS]
    grouped = claims.groupby(_cells(), sort=False)
    table = grouped[names].mean()
    modal = grouped["best_policy"].agg(lambda s: s.value_counts().index[0])
    table["best_policy"] = modal
    table["best_share"] = grouped["best_policy"].agg(lambda s: s.value_counts().iloc[0] / len(s))
    table["n_test_sets"] = grouped.size()
    return table.reset_index()


def policy_summary(frame: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Each policy's value over test sets, per (reading, normalisation): ``mean``; a
    Student-t confidence interval of the mean (``ci_low``, ``ci_high``); and the central
    ``level`` interval of the test sets themselves (``pi_low``, ``pi_high``: the
    (1 - level)/2 and (1 + level)/2 quantiles), where one test set of this size falls.

    With heavy-tailed values (the ratio of means and the mean ratio under no bandwidth
    floor) the t interval is only indicative; the quantile interval makes no assumption.
    """
    from scipy.special import stdtrit  # Student t quantiles; scipy comes with scikit-learn

    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got level = {level!r}")
    _check_frame(frame)
    grouped = frame.groupby([*_cells(), "policy"], sort=False)["value"]
    table = grouped.agg(["mean", "std", "count"])
    half = stdtrit(table["count"] - 1, (1 + level) / 2) * table["std"] / np.sqrt(table["count"])
    table["ci_low"], table["ci_high"] = table["mean"] - half, table["mean"] + half
    table["pi_low"] = grouped.quantile((1 - level) / 2)
    table["pi_high"] = grouped.quantile((1 + level) / 2)
    return table.drop(columns="std").reset_index()


def _annotate(ax, values: pd.DataFrame, text: pd.DataFrame, cmap, norm) -> None:
    """Write ``text`` in each cell of a heat map of ``values``, black on light cells and white
    on dark ones (what seaborn's ``annot`` does, without drawing the figure once per panel)."""
    colours = cmap(norm(values.to_numpy(dtype=np.float64)))
    luminance = colours[..., :3] @ np.array([0.299, 0.587, 0.114])
    for (i, j), label in np.ndenumerate(text.to_numpy()):
        if isinstance(label, str) and not pd.isna(values.iat[i, j]):
            ax.text(j + 0.5, i + 0.5, label, ha="center", va="center", fontsize=6,
                    color="black" if luminance[i, j] > 0.45 else "white")


#: Short column labels of the heat maps.
NORMALISATION_ABBREVIATIONS = {"ratio of means": "RoM", "mean ratio": "MR", "median ratio": "MedR",
                               "ratio of medians": "RoMed"}


def heatmap(frame: pd.DataFrame, claims=None, normalisations=None, figsize=None):
    """Heat maps of a :func:`sweep` frame; returns the matplotlib Figure.

    One panel per claim (default :data:`FIGURE5_CLAIMS` and :data:`ALL_FIGURE5`; any of
    :data:`EXTRA_CLAIMS` may be asked for), readings down, normalisations across
    (abbreviated as :data:`NORMALISATION_ABBREVIATIONS`): colour and number are the share
    of test sets on which the claim holds (:func:`ordering_frequencies`). A last panel
    shows, per cell, the heuristic of least mean normalised latency over the test sets
    (its initial: G, L, E, C, R) and that mean, on a log colour scale.
    """
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    import matplotlib.ticker as ticker
    import seaborn as sns

    known = [*FIGURE5_CLAIMS, ALL_FIGURE5, *EXTRA_CLAIMS]
    claims = [*FIGURE5_CLAIMS, ALL_FIGURE5] if claims is None else list(claims)
    for claim in claims:
        check_choice("claim", claim, known)
    shown = [NORMALISATIONS[key] for key in _normalisation_keys(normalisations)]
    frequencies = ordering_frequencies(frame)
    frequencies = frequencies[frequencies["normalisation"].isin(shown)]
    rows = list(dict.fromkeys(frequencies["reading"]))
    summary = policy_summary(frame)
    summary = summary[(summary["policy"] != "optimal") & summary["normalisation"].isin(shown)]
    best = summary.loc[summary.groupby(["reading", "normalisation"], sort=False)["mean"].idxmin()]

    def grid(table: pd.DataFrame, values: str) -> pd.DataFrame:
        wide = table.pivot(index="reading", columns="normalisation", values=values).reindex(index=rows, columns=shown)
        wide.columns = [NORMALISATION_ABBREVIATIONS[name] for name in shown]
        return wide

    best_value, best_name = grid(best, "mean"), grid(best, "policy")
    columns = len(shown)
    width = 0.36 * columns  # inches per panel
    ratios = [width] * len(claims) + [0.12, 0.5, 0.45 * columns, 0.12]
    size = figsize or (2.6 + 1.15 * sum(ratios) + 0.5, 0.2 * len(rows) + 1.6)
    # margins in inches: reading labels on the left, rotated column labels below, titles above
    fig = plt.figure(figsize=size)
    spec = fig.add_gridspec(1, len(ratios), width_ratios=ratios, wspace=0.15, left=2.6 / size[0],
                            right=1 - 0.5 / size[0], bottom=0.75 / size[1], top=1 - 0.5 / size[1])
    axes = [fig.add_subplot(spec[0, i]) for i in range(len(claims))]
    claim_bar = fig.add_subplot(spec[0, len(claims)])
    best_axis, best_bar = fig.add_subplot(spec[0, -2]), fig.add_subplot(spec[0, -1])
    claim_norm = mcolors.Normalize(vmin=0, vmax=1)
    notes = []
    for i, (ax, claim) in enumerate(zip(axes, claims)):
        table = grid(frequencies, claim)
        sns.heatmap(table, ax=ax, cmap="RdYlGn", norm=claim_norm, cbar=i == 0, cbar_ax=claim_bar if i == 0 else None,
                    cbar_kws={"label": "share of test sets where the claim holds"},
                    linewidths=0.3, linecolor="white", yticklabels=i == 0)
        notes.append((ax, table, table.map(lambda v: f"{v:.2g}"), plt.get_cmap("RdYlGn"), claim_norm))
        ax.set_title(claim.replace(" > ", "\n> ").replace(" is ", "\nis "), fontsize=8)
        ax.set(xlabel="", ylabel="")
    labels = best_name.map(lambda p: p[0].upper()) + " " + best_value.map(lambda v: f"{v:.3g}")
    values = best_value.to_numpy(dtype=np.float64)
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    best_norm = mcolors.LogNorm(vmin=low, vmax=max(high, 1.001 * low))
    sns.heatmap(best_value, ax=best_axis, cbar_ax=best_bar, cmap="viridis_r", norm=best_norm,
                cbar_kws={"label": "mean normalised latency"}, linewidths=0.3, linecolor="white",
                yticklabels=False)
    notes.append((best_axis, best_value, labels, plt.get_cmap("viridis_r"), best_norm))
    for note in notes:  # after every sns.heatmap call, each of which draws the whole figure
        _annotate(*note)
    best_axis.set_title("best heuristic\n(G L E C R)", fontsize=8)
    best_axis.set(xlabel="", ylabel="")
    for ax in [*axes, best_axis]:
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
        ax.tick_params(axis="y", labelsize=7, length=0)
    plain = ticker.FuncFormatter(lambda value, _: f"{value:g}")
    best_bar.yaxis.set_major_formatter(plain)
    best_bar.yaxis.set_minor_formatter(plain)
    for bar in (claim_bar, best_bar):
        bar.tick_params(which="both", labelsize=7)
        bar.yaxis.label.set_size(7)
    axes[0].set_ylabel("reading: output, bandwidth floor, units, topology", fontsize=8)
    plt.close(fig)
    return fig
