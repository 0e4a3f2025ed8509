"""The timing harness and Table 1 (kdoffload.timing): counts, positivity, the table schema, validation."""

import math
import platform

import numpy as np
import pytest

import kdoffload as kd
from kdoffload import plots, timing
from kdoffload.threads import limited_threads
from kdoffload.timing import harness, machine, render


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
    report = timing.measure({"trivial": Trivial(), "greedy": kd.Greedy()}, req, batched_decisions=250,
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
    report = timing.measure({"counting": policy}, req, regimes=("batched",), batched_decisions=250,
                           batch_size=100, counts={"counting": {"batched": 120}}, repeats=5,
                           warmup_batches=2, progress=False)
    # two untimed warm-up batches, then five passes over batches of 100 and 20
    assert policy.sizes == [100, 20] + [100, 20] * 5
    assert report.timing("counting", "batched").decisions == 120
    assert report.timing("counting", "batched").warmup_calls == 2


def test_same_inputs_for_every_policy(req):
    inputs = harness.DelayInputs(req, batch_size=100, batched_decisions=200, online_decisions=10)
    assert all(r.n == 1 for r in inputs.online(10))
    np.testing.assert_array_equal(inputs.requests[7].E, req.E[7:8])
    np.testing.assert_array_equal(np.concatenate([b.E for b in inputs.batched(200)]), req.E[:200])
    assert inputs.batched(150) is inputs.batched(150)  # prepared once, reused


def test_rejects_bad_settings(req):
    with pytest.raises(ValueError, match="repeats must be >= 5"):
        timing.measure([Trivial()], req, batched_decisions=10, online_decisions=10, repeats=3, progress=False)
    with pytest.raises(ValueError, match="requirements but"):
        timing.measure([Trivial()], req, online_decisions=10_000, progress=False)
    with pytest.raises(ValueError, match="unknown regime"):
        timing.measure([Trivial()], req, regimes=("offline",), progress=False)

    class Wrong(Trivial):
        def decide(self, req):
            return np.ones((req.n, 2), dtype=np.int64)

    with pytest.raises(ValueError, match=r"policy 'trivial' returned shape \(10, 2\) for a batch of 10 requirements"):
        timing.measure([Wrong()], req, regimes=("batched",), batched_decisions=10, batch_size=10, progress=False)


def test_threads_are_limited_and_restored():
    import torch

    before = torch.get_num_threads()
    with limited_threads(1):
        info = machine.machine_info()
        assert info["torch_threads"] == 1
        assert info["blas_threads"] in (None, 1)
    assert torch.get_num_threads() == before
    line = machine.describe_machine(info)
    assert "cores" in line and f"numpy {np.__version__}" in line and "torch" in line
    assert info["logical_cpus"] >= 1 and info["python"] == platform.python_version()


def test_versions_name_missing_packages():
    found = machine.versions(("numpy", "surely-not-a-package"))
    assert found == {"python": platform.python_version(), "numpy": np.__version__,
                     "surely-not-a-package": "not installed"}


def test_run_table1_exports_checks_and_times_every_policy_in_both_forms(tmp_path):
    from kdoffload import nets, paper

    student = nets.student()
    student.scaler.fit(kd.features(kd.sample(200, seed=3)))
    models = {"kd_dil": student, "baseline_dil": nets.student(name="baseline_dil")}
    run = timing.run_table1(models, kd.sample(300, seed=4), tmp_path / "s.kdlean", batched_decisions=60,
                           batch_size=30, online_decisions=12, counts={"optimal_ilp": 5}, warmup_calls=2,
                           check_decisions=400, peak=False, progress=False)
    assert run.lean["identical"] and run.lean["test_decisions"] == 300
    assert run.lean["file_bytes"] == (tmp_path / "s.kdlean").stat().st_size
    table = run.table1()
    expected = ["optimal_exhaustive", "optimal_dp", "optimal_dp_lean", "optimal_ilp", "greedy", "greedy_lean",
                "kd_dil", "kd_dil_lean", "baseline_dil", "baseline_dil_lean", "local", "local_lean", "edge",
                "edge_lean", "cloud", "cloud_lean", "random", "random_lean"]
    for regime in ("batched", "online"):
        assert list(table[regime]) == expected
        # normalised by Greedy in its fastest form in this regime
        fastest = min(table[regime][g]["us_per_decision"] for g in ("greedy", "greedy_lean"))
        normaliser = run.report.normaliser(regime)
        assert table[regime][normaliser]["vs_greedy"] == 1.0
        assert table[regime][normaliser]["us_per_decision"] == fastest
    # every lean form checked against its reference before timing
    assert set(run.checks) == {k for k in expected if k.endswith("_lean")}
    assert all(c["identical"] and c["checked"] == 400 for c in run.checks.values())
    assert run.checks["random_lean"]["method"] == "distribution"
    assert run.operations["kd_dil"]["total"] == run.operations["kd_dil_lean"]["total"] == 2 * 2_144 + 64 + 17 + 68 + 12
    assert run.operations["optimal_ilp"] is None
    assert run.report.timing("optimal_ilp", "online").decisions == 5
    frame = run.frame()
    assert frame.loc[("batched", "kd_dil"), "paper_vs_greedy"] == paper.TABLE1["kd_dil"]
    assert frame.loc[("online", "greedy_lean"), "form"] == "lean"
    assert frame.loc[("online", "kd_dil"), "ops_per_decision"] == 4449
    forms = run.forms()
    assert forms.loc["greedy_lean", "policy"] == "greedy" and forms.loc["greedy", "form"] == "vectorised"
    assert {"batched_us", "online_vs_greedy", "online_x_floor", "floor_us"} <= set(forms.columns)
    assert "KD-DIL / Greedy (paper 0.17)" in run.paper_statement()
    results = run.results()
    assert set(results) == {"table1", "table1_details"} and "machine_line" in results["table1_details"]
    details = results["table1_details"]
    assert set(details["normaliser"]) == {"batched", "online"} and details["checks"] and details["operations"]
    again = render.table1_frame(results["table1"], paper.TABLE1)
    assert min(again.loc[("online", g), "vs_greedy"] for g in ("greedy", "greedy_lean")) == 1.0
    best = run.equal_effort()
    for regime in ("batched", "online"):
        assert best[regime]["greedy"]["vs_greedy"] == 1.0
        assert best[regime]["kd_dil"]["key"] in ("kd_dil", "kd_dil_lean")
        assert best[regime]["kd_dil"]["us_per_decision"] == min(table[regime][k]["us_per_decision"]
                                                                for k in ("kd_dil", "kd_dil_lean"))
        assert set(best[regime]) == {"optimal", "greedy", "kd_dil", "baseline_dil", "local", "edge", "cloud", "random"}
    assert details["equal_effort"] == best


def test_a_lean_form_that_disagrees_stops_the_table(tmp_path, monkeypatch):
    from kdoffload import lean_policies

    monkeypatch.setattr(lean_policies.LeanGreedy, "_one", staticmethod(lambda *row: 0))  # always the device
    message = r"'greedy_lean' disagrees with 'greedy' on [\d,]+ of 300 requirements one at a time"
    with pytest.raises(lean_policies.LeanMismatchError, match=message):
        timing.run_table1({}, kd.sample(10, seed=4), tmp_path / "s.kdlean", batched_decisions=20, batch_size=10,
                         online_decisions=5, check_decisions=300, peak=False, progress=False)


def _timing(policy, regime, us):
    return harness.Timing(policy=policy, regime=regime, decisions=10, calls=10, batch_size=1, warmup_calls=0,
                        seconds=(us * 1e-5,) * 5)


def test_each_regime_is_normalised_by_the_fastest_greedy():
    timings = [_timing("greedy", "batched", 1.0), _timing("greedy_lean", "batched", 4.0), _timing("x", "batched", 2.0),
               _timing("greedy", "online", 50.0), _timing("greedy_lean", "online", 5.0), _timing("x", "online", 10.0)]
    report = harness.DelayReport(timings=timings, machine={}, settings={})
    assert (report.normaliser("batched"), report.normaliser("online")) == ("greedy", "greedy_lean")
    table = report.table1()
    assert table["batched"]["x"]["vs_greedy"] == pytest.approx(2.0)
    assert table["online"]["x"]["vs_greedy"] == pytest.approx(2.0)
    assert table["online"]["greedy"]["vs_greedy"] == pytest.approx(10.0)
    only = harness.DelayReport(timings=timings, machine={}, settings={}, reference="greedy")
    assert only.table1()["online"]["x"]["vs_greedy"] == pytest.approx(0.2)


def test_paper_ratio_statement_says_which_ratios_are_reachable():
    def entry(us):
        return {"us_per_decision": us, "vs_greedy": float("nan")}

    table1 = {
        "batched": {"greedy": entry(1.0), "greedy_lean": entry(10.0), "dil": entry(20.0), "dil_lean": entry(18.0),
                    "kd_dil": entry(0.9), "kd_dil_lean": entry(0.5)},
        "online": {"greedy": entry(100.0), "greedy_lean": entry(5.0), "dil": entry(1000.0), "dil_lean": entry(40.0),
                   "kd_dil": entry(400.0), "kd_dil_lean": entry(15.0)},
    }
    operations = {"greedy_lean": {"total": 50, "dtype": "float64"}, "dil_lean": {"total": 500_000, "dtype": "float32"},
                  "kd_dil_lean": {"total": 5_000, "dtype": "float32"}}
    peak = {"float64": 50e9, "float32": 100e9}
    frame = render.paper_ratio_frame(table1, operations, peak)
    row = frame[(frame["policy"] == "kd_dil") & (frame["regime"] == "batched") & (frame["form"] == "lean")
                & (frame["greedy_form"] == "lean")].iloc[0]
    assert row["ratio"] == pytest.approx(0.05) and row["reached"] and not row["greedy_best"]
    floor = frame[(frame["policy"] == "dil") & (frame["regime"] == "floor")].iloc[0]
    assert floor["ratio"] == pytest.approx((500_000 / 100e9) / (50 / 50e9))  # 5,000
    text = render.paper_ratio_statement(table1, operations, peak)
    dil, kd_dil = text.splitlines()
    # DIL: 18 / 1 batched, 40 / 5 online at equal effort; 0.4 = DIL lean / Greedy vectorised online
    assert dil.startswith("DIL / Greedy (paper 0.51): at equal implementation effort (each in its fastest form "
                          "for the regime) 18 batched and 8 online.")
    assert "with Greedy vectorised, 18 batched and 0.4 online; with Greedy lean, 1.8 batched and 8 online" in dil
    assert "DIL takes 5,000 times Greedy's time, so implementations of both at their limits could not reach 0.51" in dil
    assert "reached only against a Greedy slower than its best form for the regime: 0.4 (DIL lean, Greedy " \
           "vectorised, online)" in dil
    # KD-DIL: 0.5 batched and 3 online at equal effort; 0.17 reached only against the slower Greedy
    assert "at equal implementation effort (each in its fastest form for the regime) 0.5 batched and 3 online" in kd_dil
    assert "0.05 (KD-DIL lean, Greedy lean, batched)" in kd_dil and "0.09 (KD-DIL vectorised, Greedy lean, batched)" \
        in kd_dil
    table1["online"]["kd_dil_lean"] = entry(0.5)  # now within 0.17 of Greedy's best online
    assert "The paper's 0.17 is reached at equal effort: 0.1 (KD-DIL lean, Greedy lean, online)" in \
        render.paper_ratio_statement(table1)


def test_peak_rate_and_floor(req):
    peak = machine.peak_flops(size=64, repeats=2)
    assert peak["float64"] > 0 and peak["float32"] > 0 and peak["threads"] == 1
    combined = machine.combine_peaks([dict(peak, float64=1.0, float32=5.0), dict(peak, float64=3.0, float32=2.0)])
    assert (combined["float64"], combined["float32"], combined["samples"]) == (3.0, 5.0, 2)
    assert combined["float64_samples"] == [1.0, 3.0]
    rounds = []
    timing.measure([Trivial()], req, regimes=("online",), online_decisions=2, warmup_calls=0, repeats=5,
                  progress=False, after_round=rounds.append)
    assert rounds == [0, 1, 2, 3, 4]
    assert machine.floor_us({"total": 1000, "dtype": "float32"}, {"float32": 1e9}) == pytest.approx(1.0)
    assert machine.floor_us({"total": 0, "dtype": None}, peak) == 0.0
    assert math.isnan(machine.floor_us(None, peak))


def test_interleaved_passes_alternate_between_policies(req):
    calls = []

    class Logged(Trivial):
        def __init__(self, name):
            self.name = name

        def decide(self, req):
            calls.append(self.name)
            return super().decide(req)

    timing.measure([Logged("a"), Logged("b")], req, regimes=("online",), online_decisions=1, warmup_calls=1,
                  repeats=5, progress=False)
    assert calls == ["a", "b"] + ["a", "b"] * 5
    calls.clear()
    timing.measure([Logged("a"), Logged("b")], req, regimes=("online",), online_decisions=1, warmup_calls=1,
                  repeats=5, interleave=False, progress=False)
    assert calls == ["a"] * 6 + ["b"] * 6


def test_table1_display():
    table1 = {"batched": {"greedy": {"us_per_decision": 0.2, "vs_greedy": 1.0},
                          "dil": {"us_per_decision": 1.0, "vs_greedy": 5.0}},
              "online": {"greedy": {"us_per_decision": 20.0, "vs_greedy": 1.0},
                         "dil": {"us_per_decision": 40.0, "vs_greedy": 2.0}}}
    frame = render.table1_display(table1, {"greedy": 1.0, "dil": 0.256}, plots.POLICY_LABELS)
    assert list(frame.index) == ["Greedy", "DIL"]
    assert frame.loc["DIL", ("online", "÷ Greedy")] == 2.0
    assert frame.loc["DIL", ("paper", "÷ Greedy")] == "0.26"  # the paper's ratio, two decimals
    assert frame.loc["DIL", ("batched", "µs / decision")] == 1.0
    frame = render.table1_display(table1, {"greedy": 1.0})
    assert frame.loc["dil", ("paper", "÷ Greedy")] == "—"  # no paper number for DIL
