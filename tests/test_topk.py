"""Top-K re-check: k_best against brute force and by hand, the re-check against the exact optimum."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch

import kdoffload as kd
from kdoffload import graphs, nets
from kdoffload.topk import TopKRecheck, k_best, recheck


def brute_force(log_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All 3**n assignments of each row (r, 3**n, n) and their joint log-probabilities, sorted
    by decreasing joint, ties by the rank of each position's option (rank = number of more
    probable options plus equally probable ones of lower location), position 0 first."""
    r, n, _ = log_probs.shape
    every = np.array(list(itertools.product(range(3), repeat=n)), dtype=np.int64)  # (3**n, n)
    rows, positions = np.arange(r)[:, None, None], np.arange(n)[None, None, :]
    terms = log_probs[rows, positions, every[None]]  # (r, 3**n, n)
    joint = np.cumsum(terms, axis=2)[:, :, -1]  # summed from position 0, as k_best documents
    lower = np.arange(3)[:, None] > np.arange(3)[None, :]  # lower[l, l2]: l2 < l
    better = (log_probs[:, :, None, :] > log_probs[:, :, :, None]) | (
        (log_probs[:, :, None, :] == log_probs[:, :, :, None]) & lower)
    rank = better.sum(axis=3)[rows, positions, every[None]]  # (r, 3**n, n)
    assignments, joints = [], []
    for i in range(r):
        order = np.lexsort([rank[i, :, j] for j in range(n - 1, -1, -1)] + [-joint[i]])
        assignments.append(every[order])
        joints.append(joint[i, order])
    return np.array(assignments), np.array(joints)


def random_log_probs(kind: str, r: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "continuous":
        logits = rng.normal(scale=2.0, size=(r, n, 3))
        return logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
    return -0.5 * rng.integers(0, 4, size=(r, n, 3)).astype(float)  # exact sums, many ties


@pytest.mark.parametrize("kind", ["continuous", "ties"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_k_best_is_brute_force_for_every_k(kind, n):
    log_probs = random_log_probs(kind, 40, n, seed=n)
    expected, expected_joint = brute_force(log_probs)
    everything, joint = k_best(log_probs, 3 ** n)
    np.testing.assert_array_equal(everything, expected)
    np.testing.assert_array_equal(joint, expected_joint)
    for k in range(1, 3 ** n + 1):
        assignments, top = k_best(log_probs, k)
        assert assignments.shape == (40, k, n) and assignments.dtype == np.int64 and top.shape == (40, k)
        np.testing.assert_array_equal(assignments, expected[:, :k])
        np.testing.assert_array_equal(top, expected_joint[:, :k])


def test_k_best_by_hand_with_distinct_probabilities():
    # p(position 0) = (0.5, 0.3, 0.2), p(position 1) = (0.1, 0.6, 0.3); the nine products:
    # (0,1) .30, (1,1) .18, (0,2) .15, (2,1) .12, (1,2) .09, (2,2) .06, (0,0) .05, (1,0) .03, (2,0) .02
    probabilities = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]])
    assignments, joint = k_best(np.log(probabilities), 9)
    assert assignments.tolist() == [[0, 1], [1, 1], [0, 2], [2, 1], [1, 2], [2, 2], [0, 0], [1, 0], [2, 0]]
    np.testing.assert_allclose(np.exp(joint), [0.30, 0.18, 0.15, 0.12, 0.09, 0.06, 0.05, 0.03, 0.02], rtol=1e-12)


def test_k_best_by_hand_with_ties():
    # Position 0 prefers edge (-1) to device (-2) to cloud (-3); position 1 device, edge, cloud.
    # Joints: (1,0) -2; (1,1) (0,0) -3; (1,2) (0,1) (2,0) -4; (0,2) (2,1) -5; (2,2) -6. Ties go to
    # the assignment whose first differing position takes the more probable option: (1,1) before
    # (0,0) because edge is position 0's best option, although (0,0) is lexicographically smaller.
    log_probs = np.array([[-2.0, -1.0, -3.0], [-1.0, -2.0, -3.0]])
    assignments, joint = k_best(log_probs, 9)
    assert assignments.tolist() == [[1, 0], [1, 1], [0, 0], [1, 2], [0, 1], [2, 0], [0, 2], [2, 1], [2, 2]]
    assert joint.tolist() == [-2, -3, -3, -4, -4, -4, -5, -5, -6]
    # Equal options keep the location order: the uniform case is plain lexicographic order.
    uniform, _ = k_best(np.full((2, 3), np.log(1 / 3)), 9)
    assert uniform.tolist() == [list(a) for a in itertools.product(range(3), repeat=2)]


def test_k_best_first_assignment_is_the_argmax_and_single_rows_keep_their_shape():
    log_probs = random_log_probs("ties", 200, 8, seed=1)
    assignments, joint = k_best(log_probs, 5)
    np.testing.assert_array_equal(assignments[:, 0], log_probs.argmax(axis=2))
    single, single_joint = k_best(log_probs[3], 5)
    assert single.shape == (5, 8) and single_joint.shape == (5,)
    np.testing.assert_array_equal(single, assignments[3])
    np.testing.assert_array_equal(single_joint, joint[3])


@pytest.fixture(scope="module")
def student():
    torch.manual_seed(0)
    return nets.student(name="kd_dil")


@pytest.mark.parametrize("seed", [0, 1])
def test_k_equal_one_is_the_networks_own_decision(seed):
    torch.manual_seed(seed)
    for model in (nets.student(), nets.teacher()):
        req = kd.sample(500, "wide", seed=seed)
        np.testing.assert_array_equal(TopKRecheck(model, k=1).decide(req), model.decide(req))


@pytest.mark.parametrize("num_subtasks", [1, 2, 3, 6])
def test_all_candidates_give_the_exact_optimum(num_subtasks):
    torch.manual_seed(num_subtasks)
    model = nets.student(num_subtasks)
    req = kd.sample(300, "wide", num_subtasks=num_subtasks, seed=num_subtasks)
    got = kd.latency(req, TopKRecheck(model, k=3 ** num_subtasks).decide(req))
    optimum = kd.latency(req, kd.solve(req, "dp"))
    np.testing.assert_allclose(got, optimum, rtol=1e-9, atol=0)
    assert np.all(got <= optimum)  # the minimum over all 3**n decisions, in the same arithmetic


def test_cost_is_the_running_minimum_over_the_brute_force_order_so_never_increases_with_k(student):
    req = kd.sample(300, "wide", seed=5)
    log_probs = student.logits(req)
    ordered, _ = brute_force(log_probs)  # (300, 729, 6), most probable first
    running = np.minimum.accumulate(np.stack([kd.latency(req, ordered[:, i]) for i in range(3 ** 6)], axis=1), axis=1)
    ks = [1, 2, 3, 4, 8, 16, 32, 100, 243, 728, 729]
    costs = np.array([kd.latency(req, recheck(req, log_probs, k)) for k in ks])
    np.testing.assert_array_equal(costs, running[:, np.array(ks) - 1].T)
    assert np.all(np.diff(costs, axis=0) <= 0)
    np.testing.assert_array_equal(costs[0], kd.latency(req, student.decide(req)))
    assert np.any(costs[-1] < costs[0])  # an untrained network is not optimal everywhere


def test_graphs_with_a_callable_network_and_the_graph_cost():
    req = graphs.random_dag(5, requests=40, seed=2)
    log_probs = random_log_probs("continuous", 40, 5, seed=3)
    policy = TopKRecheck(lambda r: log_probs, k=3 ** 5, cost=graphs.latency, name="fixed")
    placements = policy.decide(req)
    assert placements.shape == (40, 5) and placements.dtype == np.int64
    np.testing.assert_allclose(graphs.latency(req, placements), graphs.latency(req, graphs.solve(req, "exhaustive")),
                               rtol=1e-9, atol=0)
    np.testing.assert_array_equal(TopKRecheck(lambda r: log_probs, k=1, cost=graphs.latency).decide(req),
                                  log_probs.argmax(axis=2))


def test_implements_the_policy_interface(student):
    policy = TopKRecheck(student, k=4)
    assert isinstance(policy, kd.Policy) and policy.name == "kd_dil+top4"
    assert TopKRecheck(lambda r: None, k=2).name == "top2"
    req = kd.sample(20, seed=1)
    optimal = kd.solve(req)
    scored = [kd.summarize(req, p.decide(req), optimal)["normalized_latency"] for p in (student, policy)]
    assert 1.0 <= scored[1] <= scored[0]  # re-checking the network's 4 best decisions never costs more
    student.train()
    policy.decide(req)
    assert student.training and all(p.grad is None for p in student.parameters())


@pytest.mark.parametrize("k, message", [
    (0, "k must be an integer >= 1, got k = 0"),
    (-3, "k must be an integer >= 1, got k = -3"),
    (2.0, "k must be an integer >= 1, got k = 2.0"),
    ("4", "k must be an integer >= 1, got k = '4'"),
    (True, "k must be an integer >= 1 (not a bool), got k = True"),
    (10, "k must be <= 3**n = 9 (the number of joint assignments of n = 2 positions), got k = 10"),
])
def test_bad_k_is_refused_by_name(k, message):
    with pytest.raises(ValueError, match=rf"^{re.escape(message)}$"):
        k_best(np.zeros((4, 2, 3)), k)


def with_one(value: float, at: int) -> np.ndarray:
    """A (2, 3) array of zeros with ``value`` at flat index ``at``."""
    return np.where(np.arange(6).reshape(2, 3) == at, value, 0.0)


@pytest.mark.parametrize("value, message", [
    (np.zeros((4, 2, 2)),
     "log_probs must have a last axis of 3 (device, edge, cloud), got log_probs.shape = (4, 2, 2)"),
    (np.zeros(3), "log_probs must have shape (r, n, 3) or (n, 3), got log_probs.shape = (3,)"),
    (np.zeros((1, 4, 2, 3)), "log_probs must have shape (r, n, 3) or (n, 3), got log_probs.shape = (1, 4, 2, 3)"),
    (np.zeros((4, 0, 3)), "log_probs must have at least one position (n >= 1), got log_probs.shape = (4, 0, 3)"),
    (with_one(np.nan, 4), "log_probs must not be NaN, got log_probs[1, 1] = nan"),
    (with_one(np.inf, 2), "log_probs must be finite, got log_probs[0, 2] = inf"),
    (with_one(-np.inf, 5), "log_probs must be finite, got log_probs[1, 2] = -inf"),
    ([["a", "b", "c"]], "log_probs must be an array of numbers of shape (r, n, 3) or (n, 3), got log_probs = "),
])
def test_bad_log_probs_are_refused_by_name(value, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        k_best(value, 1)


def test_bad_networks_and_costs_are_refused_by_name(student):
    req = kd.sample(10, num_subtasks=5, seed=0)
    with pytest.raises(ValueError, match=r"^this network decides \|A\| = 6 subtasks, got requirements with \|A\| = 5$"):
        TopKRecheck(student, k=2).decide(req)
    with pytest.raises(ValueError, match=r"^expected features of shape \(n, 17\), got shape \(10, 15\)$"):
        student.logits(kd.features(req))
    with pytest.raises(ValueError, match=r"^network\(req\) must have shape \(r, n, 3\) = \(10, 5, 3\) for r = 10 "
                                         r"requests of n = 5 subtasks, got network\(req\).shape = \(10, 6, 3\)$"):
        TopKRecheck(lambda r: np.zeros((10, 6, 3)), k=2).decide(req)
    with pytest.raises(ValueError, match=r"^k must be <= 3\*\*n = 243 .* got k = 244$"):
        TopKRecheck(lambda r: np.zeros((10, 5, 3)), k=244).decide(req)
    with pytest.raises(ValueError, match=r"^k must be an integer >= 1, got k = 0$"):
        TopKRecheck(student, k=0)
    with pytest.raises(ValueError, match=r"^network must be a kdoffload.nets.MLPPolicy or a callable .* "
                                         r"got network = int 3$"):
        TopKRecheck(3)
    with pytest.raises(TypeError, match=r"^req must be a kdoffload.Requirements"):
        TopKRecheck(student).decide(graphs.random_dag(3, requests=2))
    with pytest.raises(ValueError, match=r"^cost\(req, decisions\) must have shape \(r,\) = \(10,\), "
                                         r"got cost\(req, decisions\).shape = \(9,\)$"):
        recheck(req, np.zeros((10, 5, 3)), 2, cost=lambda r, x: np.zeros(9))
    with pytest.raises(ValueError, match=r"^cost\(req, decisions\) must not be NaN"):
        recheck(req, np.zeros((10, 5, 3)), 2, cost=lambda r, x: np.full(10, np.nan))


@pytest.mark.parametrize("n", [1, 2, 4, 9])
def test_k_best_one_gives_the_joint_values_of_k_best(n):
    """The per-request fast path keeps only the positions of the k cheapest moves; its k
    assignments must have exactly the k largest joint values that the full beam finds
    (checked against k_best, itself checked against brute force above)."""
    from kdoffload.topk import k_best_one

    rng = np.random.default_rng(n)
    for trial in range(20):
        log_probs = np.log(rng.dirichlet(np.ones(3) * 0.3, size=n) + 1e-9)
        for k in sorted({1, 2, 3, 8, 32, 3 ** n} & set(range(1, 3 ** n + 1))):
            fast = k_best_one(log_probs, k)
            _, joint = k_best(log_probs, k)
            assert fast.shape == (k, n) and len({tuple(a) for a in fast.tolist()}) == k
            values = log_probs[np.arange(n), fast].sum(axis=1)
            np.testing.assert_allclose(np.sort(values)[::-1], joint, rtol=0, atol=1e-12)
