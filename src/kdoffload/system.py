"""System model of the paper (§3.1–3.2): requirements, presets, sampling and cost tensors.

A task is a chain of ``num_subtasks`` subtasks. Subtask ``t`` runs at location
``I_t`` in {0: end device, 1: edge server, 2: cloud}. The reading of the lost
equations is the one in the book's Assumptions page (points 1–5):

* computation latency of subtask ``t``: ``E_t / p1`` on the device, ``E_t / p2`` on the
  edge, 0 in the cloud;
* data ``D_t`` moves from the location of subtask ``t-1`` to that of subtask ``t``;
  ``D_0`` starts on the device and, with ``output_return=True`` (default), the task
  output ``D_|A|`` goes back to the device;
* device<->edge costs ``d / b1``, edge<->cloud ``d / b2``, device<->cloud relays
  through the edge: ``d / b1 + d / b2``.

Units: cycles, Hz, bytes, bytes/s, seconds, joules. MB = 10**6 bytes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

# check_count and check_choice are re-exported: other modules import them from here.
from .checks import (  # noqa: F401
    check_choice, check_count, check_in_range, check_int, check_nonnegative_array, check_positive_array, describe,
)

DEVICE, EDGE, CLOUD = 0, 1, 2
NUM_LOCATIONS = 3
LOCATION_NAMES = ("device", "edge", "cloud")
OBJECTIVES = ("latency", "energy", "weighted")

MEGA = 1e6

#: Sampling ranges of the paper's experiments, as (low, high) of a uniform distribution.
#: ``wide`` is §5.1, ``narrow`` is §5.2 (only E and D ranges change).
PRESETS: dict[str, dict[str, tuple[float, float]]] = {
    "wide": {
        "E": (0.0, 2000 * MEGA),  # cycles
        "D": (0.0, 10 * MEGA),  # bytes
        "p1": (100 * MEGA, 1000 * MEGA),  # Hz
        "p2": (500 * MEGA, 5000 * MEGA),  # Hz
        "b1": (0.0, 2 * MEGA),  # bytes/s
        "b2": (0.0, 3 * MEGA),  # bytes/s
    },
    "narrow": {
        "E": (500 * MEGA, 1500 * MEGA),
        "D": (3 * MEGA, 8 * MEGA),
        "p1": (100 * MEGA, 1000 * MEGA),
        "p2": (500 * MEGA, 5000 * MEGA),
        "b1": (0.0, 2 * MEGA),
        "b2": (0.0, 3 * MEGA),
    },
}

#: Device energy model (our own; the paper names energy but never models it).
#: Dynamic CPU energy per cycle is ``kappa * f**2`` (effective switched capacitance
#: ``kappa``), radio energy is power times air time. kappa = 1e-27 and the
#: transmit/receive powers follow the values used in the MEC offloading literature,
#: e.g. Mao, You, Zhang, Huang, Letaief, "A Survey on Mobile Edge Computing: The
#: Communication Perspective", IEEE Commun. Surveys Tuts. 19(4), 2017, §IV; and
#: Chen, Jiao, Li, Fu, "Efficient Multi-User Computation Offloading for Mobile-Edge
#: Cloud Computing", IEEE/ACM ToN 24(5), 2016 (transmit power 100 mW-scale).
#: Only the end device's energy counts (edge and cloud are mains powered).
ENERGY_CONSTANTS = {
    "kappa": 1e-27,  # J / (cycle * Hz**2)
    "transmit_power": 0.5,  # W, device radio while sending
    "receive_power": 0.1,  # W, device radio while receiving
}


#: The six fields of a requirement and the shapes they must have.
FIELD_SHAPES = {"E": "(n, |A|)", "D": "(n, |A| + 1)", "p1": "(n,)", "p2": "(n,)", "b1": "(n,)", "b2": "(n,)"}


def _expected_shape(name: str, n: int, array: np.ndarray) -> tuple[int, ...]:
    """The shape ``name`` should have with ``n`` rows, keeping its own number of columns."""
    return (n, array.shape[1]) if array.ndim == 2 else (n,)


def _check_rows(arrays: dict[str, np.ndarray]) -> int:
    """The number of rows n shared by the six fields, or a ValueError naming the odd one out."""
    rows = {name: array.shape[0] for name, array in arrays.items()}
    counts = Counter(rows.values())
    if len(counts) == 1:
        return next(iter(counts))
    (n, votes), (_, runner_up) = counts.most_common(2)
    if votes == runner_up:  # no clear majority: list every shape
        given = ", ".join(f"{name}.shape = {array.shape}" for name, array in arrays.items())
        raise ValueError(f"E, D, p1, p2, b1 and b2 must have the same number of rows n, got {given}")
    name = next(name for name in arrays if rows[name] != n)
    agreeing = ", ".join(other for other in arrays if rows[other] == n)
    raise ValueError(
        f"{name} must have shape {FIELD_SHAPES[name]} = {_expected_shape(name, n, arrays[name])} "
        f"(n = {n} like {agreeing}), got {name}.shape = {arrays[name].shape}"
    )


@dataclass(frozen=True)
class Requirements:
    """A batch of ``n`` offloading requirements S = (E, D, p1, p2, b1, b2).

    Parameters
    ----------
    E : array (n, |A|)
        Computation of each subtask, CPU cycles; finite and non-negative (>= 0): a
        subtask of 0 cycles costs no computation time anywhere.
    D : array (n, |A| + 1)
        Data sizes, bytes; finite and non-negative (>= 0). ``D[:, 0]`` is the task
        input (generated on the device), ``D[:, t]`` the input of subtask t,
        ``D[:, |A|]`` the task output.
    p1, p2 : array (n,)
        CPU frequency of the end device and of the edge server, Hz; finite and
        positive (> 0), since computation time is ``E / p``.
    b1, b2 : array (n,)
        Bandwidth device<->edge and edge<->cloud, bytes/s; finite and positive (> 0),
        since transfer time is ``D / b``.

    Raises
    ------
    ValueError
        Naming the field, the rule and the value that breaks it, e.g.
        ``b1 must be positive (> 0), got b1[3] = 0.0`` or
        ``E must have shape (n, |A|) = (2, 6) (n = 2 like D, p1, p2, b1, b2), got E.shape = (3, 6)``.
    """

    E: np.ndarray
    D: np.ndarray
    p1: np.ndarray
    p2: np.ndarray
    b1: np.ndarray
    b2: np.ndarray

    def __post_init__(self):
        arrays = {}
        for name, shape in FIELD_SHAPES.items():
            check = check_nonnegative_array if name in ("E", "D") else check_positive_array
            arrays[name] = check(name, getattr(self, name), 2 if name in ("E", "D") else 1, shape)
        n = _check_rows(arrays)
        E, D = arrays["E"], arrays["D"]
        if D.shape[1] != E.shape[1] + 1:
            raise ValueError(
                f"E and D disagree on |A|: E must have shape (n, |A|) and D shape (n, |A| + 1), "
                f"got E.shape = {E.shape} (|A| = {E.shape[1]}) and D.shape = {D.shape} (|A| = {D.shape[1] - 1})"
            )
        if n < 1:
            raise ValueError(f"E must hold at least one requirement, got n = {n}")
        if E.shape[1] < 1:
            raise ValueError(f"E must have at least one subtask, got |A| = {E.shape[1]}")
        for name, array in arrays.items():
            object.__setattr__(self, name, array)

    @property
    def n(self) -> int:
        """Number of requirements in the batch."""
        return self.E.shape[0]

    @property
    def num_subtasks(self) -> int:
        """|A|, the number of subtasks of each task."""
        return self.E.shape[1]

    def __len__(self) -> int:
        return self.n

    def take(self, index) -> "Requirements":
        """The requirements at ``index`` (a slice, integer array or boolean mask)."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return Requirements(
            E=self.E[index], D=self.D[index], p1=self.p1[index], p2=self.p2[index],
            b1=self.b1[index], b2=self.b2[index],
        )

    def as_dict(self) -> dict[str, np.ndarray]:
        """The six fields as a dict of arrays (for saving with ``np.savez``)."""
        return {name: getattr(self, name) for name in ("E", "D", "p1", "p2", "b1", "b2")}


def check_requirements(req, name: str = "req") -> Requirements:
    """``req`` if it is a :class:`Requirements`, else a TypeError saying what was given."""
    if isinstance(req, Requirements):
        return req
    raise TypeError(
        f"{name} must be a kdoffload.Requirements, got {describe(req)}; make one with kd.sample(...) "
        f"or kd.Requirements(E=..., D=..., p1=..., p2=..., b1=..., b2=...)"
    )


def sample(n: int, preset: str = "wide", num_subtasks: int = 6, seed: int = 0) -> Requirements:
    """Draw ``n`` requirements uniformly from a preset's ranges.

    Parameters
    ----------
    n : int
        Number of requirements (>= 1).
    preset : {"wide", "narrow"}
        §5.1 (wide) or §5.2 (narrow) ranges, see :data:`PRESETS`.
    num_subtasks : int
        |A| (>= 1); the paper uses 6.
    seed : int
        Seed (>= 0) of the ``numpy.random.Generator``; the same seed gives identical arrays.

    Notes
    -----
    Each field is drawn as ``high - U[0, high - low)``, i.e. from ``(low, high]``, so a
    bandwidth of exactly 0 (an infinite latency) cannot occur, while values arbitrarily
    close to 0 still do (Assumptions, point 6).
    """
    n = check_count("n", n)
    num_subtasks = check_count("num_subtasks", num_subtasks)
    seed = check_int("seed", seed, minimum=0)
    ranges = PRESETS[check_choice("preset", preset, PRESETS)]
    rng = np.random.default_rng(seed)
    shapes = {"E": (n, num_subtasks), "D": (n, num_subtasks + 1), "p1": (n,), "p2": (n,), "b1": (n,), "b2": (n,)}
    fields = {}
    for name, shape in shapes.items():
        low, high = ranges[name]
        fields[name] = high - rng.uniform(0.0, high - low, size=shape)
    return Requirements(**fields)


def hop_matrix(req: Requirements) -> np.ndarray:
    """Seconds per byte between each pair of locations, shape (n, 3, 3).

    ``[i, j]`` is 0 on the diagonal, ``1/b1`` device<->edge, ``1/b2`` edge<->cloud and
    ``1/b1 + 1/b2`` device<->cloud (relayed through the edge).
    """
    req = check_requirements(req)
    inv_b1, inv_b2 = 1.0 / req.b1, 1.0 / req.b2
    matrix = np.zeros((req.n, NUM_LOCATIONS, NUM_LOCATIONS))
    matrix[:, DEVICE, EDGE] = matrix[:, EDGE, DEVICE] = inv_b1
    matrix[:, EDGE, CLOUD] = matrix[:, CLOUD, EDGE] = inv_b2
    matrix[:, DEVICE, CLOUD] = matrix[:, CLOUD, DEVICE] = inv_b1 + inv_b2
    return matrix


def _latency_tensors(req: Requirements) -> tuple[np.ndarray, np.ndarray]:
    computation = np.zeros((req.n, req.num_subtasks, NUM_LOCATIONS))
    computation[:, :, DEVICE] = req.E / req.p1[:, None]
    computation[:, :, EDGE] = req.E / req.p2[:, None]
    transfer = req.D[:, :, None, None] * hop_matrix(req)[:, None, :, :]
    return computation, transfer


def _energy_tensors(req: Requirements) -> tuple[np.ndarray, np.ndarray]:
    kappa = ENERGY_CONSTANTS["kappa"]
    computation = np.zeros((req.n, req.num_subtasks, NUM_LOCATIONS))
    computation[:, :, DEVICE] = kappa * req.p1[:, None] ** 2 * req.E
    # The device's radio is busy only on the device<->edge hop (also when relaying to the cloud).
    air_time = req.D[:, :, None] / req.b1[:, None, None]  # (n, |A|+1, 1) seconds per device hop
    per_hop = np.zeros((req.n, req.num_subtasks + 1, NUM_LOCATIONS, NUM_LOCATIONS))
    sending = ENERGY_CONSTANTS["transmit_power"] * air_time[..., 0]
    receiving = ENERGY_CONSTANTS["receive_power"] * air_time[..., 0]
    per_hop[:, :, DEVICE, EDGE] = per_hop[:, :, DEVICE, CLOUD] = sending
    per_hop[:, :, EDGE, DEVICE] = per_hop[:, :, CLOUD, DEVICE] = receiving
    return computation, per_hop


def cost_tensors(
    req: Requirements, objective: str = "latency", weight: float = 0.5, output_return: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Additive cost of every placement choice.

    Parameters
    ----------
    req : Requirements
    objective : {"latency", "energy", "weighted"}
        ``latency`` in seconds; ``energy`` in joules of the end device (see
        :data:`ENERGY_CONSTANTS`); ``weighted`` = ``weight * latency + (1 - weight) * energy``.
    weight : float
        Weight of latency in ``weighted``, in [0, 1].
    output_return : bool
        If True (default) the task output ``D[:, |A|]`` goes back to the device;
        if False it stays where the last subtask ran (no cost).

    Returns
    -------
    computation : array (n, |A|, 3)
        ``computation[k, t, j]``: cost of running subtask t at location j.
    transfer : array (n, |A| + 1, 3, 3)
        ``transfer[k, t, i, j]``: cost of moving ``D[k, t]`` from location i (of subtask
        t - 1, the device for t = 0) to location j (of subtask t, the device for t = |A|).

    The cost of a decision ``I`` is ``sum_t computation[t, I_t] + transfer[0, 0, I_0] +
    sum_{t=1}^{|A|-1} transfer[t, I_{t-1}, I_t] + transfer[|A|, I_{|A|-1}, 0]``.
    """
    req = check_requirements(req)
    check_choice("objective", objective, OBJECTIVES)
    if objective == "latency":
        computation, transfer = _latency_tensors(req)
    elif objective == "energy":
        computation, transfer = _energy_tensors(req)
    else:
        weight = check_in_range("weight", weight, 0.0, 1.0)
        latency_comp, latency_transfer = _latency_tensors(req)
        energy_comp, energy_transfer = _energy_tensors(req)
        computation = weight * latency_comp + (1 - weight) * energy_comp
        transfer = weight * latency_transfer + (1 - weight) * energy_transfer
    if not output_return:
        transfer[:, -1] = 0.0
    return computation, transfer


def check_locations(name: str, array: np.ndarray) -> np.ndarray:
    """``array`` (any shape) as int64 whose values are locations {0, 1, 2}, or a ValueError
    naming ``name`` and the first bad entry."""
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"{name} must be integers in {{0, 1, 2}}, got dtype {array.dtype}")
    bad = ~np.isin(array, (DEVICE, EDGE, CLOUD))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must be in {{0, 1, 2}}, got {name}{list(index)} = {array[index]}")
    return array.astype(np.int64)


def check_decisions(decisions, req: Requirements) -> np.ndarray:
    """``decisions`` as an int64 array of shape (n, |A|) with values in {0, 1, 2}."""
    req = check_requirements(req)
    array = np.asarray(decisions)
    if array.shape != (req.n, req.num_subtasks):
        raise ValueError(f"decisions must have shape (n, |A|) = {(req.n, req.num_subtasks)}, "
                         f"got decisions.shape = {array.shape}")
    return check_locations("decisions", array)


def path_cost(computation: np.ndarray, transfer: np.ndarray, decisions: np.ndarray) -> np.ndarray:
    """Total cost (n,) of ``decisions`` (n, |A|) under the given cost tensors (no checks)."""
    n, num_subtasks = decisions.shape
    rows = np.arange(n)[:, None]
    subtasks = np.arange(num_subtasks)[None, :]
    previous = np.concatenate([np.full((n, 1), DEVICE), decisions], axis=1)
    following = np.concatenate([decisions, np.full((n, 1), DEVICE)], axis=1)
    hops = np.arange(num_subtasks + 1)[None, :]
    return computation[rows, subtasks, decisions].sum(axis=1) + transfer[rows, hops, previous, following].sum(axis=1)


def cost(req: Requirements, decisions, objective: str = "latency", weight: float = 0.5, output_return: bool = True) -> np.ndarray:
    """Cost (n,) of ``decisions`` under ``objective`` (seconds, joules or their weighted sum)."""
    decisions = check_decisions(decisions, req)
    return path_cost(*cost_tensors(req, objective, weight, output_return), decisions)


def latency(req: Requirements, decisions, output_return: bool = True) -> np.ndarray:
    """End-to-end latency (n,) in seconds of each requirement under ``decisions`` (n, |A|)."""
    return cost(req, decisions, "latency", output_return=output_return)


def energy(req: Requirements, decisions, output_return: bool = True) -> np.ndarray:
    """End-device energy (n,) in joules of ``decisions`` (see :data:`ENERGY_CONSTANTS`)."""
    return cost(req, decisions, "energy", output_return=output_return)
