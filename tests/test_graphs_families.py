"""Graph families: daggen-style layered DAGs (seeded, with their parameters' effects) and the chain."""

from __future__ import annotations

import numpy as np
import pytest

import kdoffload as kd
from kdoffload import graphs as G


def levels(graph: G.TaskGraph) -> np.ndarray:
    return np.array([int(name.split(".")[0][1:]) for name in graph.names])


def test_layered_dags_are_seeded():
    a, b = G.layered_dag(40, seed=3), G.layered_dag(40, seed=3)
    assert a == b
    assert a != G.layered_dag(40, seed=4)
    ra, rb = G.random_dag(30, requests=4, seed=5), G.random_dag(30, requests=4, seed=5)
    np.testing.assert_array_equal(ra.cycles, rb.cycles)
    np.testing.assert_array_equal(ra.b3, rb.b3)
    direct = G.random_dag(30, requests=4, seed=5, topology="direct")  # same instance, other network
    np.testing.assert_array_equal(direct.data, ra.data)
    np.testing.assert_array_equal(direct.b3, ra.b3)


@pytest.mark.parametrize("seed", range(20))
def test_layered_dag_shape(seed):
    rng = np.random.default_rng(seed)
    n, jump = int(rng.integers(1, 80)), int(rng.integers(1, 5))
    graph = G.layered_dag(n, fat=rng.uniform(), density=rng.uniform(), regularity=rng.uniform(), jump=jump,
                          seed=seed)
    level = levels(graph)
    assert graph.num_nodes == n and (np.diff(level) >= 0).all()
    u, v = graph.edges.T
    assert (u < v).all()  # numbered level by level: the order is topological
    assert ((level[v] - level[u] >= 1) & (level[v] - level[u] <= jump)).all()
    assert (graph.sources == (level == 0)).all()  # every node below level 0 has a parent


def test_parameters_shape_the_dag():
    assert G.layered_dag(30, fat=1.0, regularity=1.0).num_edges == 0  # one level of 30
    chain = G.layered_dag(30, fat=0.0, regularity=1.0, density=0.0)  # levels of one node, one parent each
    np.testing.assert_array_equal(chain.edges, np.stack([np.arange(29), np.arange(1, 30)], axis=1))
    sparse = np.mean([G.layered_dag(60, density=0.0, seed=s).num_edges for s in range(10)])
    dense = np.mean([G.layered_dag(60, density=1.0, seed=s).num_edges for s in range(10)])
    assert dense > 2 * sparse
    graph = G.layered_dag(60, density=0.0, regularity=1.0, fat=0.5, seed=1)
    assert np.bincount(graph.edges[:, 1], minlength=60)[~graph.sources].max() == 1  # density 0: one parent
    irregular = [len(set(levels(G.layered_dag(100, regularity=0.0, seed=s)))) for s in range(10)]
    regular = [len(set(levels(G.layered_dag(100, regularity=1.0, seed=s)))) for s in range(10)]
    assert len(set(regular)) == 1 and len(set(irregular)) > 1  # regular: every level has int(n ** fat)


def test_weights_follow_the_preset_and_ccr():
    graph = G.layered_dag(40, seed=2)
    weights = G.sample_weights(graph, 500, preset="narrow", seed=1)
    low, high = kd.PRESETS["narrow"]["E"]
    assert (weights["cycles"] > low).all() and (weights["cycles"] <= high).all()
    assert (weights["input_data"][:, ~graph.sources] == 0).all() and (weights["input_data"][:, graph.sources] > 0).all()
    assert (weights["output_data"][:, ~graph.sinks] == 0).all() and (weights["output_data"][:, graph.sinks] > 0).all()
    assert G.preset_ccr("wide") == pytest.approx((5e6 / 1e6) / (1e9 / 550e6))
    doubled = G.sample_weights(graph, 500, preset="narrow", ccr=2 * G.preset_ccr("narrow"), seed=1)
    np.testing.assert_allclose(doubled["data"], 2 * weights["data"])
    network = G.sample_network(1000, seed=3)
    assert (network["b3"] > G.B3_RANGE[0]).all() and (network["b3"] <= G.B3_RANGE[1]).all()


def test_the_paper_chain_as_a_graph():
    req = G.paper_chain(50, preset="wide", seed=7, topology="direct")
    chain = kd.sample(50, preset="wide", seed=7)
    assert req.graph == G.chain(6) and req.topology == "direct"
    np.testing.assert_array_equal(req.cycles, chain.E)
    np.testing.assert_array_equal(req.data, chain.D[:, 1:6])
    np.testing.assert_array_equal(req.input_data[:, 0], chain.D[:, 0])
    np.testing.assert_array_equal(req.output_data[:, 5], chain.D[:, 6])


@pytest.mark.parametrize("call, message", [
    (lambda: G.layered_dag(0), r"n must be an integer >= 1, got n = 0"),
    (lambda: G.layered_dag(10, fat=1.5), r"fat must be in \[0, 1\], got fat = 1.5"),
    (lambda: G.layered_dag(10, density=-0.1), r"density must be in \[0, 1\], got density = -0.1"),
    (lambda: G.layered_dag(10, jump=0), r"jump must be an integer >= 1, got jump = 0"),
    (lambda: G.layered_dag(10, seed=-1), r"seed must be an integer >= 0, got seed = -1"),
    (lambda: G.random_dag(10, ccr=-1.0), r"ccr must be in \[0, 1e\+06\], got ccr = -1.0"),
    (lambda: G.random_dag(10, preset="huge"), r"preset must be one of \['narrow', 'wide'\], got preset = 'huge'"),
    (lambda: G.random_dag(10, topology="mesh"), r"topology must be one of \['direct', 'relay'\]"),
])
def test_bad_family_parameters(call, message):
    with pytest.raises(ValueError, match=message):
        call()
