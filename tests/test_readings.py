"""The readings map (kdoffload.readings): cost model per reading, solvers, normalisations, claims.

Expected values are worked out by hand in the comments, or come from an independent
reference below (``reference_latency``: one decision at a time, written from the
Reading docstring with its own loop over subtasks, sharing no code with the module).
"""

import dataclasses
import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import kdoffload as kd
from kdoffload import readings as rd
from kdoffload.readings import Reading

MEGA = 1e6


def reference_latency(req, decision, reading):
    """Latency (n,) of one decision (a tuple of |A| locations) under ``reading``."""
    data_factor = {"MB": 1.0, "data_Mbit": 1 / 8, "bandwidth_Mbit": 1.0}[reading.units]
    bandwidth_factor = {"MB": 1.0, "data_Mbit": 1.0, "bandwidth_Mbit": 1 / 8}[reading.units]
    b1 = np.maximum(req.b1, reading.bandwidth_floor) * bandwidth_factor
    b2 = np.maximum(req.b2, reading.bandwidth_floor) * bandwidth_factor
    D = req.D * data_factor

    def seconds_per_byte(i, j):
        if i == j:
            return np.zeros(req.n)
        if {i, j} == {0, 1}:
            return 1 / b1
        if {i, j} == {1, 2}:
            return 1 / b2
        return 1 / b1 + 1 / b2 if reading.topology == "relay" else 1 / b2

    total = np.zeros(req.n)
    previous = 0  # the input starts on the device
    for t, location in enumerate(decision):
        total = total + D[:, t] * seconds_per_byte(previous, location)
        total = total + (req.E[:, t] / req.p1 if location == 0 else req.E[:, t] / req.p2 if location == 1 else 0.0)
        previous = location
    if reading.output_return:
        total = total + D[:, -1] * seconds_per_byte(previous, 0)
    return total


@pytest.fixture(scope="module")
def hand():
    """|A| = 2: E = (2e9, 1e9) cycles, D = (1, 4, 0.5) MB, p1 = 1 GHz, p2 = 4 GHz,
    b1 = 50 kB/s (below both floors), b2 = 1 MB/s."""
    return kd.Requirements(E=[[2e9, 1e9]], D=[[1e6, 4e6, 0.5e6]], p1=[1e9], p2=[4e9], b1=[5e4], b2=[1e6])


# Decision (edge, cloud) = (1, 2), term by term:
#   input D0 device->edge, subtask 0 on the edge E0/p2 = 2e9/4e9 = 0.5, D1 edge->cloud, cloud computes free,
#   output D2 cloud->device (if returned).
# default: 1e6/5e4 = 20 + 0.5 + 4e6/1e6 = 4 + return 0.5e6 * (1/5e4 + 1/1e6) = 10 + 0.5 = 10.5   -> 35.0
# output stays: 20 + 0.5 + 4                                                                       -> 24.5
# floor 0.1 MB/s (b1 = 1e5, b2 = 1e6 unchanged): 10 + 0.5 + 4 + 0.5e6 * (1e-5 + 1e-6) = 5.5        -> 20.0
# floor 0.5 MB/s (b1 = 5e5, b2 = 1e6): 2 + 0.5 + 4 + 0.5e6 * (2e-6 + 1e-6) = 1.5                   -> 8.0
# data in Mbit (D = 0.125, 0.5, 0.0625 MB): 2.5 + 0.5 + 0.5 + 0.0625e6 * 2.1e-5 = 1.3125           -> 4.8125
# bandwidth in Mbit/s (b1 = 6250, b2 = 125000 B/s): 160 + 0.5 + 32 + 0.5e6 * (1/6250 + 1/125000) = 84 -> 276.5
# direct (cloud->device at b2 only): 20 + 0.5 + 4 + 0.5e6 / 1e6 = 0.5                              -> 25.0
# floor 0.1 MB/s and direct: 10 + 0.5 + 4 + 0.5                                                    -> 15.0
HAND_EDGE_CLOUD = [
    (Reading(), 35.0),
    (Reading(output_return=False), 24.5),
    (Reading(bandwidth_floor=0.1 * MEGA), 20.0),
    (Reading(bandwidth_floor=0.5 * MEGA), 8.0),
    (Reading(units="data_Mbit"), 4.8125),
    (Reading(units="bandwidth_Mbit"), 276.5),
    (Reading(topology="direct"), 25.0),
    (Reading(bandwidth_floor=0.1 * MEGA, topology="direct"), 15.0),
]


@pytest.mark.parametrize("reading, expected", HAND_EDGE_CLOUD, ids=lambda v: v.label if isinstance(v, Reading) else "")
def test_hand_instance_each_switch(hand, reading, expected):
    assert rd.latency(hand, [[1, 2]], reading)[0] == pytest.approx(expected, rel=1e-12)


def test_hand_instance_optimum_moves_with_the_topology(hand):
    # Relayed: every offload pays 1e6 / 5e4 = 20 s on the slow wireless hop, so Local wins:
    #   (0, 0) = 2e9/1e9 + 1e9/1e9 = 3.0.
    # Direct: (2, 2) = 1e6/1e6 (input to the cloud) + 0 + 0.5e6/1e6 (output back) = 1.5, the best of
    #   the nine ((2, 0) = 1 + 4 + 1 = 6, (0, 2) = 2 + 4 + 0.5 = 6.5, anything on the edge >= 20).
    #   Output stays: (2, 2) = 1.0.
    cases = [(Reading(), [0, 0], 3.0), (Reading(topology="direct"), [2, 2], 1.5),
             (Reading(output_return=False, topology="direct"), [2, 2], 1.0)]
    for reading, decision, best in cases:
        decisions = rd.ReadingDynamicProgramming(reading=reading).decide(hand)
        assert decisions.tolist() == [decision]
        assert rd.latency(hand, decisions, reading)[0] == pytest.approx(best, rel=1e-12)


def test_floor_and_units_act_on_the_drawn_numbers(hand):
    # Floor first, in the preset's numbers, then the unit reading: b1 = max(5e4, 1e5) / 8 = 12500 B/s.
    derived = rd.derive(hand, Reading(bandwidth_floor=0.1 * MEGA, units="bandwidth_Mbit"))
    assert derived.b1.tolist() == [12500.0] and derived.b2.tolist() == [125000.0]
    assert derived.D.tolist() == hand.D.tolist()
    derived = rd.derive(hand, Reading(units="data_Mbit"))
    assert derived.D.tolist() == [[125000.0, 500000.0, 62500.0]] and derived.b1.tolist() == [5e4]
    assert rd.derive(hand, Reading()) is hand


@pytest.mark.parametrize("output_return", [True, False])
def test_default_reading_is_the_book_model(output_return):
    req = kd.sample(300, "wide", seed=11)
    decisions = np.random.default_rng(1).integers(0, 3, size=(300, 6))
    reading = Reading(output_return=output_return)
    np.testing.assert_array_equal(rd.latency(req, decisions, reading), kd.latency(req, decisions, output_return))
    computation, transfer = rd.cost_tensors(req, reading)
    expected = kd.cost_tensors(req, output_return=output_return)
    np.testing.assert_array_equal(computation, expected[0])
    np.testing.assert_array_equal(transfer, expected[1])
    np.testing.assert_array_equal(rd.ReadingDynamicProgramming(reading=reading).decide(req),
                                  kd.solve(req, "dp", output_return=output_return))
    np.testing.assert_array_equal(rd.ReadingGreedy(reading=reading).decide(req),
                                  kd.Greedy(output_return=output_return).decide(req))


def test_dp_matches_brute_force_under_every_reading():
    req = kd.sample(200, "wide", num_subtasks=4, seed=3)
    decisions = list(itertools.product(range(3), repeat=4))
    for reading in rd.all_readings():
        costs = np.stack([reference_latency(req, decision, reading) for decision in decisions], axis=1)
        chosen = rd.ReadingDynamicProgramming(reading=reading).decide(req)
        achieved = rd.latency(req, chosen, reading)
        reference = np.array([costs[k, decisions.index(tuple(row))] for k, row in enumerate(chosen)])
        np.testing.assert_allclose(achieved, reference, rtol=1e-12)  # the module's cost = the reference cost
        np.testing.assert_allclose(achieved, costs.min(axis=1), rtol=1e-9, err_msg=reading.label)


def test_greedy_under_a_reading_follows_the_reading():
    # Greedy's first step compares the three costs of subtask 0 alone: input transfer + computation.
    req = kd.sample(200, "wide", num_subtasks=3, seed=4)
    reading = Reading(bandwidth_floor=0.5 * MEGA, units="data_Mbit", topology="direct")
    alone = dataclasses.replace(reading, output_return=False)
    first = np.stack([reference_latency(req, (j,), alone) for j in range(3)], axis=1)
    # reference_latency of a one-subtask decision on a 3-subtask requirement covers subtask 0 only.
    assert (rd.ReadingGreedy(reading=reading).decide(req)[:, 0] == first.argmin(axis=1)).all()


def test_sweep_helpers_match_the_public_policies():
    req = kd.sample(500, "wide", seed=8)
    for reading in (Reading(), Reading(False, 0.1 * MEGA, "bandwidth_Mbit", "direct")):
        computation, transfer = rd.cost_tensors(req, reading)
        np.testing.assert_array_equal(rd._optimal(computation, transfer, chunk_size=128),
                                      rd.ReadingDynamicProgramming(reading=reading).decide(req))
        np.testing.assert_array_equal(rd._greedy(computation, transfer), rd.ReadingGreedy(reading=reading).decide(req))


def test_normalisations_by_hand():
    # optimal (1, 2, 4), policy (2, 2, 8): ratios (2, 1, 2)
    values = rd.normalise([2.0, 2.0, 8.0], [1.0, 2.0, 4.0])
    assert values["normalized_latency"] == pytest.approx(12 / 7)  # (2 + 2 + 8) / (1 + 2 + 4)
    assert values["mean_ratio"] == pytest.approx(5 / 3)  # (2 + 1 + 2) / 3
    assert values["median_ratio"] == 2.0  # median of (2, 1, 2)
    assert values["ratio_of_medians"] == 1.0  # median (2, 2, 8) / median (1, 2, 4) = 2 / 2
    # an optimum of 0: ratio 1 if the policy is 0 too, else inf
    assert rd.normalise([0.0, 1.0], [0.0, 0.0])["median_ratio"] == np.inf
    assert rd.normalise([0.0, 2.0], [0.0, 1.0])["mean_ratio"] == 1.5  # (1 + 2) / 2


def test_all_readings():
    readings = rd.all_readings()
    assert len(readings) == len(set(readings)) == 36
    assert readings[0] == Reading() and readings[0].is_default
    assert sum(r.is_default for r in readings) == 1
    assert {r.bandwidth_floor for r in readings} == {0.0, 1e5, 5e5}


@pytest.mark.parametrize("fields, message", [
    ({"output_return": "yes"}, "output_return.*'yes'"),
    ({"bandwidth_floor": -1.0}, "bandwidth_floor.*-1.0"),
    ({"bandwidth_floor": float("nan")}, "bandwidth_floor.*nan"),
    ({"bandwidth_floor": "0.1"}, "bandwidth_floor.*'0.1'"),
    ({"units": "kB"}, "units.*'kB'"),
    ({"topology": "star"}, "topology.*'star'"),
])
def test_reading_validation(fields, message):
    with pytest.raises(ValueError, match=message):
        Reading(**fields)


def test_sweep_validation():
    with pytest.raises(ValueError, match="n_test_sets.*1"):
        rd.sweep(10, 1)
    with pytest.raises(ValueError, match="test_size.*0"):
        rd.sweep(0, 2)
    with pytest.raises(ValueError, match="seed.*-1"):
        rd.sweep(10, 2, seed=-1)
    with pytest.raises(ValueError, match="normalisation 'mode'"):
        rd.sweep(10, 2, normalisations=["mode"])
    with pytest.raises(ValueError, match="readings"):
        rd.sweep(10, 2, readings=["default"])
    with pytest.raises(ValueError, match="objective"):
        rd.ReadingGreedy(objective="energy")


@pytest.fixture(scope="module")
def small_sweep():
    return rd.sweep(test_size=300, n_test_sets=3, seed=5, progress=False)


def test_sweep_frame(small_sweep):
    frame = small_sweep
    assert list(frame.columns) == ["test_set", "output_return", "bandwidth_floor", "units", "topology", "reading",
                                   "policy", "normalisation", "value"]
    assert len(frame) == 3 * 36 * 6 * 4
    assert (frame[frame["policy"] == "optimal"]["value"] == 1.0).all()
    assert (frame["value"] >= 1.0 - 1e-12).all()  # nothing beats the optimum under its own reading
    assert set(frame["normalisation"]) == set(rd.NORMALISATIONS.values())
    # the same seed gives the same frame; test sets differ from each other
    again = rd.sweep(test_size=300, n_test_sets=3, seed=5, progress=False, readings=[Reading()])
    default = frame[frame["reading"] == Reading().label].reset_index(drop=True)
    pd.testing.assert_frame_equal(again, default)  # readings share their test set's draw
    edge = default[(default["policy"] == "edge") & (default["normalisation"] == "ratio of means")]["value"]
    assert edge.nunique() == 3


def test_sweep_uses_the_readings_costs():
    # Test set 0 of seed 2, rebuilt by hand from the documented seeding, under one reading.
    child = np.random.SeedSequence(2).spawn(2)[0]
    requirements_seed, _ = (int(c.generate_state(1)[0]) for c in child.spawn(2))
    req = kd.sample(200, "wide", seed=requirements_seed)
    reading = Reading(output_return=False, bandwidth_floor=0.5 * MEGA, units="data_Mbit", topology="direct")
    optimal = rd.latency(req, rd.ReadingDynamicProgramming(reading=reading).decide(req), reading)
    edge = rd.latency(req, np.ones((200, 6), dtype=int), reading)
    frame = rd.sweep(200, 2, seed=2, readings=[reading], normalisations=["ratio of means"], progress=False)
    value = frame.query("test_set == 0 and policy == 'edge'")["value"].item()
    assert value == pytest.approx(edge.mean() / optimal.mean(), rel=1e-12)


def hand_frame(values, normalisation="median ratio"):
    """A sweep-like frame of one reading: ``values`` = [{policy: value} per test set]."""
    reading = Reading()
    rows = [{"test_set": i, **reading.as_dict(), "reading": reading.label, "policy": policy,
             "normalisation": normalisation, "value": value}
            for i, by_policy in enumerate(values) for policy, value in {"optimal": 1.0, **by_policy}.items()]
    return pd.DataFrame(rows)


def test_ordering_frequencies_by_hand():
    frame = hand_frame([
        # test set 0: Edge < Local, Edge < Cloud, Random worst, all > 1.095, Greedy best: everything holds
        {"greedy": 1.2, "local": 2.0, "edge": 1.5, "cloud": 3.0, "random": 5.0},
        # test set 1: Local < Edge, Cloud tied with Edge (strict: fails), Random worst, Greedy = 1.05 < 1.095,
        # Greedy ties Local for best
        {"greedy": 1.05, "local": 1.05, "edge": 2.0, "cloud": 2.0, "random": 4.0},
    ])
    table = rd.ordering_frequencies(frame).iloc[0]
    assert table["Edge < Local"] == 0.5 and table["Edge < Cloud"] == 0.5
    assert table["Random is the worst"] == 1.0
    assert table["every heuristic > DIL's 1.095"] == 0.5
    assert table[rd.ALL_FIGURE5] == 0.5
    assert table["Greedy best of the rule-based"] == 0.5
    assert table["n_test_sets"] == 2
    per_set = rd.claims_per_test_set(frame)
    assert per_set["best_policy"].tolist() == ["greedy", "greedy = local"]


def test_policy_summary_by_hand():
    frame = hand_frame([{p: 1.0 for p in rd.HEURISTICS}, {p: 3.0 for p in rd.HEURISTICS}])
    row = rd.policy_summary(frame).query("policy == 'edge'").iloc[0]
    # mean 2, std sqrt(2), t(0.975, 1 dof) = 12.7062: half width 12.7062 * sqrt(2) / sqrt(2)
    assert row["mean"] == 2.0
    assert row["ci_low"] == pytest.approx(2 - 12.7062, abs=1e-4)
    assert row["ci_high"] == pytest.approx(2 + 12.7062, abs=1e-4)
    # quantiles of (1, 3) by linear interpolation: 1 + 0.025 * 2 and 1 + 0.975 * 2
    assert row["pi_low"] == pytest.approx(1.05) and row["pi_high"] == pytest.approx(2.95)
    with pytest.raises(ValueError, match="level"):
        rd.policy_summary(frame, level=95)
    with pytest.raises(ValueError, match="missing"):
        rd.ordering_frequencies(frame[frame["policy"] != "random"])


def test_heatmap(small_sweep):
    some = small_sweep[(small_sweep["units"] == "MB") & (small_sweep["bandwidth_floor"] < 2e5)]
    fig = rd.heatmap(some, normalisations=["ratio of means", "median_ratio"])
    # 5 claim panels, their colour bar, the best-heuristic panel and its colour bar
    assert len(fig.axes) == 8
    assert fig.axes[0].get_title() == "Edge < Local"
    assert len(fig.axes[0].get_yticklabels()) == 8  # 2 outputs x 2 floors x 2 topologies
    with pytest.raises(ValueError, match="claim"):
        rd.heatmap(some, claims=["Cloud < Local"])
