"""Graph heuristics: the chain's decisions on the paper's chain, hand-worked DAGs, never
better than the exact optimum, fixed-location latencies by a hand formula, bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest

import kdoffload as kd
from kdoffload import graphs as G

RTOL = 1e-9

# Binary units, so every cost below is exact in floating point (and ties are exact ties):
# cycles in GIGA = 2**30, bytes in MEBI = 2**20. Device 2**30 Hz: 1 s per GIGA; edge
# 2**31 Hz: 0.5 s per GIGA; cloud: 0 s. b1 = 2 MEBI/s, b2 = 1 MEBI/s, relay: per MEBI,
# device<->edge 0.5 s, edge<->cloud 1 s, device<->cloud 1.5 s.
GIGA, MEBI = 2.0 ** 30, 2.0 ** 20
NETWORK = {"p1": GIGA, "p2": 2 * GIGA, "b1": 2 * MEBI, "b2": MEBI, "b3": MEBI}
DIAMOND = G.TaskGraph(4, [(0, 1), (0, 2), (1, 3), (2, 3)])


def diamond(cycles, data, input_data=(0, 0, 0, 0), output_data=(0, 0, 0, 0), graph=DIAMOND):
    """The diamond 0 -> {1, 2} -> 3 with cycles in GIGA and bytes in MEBI."""
    return G.GraphRequirements(graph, cycles=np.array(cycles) * GIGA, data=np.array(data) * MEBI,
                               input_data=np.array(input_data) * MEBI, output_data=np.array(output_data) * MEBI,
                               **NETWORK)


def diamond_a():
    # Cycles (1, 4, 1, 2) GIGA; edges (0,1) 1, (0,2) 2, (1,3) 1, (2,3) 1 MEBI; input 1 MEBI
    # into node 0, output 2 MEBI from node 3.
    return diamond([1, 4, 1, 2], [1, 2, 1, 1], input_data=[1, 0, 0, 0], output_data=[0, 0, 0, 2])


# Hand-worked greedy ---------------------------------------------------------------------

def test_greedy_on_a_diamond_by_hand():
    # Latency prices (device, edge, cloud), seconds:
    # node 0: computation + input 1 MEBI: (1, 0.5 + 0.5, 0 + 1.5) = (1, 1, 1.5) -> tie, device.
    # node 1: 4 GIGA + edge (0,1) 1 MEBI from the device: (4, 2 + 0.5, 0 + 1.5) -> cloud.
    # node 2: 1 GIGA + edge (0,2) 2 MEBI from the device: (1, 0.5 + 1, 0 + 3) -> device.
    # node 3: 2 GIGA + 1 MEBI from the cloud (node 1) + 1 MEBI from the device (node 2):
    #   device 2 + 1.5 + 0 = 3.5, edge 1 + 1 + 0.5 = 2.5, cloud 0 + 0 + 1.5 = 1.5 -> cloud.
    # Latency of (0, 2, 0, 2): computation 1 + 0 + 1 + 0 = 2, edges 1.5 + 0 + 0 + 1.5 = 3,
    # output 2 MEBI from the cloud 3 -> 8 s (5 s without the return).
    req = diamond_a()
    for output_return in (True, False):
        greedy = G.GraphGreedy(output_return=output_return).decide(req)
        assert greedy.dtype == np.int64
        np.testing.assert_array_equal(greedy, [[0, 2, 0, 2]])
    assert G.latency(req, greedy)[0] == 8.0
    assert G.latency(req, greedy, output_return=False)[0] == 5.0


def test_greedy_on_a_diamond_is_suboptimal():
    # All in the cloud: input 1 MEBI * 1.5 + output 2 MEBI * 1.5 = 4.5 s < greedy's 8 s
    # (greedy keeps node 3's output in the cloud without pricing its way back).
    req = diamond_a()
    assert G.latency(req, [[2, 2, 2, 2]])[0] == 4.5
    optimum = G.ExhaustiveSearch().decide(req)
    np.testing.assert_array_equal(optimum, [[2, 2, 2, 2]])
    greedy = G.graph_heuristic("greedy").decide(req)
    assert G.latency(req, greedy)[0] == 8.0 > G.latency(req, optimum)[0] == 4.5


def test_greedy_uses_the_direct_link():
    # diamond_a with a direct device<->cloud link of 4 MEBI/s: per MEBI, device<->cloud
    # min(1.5, 0.25) = 0.25 s, device<->edge min(0.5, 0.25 + 1) = 0.5 s, edge<->cloud
    # min(1, 0.5 + 0.25) = 0.75 s.
    # node 0: (1, 0.5 + 0.5, 0 + 0.25) -> cloud (relay: device).
    # node 1: 1 MEBI from the cloud: (4 + 0.25, 2 + 0.75, 0) -> cloud.
    # node 2: 2 MEBI from the cloud: (1 + 0.5, 0.5 + 1.5, 0) -> cloud.
    # node 3: 1 + 1 MEBI from the cloud: (2 + 0.5, 1 + 1.5, 0) -> cloud.
    # Latency: input 0.25 + output 2 * 0.25 = 0.75 s.
    req = diamond_a().with_topology("direct", b3=4 * MEBI)
    greedy = G.GraphGreedy().decide(req)
    np.testing.assert_array_equal(greedy, [[2, 2, 2, 2]])
    assert G.latency(req, greedy)[0] == 0.75


def test_greedy_follows_the_topological_order_not_the_numbering():
    # diamond_a renumbered: old node 0 -> 3, 1 -> 1, 2 -> 2, 3 -> 0. Kahn's order is
    # 3, 1, 2, 0, the old order, so the old placement (0, 2, 0, 2) renumbered: (2, 2, 0, 0).
    graph = G.TaskGraph(4, [(3, 1), (3, 2), (1, 0), (2, 0)])
    req = diamond([2, 4, 1, 1], [1, 2, 1, 1], input_data=[0, 0, 0, 1], output_data=[2, 0, 0, 0], graph=graph)
    np.testing.assert_array_equal(graph.order, [3, 1, 2, 0])
    np.testing.assert_array_equal(G.GraphGreedy().decide(req), [[2, 2, 0, 0]])


def test_makespan_greedy_by_hand():
    # Cycles (0, 4, 1, 1) GIGA; edges (0,1) 4, (0,2) 0, (1,3) 1, (2,3) 1 MEBI; no input or output.
    # node 0: finish (0, 0, 0) -> device, f0 = 0 (both greedies).
    # node 1: 4 GIGA + 4 MEBI from the device: (4, 2 + 2, 0 + 6) -> tie, device, f1 = 4.
    # node 2: 1 GIGA, no data: (1, 0.5, 0) -> cloud, f2 = 0.
    # node 3, latency prices: 1 GIGA + 1 MEBI from the device + 1 MEBI from the cloud:
    #   device 1 + 0 + 1.5 = 2.5, edge 0.5 + 0.5 + 1 = 2, cloud 0 + 1.5 + 0 = 1.5 -> cloud.
    # node 3, finish times: arrivals from node 1 (device, f1 = 4): (4, 4.5, 5.5); from node 2
    #   (cloud, f2 = 0): (1.5, 1, 0); start = the later: (4, 4.5, 5.5); plus computation
    #   (1, 0.5, 0): (5, 5, 5.5) -> tie, device.
    # Latency greedy (0, 0, 2, 2): latency 4 + 1.5 = 5.5 s, makespan f1 + 1.5 = 5.5 s.
    # Makespan greedy (0, 0, 2, 0): latency 4 + 1 + 1.5 = 6.5 s, makespan 5 s.
    req = diamond([0, 4, 1, 1], [4, 0, 1, 1])
    latency_greedy = G.GraphGreedy().decide(req)
    makespan_greedy = G.GraphGreedy(objective="makespan").decide(req)
    np.testing.assert_array_equal(latency_greedy, [[0, 0, 2, 2]])
    np.testing.assert_array_equal(makespan_greedy, [[0, 0, 2, 0]])
    assert (G.latency(req, latency_greedy)[0], G.makespan(req, latency_greedy)[0]) == (5.5, 5.5)
    assert (G.latency(req, makespan_greedy)[0], G.makespan(req, makespan_greedy)[0]) == (6.5, 5.0)


# The paper's chain ------------------------------------------------------------------------

@pytest.mark.parametrize("output_return", [True, False])
def test_greedy_decides_as_the_chain_greedy_on_the_paper_chain(output_return):
    for preset, num_subtasks, count, seed in (("wide", 6, 10_000, 11), ("narrow", 6, 10_000, 12),
                                              ("wide", 1, 2_000, 13), ("narrow", 9, 2_000, 14)):
        chain = kd.sample(count, preset=preset, num_subtasks=num_subtasks, seed=seed)
        graph = G.chain_requirements(chain)
        expected = kd.Greedy(output_return=output_return).decide(chain)
        for objective in G.OBJECTIVES:
            got = G.GraphGreedy(output_return=output_return, objective=objective).decide(graph)
            np.testing.assert_array_equal(got, expected)
        np.testing.assert_allclose(G.latency(graph, expected, output_return=output_return),
                                   kd.latency(chain, expected, output_return=output_return), rtol=1e-12)


def test_fixed_and_random_decide_as_the_chain_policies_on_the_paper_chain():
    chain = kd.sample(10_000, seed=15)
    graph = G.chain_requirements(chain)
    for name in ("local", "edge", "cloud", "random"):
        got = G.graph_heuristic(name, seed=4).decide(graph)
        expected = kd.heuristic(name, seed=4).decide(chain)
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == np.int64
        np.testing.assert_allclose(G.latency(graph, got), kd.latency(chain, expected), rtol=1e-12)


# Never better than the optimum -------------------------------------------------------------

@pytest.mark.parametrize("topology", G.TOPOLOGIES)
@pytest.mark.parametrize("objective", G.OBJECTIVES)
def test_greedy_never_beats_exhaustive_search(topology, objective):
    worse = 0
    for k in range(40):
        req = G.random_dag(1 + k % 8, requests=10, fat=(0.3, 0.7)[k % 2], ccr=(0.5, None, 5.0)[k % 3],
                           topology=topology, seed=100 + k)
        greedy = G.GraphGreedy(objective=objective).decide(req)
        optimum = G.ExhaustiveSearch(objective=objective).decide(req)
        ratio = G.cost(req, greedy, objective) / G.cost(req, optimum, objective)
        assert (ratio >= 1 - RTOL).all()
        worse += int((ratio > 1 + RTOL).sum())
    assert worse > 0  # the comparison is not vacuous: greedy misses the optimum somewhere


@pytest.mark.parametrize("output_return", [True, False])
def test_greedy_never_beats_mincut_on_larger_relay_dags(output_return):
    for k, n in enumerate((15, 30, 60)):
        req = G.random_dag(n, requests=50, jump=2, seed=200 + k)
        greedy = G.GraphGreedy(output_return=output_return).decide(req)
        optimum = G.MinCut(output_return=output_return).decide(req)
        assert (G.latency(req, greedy, output_return) >= G.latency(req, optimum, output_return) * (1 - RTOL)).all()


# Fixed and random -------------------------------------------------------------------------

def test_fixed_locations_on_the_diamond_by_hand():
    # Device: computation only, 1 + 4 + 1 + 2 = 8 s. Edge: 0.5 + 2 + 0.5 + 1 = 4 s plus input
    # and output over device<->edge, (1 + 2) MEBI * 0.5 = 1.5 -> 5.5 s. Cloud: no computation,
    # (1 + 2) MEBI * 1.5 = 4.5 s. Edges cost nothing when both ends share a location.
    req = diamond_a()
    latencies = [G.latency(req, G.graph_heuristic(name).decide(req))[0] for name in ("local", "edge", "cloud")]
    assert latencies == [8.0, 5.5, 4.5]


@pytest.mark.parametrize("topology", G.TOPOLOGIES)
def test_fixed_location_latency_by_formula(topology):
    # At one location a, edge data never moves: latency = sum_v computation_v(a) + (input
    # + output bytes) * (seconds per byte device <-> a). Per byte, relay: 1/b1 to the edge,
    # 1/b1 + 1/b2 to the cloud; direct: the cheapest path of the triangle.
    req = G.random_dag(7, requests=30, topology=topology, seed=5)
    moved = req.input_data.sum(axis=1) + req.output_data.sum(axis=1)
    to_edge = 1 / req.b1
    to_cloud = 1 / req.b1 + 1 / req.b2
    if topology == "direct":
        to_edge = np.minimum(to_edge, 1 / req.b3 + 1 / req.b2)
        to_cloud = np.minimum(to_cloud, 1 / req.b3)
    expected = {
        "local": req.cycles.sum(axis=1) / req.p1,
        "edge": req.cycles.sum(axis=1) / req.p2 + moved * to_edge,
        "cloud": moved * to_cloud,
    }
    for location, name in enumerate(("local", "edge", "cloud")):
        policy = G.GraphFixedLocation(location)
        assert policy.name == name
        decisions = policy.decide(req)
        np.testing.assert_array_equal(decisions, np.full((30, 7), location))
        np.testing.assert_allclose(G.latency(req, decisions), expected[name], rtol=1e-12)


def test_random_is_a_function_of_seed_and_shape():
    req = G.random_dag(10, requests=3_000, seed=1)
    first = G.GraphRandom(seed=3).decide(req)
    np.testing.assert_array_equal(first, G.GraphRandom(seed=3).decide(req))
    np.testing.assert_array_equal(first, G.GraphRandom(seed=3).decide(G.random_dag(10, requests=3_000, seed=2)))
    assert not np.array_equal(first, G.GraphRandom(seed=4).decide(req))
    assert first.shape == (3_000, 10) and first.dtype == np.int64
    # Uniform over the three locations: 30,000 draws, each share within 1 % of 1/3.
    np.testing.assert_allclose(np.bincount(first.ravel(), minlength=3) / first.size, 1 / 3, atol=0.01)


def test_policies_and_names():
    for name in G.GRAPH_HEURISTICS:
        policy = G.graph_heuristic(name)
        assert policy.name == name
        assert isinstance(policy, kd.Policy)
    greedy = G.graph_heuristic("greedy", objective="makespan", output_return=False)
    assert (greedy.objective, greedy.output_return) == ("makespan", False)


# Bad input ---------------------------------------------------------------------------------

def test_unknown_heuristic_is_named():
    with pytest.raises(ValueError, match=r"^heuristic must be one of \['cloud', 'edge', 'greedy', 'local', "
                                         r"'random'\], got heuristic = 'optimal'$"):
        G.graph_heuristic("optimal")


@pytest.mark.parametrize("location", [3, -1, True, 1.0, "edge", None])
def test_bad_location_is_named(location):
    with pytest.raises(ValueError, match="^" + re.escape(f"location must be 0, 1 or 2, got location = {location!r}") + "$"):
        G.GraphFixedLocation(location)


def test_bad_objective_and_seed_are_named():
    with pytest.raises(ValueError, match=r"objective must be one of \['latency', 'makespan'\], got objective = 'energy'"):
        G.GraphGreedy(objective="energy")
    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0, got seed = -1$"):
        G.GraphRandom(seed=-1)


@pytest.mark.parametrize("name", G.GRAPH_HEURISTICS)
def test_other_input_than_graph_requirements_is_named(name):
    # The TypeError of the exact graph solvers (check_graph_requirements), naming what was given.
    chain = kd.sample(4, seed=0)
    with pytest.raises(TypeError, match=r"^req must be a kdoffload\.graphs\.GraphRequirements, "
                                        r"got Requirements\(E=array"):
        G.graph_heuristic(name).decide(chain)
    with pytest.raises(TypeError, match=r"got numpy\.ndarray of shape \(4, 6\)"):
        G.graph_heuristic(name).decide(chain.E)
