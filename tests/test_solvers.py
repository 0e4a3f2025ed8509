"""Exact solvers agree with each other and with an independent brute force; heuristics.

The brute force here enumerates decisions with itertools.product and scores each one
with ``kd.cost`` (which evaluates one decision at a time, not the solvers' tensors
sweep), so it shares no search code with the solvers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kdoffload as kd

# PuLP 3.x warns on every LpVariable(...) and PULP_CBC_CMD that they go away in PuLP 4.0.


METHODS = ("exhaustive", "dp", "ilp")
RTOL = 1e-9


def brute_force(req: kd.Requirements, objective: str = "latency", weight: float = 0.5,
                output_return: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(costs of every decision (n, 3**|A|), decisions (3**|A|, |A|) in lexicographic order)."""
    decisions = list(itertools.product((0, 1, 2), repeat=req.num_subtasks))
    costs = np.stack([
        kd.cost(req, np.tile(decision, (req.n, 1)), objective, weight, output_return) for decision in decisions
    ], axis=1)
    return costs, np.array(decisions)


def lexicographic_optimum(costs: np.ndarray, decisions: np.ndarray) -> np.ndarray:
    """For each row, the first decision (lexicographic order) within RTOL of the least cost."""
    best = costs.min(axis=1, keepdims=True)
    return decisions[np.argmax(costs <= best * (1 + RTOL), axis=1)]


def assert_optimal(req, decisions, objective="latency", weight=0.5, output_return=True):
    costs, all_decisions = brute_force(req, objective, weight, output_return)
    achieved = kd.cost(req, decisions, objective, weight, output_return)
    best = costs.min(axis=1)
    # No decision beats the solver's answer (beyond rounding) ...
    assert (achieved <= best * (1 + RTOL) + 1e-300).all()
    # ... and the answer is the lexicographically first optimum.
    np.testing.assert_array_equal(decisions, lexicographic_optimum(costs, all_decisions))


# Agreement on random instances -------------------------------------------------------------

@pytest.mark.parametrize("preset", ["wide", "narrow"])
@pytest.mark.parametrize("num_subtasks", [1, 2, 3, 6, 8])
def test_exact_solvers_agree_on_random_instances(preset, num_subtasks):
    n = 300 if num_subtasks < 8 else 120
    req = kd.sample(n, preset=preset, num_subtasks=num_subtasks, seed=1000 + num_subtasks)
    results = {method: kd.solve(req, method=method) for method in METHODS}
    for method in METHODS:
        assert results[method].shape == (n, num_subtasks)
        assert results[method].dtype == np.int64
        np.testing.assert_array_equal(results[method], results["exhaustive"], err_msg=method)


@pytest.mark.parametrize("num_subtasks", [1, 2, 3, 4])
@pytest.mark.parametrize("preset", ["wide", "narrow"])
def test_exact_solvers_match_brute_force(preset, num_subtasks):
    req = kd.sample(60, preset=preset, num_subtasks=num_subtasks, seed=7 * num_subtasks)
    for method in METHODS:
        assert_optimal(req, kd.solve(req, method=method))


@pytest.mark.parametrize("objective, weight", [("energy", 0.5), ("weighted", 0.5), ("weighted", 0.9),
                                               ("weighted", 0.0), ("weighted", 1.0)])
@pytest.mark.parametrize("preset", ["wide", "narrow"])
def test_other_objectives_agree(objective, weight, preset):
    req = kd.sample(150, preset=preset, num_subtasks=3, seed=42)
    results = [kd.solve(req, method=method, objective=objective, weight=weight) for method in METHODS]
    for result in results:
        np.testing.assert_array_equal(result, results[0])
    assert_optimal(req, results[0], objective, weight)


def test_weighted_extremes_equal_plain_objectives():
    req = kd.sample(300, num_subtasks=4, seed=3)
    # Energy has exact ties (edge vs cloud cost the device the same), so compare with the
    # energy solution under the same tie-breaking rule rather than expecting uniqueness.
    np.testing.assert_array_equal(kd.solve(req, objective="weighted", weight=1.0), kd.solve(req))
    np.testing.assert_array_equal(kd.solve(req, objective="weighted", weight=0.0), kd.solve(req, objective="energy"))


@pytest.mark.parametrize("num_subtasks", [1, 3])
def test_without_output_return(num_subtasks):
    req = kd.sample(100, num_subtasks=num_subtasks, seed=5)
    results = [kd.solve(req, method=method, output_return=False) for method in METHODS]
    for result in results:
        np.testing.assert_array_equal(result, results[0])
    assert_optimal(req, results[0], output_return=False)


def test_dp_chunking_does_not_change_decisions():
    req = kd.sample(1000, num_subtasks=5, seed=11)
    whole = kd.DynamicProgramming(chunk_size=10_000).decide(req)
    np.testing.assert_array_equal(kd.DynamicProgramming(chunk_size=97).decide(req), whole)
    np.testing.assert_array_equal(kd.IntegerProgram(batch_size=333).decide(req), whole)
    np.testing.assert_array_equal(kd.ExhaustiveSearch(max_elements=1000).decide(req), whole)


# Hand-worked optimum ---------------------------------------------------------------------

def two_subtasks() -> kd.Requirements:
    """Same case as tests/test_system.py: its nine latencies, worked by hand there, are
    8, 6, 5.125, 9.5, 3.5, 2.625, 9.75, 3.75, 1.875 (lexicographic order), so the
    optimum is (cloud, cloud) at 1.875 s. Energies: (0, 0) 1 J, (0, 1) and (0, 2) 1.3 J,
    (1, 0) and (2, 0) 1.45 J, the other four 0.55 J."""
    return kd.Requirements(E=[[1e9, 3e9]], D=[[1e6, 2e6, 5e5]], p1=[5e8], p2=[2e9], b1=[1e6], b2=[4e6])


@pytest.mark.parametrize("method", METHODS)
def test_hand_worked_optimum(method):
    req = two_subtasks()
    np.testing.assert_array_equal(kd.solve(req, method=method), [[2, 2]])
    # Energy: (1, 1), (1, 2), (2, 1) and (2, 2) tie at 0.55 J; the lexicographic first is (1, 1).
    np.testing.assert_array_equal(kd.solve(req, method=method, objective="energy"), [[1, 1]])
    # Without the output return, latencies lose the last hop: (2, 2) is 1.25 s, (1, 2) 2 s,
    # (1, 1) 3 s, (0, 0) 8 s, ... so (2, 2) stays optimal.
    np.testing.assert_array_equal(kd.solve(req, method=method, output_return=False), [[2, 2]])


# Tie-breaking ----------------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("num_subtasks", [1, 3, 6])
@pytest.mark.parametrize("objective", ["latency", "energy", "weighted"])
def test_all_zero_costs_give_all_device(method, num_subtasks, objective):
    n = 4
    req = kd.Requirements(E=np.zeros((n, num_subtasks)), D=np.zeros((n, num_subtasks + 1)),
                          p1=[1e8, 5e8, 1e9, 2e9], p2=[5e8, 1e9, 3e9, 5e9], b1=[1.0, 1e3, 1e6, 2e6],
                          b2=[1.0, 2e3, 2e6, 3e6])
    assert (kd.latency(req, np.full((n, num_subtasks), 2)) == 0).all()
    np.testing.assert_array_equal(kd.solve(req, method=method, objective=objective), np.zeros((n, num_subtasks)))


@pytest.mark.parametrize("method", METHODS)
def test_one_subtask_ties(method):
    # |A| = 1, E = 1e9 cycles, p1 = 0.1 GHz, p2 = 1 GHz, b1 = b2 = 1 MB/s.
    # No data to move: device 1e9/1e8 = 10 s, edge 1e9/1e9 = 1 s, cloud 0 s -> cloud.
    req = kd.Requirements(E=[[1e9]], D=[[0.0, 0.0]], p1=[1e8], p2=[1e9], b1=[1e6], b2=[1e6])
    np.testing.assert_array_equal(kd.solve(req, method=method), [[2]])
    # No computation and no data: all three cost 0 s -> the device.
    req = kd.Requirements(E=[[0.0]], D=[[0.0, 0.0]], p1=[1e8], p2=[1e9], b1=[1e6], b2=[1e6])
    np.testing.assert_array_equal(kd.solve(req, method=method), [[0]])
    # 1 MB input, no output: device 10 s; edge 1e6/1e6 + 1e9/1e9 = 2 s;
    # cloud 1e6/1e6 + 1e6/1e6 + 0 = 2 s -> edge and cloud tie, the edge wins.
    req = kd.Requirements(E=[[1e9]], D=[[1e6, 0.0]], p1=[1e8], p2=[1e9], b1=[1e6], b2=[1e6])
    np.testing.assert_array_equal(kd.solve(req, method=method), [[1]])


# Hypothesis properties ---------------------------------------------------------------------

@st.composite
def requirements(draw, max_subtasks=4, max_n=3):
    n = draw(st.integers(1, max_n))
    num_subtasks = draw(st.integers(1, max_subtasks))
    # Mix exact zeros (ties) with values spanning the presets' ranges.
    cycles = st.one_of(st.just(0.0), st.floats(1e6, 2e9))
    size = st.one_of(st.just(0.0), st.floats(1e3, 1e7))
    freq = st.floats(1e8, 5e9)
    band = st.floats(1e3, 3e6)

    def array(elements, shape):
        return np.array(draw(st.lists(elements, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
                        ).reshape(shape)

    return kd.Requirements(E=array(cycles, (n, num_subtasks)), D=array(size, (n, num_subtasks + 1)),
                           p1=array(freq, (n,)), p2=array(freq, (n,)), b1=array(band, (n,)), b2=array(band, (n,)))


HYPOTHESIS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYPOTHESIS
@given(req=requirements(), objective=st.sampled_from(["latency", "energy", "weighted"]),
       output_return=st.booleans())
def test_property_exact_solvers_agree_and_are_optimal(req, objective, output_return):
    results = [kd.solve(req, method=method, objective=objective, output_return=output_return) for method in METHODS]
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])
    assert_optimal(req, results[0], objective, output_return=output_return)


@HYPOTHESIS
@given(req=requirements(max_subtasks=5, max_n=4), data=st.data())
def test_property_no_decision_beats_dp(req, data):
    # A handful of arbitrary decisions never cost less than the optimum.
    optimum = kd.latency(req, kd.solve(req, method="dp"))
    for _ in range(5):
        decision = np.array(data.draw(st.lists(st.lists(st.integers(0, 2), min_size=req.num_subtasks,
                                                        max_size=req.num_subtasks),
                                               min_size=req.n, max_size=req.n)))
        assert (kd.latency(req, decision) >= optimum * (1 - RTOL)).all()


# Heuristics ------------------------------------------------------------------------------

def test_greedy_hand_worked_myopic():
    # E = (1e9, 1e9), D = (0, 0, 10 MB), p1 = p2 = 1 GHz, b1 = b2 = 1 MB/s.
    # Step 0 from the device: device 1 s, edge 1 s + 0, cloud 0 s + 0 -> cloud.
    # Step 1 from the cloud: device 1 s + 0, edge 1 s + 0, cloud 0 s -> cloud.
    # Greedy ignores the output return: 1e7/1e6 + 1e7/1e6 = 20 s. The optimum runs subtask 0
    # in the cloud (0 s), moves D_1 = 0 bytes back and runs subtask 1 on the device (1 s),
    # so the output is already home: 1 s. (Device-only costs 2 s, edge-only 1 + 1 + 10 = 12 s.)
    req = kd.Requirements(E=[[1e9, 1e9]], D=[[0.0, 0.0, 1e7]], p1=[1e9], p2=[1e9], b1=[1e6], b2=[1e6])
    greedy = kd.Greedy().decide(req)
    np.testing.assert_array_equal(greedy, [[2, 2]])
    assert kd.latency(req, greedy)[0] == pytest.approx(20.0)
    assert kd.latency(req, [[0, 0]])[0] == pytest.approx(2.0)
    assert kd.latency(req, [[1, 1]])[0] == pytest.approx(12.0)
    for method in METHODS:
        np.testing.assert_array_equal(kd.solve(req, method=method), [[2, 0]])
    assert kd.latency(req, kd.solve(req))[0] == pytest.approx(1.0)


def test_greedy_hand_worked_with_tie():
    # E = (2e9, 1e9), D = (1 MB, 4 MB, 1 MB), p1 = 1 GHz, p2 = 2 GHz, b1 = 2 MB/s, b2 = 1 MB/s.
    # Step 0 from the device: device 2e9/1e9 = 2 s; edge 2e9/2e9 + 1e6/2e6 = 1.5 s;
    #   cloud 0 + 1e6/2e6 + 1e6/1e6 = 1.5 s -> tie, the lower index (edge) wins.
    # Step 1 from the edge: device 1e9/1e9 + 4e6/2e6 = 3 s; edge 1e9/2e9 = 0.5 s;
    #   cloud 0 + 4e6/1e6 = 4 s -> edge.
    # Latency of (1, 1): 0.5 + 1 + 0.5 + output 1e6/2e6 = 0.5 -> 2.5 s.
    req = kd.Requirements(E=[[2e9, 1e9]], D=[[1e6, 4e6, 1e6]], p1=[1e9], p2=[2e9], b1=[2e6], b2=[1e6])
    greedy = kd.heuristic("greedy").decide(req)
    np.testing.assert_array_equal(greedy, [[1, 1]])
    assert kd.latency(req, greedy)[0] == pytest.approx(2.5)


def test_greedy_never_beats_optimum():
    req = kd.sample(2000, seed=9)
    assert (kd.latency(req, kd.Greedy().decide(req)) >= kd.latency(req, kd.solve(req)) * (1 - RTOL)).all()


@pytest.mark.parametrize("name, location", [("local", 0), ("edge", 1), ("cloud", 2)])
def test_fixed_locations(name, location):
    req = kd.sample(5, num_subtasks=3, seed=0)
    policy = kd.heuristic(name)
    assert policy.name == name
    decisions = policy.decide(req)
    assert decisions.dtype == np.int64
    np.testing.assert_array_equal(decisions, np.full((5, 3), location))
    assert isinstance(policy, kd.Policy)


def test_fixed_location_latency_matches_hand_values():
    # The three fixed policies on the |A| = 2 hand case: local (0, 0) 8 s, edge (1, 1) 3.5 s,
    # cloud (2, 2) 1.875 s.
    req = two_subtasks()
    latencies = [kd.latency(req, kd.heuristic(name).decide(req))[0] for name in ("local", "edge", "cloud")]
    np.testing.assert_allclose(latencies, [8.0, 3.5, 1.875], rtol=1e-12)


def test_fixed_location_rejects_bad_location():
    with pytest.raises(ValueError, match=r"location must be 0, 1 or 2, got location = 3"):
        kd.FixedLocation(3)


def test_random_policy():
    req = kd.sample(30_000, num_subtasks=2, seed=0)
    first = kd.RandomPolicy(seed=5).decide(req)
    again = kd.RandomPolicy(seed=5).decide(req)
    other = kd.RandomPolicy(seed=6).decide(req)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.shape == (30_000, 2)
    assert set(np.unique(first)) == {0, 1, 2}
    # Uniform over the three locations: 60,000 draws, each share within 1 % of 1/3.
    shares = np.bincount(first.ravel(), minlength=3) / first.size
    np.testing.assert_allclose(shares, 1 / 3, atol=0.01)
    assert kd.heuristic("random", seed=5).decide(req).tobytes() == first.tobytes()


def test_solvers_implement_policy():
    for policy in (kd.ExhaustiveSearch(), kd.DynamicProgramming(), kd.IntegerProgram(), kd.Greedy(),
                   kd.RandomPolicy()):
        assert isinstance(policy, kd.Policy)
    assert {kd.ExhaustiveSearch().name, kd.DynamicProgramming().name, kd.IntegerProgram().name} == {
        "optimal_exhaustive", "optimal_dp", "optimal_ilp"}


# Argument errors ---------------------------------------------------------------------------

NOT_REQUIREMENTS = r"^req must be a kdoffload\.Requirements, got numpy\.ndarray of shape \(4, 6\); make one with kd\.sample"


@pytest.mark.parametrize("call", [
    lambda req: kd.solve(req.E),
    lambda req: kd.solve(req.E, method="exhaustive"),
    lambda req: kd.solve(req.E, method="ilp"),
    lambda req: kd.DynamicProgramming().decide(req.E),
    lambda req: kd.ExhaustiveSearch().decide(req.E),
    lambda req: kd.IntegerProgram().decide(req.E),
    lambda req: kd.heuristic("greedy").decide(req.E),
    lambda req: kd.heuristic("local").decide(req.E),
    lambda req: kd.heuristic("cloud").decide(req.E),
    lambda req: kd.heuristic("random").decide(req.E),
])
def test_an_array_instead_of_requirements_is_named(call):
    req = kd.sample(4, seed=0)
    with pytest.raises(TypeError, match=NOT_REQUIREMENTS):
        call(req)


def test_exhaustive_search_refuses_large_num_subtasks_at_once():
    import time

    req = kd.sample(1, num_subtasks=30, seed=0)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=(
            r"^num_subtasks must be <= 12 for exhaustive search, which scores all 3\*\*\|A\| placements "
            r"\(limit max_placements = 531,441\), got num_subtasks = 30 \(3\*\*30 = 205,891,132,094,649 placements\); "
            r'use method="dp" or method="ilp"')):
        kd.solve(req, method="exhaustive")
    assert time.perf_counter() - start < 2.0  # refused before building anything
    with pytest.raises(ValueError, match=r"got num_subtasks = 13 \(3\*\*13 = 1,594,323 placements\)"):
        kd.ExhaustiveSearch().decide(kd.sample(1, num_subtasks=13, seed=0))
    # The DP solves the same instance immediately.
    assert kd.solve(req).shape == (1, 30)


def test_exhaustive_search_limit_can_be_changed():
    req = kd.sample(3, num_subtasks=4, seed=1)
    with pytest.raises(ValueError, match=r"num_subtasks must be <= 3 .*limit max_placements = 27\).*got num_subtasks = 4"):
        kd.ExhaustiveSearch(max_placements=27).decide(req)
    np.testing.assert_array_equal(kd.ExhaustiveSearch(max_placements=81).decide(req), kd.solve(req))
    with pytest.raises(ValueError, match=r"max_placements must be an integer >= 1, got max_placements = 0"):
        kd.ExhaustiveSearch(max_placements=0)
    with pytest.raises(ValueError, match=r"max_elements must be an integer >= 1, got max_elements = 1\.5"):
        kd.ExhaustiveSearch(max_elements=1.5)


@pytest.mark.parametrize("seed, pattern", [
    (-1, r"seed must be an integer >= 0, got seed = -1$"),
    (1.5, r"seed must be an integer >= 0, got seed = 1\.5$"),
    (True, r"seed must be an integer >= 0 \(not a bool\), got seed = True$"),
])
def test_random_policy_seed_is_checked(seed, pattern):
    with pytest.raises(ValueError, match=pattern):
        kd.RandomPolicy(seed=seed)
    with pytest.raises(ValueError, match=pattern):
        kd.heuristic("random", seed=seed)


@pytest.mark.parametrize("location", [3, -1, True, "edge"])
def test_fixed_location_rejects_non_locations(location):
    with pytest.raises(ValueError, match=rf"location must be 0, 1 or 2, got location = {location!r}"):
        kd.FixedLocation(location)
