"""Exact task-graph solvers agree: min-cut = ILP = exhaustive (relay), ILP = exhaustive (direct).

Costs are compared within 1e-9 relative: min cut and the ILP return *an* optimum, the
exhaustive search the lexicographically first one.
"""

from __future__ import annotations

import numpy as np
import pytest

import kdoffload as kd
from kdoffload import graphs as G
from kdoffload.graphs.solvers import ishikawa_arcs

from test_graphs_model import worked_example

RTOL = 1e-9
GRID = {"fat": (0.2, 0.5, 0.8), "density": (0.2, 0.5, 0.8), "regularity": (0.2, 0.8), "jump": (1, 2, 4),
        "ccr": (0.5, None, 10.0)}


def instances(count: int, max_nodes: int, topology: str, requests: int, seed: int):
    """``count`` random DAGs of 1..max_nodes nodes (daggen parameters from GRID), ``requests`` each."""
    for k in range(count):
        rng = np.random.default_rng([seed, k])
        params = {name: values[rng.integers(len(values))] for name, values in GRID.items()}
        yield G.random_dag(1 + k % max_nodes, requests=requests, preset=("wide", "narrow")[k % 2],
                           topology=topology, seed=rng, **params)


def assert_same_cost(req, placements, reference, output_return=True):
    got = G.latency(req, placements, output_return=output_return)
    best = G.latency(req, reference, output_return=output_return)
    np.testing.assert_allclose(got, best, rtol=RTOL, atol=0)


def test_the_worked_example_is_best_in_the_cloud():
    # By hand (test_graphs_model): all in the cloud costs 2.25 s, less than all on the
    # device (4 s), all on the edge (3.5 s) or (device, edge, cloud) (6.5 s).
    req = worked_example()
    for solver in (G.ExhaustiveSearch(), G.MinCut(), G.IntegerProgram(), G.IntegerProgram(modeller="pulp")):
        placement = solver.decide(req)
        np.testing.assert_array_equal(placement, [[2, 2, 2]])
        assert G.latency(req, placement)[0] == pytest.approx(2.25, rel=1e-12)


def test_mincut_ilp_and_exhaustive_agree_on_relay_instances():
    checked = 0
    for req in instances(60, 8, "relay", requests=5, seed=1):
        exhaustive = G.ExhaustiveSearch().decide(req)
        assert_same_cost(req, G.MinCut().decide(req), exhaustive)
        assert_same_cost(req, G.IntegerProgram().decide(req), exhaustive)
        checked += req.n
    assert checked == 300


def test_agreement_without_the_output_return():
    for req in instances(12, 7, "relay", requests=5, seed=2):
        exhaustive = G.ExhaustiveSearch(output_return=False).decide(req)
        assert_same_cost(req, G.MinCut(output_return=False).decide(req), exhaustive, output_return=False)
        assert_same_cost(req, G.IntegerProgram(output_return=False).decide(req), exhaustive, output_return=False)


def test_ilp_and_exhaustive_agree_on_the_direct_link():
    for req in instances(30, 8, "direct", requests=4, seed=3):
        assert_same_cost(req, G.IntegerProgram().decide(req), G.ExhaustiveSearch().decide(req))


def assert_same_makespan(req, placements, reference, output_return=True):
    np.testing.assert_allclose(G.makespan(req, placements, output_return=output_return),
                               G.makespan(req, reference, output_return=output_return), rtol=RTOL, atol=0)


@pytest.mark.parametrize("topology", ["relay", "direct"])
def test_ilp_and_exhaustive_agree_on_the_makespan(topology):
    for req in instances(24, 7, topology, requests=3, seed=13):
        exhaustive = G.ExhaustiveSearch(objective="makespan").decide(req)
        assert_same_makespan(req, G.IntegerProgram(objective="makespan").decide(req), exhaustive)
    for req in instances(6, 6, topology, requests=2, seed=14):
        exhaustive = G.ExhaustiveSearch(objective="makespan", output_return=False).decide(req)
        ilp = G.IntegerProgram(objective="makespan", output_return=False, modeller="pulp").decide(req)
        assert_same_makespan(req, ilp, exhaustive, output_return=False)


def test_the_makespan_optimum_is_at_most_the_latency_optimum():
    for req in instances(10, 7, "direct", requests=3, seed=15):
        best_makespan = G.makespan(req, G.ExhaustiveSearch(objective="makespan").decide(req))
        best_latency = G.latency(req, G.ExhaustiveSearch().decide(req))
        assert (best_makespan <= best_latency * (1 + RTOL)).all()


def test_decide_many_packs_different_graphs():
    requests = list(instances(8, 8, "direct", requests=2, seed=16))
    solver = G.IntegerProgram(batch_nodes=30)
    for req, placements in zip(requests, solver.decide_many(requests)):
        assert placements.shape == (req.n, req.num_nodes)
        assert_same_cost(req, placements, G.ExhaustiveSearch().decide(req))


def test_the_two_ilp_modellers_agree():
    for req in instances(4, 8, "direct", requests=3, seed=4):
        assert_same_cost(req, G.IntegerProgram(modeller="pulp").decide(req), G.IntegerProgram().decide(req))


def test_mincut_and_ilp_agree_on_larger_graphs():
    for n in (25, 40):
        req = G.random_dag(n, requests=3, seed=n)
        assert_same_cost(req, G.MinCut().decide(req), G.IntegerProgram().decide(req))


def test_mincut_batches_give_the_same_optimum():
    req = G.random_dag(15, requests=40, seed=9)
    assert_same_cost(req, G.MinCut(batch_size=7).decide(req), G.MinCut(batch_size=1).decide(req))


def test_the_chain_optimum_matches_the_chain_dynamic_program():
    req = kd.sample(200, num_subtasks=6, seed=8)
    graph_req = G.chain_requirements(req)
    best = kd.latency(req, kd.solve(req, method="dp"))
    for solver in (G.MinCut(), G.ExhaustiveSearch()):
        np.testing.assert_allclose(G.latency(graph_req, solver.decide(graph_req)), best, rtol=RTOL, atol=0)


def test_edges_against_the_node_order():
    # Edges from a larger to a smaller index: exhaustive search transposes their terms.
    graph = G.TaskGraph(4, [(3, 1), (1, 0), (3, 2), (2, 0)])
    req = G.random_requirements(graph, 20, seed=6)
    exhaustive = G.ExhaustiveSearch().decide(req)
    assert_same_cost(req, G.MinCut().decide(req), exhaustive)
    assert_same_cost(req, G.IntegerProgram().decide(req), exhaustive)


def test_degenerate_instances():
    single = G.GraphRequirements(G.TaskGraph(1), cycles=[1e9], data=[], input_data=[1e6], output_data=[1e6],
                                 p1=1e9, p2=1e9, b1=1e6, b2=1e6)
    # device 1 s; edge 1 + 1 + 1 = 3 s; cloud 0 + 2 + 2 = 4 s.
    for solver in (G.ExhaustiveSearch(), G.MinCut(), G.IntegerProgram()):
        np.testing.assert_array_equal(solver.decide(single), [[0]])
    free = G.GraphRequirements(G.TaskGraph(3, [(0, 1), (1, 2)]), cycles=[0, 0, 0], data=[0, 0], p1=1, p2=1, b1=1, b2=1)
    np.testing.assert_array_equal(G.ExhaustiveSearch().decide(free), [[0, 0, 0]])  # the first of many optima
    for solver in (G.MinCut(), G.IntegerProgram()):
        assert G.latency(free, solver.decide(free))[0] == 0.0


def test_exhaustive_ties_go_to_the_lexicographically_first_placement():
    # Both nodes cost the same anywhere and no data moves: every placement ties.
    graph = G.TaskGraph(2)
    req = G.GraphRequirements(graph, cycles=[0, 0], data=[], p1=1, p2=1, b1=1, b2=1)
    np.testing.assert_array_equal(G.ExhaustiveSearch().decide(req), [[0, 0]])


def test_ishikawa_cut_prices_every_placement():
    # The cut of each placement (z = 1 on the source side) equals its latency minus the offset.
    req = G.random_dag(4, requests=3, seed=12)
    unary, pairwise = G.cost_terms(req)
    (source, sink), (tails, heads, caps, reverse), offset = ishikawa_arcs(unary, pairwise, req.graph.edges)
    placements = G.solvers.all_placements(4)
    costs = G.latency(req, np.broadcast_to(placements, (3,) + placements.shape))
    for k in range(3):
        for p, placement in enumerate(placements):
            z = np.stack([placement >= 1, placement >= 2], axis=1)  # (n, 2) on the source side
            side = np.zeros(2 * 3 * 4, bool)
            side[8 * k:8 * k + 8] = z.ravel()
            cut = source[k][~z].sum() + sink[k][z].sum()
            forward = side[tails] & ~side[heads]
            backward = side[heads] & ~side[tails]
            cut += caps[forward].sum() + reverse[backward].sum()
            assert cut + offset[k] == pytest.approx(costs[k, p], rel=1e-12)


# Where each solver is exact ------------------------------------------------------------------

def test_mincut_refuses_the_direct_link():
    with pytest.raises(ValueError, match=r"topology must be one of \['relay'\] for mincut \(exact only where moving "
                                         r"a byte costs a distance on the line device - edge - cloud\), "
                                         r"got topology = 'direct'"):
        G.MinCut().decide(worked_example("direct"))
    with pytest.raises(ValueError, match="got topology = 'direct'"):
        G.solve(worked_example("direct"), method="mincut")


def test_mincut_refuses_the_makespan():
    with pytest.raises(ValueError, match=r"objective must be one of \['latency'\] for mincut \(a cut prices a sum "
                                         r".*the makespan is a longest path\), got objective = 'makespan'"):
        G.MinCut(objective="makespan")
    with pytest.raises(ValueError, match="got objective = 'makespan'"):
        G.solve(worked_example(), method="mincut", objective="makespan")


@pytest.mark.parametrize("solver", [G.MinCut, G.IntegerProgram, G.ExhaustiveSearch])
def test_unknown_objectives_are_refused(solver):
    with pytest.raises(ValueError, match=r"objective must be one of \['latency', 'makespan'\], got objective = 'energy'"):
        solver(objective="energy")


def test_exhaustive_refuses_large_graphs():
    with pytest.raises(ValueError, match=r"num_nodes must be <= 10 for exhaustive search .* got num_nodes = 11"):
        G.ExhaustiveSearch().decide(G.random_dag(11))


def test_solve_and_policy_interface():
    req = worked_example()
    for method in ("exhaustive", "mincut", "ilp"):
        np.testing.assert_array_equal(G.solve(req, method=method), [[2, 2, 2]])
        assert isinstance(kd.registry.build(method, model="graph"), kd.Policy)
    with pytest.raises(ValueError, match=r"method must be one of \['exhaustive', 'ilp', 'mincut'\], got method = 'dp'"):
        G.solve(req, method="dp")
    with pytest.raises(ValueError, match="modeller must be one of"):
        G.IntegerProgram(modeller="gurobi")
    with pytest.raises(TypeError, match="req must be a kdoffload.graphs.GraphRequirements"):
        G.MinCut().decide(kd.sample(2))
