"""The graph chapter's measurements, sweeps, summary rows and figures (kdoffload.graphs.frontier,
placements, summary, figures)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kdoffload import graphs  # noqa: E402
from kdoffload.graphs import figures, frontier, placements  # noqa: E402
from kdoffload.graphs.summary import beyond_rows  # noqa: E402

pytest.importorskip("maxflow")

MB = 1e6


def fork_example():
    """The chapter's worked instance: optimum (device, edge, cloud) at 2.05 s, worked by hand there."""
    fork = graphs.TaskGraph(3, [(0, 1), (0, 2)], names=("decode", "detect", "track"))
    return graphs.GraphRequirements(fork, cycles=[0.2e9, 1e9, 2e9], data=[0.5 * MB, 0.2 * MB],
                                    input_data=[2 * MB, 0, 0], output_data=[0, 0.1 * MB, 0.5 * MB],
                                    p1=1e9, p2=5e9, b1=1 * MB, b2=2 * MB)


def test_the_worked_instance_has_the_hand_optimum():
    req = fork_example()
    for solver in (graphs.ExhaustiveSearch(), graphs.MinCut(), graphs.IntegerProgram()):
        x = solver.decide(req)
        assert x.tolist() == [[0, 1, 2]]
        assert graphs.latency(req, x)[0] == pytest.approx(2.05, rel=1e-12)
    # The fixed locations, by hand: 0.2 + 1 + 2; 2.04 + 0.3 + 0.9; 3 + 0.15 + 0.75.
    for location, expected in ((0, 3.2), (1, 3.24), (2, 3.9)):
        assert graphs.latency(req, np.full((1, 3), location))[0] == pytest.approx(expected, rel=1e-12)


def test_relative_excess_by_hand():
    assert frontier.relative_excess([1.1, 2.0, 3.0 * (1 + 1e-12)], [1.0, 2.0, 3.0]).tolist() == pytest.approx(
        [0.1, 0.0, 0.0])


def test_solver_times_times_each_solver_only_where_it_is_exact():
    times = frontier.solver_times([4, 12], 2, seed=3, progress=False)
    pairs = set(zip(times.topology, times.n, times.solver))
    assert pairs == {("relay", 4, "exhaustive"), ("relay", 4, "mincut"), ("relay", 4, "ilp"),
                     ("relay", 12, "mincut"), ("relay", 12, "ilp"),
                     ("direct", 4, "exhaustive"), ("direct", 4, "ilp"), ("direct", 12, "ilp")}
    assert (times["seconds"] > 0).all() and (times["count"] == 2).all()
    assert (times["max_disagreement"] <= 1e-9).all()


def test_solver_times_refuses_unknown_names():
    with pytest.raises(ValueError, match="solver must be one of .* got solver = 'dp'"):
        frontier.solver_times([4], 1, solvers=("dp",))
    with pytest.raises(ValueError, match="topology must be one of .* got topology = 'mesh'"):
        frontier.solver_times([4], 1, topologies=("mesh",))


def test_instances_are_seeded():
    first, again = frontier.instances(6, 2, seed=5), frontier.instances(6, 2, seed=5)
    assert all(np.array_equal(a.cycles, b.cycles) and np.array_equal(a.graph.edges, b.graph.edges)
               for a, b in zip(first, again))
    assert not np.array_equal(first[0].cycles, frontier.instances(6, 2, seed=6)[0].cycles)


def test_relay_cut_misses_match_a_second_method():
    """Recount the misses with exhaustive search as the optimum (the function uses the ILP)."""
    count, n = 12, 6
    table = frontier.relay_cut_misses([n], count, seed=1, progress=False)
    excess = []
    for req in frontier.instances(n, count, "direct", seed=1):
        best = graphs.latency(req, graphs.ExhaustiveSearch().decide(req))[0]
        cut = graphs.latency(req, graphs.MinCut().decide(req.with_topology("relay")))[0]
        excess.append(cut / best - 1 if cut > best * (1 + 1e-9) else 0.0)
    assert table.loc[0, "missed"] == pytest.approx(np.mean(np.array(excess) > 0))
    assert table.loc[0, "mean_excess"] == pytest.approx(np.mean(excess), rel=1e-6)


def test_midpoint_network_is_the_middle_of_the_wide_ranges():
    assert placements.midpoint_network() == pytest.approx(
        {"p1": 550e6, "p2": 2750e6, "b1": 1 * MB, "b2": 1.5 * MB, "b3": 1 * MB})


def test_bandwidth_sweep_is_optimal_and_refuses_bad_input():
    values = [1e3, 1e6, 1e9]
    found, costs = placements.bandwidth_sweep("vit_b16", "b3", values, topology="direct")
    assert set(costs.policy) == {"optimal", *placements.HEURISTICS}
    assert (costs["normalized"] >= 1 - 1e-9).all()
    # Second method: the minimum cut is exact on relay, so the relay sweep must match its costs.
    relay_found, relay_costs = placements.bandwidth_sweep("vit_b16", "b1", values)
    network = {key: np.full(3, v) for key, v in placements.midpoint_network().items()}
    network["b1"] = np.array(values)
    req = graphs.dnn_requirements("vit_b16", network)
    best = graphs.latency(req, graphs.IntegerProgram().decide(req))
    optimal = relay_costs[relay_costs.policy == "optimal"]["latency"].to_numpy()
    assert optimal == pytest.approx(best, rel=1e-9)
    # At 1 kB/s the image (602 kB) would take 10 minutes to leave the device: all stays there.
    first = relay_found[relay_found["value"] == 1e3]["location"]
    assert (first == 0).all()
    with pytest.raises(ValueError, match="bandwidth must be one of .* got bandwidth = 'b4'"):
        placements.bandwidth_sweep("vit_b16", "b4", values)
    with pytest.raises(ValueError, match="values"):
        placements.bandwidth_sweep("vit_b16", "b1", [1e6, -1.0])


def test_split_summary_by_hand():
    frame = pd.DataFrame({"value": [1, 1, 1, 2, 2, 2], "node": [0, 1, 2, 0, 1, 2], "location": [0, 0, 0, 0, 2, 1]})
    summary = placements.split_summary(frame)
    assert summary.to_dict(orient="records") == [
        {"value": 1, "device": 3, "edge": 0, "cloud": 0, "first_offloaded": -1},
        {"value": 2, "device": 1, "edge": 1, "cloud": 1, "first_offloaded": 1}]


def test_dnn_solver_times_agree_on_one_graph():
    times = frontier.dnn_solver_times(2, names=["vit_b16"], progress=False)
    assert list(zip(times.topology, times.solver)) == [("relay", "mincut"), ("relay", "ilp"), ("direct", "ilp")]
    assert (times.loc[times.topology == "relay", "max_disagreement"] <= 1e-9).all()
    assert (times["nodes"] == graphs.dnn_graph("vit_b16").num_nodes).all()


def test_beyond_rows_without_and_with_results():
    assert beyond_rows({})["measured"].tolist() == ["not measured yet (chapter 7)"]
    results = {"graphs": {
        "chain_check": {"size": 10000, "max_relative_difference": 4.4e-16},
        "frontier": {"seconds": [
            {"topology": "relay", "n": 50, "solver": "mincut", "seconds": 0.0003, "max_disagreement": 0.0},
            {"topology": "relay", "n": 200, "solver": "mincut", "seconds": 0.0005, "max_disagreement": 0.0},
            {"topology": "direct", "n": 200, "solver": "ilp", "seconds": 0.25, "max_disagreement": 0.0}]},
        "relay_cut_misses": [{"n": 10, "missed": 0.5, "mean_excess": 0.1},
                             {"n": 20, "missed": 0.25, "mean_excess": 0.05}],
        "dnn": {"solver_seconds": [
            {"graph": "a", "topology": "relay", "solver": "mincut", "seconds": 0.001},
            {"graph": "b", "topology": "relay", "solver": "mincut", "seconds": 0.002}],
            "splits": [{"graph": "a", "device": 3, "edge": 0, "cloud": 0},
                       {"graph": "a", "device": 1, "edge": 0, "cloud": 2},
                       {"graph": "b", "device": 0, "edge": 0, "cloud": 5}]}}}
    rows = beyond_rows(results).set_index("what")["measured"]
    assert rows["exact decision, random DAG of 200 subtasks, relay network (minimum cut)"] == "0.5 ms per request"
    assert rows["exact decision, random DAG of 200 subtasks, direct link (integer program)"] == "250 ms per request"
    assert rows["minimum cut of the relay prices, costed with the direct link"] == (
        "misses the optimum on 25%-50% of requests (n = 10-20); mean excess 5.0%-10.0%")
    assert rows["exact decision on the DNN graphs, relay, minimum cut"] == "1-2 ms per request (a, b)"
    assert rows["DNN graphs: share of swept bandwidths where the optimum splits the network"] == "a 50%, b 0%"


def test_cut_graph_marks_exactly_the_arcs_the_cut_crosses():
    """For the worked instance at (device, edge, cloud): s->0_1, 1_1->1_2, 2_2->t and the data
    arcs 0_1-1_1, 0_1-2_1 and 0_2-2_2 are cut (z_0 = (0, 0), z_1 = (1, 0), z_2 = (1, 1))."""
    fig = figures.cut_graph(fork_example(), [0, 1, 2])
    arrows = [text for text in fig.axes[0].texts if getattr(text, "arrow_patch", None) is not None]
    red = [a for a in arrows if mcolors.same_color(a.arrow_patch.get_edgecolor(), "#d62728")]
    assert len(arrows) == 4 * 3 + 2 * 2 and len(red) == 6


def test_figures_draw_one_panel_per_graph():
    found, costs = placements.bandwidth_sweep("vit_b16", "b1", [1e5, 1e6])
    maps = figures.placement_maps({"vit_b16": found, "again": found}, "b1 (MB/s)")
    assert len(maps.axes) == 2
    gaps = figures.heuristic_gaps(costs.assign(graph="vit_b16", topology="relay"), "b1 (MB/s)")
    assert len(gaps.axes) == 1
    times = frontier.solver_times([4], 1, progress=False)
    assert figures.frontier(times).axes[0].get_xscale() == "log"


def test_learning_rows_carry_each_verdict_and_the_largest_k_on_the_chain():
    from kdoffload.graphs.summary import learning_rows

    assert learning_rows({})["measured"].tolist() == ["not measured yet (chapter 8)"]
    results = {"learning": {
        "verdicts": {"resnet50": "resnet50: learning does not pay: no learned policy is close"},
        "chain_topk": [{"K": 1, "mean": 1.02, "low": 1.01, "high": 1.03, "cost_vs_dp": 2.0},
                       {"K": 32, "mean": 1.001, "low": 1.0, "high": 1.002, "cost_vs_dp": 25.4}]}}
    rows = learning_rows(results).set_index("what")["measured"]
    assert rows["does learning pay on resnet50 (direct link)?"] == "learning does not pay: no learned policy is close"
    assert rows["chain KD student with top-K re-check"] == (
        "top-32: 1.0010 [1.0000, 1.0020] at 25 times the dynamic program's time per request")
