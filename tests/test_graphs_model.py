"""The task-graph model (kdoffload.graphs.model): a worked example, the chain, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import kdoffload as kd
from kdoffload import graphs as G

# A worked example: three subtasks, edges 0 -> 1, 0 -> 2, 1 -> 2.
#   cycles E = (1e9, 2e9, 1e9); p1 = 1e9 Hz, p2 = 2e9 Hz; b1 = 1e6, b2 = 2e6, b3 = 4e6 bytes/s
#   data D01 = 2e6, D02 = 1e6, D12 = 0.5e6 bytes; task input 1e6 bytes into node 0;
#   task output 0.5e6 bytes out of node 2.
# Placement (device, edge, cloud), relay topology:
#   computation: node 0 on the device 1e9 / 1e9 = 1 s; node 1 on the edge 2e9 / 2e9 = 1 s;
#                node 2 in the cloud 0 s                                            -> 2 s
#   input: already on the device                                                   -> 0 s
#   D01 device -> edge: 2e6 / 1e6                                                  -> 2 s
#   D02 device -> cloud, relayed: 1e6 * (1/1e6 + 1/2e6) = 1 + 0.5                  -> 1.5 s
#   D12 edge -> cloud: 0.5e6 / 2e6                                                 -> 0.25 s
#   output cloud -> device, relayed: 0.5e6 * 1.5e-6                                -> 0.75 s
#   total 6.5 s with the output returned, 5.75 s without.
# Direct topology (b3 = 4e6): per byte device<->cloud min(1.5e-6, 0.25e-6) = 0.25e-6;
#   device<->edge min(1e-6, 0.25e-6 + 0.5e-6) = 0.75e-6 (the detour over the cloud is cheaper);
#   edge<->cloud min(0.5e-6, 1e-6 + 0.25e-6) = 0.5e-6. The same placement costs
#   2 (computation) + 2e6 * 0.75e-6 + 1e6 * 0.25e-6 + 0.5e6 * 0.5e-6 + 0.5e6 * 0.25e-6
#   = 2 + 1.5 + 0.25 + 0.25 + 0.125 = 4.125 s.
# Makespan of (device, edge, cloud), relay: node 0 finishes at 1 s; D01 arrives at 1 + 2 = 3 s,
#   node 1 finishes at 3 + 1 = 4 s; node 2 waits for D02 (1 + 1.5 = 2.5 s) and D12 (4 + 0.25 =
#   4.25 s), finishes at 4.25 s (cloud: no computation); the output is home at 4.25 + 0.75 = 5 s.
#   Without the return: 4.25 s.
# All in the cloud, relay: no computation; input 1e6 * 1.5e-6 = 1.5 s; output 0.75 s -> 2.25 s.
# All on the device: 1 + 2 + 1 = 4 s. All on the edge: 0.5 + 1 + 0.5 + input 1 + output 0.5 = 3.5 s.


def worked_example(topology: str = "relay") -> G.GraphRequirements:
    graph = G.TaskGraph(3, [(0, 1), (0, 2), (1, 2)])
    return G.GraphRequirements(
        graph, cycles=[1e9, 2e9, 1e9], data=[2e6, 1e6, 0.5e6], input_data=[1e6, 0, 0], output_data=[0, 0, 0.5e6],
        p1=1e9, p2=2e9, b1=1e6, b2=2e6, b3=4e6, topology=topology,
    )


def test_worked_example_by_hand():
    req = worked_example()
    placement = [[0, 1, 2]]
    assert G.latency(req, placement)[0] == pytest.approx(6.5, rel=1e-12)
    assert G.latency(req, placement, output_return=False)[0] == pytest.approx(5.75, rel=1e-12)
    assert G.latency(worked_example("direct"), placement)[0] == pytest.approx(4.125, rel=1e-12)
    uniform = G.latency(req, np.array([[[0, 0, 0], [1, 1, 1], [2, 2, 2]]]))[0]
    np.testing.assert_allclose(uniform, [4.0, 3.5, 2.25], rtol=1e-12)


def test_worked_example_makespan_by_hand():
    req = worked_example()
    assert G.makespan(req, [[0, 1, 2]])[0] == pytest.approx(5.0, rel=1e-12)
    assert G.makespan(req, [[0, 1, 2]], output_return=False)[0] == pytest.approx(4.25, rel=1e-12)
    assert G.cost(req, [[2, 2, 2]], objective="makespan")[0] == pytest.approx(2.25, rel=1e-12)
    with pytest.raises(ValueError, match=r"objective must be one of \['latency', 'makespan'\], got objective = 'energy'"):
        G.cost(req, [[2, 2, 2]], objective="energy")


def test_makespan_is_at_most_the_latency_and_equals_it_on_a_chain():
    req = G.random_dag(12, requests=50, topology="direct", seed=3)
    placements = np.random.default_rng(2).integers(0, 3, size=(50, 5, 12))
    assert (G.makespan(req, placements) <= G.latency(req, placements) * (1 + 1e-12)).all()
    chain = G.paper_chain(500, seed=1)
    decisions = np.random.default_rng(3).integers(0, 3, size=(500, 6))
    for output_return in (True, False):
        np.testing.assert_allclose(G.makespan(chain, decisions, output_return=output_return),
                                   G.latency(chain, decisions, output_return=output_return), rtol=1e-12)


def test_makespan_runs_branches_in_parallel():
    # Two independent nodes of 1 s each on the device: summed latency 2 s, makespan 1 s.
    req = G.GraphRequirements(G.TaskGraph(2), cycles=[1e9, 1e9], data=[], p1=1e9, p2=1e9, b1=1e6, b2=1e6)
    assert G.latency(req, [[0, 0]])[0] == pytest.approx(2.0)
    assert G.makespan(req, [[0, 0]])[0] == pytest.approx(1.0)


def test_hop_matrix_relay_and_direct():
    relay, direct = G.hop_matrix(worked_example())[0], G.hop_matrix(worked_example("direct"))[0]
    np.testing.assert_allclose(relay, [[0, 1e-6, 1.5e-6], [1e-6, 0, 0.5e-6], [1.5e-6, 0.5e-6, 0]], rtol=1e-12)
    np.testing.assert_allclose(direct, [[0, 0.75e-6, 0.25e-6], [0.75e-6, 0, 0.5e-6], [0.25e-6, 0.5e-6, 0]],
                               rtol=1e-12)


def test_direct_hops_are_shortest_paths():
    req = G.random_dag(5, requests=2000, topology="direct", seed=4)
    hop, relay = G.hop_matrix(req), G.hop_matrix(req.with_topology("relay"))
    assert (hop <= relay).all()
    np.testing.assert_array_equal(hop, hop.transpose(0, 2, 1))
    for i in range(3):  # the triangle inequality: no detour is cheaper
        for j in range(3):
            for k in range(3):
                assert (hop[:, i, j] <= (hop[:, i, k] + hop[:, k, j]) * (1 + 1e-15)).all()


@pytest.mark.parametrize("preset", ["wide", "narrow"])
def test_a_chain_graph_reproduces_the_chain_model(preset):
    req = kd.sample(10_000, preset=preset, num_subtasks=6, seed=11)
    graph_req = G.chain_requirements(req)
    decisions = np.random.default_rng(5).integers(0, 3, size=(req.n, 6))
    for output_return in (True, False):
        expected = kd.latency(req, decisions, output_return=output_return)
        got = G.latency(graph_req, decisions, output_return=output_return)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("num_subtasks", [1, 2, 3])
def test_short_chains_reproduce_the_chain_model(num_subtasks):
    req = kd.sample(500, num_subtasks=num_subtasks, seed=num_subtasks)
    decisions = np.random.default_rng(0).integers(0, 3, size=(req.n, num_subtasks))
    for output_return in (True, False):
        np.testing.assert_allclose(G.latency(G.chain_requirements(req), decisions, output_return=output_return),
                                   kd.latency(req, decisions, output_return=output_return), rtol=1e-12, atol=0)


def test_many_placements_per_request():
    req = G.random_dag(6, requests=4, seed=2)
    placements = np.random.default_rng(1).integers(0, 3, size=(4, 7, 6))
    together = G.latency(req, placements)
    one_by_one = np.stack([G.latency(req, placements[:, k]) for k in range(7)], axis=1)
    np.testing.assert_allclose(together, one_by_one, rtol=1e-15)


def test_weights_broadcast_over_requests():
    graph = G.TaskGraph(2, [(0, 1)])
    req = G.GraphRequirements(graph, cycles=[1e9, 1e9], data=[1e6], p1=[1e9, 2e9, 4e9], p2=2e9, b1=1e6, b2=1e6)
    assert req.n == len(req) == 3 and req.cycles.shape == (3, 2) and req.data.shape == (3, 1)
    np.testing.assert_allclose(G.latency(req, np.zeros((3, 2), int)), [2.0, 1.0, 0.5])
    part = req.take([2])
    assert part.n == 1 and part.p1[0] == 4e9
    with pytest.raises(ValueError, match="b3 must be given"):
        req.with_topology("direct")
    assert req.with_topology("direct", b3=1e6).topology == "direct"


def test_graph_structure():
    graph = G.TaskGraph(4, [(2, 0), (0, 1), (2, 3)])
    assert graph.num_edges == 3
    np.testing.assert_array_equal(graph.sources, [False, False, True, False])
    np.testing.assert_array_equal(graph.sinks, [False, True, False, True])
    position = {node: i for i, node in enumerate(graph.order.tolist())}
    assert all(position[u] < position[v] for u, v in graph.edges.tolist())
    single = G.TaskGraph(1)
    assert single.num_edges == 0 and single.sources[0] and single.sinks[0]


# Bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("num_nodes, edges, message", [
    (3, [(0, 1), (1, 2), (2, 0)], r"edges must be acyclic, got edges\[1\] = \(1, 2\) on the cycle 1 -> 2 -> 0 -> 1"),
    (4, [(0, 1), (1, 2), (2, 3), (3, 1)], r"edges must be acyclic, got edges\[2\] = \(2, 3\) on the cycle 2 -> 3 -> 1"),
    (3, [(0, 1), (1, 1)], r"edges must not contain a self-loop, got edges\[1\] = \(1, 1\)"),
    (3, [(0, 1), (1, 5)], r"edges must join known nodes 0..2 \(num_nodes = 3\), got edges\[1\] = \(1, 5\)"),
    (3, [(0, -1)], r"edges must join known nodes 0..2 \(num_nodes = 3\), got edges\[0\] = \(0, -1\)"),
    (3, [(0, 1), (0, 1)], r"edges must be unique, got edges\[1\] = \(0, 1\) twice"),
    (3, [(0, 1.5)], r"edges must hold integer node indices, got edges\[0\] = \(0.0, 1.5\)"),
    (3, [(0, 1, 2)], r"edges must have shape \(m, 2\), got edges.shape = \(1, 3\)"),
    (0, [], r"num_nodes must be an integer >= 1, got num_nodes = 0"),
])
def test_bad_graphs(num_nodes, edges, message):
    with pytest.raises(ValueError, match=message):
        G.TaskGraph(num_nodes, edges)


GOOD = dict(cycles=[1.0, 2.0, 3.0], data=[1.0, 2.0], p1=1.0, p2=1.0, b1=1.0, b2=1.0)


@pytest.mark.parametrize("change, message", [
    ({"cycles": [1.0, -2.0, 3.0]}, r"cycles must be non-negative \(>= 0\), got cycles\[1\] = -2.0"),
    ({"cycles": [[1.0, 2.0, np.nan]]}, r"cycles must not be NaN, got cycles\[0, 2\] = nan"),
    ({"data": [1.0, np.nan]}, r"data must not be NaN, got data\[1\] = nan"),
    ({"data": [1.0, -1.0]}, r"data must be non-negative \(>= 0\), got data\[1\] = -1.0"),
    ({"data": [1.0, np.inf]}, r"data must be finite, got data\[1\] = inf"),
    ({"data": [1.0, 2.0, 3.0]}, r"data must have shape \(r, m\) or \(m,\) with 2 columns, got data.shape = \(3,\)"),
    ({"b1": 0.0}, r"b1 must be positive \(> 0\), got b1 = 0.0"),
    ({"p2": [1.0, -1.0]}, r"p2 must be positive \(> 0\), got p2\[1\] = -1.0"),
    ({"b1": [1.0, 2.0], "p1": [1.0, 2.0, 3.0]}, r"b1 must have 1 or r = 3 rows \(r from p1\), got b1.shape = \(2,\)"),
    ({"input_data": [0.0, 1.0, 0.0]},
     r"input_data must be 0 at non-source nodes, got input_data\[0, 1\] = 1.0 \(node 1 has a predecessor\)"),
    ({"output_data": [1.0, 0.0, 0.0]},
     r"output_data must be 0 at non-sink nodes, got output_data\[0, 0\] = 1.0 \(node 0 has a successor\)"),
    ({"topology": "direct"}, r"b3 must be given \(bytes/s, > 0\) with topology 'direct', got b3 = None"),
    ({"topology": "star"}, r"topology must be one of \['direct', 'relay'\], got topology = 'star'"),
    ({"b3": -1.0}, r"b3 must be positive \(> 0\), got b3 = -1.0"),
])
def test_bad_requirements(change, message):
    with pytest.raises(ValueError, match=message):
        G.GraphRequirements(G.TaskGraph(3, [(0, 1), (1, 2)]), **{**GOOD, **change})


def test_bad_placements():
    req = worked_example()
    with pytest.raises(ValueError, match=r"placements must be in \{0, 1, 2\}, got placements\[0, 2\] = 3"):
        G.latency(req, [[0, 1, 3]])
    with pytest.raises(ValueError, match=r"placements must have shape \(r, n\) = \(1, 3\)"):
        G.latency(req, [[0, 1]])
    with pytest.raises(TypeError, match="req must be a kdoffload.graphs.GraphRequirements"):
        G.latency("not a request", [[0, 1, 2]])
    with pytest.raises(ValueError, match="graph must be a kdoffload.graphs.TaskGraph"):
        G.GraphRequirements("graph", **GOOD)
