"""The delay harness (kdoffload.delay): counts, positivity, the table schema, validation."""

import math

import numpy as np
import pytest

import kdoffload as kd
from kdoffload import delay


@pytest.fixture(scope="module")
def req():
    return kd.sample(300, seed=11)


class Trivial:
    """Everything on the edge: the cheapest possible policy."""

    name = "trivial"

    def decide(self, req):
        return np.ones((req.n, req.num_subtasks), dtype=np.int64)


class Counting(Trivial):
    name = "counting"

    def __init__(self):
        self.sizes = []

    def decide(self, req):
        self.sizes.append(req.n)
        return super().decide(req)


def test_trivial_policy_gives_positive_finite_figures_and_requested_counts(req):
    report = delay.measure({"trivial": Trivial(), "greedy": kd.Greedy()}, req, batched_decisions=250,
                           batch_size=100, online_decisions=40, repeats=5, warmup_batches=1,
                           warmup_calls=3, progress=False)
    table = report.table1()
    assert set(table) == {"batched", "online"}
    for regime, entries in table.items():
        assert set(entries) == {"trivial", "greedy"}
        for entry in entries.values():
            assert set(entry) == {"us_per_decision", "vs_greedy"}
            assert math.isfinite(entry["us_per_decision"]) and entry["us_per_decision"] > 0
            assert math.isfinite(entry["vs_greedy"]) and entry["vs_greedy"] > 0
        assert entries["greedy"]["vs_greedy"] == 1.0
    batched = report.timing("trivial", "batched")
    assert (batched.decisions, batched.calls, batched.batch_size, batched.repeats) == (250, 3, 100, 5)
    online = report.timing("trivial", "online")
    assert (online.decisions, online.calls, online.batch_size, online.repeats) == (40, 40, 1, 5)
    assert all(s > 0 for s in online.seconds)
    frame = report.frame(paper={"greedy": 1.0})
    assert len(frame) == 4 and frame.loc[("online", "greedy"), "paper_vs_greedy"] == 1.0
    assert "threads: torch 1" in report.machine_line


def test_warm_up_calls_are_excluded_and_smaller_counts_see_a_prefix(req):
    policy = Counting()
    report = delay.measure({"counting": policy}, req, regimes=("batched",), batched_decisions=250,
                           batch_size=100, counts={"counting": {"batched": 120}}, repeats=5,
                           warmup_batches=2, progress=False)
    # two untimed warm-up batches, then five passes over batches of 100 and 20
    assert policy.sizes == [100, 20] + [100, 20] * 5
    assert report.timing("counting", "batched").decisions == 120
    assert report.timing("counting", "batched").warmup_calls == 2


def test_same_inputs_for_every_policy(req):
    inputs = delay.DelayInputs(req, batch_size=100, batched_decisions=200, online_decisions=10)
    assert all(r.n == 1 for r in inputs.online(10))
    np.testing.assert_array_equal(inputs.requests[7].E, req.E[7:8])
    np.testing.assert_array_equal(np.concatenate([b.E for b in inputs.batched(200)]), req.E[:200])
    assert inputs.batched(150) is inputs.batched(150)  # prepared once, reused


def test_time_calls_returns_the_decisions(req):
    inputs = [req.take(slice(0, 50)), req.take(slice(50, 80))]
    timing, decisions = delay.time_calls(kd.DynamicProgramming(), inputs, regime="batched", keep_decisions=True)
    np.testing.assert_array_equal(decisions, kd.solve(req.take(slice(0, 80))))
    assert timing.decisions == 80 and timing.calls == 2


def test_rejects_bad_settings(req):
    with pytest.raises(ValueError, match="repeats must be >= 5"):
        delay.time_calls(Trivial(), [req], regime="batched", repeats=3)
    with pytest.raises(ValueError, match="requirements but"):
        delay.measure([Trivial()], req, online_decisions=10_000, progress=False)
    with pytest.raises(ValueError, match="unknown regime"):
        delay.measure([Trivial()], req, regimes=("offline",), progress=False)

    class Wrong(Trivial):
        def decide(self, req):
            return np.ones((req.n, 2), dtype=np.int64)

    with pytest.raises(ValueError, match="returned shape"):
        delay.time_calls(Wrong(), [req], regime="batched")


def test_threads_are_limited_and_restored():
    import torch

    before = torch.get_num_threads()
    with delay.limited_threads(1):
        info = delay.machine_info()
        assert info["torch_threads"] == 1
        assert info["blas_threads"] in (None, 1)
    assert torch.get_num_threads() == before
    line = delay.describe_machine(info)
    assert "cores" in line and "numpy" in line and "torch" in line


def test_run_table1_exports_checks_and_times_the_lean_student(tmp_path):
    from kdoffload import nets, paper

    student = nets.student()
    student.scaler.fit(kd.features(kd.sample(200, seed=3)))
    models = {"kd_dil": student, "baseline_dil": nets.student(name="baseline_dil")}
    run = delay.run_table1(models, kd.sample(300, seed=4), tmp_path / "s.kdlean", batched_decisions=60,
                           batch_size=30, online_decisions=12, counts={"optimal_ilp": 5}, warmup_calls=2,
                           progress=False)
    assert run.lean["identical"] and run.lean["test_decisions"] == 300
    assert run.lean["file_bytes"] == (tmp_path / "s.kdlean").stat().st_size
    table = run.table1()
    expected = ["optimal_exhaustive", "optimal_dp", "optimal_dp_lean", "optimal_ilp", "greedy", "kd_dil",
                "baseline_dil", "kd_dil_lean"]
    for regime in ("batched", "online"):
        assert list(table[regime]) == expected
    assert run.report.timing("optimal_ilp", "online").decisions == 5
    frame = run.frame()
    assert frame.loc[("batched", "kd_dil"), "paper_vs_greedy"] == paper.TABLE1["kd_dil"]
    results = run.results()
    assert set(results) == {"table1", "table1_details"} and "machine_line" in results["table1_details"]
    again = delay.table1_frame(results["table1"], paper.TABLE1)
    assert again.loc[("online", "greedy"), "vs_greedy"] == 1.0


def test_interleaved_passes_alternate_between_policies(req):
    calls = []

    class Logged(Trivial):
        def __init__(self, name):
            self.name = name

        def decide(self, req):
            calls.append(self.name)
            return super().decide(req)

    delay.measure([Logged("a"), Logged("b")], req, regimes=("online",), online_decisions=1, warmup_calls=1,
                  repeats=5, progress=False)
    assert calls == ["a", "b"] + ["a", "b"] * 5
    calls.clear()
    delay.measure([Logged("a"), Logged("b")], req, regimes=("online",), online_decisions=1, warmup_calls=1,
                  repeats=5, interleave=False, progress=False)
    assert calls == ["a"] * 6 + ["b"] * 6
