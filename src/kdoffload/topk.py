"""Top-K exact re-check of a network's decisions: the K most probable joint decisions, re-scored.

A learned policy gives, for each request, an independent distribution over the three
locations (0 device, 1 edge, 2 cloud) of each of the ``n`` subtasks (or graph nodes);
its decision is the per-subtask argmax. The re-check takes instead the ``k`` most
probable *joint* assignments under those distributions (:func:`k_best`), prices each
with the exact cost model and keeps the cheapest (:class:`TopKRecheck`). With ``k = 1``
it is the network's own decision; with ``k = 3**n`` it is the exact optimum; in between
the cost of the kept decision never increases with ``k``.

This is the candidate-generation step of DROO: L. Huang, S. Bi, Y.-J. A. Zhang, "Deep
Reinforcement Learning for Online Computation Offloading in Wireless Powered
Mobile-Edge Computing Networks", IEEE Trans. Mobile Computing 19(11):2581-2593, 2020,
§IV-B, where a network's relaxed output is quantised into K candidate binary offloading
decisions and the best one, by an exact evaluation, is kept. Here the candidates are
exact: the K joint assignments of highest probability, not K quantised guesses.

Units: log-probabilities in nats; costs in the unit of the cost function (seconds for
:func:`kdoffload.system.latency` and :func:`kdoffload.graphs.latency`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .checks import check_array, check_count, describe, show
from .nets import MLPPolicy
from .system import NUM_LOCATIONS, check_requirements, latency

__all__ = ["k_best", "k_best_one", "recheck", "TopKRecheck"]


def _check_log_probs(log_probs, name: str = "log_probs") -> np.ndarray:
    """``log_probs`` as a finite float64 (r, n, 3) or (n, 3) array, or a ValueError naming ``name``."""
    try:
        array = np.asarray(log_probs, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers of shape (r, n, 3) or (n, 3), "
                         f"got {name} = {show(log_probs)}") from None
    if array.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape (r, n, 3) or (n, 3), got {name}.shape = {array.shape}")
    if array.shape[-1] != NUM_LOCATIONS:
        raise ValueError(f"{name} must have a last axis of 3 (device, edge, cloud), "
                         f"got {name}.shape = {array.shape}")
    if array.shape[-2] < 1:
        raise ValueError(f"{name} must have at least one position (n >= 1), got {name}.shape = {array.shape}")
    return check_array(name, array, array.ndim, "(r, n, 3) or (n, 3)")


def _check_for(req, log_probs, name: str) -> np.ndarray:
    """``log_probs`` checked by :func:`_check_log_probs` and of shape (r, n, 3) for ``req``."""
    expected = (req.n, req.num_subtasks, NUM_LOCATIONS)
    array = _check_log_probs(log_probs, name)
    if array.shape != expected:
        raise ValueError(f"{name} must have shape (r, n, 3) = {expected} for r = {req.n} requests of "
                         f"n = {req.num_subtasks} subtasks, got {name}.shape = {array.shape}")
    return array


def k_best(log_probs, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most probable joint assignments of independent 3-way choices, exactly.

    Parameters
    ----------
    log_probs : array (r, n, 3) or (n, 3)
        Log-probability (nats) of each location at each of the ``n`` positions of each of
        the ``r`` rows; the positions are independent. Finite: a probability of 0
        (``-inf``) would tie every assignment that takes it and break the order below;
        pass logits, or clip the probabilities away from 0. Unnormalised scores such as
        logits give the same assignments: adding a constant to the three values of a
        position shifts every joint value of the row by that constant.
    k : int
        Number of assignments per row, ``1 <= k <= 3**n``.

    Returns
    -------
    assignments : int64 array (r, k, n) (or (k, n) for a single row)
        Locations in {0, 1, 2}, most probable first.
    joint : float64 array (r, k) (or (k,))
        Their joint log-probabilities, ``log_probs[0, a_0] + ... + log_probs[n-1, a_{n-1}]``
        summed from position 0 to n - 1; non-increasing along each row.

    Raises
    ------
    ValueError
        If ``k`` is not an integer in [1, 3**n] (naming ``k`` and ``3**n``) or
        ``log_probs`` has the wrong shape, a NaN or an infinity (naming the element).

    Notes
    -----
    Order and ties: assignments come by decreasing joint log-probability; among equal
    ones, at the first position where two assignments differ, the one taking the more
    probable option of that position comes first, and of two equally probable options
    the lower location index. So the first assignment is always the per-position argmax
    (ties to the lower location, as ``numpy.argmax`` and ``torch.argmax``).

    Algorithm: an exact beam over positions. The options of each position are ranked
    (stable sort, so ties keep the location order). After position ``j`` the list holds
    the best ``min(k, 3**(j+1))`` prefixes ``a_0..a_j``; the next list is the best of
    their 3-way extensions. This loses nothing: if a prefix is outside the best ``k``,
    ``k`` better prefixes completed with the same suffix give ``k`` better assignments
    (the order above is preserved by appending the same suffix). Each step is one
    stable sort of ``3k`` candidates per row, vectorised over rows, so the cost is
    O(r n k log k) time and O(r n k) memory (parent pointers, read back at the end).
    Rounding: exact ties are handled as above; two joint values that differ only below
    the rounding of their sums can come in either order (the returned joint values are
    still the ``k`` largest).
    """
    array = _check_log_probs(log_probs)
    single = array.ndim == 2
    if single:
        array = array[None]
    r, n, _ = array.shape
    k = check_count("k", k)
    if k > NUM_LOCATIONS ** n:
        raise ValueError(f"k must be <= 3**n = {NUM_LOCATIONS ** n} (the number of joint assignments of "
                         f"n = {n} positions), got k = {k}")

    order = np.argsort(-array, axis=2, kind="stable")  # order[i, j, q]: location of rank q
    ranked = np.take_along_axis(array, order, axis=2)  # log-probs by rank, non-increasing
    joint = np.zeros((r, 1))
    parents, choices = [], []
    for j in range(n):
        # Candidates in lexicographic order of their rank vectors (the prefixes are kept in
        # that order, then the 3 ranks), so a stable sort by decreasing joint breaks ties as
        # documented.
        candidates = (joint[:, :, None] + ranked[:, j, None, :]).reshape(r, NUM_LOCATIONS * joint.shape[1])
        keep = min(k, candidates.shape[1])
        pick = np.argsort(-candidates, axis=1, kind="stable")[:, :keep]
        if j < n - 1:
            pick = np.sort(pick, axis=1)  # back to lexicographic order for the next step
        joint = np.take_along_axis(candidates, pick, axis=1)
        parents.append(pick // NUM_LOCATIONS)
        choices.append(pick % NUM_LOCATIONS)

    ranks = np.empty((r, k, n), dtype=np.int64)
    slot = np.broadcast_to(np.arange(k), (r, k))
    for j in range(n - 1, -1, -1):
        ranks[:, :, j] = np.take_along_axis(choices[j], slot, axis=1)
        slot = np.take_along_axis(parents[j], slot, axis=1)
    assignments = order[np.arange(r)[:, None, None], np.arange(n)[None, None, :], ranks]
    return (assignments[0], joint[0]) if single else (assignments, joint)


#: Largest ``k`` for which :func:`k_best_one` enumerates the subsets of the ``k`` cheapest moves.
SUBSET_LIMIT = 12


@lru_cache(maxsize=None)
def _subsets(k: int) -> np.ndarray:
    """(2**k, k) bool: every subset of ``k`` items, as rows of bits."""
    return ((np.arange(2 ** k)[:, None] >> np.arange(k)) & 1).astype(bool)


def k_best_one(log_probs: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` most probable joint assignments (k, n) of one row ``log_probs`` (n, 3),
    for per-request code: unchecked (finite float input, ``1 <= k <= 3**n``), and fast
    for ``k`` much smaller than ``n``.

    The same assignments as :func:`k_best` (up to the order of equal joint values), found
    among a few moves only. Each assignment is the argmax with some positions moved to
    their second or third choice, each move costing ``delta >= 0`` of joint log-probability.
    An assignment that makes a move outside the ``k`` cheapest moves is beaten by the
    argmax and by those ``k`` single moves, so it is not among the ``k`` best. For
    ``k <= SUBSET_LIMIT`` every subset of the ``k`` cheapest moves that moves each position
    at most once is priced at once and the ``k`` cheapest kept; for larger ``k``,
    :func:`k_best` runs on the positions of those moves (at most ``k``).
    """
    n = log_probs.shape[0]
    order = np.argsort(-log_probs, axis=1, kind="stable")
    best = order[:, 0].astype(np.int64)
    if k == 1:
        return best[None]
    ranked = log_probs[np.arange(n)[:, None], order]
    moves = (ranked[:, :1] - ranked[:, 1:]).ravel()  # move 2j + q - 1: position j to its rank-q choice
    cheapest = np.argpartition(moves, k - 1)[:k] if moves.size > k else np.arange(moves.size)
    # The moves touch at least min(k, 2n) / 2 positions, whose 3**that assignments are >= k.
    position, rank = np.divmod(cheapest, NUM_LOCATIONS - 1)
    if len(cheapest) > SUBSET_LIMIT:
        positions = np.unique(position)
        partial, _ = k_best(log_probs[positions], k)
        assignments = np.repeat(best[None], k, axis=0)
        assignments[:, positions] = partial
        return assignments
    subsets = _subsets(len(cheapest))
    first, second = np.nonzero(np.triu(position[:, None] == position[None, :], 1))
    if len(first):  # a position moves at most once
        subsets = subsets[~(subsets[:, first] & subsets[:, second]).any(axis=1)]
    totals = subsets @ moves[cheapest]
    rows, columns = np.nonzero(subsets[np.argsort(totals, kind="stable")[:k]])
    assignments = np.repeat(best[None], k, axis=0)
    moved = position[columns]
    assignments[rows, moved] = order[moved, rank[columns] + 1]
    return assignments


def recheck(req, log_probs, k: int, cost: Callable = latency) -> np.ndarray:
    """The cheapest of the ``k`` most probable joint decisions of each request.

    Parameters
    ----------
    req : Requirements or GraphRequirements
        ``r`` requests of ``n`` subtasks (``req.n``, ``req.num_subtasks``).
    log_probs : array (r, n, 3)
        Per-subtask log-probabilities (or logits), see :func:`k_best`.
    k : int
        Number of candidates, ``1 <= k <= 3**n``.
    cost : callable ``cost(req, decisions (r, n)) -> (r,)``
        Exact cost of a decision per request, e.g. :func:`kdoffload.system.latency`
        (seconds, the default) or :func:`kdoffload.graphs.latency`.

    Returns
    -------
    int64 array (r, n)
        Per request, the candidate of least cost; of equal costs, the more probable.
    """
    candidates, _ = k_best(_check_for(req, log_probs, "log_probs"), k)
    costs = np.empty(candidates.shape[:2])
    for i in range(candidates.shape[1]):
        value = check_array("cost(req, decisions)", cost(req, candidates[:, i]), ndim=1, shape="(r,)")
        if value.shape != (req.n,):
            raise ValueError(f"cost(req, decisions) must have shape (r,) = ({req.n},), "
                             f"got cost(req, decisions).shape = {value.shape}")
        costs[:, i] = value
    best = np.argmin(costs, axis=1)  # the first minimum: the more probable candidate
    return candidates[np.arange(req.n), best]


@dataclass
class TopKRecheck:
    """A network's ``k`` most probable joint decisions, re-scored exactly; the cheapest is kept.

    Implements :class:`kdoffload.policy.Policy`.

    Parameters
    ----------
    network : MLPPolicy or callable ``req -> (r, n, 3)``
        An :class:`~kdoffload.nets.MLPPolicy` (its logits are read by :meth:`~kdoffload.nets.MLPPolicy.logits`),
        or any callable giving per-subtask log-probabilities (or logits) of the requests,
        e.g. for task graphs.
    k : int
        Number of candidates per request, >= 1 (and <= 3**n, checked by :meth:`decide`).
    cost : callable ``cost(req, decisions) -> (r,)``
        Exact cost; default :func:`kdoffload.system.latency` (chains, seconds); pass
        :func:`kdoffload.graphs.latency` for :class:`~kdoffload.graphs.GraphRequirements`.
    name : str
        Name shown by :func:`kdoffload.evaluate`; default ``"<network name>+top<k>"``.
    """

    network: Any
    k: int = 8
    cost: Callable = latency
    name: str = ""

    def __post_init__(self):
        self.k = check_count("k", self.k)
        if not callable(self.network):
            raise ValueError(f"network must be a kdoffload.nets.MLPPolicy or a callable req -> (r, n, 3) "
                             f"log-probabilities, got network = {describe(self.network)}")
        if not callable(self.cost):
            raise ValueError(f"cost must be a callable cost(req, decisions) -> (r,), got cost = {describe(self.cost)}")
        if not self.name:
            base = getattr(self.network, "name", "")
            self.name = f"{base}+top{self.k}" if isinstance(base, str) and base else f"top{self.k}"

    def decide(self, req) -> np.ndarray:
        """Locations (r, n) int64: per request the cheapest of the ``k`` most probable decisions."""
        if isinstance(self.network, MLPPolicy):
            log_probs = self.network.logits(check_requirements(req))
        else:
            log_probs = _check_for(req, self.network(req), "network(req)")
        return recheck(req, log_probs, self.k, self.cost)
