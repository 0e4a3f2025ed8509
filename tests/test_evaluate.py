"""kd.summarize: normalised latency is a ratio of means; accuracy counts whole decisions."""

import numpy as np
import pytest

import kdoffload as kd


def one_subtask_pair():
    # Two requirements with |A| = 1, no data to move, so latency is computation only:
    # device E/p1, edge E/p2, cloud 0.
    return kd.Requirements(E=[[2e9], [1e9]], D=[[0.0, 0.0], [0.0, 0.0]], p1=[1e9, 1e9], p2=[4e9, 2e9],
                           b1=[1e6, 1e6], b2=[1e6, 1e6])


def test_summary_of_a_hand_worked_pair():
    req = one_subtask_pair()
    reference = np.array([[1], [1]])  # edge: 2e9/4e9 = 0.5 s and 1e9/2e9 = 0.5 s, mean 0.5 s
    policy = np.array([[0], [1]])  # device 2e9/1e9 = 2 s, then edge 0.5 s: mean 1.25 s
    summary = kd.summarize(req, policy, reference)
    assert summary["normalized_latency"] == pytest.approx(1.25 / 0.5)
    assert summary["mean_ratio"] == pytest.approx((2 / 0.5 + 0.5 / 0.5) / 2)
    assert summary["median_ratio"] == pytest.approx(2.5)
    assert summary["accuracy"] == 0.5 and summary["subtask_accuracy"] == 0.5


def test_optimal_scores_one_and_local_is_computation_on_the_device():
    req = kd.sample(300, seed=3)
    optimal = kd.solve(req, method="dp")
    assert kd.summarize(req, optimal, optimal)["normalized_latency"] == 1.0
    assert kd.summarize(req, optimal, optimal)["accuracy"] == 1.0
    local = kd.summarize(req, kd.heuristic("local").decide(req), optimal)
    local_mean = (req.E.sum(axis=1) / req.p1).mean()  # everything on the device moves no data
    assert local["normalized_latency"] == pytest.approx(local_mean / kd.latency(req, optimal).mean())


def test_ratio_of_latencies_by_hand():
    from kdoffload.evaluate import latency_ratios, ratio_of_latencies

    ratios = ratio_of_latencies([2.0, 0.0, 3.0, 1.5], [1.0, 0.0, 0.0, 3.0])
    # 2 / 1, both zero -> 1, policy > 0 = optimal -> inf, 1.5 / 3
    assert ratios.tolist() == [2.0, 1.0, float("inf"), 0.5]
    req = one_subtask_pair()
    policy, reference = np.array([[0], [1]]), np.array([[1], [1]])
    assert np.array_equal(latency_ratios(req, policy, reference), [2 / 0.5, 1.0])
