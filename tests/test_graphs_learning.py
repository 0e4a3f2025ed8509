"""Task graphs as learning problems (kdoffload.graphs.learning) and the payoff measurements
(kdoffload.graphs.payoff): features by hand, exact labels against every heuristic, the lean
per-request forms against their batched references, and clear errors for bad input."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from kdoffload import graphs
from kdoffload.graphs import learning, payoff
from kdoffload.topk import TopKRecheck

TINY_TEACHER = replace(learning.TEACHER_CONFIG, hidden=(16, 16), epochs=3)
TINY_STUDENT = replace(learning.STUDENT_CONFIG, epochs=3)


def test_dnn_features_are_the_six_varying_numbers_over_their_range_ends():
    problem = learning.problem("resnet50")
    info = graphs.dnn_info("resnet50")
    scale = 2.0  # every byte doubled
    req = graphs.GraphRequirements(problem.graph, cycles=info["flops"] * 0.0625, data=scale * info["data"],
                                   input_data=scale * info["input_data"], output_data=scale * info["output_data"],
                                   p1=5e8, p2=1e9, b1=1e6, b2=1.5e6, b3=4e5, topology="direct")
    expected = [5e8 / 1e9, 1e9 / 5e9, 1e6 / 2e6, 1.5e6 / 3e6, 4e5 / 2e6, scale / 4.0]
    np.testing.assert_allclose(problem.features(req)[0], expected, rtol=1e-6)
    np.testing.assert_allclose(problem.features_one(req), expected, rtol=1e-6)
    assert problem.width == 6 and problem.feature_names[-1] == "input_scale"


def test_dag_features_hold_every_varying_weight():
    problem = learning.problem("dag30")
    graph = problem.graph
    width = graph.num_nodes + graph.num_edges + graph.sources.sum() + graph.sinks.sum() + 5
    assert problem.width == width
    req = problem.sample(4, seed=2)
    x = problem.features(req)
    np.testing.assert_allclose(x[:, :30], req.cycles / 2e9, rtol=1e-6)
    np.testing.assert_allclose(x[:, -1], req.b3 / 2e6, rtol=1e-6)
    assert x.shape == (4, width) and (x >= 0).all() and (x <= 1).all()


def test_requests_of_another_graph_or_topology_are_refused():
    problem = learning.problem("vit_b16")
    with pytest.raises(ValueError, match="req must hold requests of the graph of problem 'vit_b16'"):
        problem.features(learning.problem("resnet50").sample(2))
    with pytest.raises(ValueError, match="req must have topology 'direct'"):
        problem.features(problem.sample(2).with_topology("relay"))
    with pytest.raises(ValueError, match="problem must be one of"):
        learning.problem("alexnet")


def test_ilp_labels_are_never_beaten_by_a_heuristic_or_the_seen_placements(tmp_path):
    problem = learning.problem("dag30")
    data = learning.labelled(problem, 12, seed=5, progress=False, cache=False)
    req = data.requests
    optimal = graphs.latency(req, data.labels)
    for name in payoff.HEURISTICS:
        assert (graphs.latency(req, graphs.graph_heuristic(name).decide(req)) >= optimal * (1 - 1e-9)).all()
    seen = payoff.SeenPlacements(data.labels, 12)  # every training optimum a candidate: exact on them
    np.testing.assert_allclose(graphs.latency(req, seen.decide(req)), optimal, rtol=1e-9)


def test_seen_placements_keep_the_cheapest_of_the_most_common_by_hand():
    problem = learning.problem("dag30")
    req = problem.sample(5, seed=1)
    n = problem.num_nodes
    labels = np.array([[0] * n, [0] * n, [0] * n, [2] * n, [2] * n, [1] * n])
    seen = payoff.SeenPlacements(labels, 2)  # the two most common: all device (3), all cloud (2)
    assert seen.candidates.tolist() == [[0] * n, [2] * n]
    device, cloud = (graphs.latency(req, np.full((5, n), a)) for a in (0, 2))
    np.testing.assert_allclose(graphs.latency(req, seen.decide(req)), np.minimum(device, cloud))


@pytest.fixture(scope="module")
def trained():
    problem = learning.problem("dag30")
    data = learning.labelled(problem, 40, seed=0, progress=False, cache=False)
    teacher = learning.train_network(problem, "teacher", 0, 40, config=TINY_TEACHER, cache=False, progress=False)
    student = learning.train_network(problem, "kd_student", 0, 40, temperature=2.0, config=TINY_STUDENT,
                                     teacher_config=TINY_TEACHER, cache=False, progress=False)
    return problem, data, teacher, student


def test_a_graph_network_trains_deterministically_on_its_problem(trained):
    problem, data, teacher, student = trained
    req = problem.sample(20, seed=9)
    assert student.decide(req).shape == (20, problem.num_nodes)
    assert student.model.input_width == problem.width and student.model.hidden == (32, 32)
    again = learning.train_network(problem, "kd_student", 0, 40, temperature=2.0, config=TINY_STUDENT,
                                   teacher_config=TINY_TEACHER, cache=False, progress=False)
    np.testing.assert_array_equal(again.decide(req), student.decide(req))


def test_lean_per_request_forms_make_the_batched_forms_decisions(trained):
    problem, _, _, student = trained
    req = problem.sample(30, seed=4)
    singles = [req.take([i]) for i in range(req.n)]
    for k in (1, 8):
        reference = student.decide(req) if k == 1 else TopKRecheck(student, k, cost=graphs.latency).decide(req)
        lean = learning.LeanNetworkPolicy(student, k)
        np.testing.assert_array_equal(np.concatenate([lean.decide(one) for one in singles]), reference)
    with pytest.raises(ValueError, match="one request at a time, got req.n = 30"):
        learning.LeanNetworkPolicy(student, 2).decide(req)


def test_top_k_recheck_never_loses_to_the_network_alone(trained):
    problem, _, _, student = trained
    req = problem.sample(30, seed=6)
    alone = graphs.latency(req, student.decide(req))
    for k in (2, 8, 32):
        assert (graphs.latency(req, TopKRecheck(student, k, cost=graphs.latency).decide(req)) <= alone + 1e-12).all()


def test_bad_k_and_mismatched_networks_raise_clear_errors(trained):
    problem, _, teacher, student = trained
    req = problem.sample(3, seed=1)
    with pytest.raises(ValueError, match="k must be"):
        TopKRecheck(student, 0, cost=graphs.latency)
    small = learning.problem("bert_base")  # 45 nodes, 6 features
    with pytest.raises(ValueError, match="k must be <= 3\\*\\*n"):
        TopKRecheck(student, 3 ** 30 + 1, cost=graphs.latency).decide(req)
    with pytest.raises(ValueError, match=f"the network must take problem 'bert_base'.s 6 features .* got input_width = {problem.width}"):
        learning.NetworkPolicy(small, student.model)
    with pytest.raises(ValueError, match=f"expected features of shape \\(n, {problem.width}\\), got shape \\(3, 6\\)"):
        student.model.decide(np.ones((3, 6), dtype=np.float32))
    with pytest.raises(ValueError, match="kind must be one of"):
        learning.train_network(problem, "dqn")
    with pytest.raises(ValueError, match="temperature T must be >= 1"):
        learning.train_network(problem, "kd_student", temperature=0.5)


def test_a_graph_network_refuses_the_wide_chain_statistics():
    from kdoffload.nets import MLPPolicy

    with pytest.raises(ValueError, match="stats must be 'fit' for input_width = 86"):
        MLPPolicy(30, (8,), input_width=86, stats="wide")


def test_pareto_front_by_hand():
    frame = pd.DataFrame({"seconds": [1.0, 2.0, 0.5, 3.0, 0.5], "mean": [1.0, 0.9, 1.2, 0.9, 1.3]})
    # row 3 is beaten by row 1 (faster, as good); row 4 by row 2 (as fast, better)
    assert payoff.pareto_front(frame).tolist() == [True, True, True, False, False]


def _frame(rows):
    base = {"problem": "p", "low": 1.0, "high": 1.0, "given": "g"}
    frame = pd.DataFrame([{**base, **row} for row in rows])
    frame["speedup"] = frame.loc[frame.family == "exact", "seconds"].iloc[0] / frame["seconds"]
    return frame


@pytest.mark.parametrize("learned_mean, seen_mean, expected", [
    (1.005, 1.5, "p: learning pays: "),
    (1.005, 1.0, "p: learning works but is not needed: "),
    (1.2, 1.0, "p: learning does not pay: "),
    (1.2, 1.5, "p: nothing but the ILP is within 1%"),
])
def test_verdicts_follow_the_rule(learned_mean, seen_mean, expected):
    frame = _frame([
        {"policy": "ilp", "label": "ILP", "family": "exact", "seconds": 0.02, "mean": 1.0},
        {"policy": "kd", "label": "KD", "family": "learned", "seconds": 1e-4, "mean": learned_mean},
        {"policy": "seen8", "label": "Seen", "family": "seen labels", "seconds": 1e-4, "mean": seen_mean},
        {"policy": "slow", "label": "Slow", "family": "heuristic", "seconds": 0.01, "mean": 1.0},  # only 2x faster
    ])
    assert payoff.verdict(frame).startswith(expected)


@pytest.mark.parametrize("name, topology", [("dag30", "direct"), ("dag30", "relay"), ("mobilenet_v2", "direct")])
def test_lean_cost_is_the_graph_latency(name, topology):
    problem = learning.GraphProblem(name, topology)
    req = problem.sample(6, seed=3)
    candidates = np.random.default_rng(0).integers(0, 3, size=(16, problem.num_nodes))
    cost = learning.LeanCost(problem.graph)
    for i in range(req.n):
        one = req.take([i])
        expected = graphs.latency(one, candidates[None])[0]  # the (r, k, n) form of the reference
        np.testing.assert_allclose(cost(one, candidates), expected, rtol=1e-12)


def test_seen_placements_decide_alike_per_request_and_batched():
    problem = learning.problem("dag30")
    req = problem.sample(25, seed=8)
    labels = np.random.default_rng(1).integers(0, 3, size=(40, problem.num_nodes))
    seen = payoff.SeenPlacements(labels, 8)
    np.testing.assert_array_equal(np.concatenate([seen.decide(req.take([i])) for i in range(req.n)]),
                                  seen.decide(req))


def test_excess_sources_split_the_excess_by_hand(trained, monkeypatch):
    problem, data, _, student = trained
    test = learning.labelled(problem, 4, seed=11, progress=False, cache=False)
    n = problem.num_nodes
    seen_placement = data.labels[0]
    # the policy: requests 0-1 a placement seen in training, requests 2-3 one never seen
    novel = np.arange(n) % 3  # device, edge, cloud, device, ...: no optimum in the training labels
    assert not (data.labels == novel).all(axis=1).any()
    decisions = np.stack([seen_placement, seen_placement, novel, novel])

    class Fixed:
        def decide(self, req):
            return decisions

    monkeypatch.setattr(payoff, "train_network", lambda *args, **kwargs: Fixed())
    frame = payoff.excess_sources(problem, data, test, [0], 2.0, worst=1)
    excess = graphs.latency(test.requests, decisions) - graphs.latency(test.requests, test.labels)
    assert frame["novel requests"].iloc[0] == 0.5
    assert frame["excess on novel"].iloc[0] == pytest.approx(excess[2:].sum() / excess.sum())
    assert frame["excess on the 1 worst"].iloc[0] == pytest.approx(excess.max() / excess.sum())


def test_decision_times_time_every_policy_on_every_request_in_rounds():
    calls = []

    class Counting:
        def __init__(self, name, seconds):
            self.name, self.seconds = name, seconds

        def decide(self, one):
            calls.append((self.name, one))
            end = __import__("time").perf_counter() + self.seconds
            while __import__("time").perf_counter() < end:
                pass

    times = payoff.decision_times({"slow": Counting("slow", 2e-3), "fast": Counting("fast", 0.0)}, ["a", "b"],
                                  repeats=2)
    assert times["slow"] >= 2e-3 > times["fast"]
    # per round, each policy in turn: a warm-up call, then every request
    assert calls == ([("slow", "a"), ("slow", "a"), ("slow", "b"), ("fast", "a"), ("fast", "a"), ("fast", "b")]
                     * 2)


def test_chain_topk_scores_the_student_and_times_it_beside_the_dp():
    import kdoffload as kd
    from kdoffload import nets

    test = kd.labelled_dataset(60, seed=3, cache=False)
    students = {seed: nets.student(6, stats="wide") for seed in (0, 1)}  # untrained: any logits will do
    frame = payoff.chain_topk(students, test, ks=(1, 4, 32), timing_count=5, n_boot=100)
    own = np.mean([kd.latency(test.requirements, students[seed].decide(test.requirements)).mean() for seed in (0, 1)])
    assert frame["K"].tolist() == [1, 4, 32]
    assert frame["mean"].iloc[0] == pytest.approx(own / kd.latency(test.requirements, test.labels).mean())
    assert (np.diff(frame["mean"]) <= 1e-12).all()  # more candidates never cost more
    np.testing.assert_allclose(frame["cost_vs_dp"], frame["seconds"] / frame["dp_seconds"])
