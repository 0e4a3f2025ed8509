"""System model: hand-computed latencies and energies, sampling, input validation.

Every expected number below is worked out by hand from the reading in
the book's Assumptions page (points 1-5): computation E/p1 on the device, E/p2 on the
edge, 0 in the cloud; data D_t moves from the location of subtask t-1 to that of
subtask t (D_0 from the device, D_|A| back to the device); device<->edge d/b1,
edge<->cloud d/b2, device<->cloud d/b1 + d/b2. Units: cycles, Hz, bytes, bytes/s.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import kdoffload as kd
from kdoffload.system import PRESETS

DEVICE, EDGE, CLOUD = 0, 1, 2


def one_subtask() -> kd.Requirements:
    """|A| = 1: E = 2e9 cycles, D = (4 MB in, 2 MB out), p1 = 1 GHz, p2 = 4 GHz,
    b1 = 2 MB/s, b2 = 1 MB/s."""
    return kd.Requirements(E=[[2e9]], D=[[4e6, 2e6]], p1=[1e9], p2=[4e9], b1=[2e6], b2=[1e6])


def two_subtasks() -> kd.Requirements:
    """|A| = 2: E = (1e9, 3e9) cycles, D = (1 MB, 2 MB, 0.5 MB), p1 = 0.5 GHz, p2 = 2 GHz,
    b1 = 1 MB/s, b2 = 4 MB/s."""
    return kd.Requirements(E=[[1e9, 3e9]], D=[[1e6, 2e6, 5e5]], p1=[5e8], p2=[2e9], b1=[1e6], b2=[4e6])


# |A| = 1 -------------------------------------------------------------------------------

ONE_SUBTASK_LATENCY = {
    # device: compute 2e9 / 1e9; nothing moves.
    DEVICE: 2e9 / 1e9,
    # edge: input up 4e6 / 2e6, compute 2e9 / 4e9, output down 2e6 / 2e6.
    EDGE: 4e6 / 2e6 + 2e9 / 4e9 + 2e6 / 2e6,  # 2 + 0.5 + 1 = 3.5
    # cloud: input relayed 4e6/2e6 + 4e6/1e6, no computation, output relayed 2e6/2e6 + 2e6/1e6.
    CLOUD: (4e6 / 2e6 + 4e6 / 1e6) + 0.0 + (2e6 / 2e6 + 2e6 / 1e6),  # 6 + 3 = 9
}

ONE_SUBTASK_LATENCY_NO_RETURN = {
    DEVICE: 2.0,
    EDGE: 2.0 + 0.5,  # input up + compute; the output stays on the edge
    CLOUD: 2.0 + 4.0,  # relayed input; the output stays in the cloud
}


@pytest.mark.parametrize("location", [DEVICE, EDGE, CLOUD])
def test_one_subtask_latency(location):
    req = one_subtask()
    assert kd.latency(req, [[location]])[0] == pytest.approx(ONE_SUBTASK_LATENCY[location], rel=1e-12)
    assert kd.latency(req, [[location]], output_return=False)[0] == pytest.approx(
        ONE_SUBTASK_LATENCY_NO_RETURN[location], rel=1e-12)


# |A| = 2 -------------------------------------------------------------------------------
# Computation: device 1e9/5e8 = 2 and 3e9/5e8 = 6; edge 1e9/2e9 = 0.5 and 3e9/2e9 = 1.5; cloud 0.
# Seconds per byte: device<->edge 1/1e6 = 1e-6, edge<->cloud 1/4e6 = 2.5e-7,
# device<->cloud 1e-6 + 2.5e-7 = 1.25e-6.

TWO_SUBTASK_LATENCY = {
    (0, 0): 2 + 6,  # 8
    (0, 1): 2 + 2e6 * 1e-6 + 1.5 + 5e5 * 1e-6,  # 2 + 2 + 1.5 + 0.5 = 6
    (0, 2): 2 + 2e6 * 1.25e-6 + 0 + 5e5 * 1.25e-6,  # 2 + 2.5 + 0.625 = 5.125
    (1, 0): 1e6 * 1e-6 + 0.5 + 2e6 * 1e-6 + 6,  # 1 + 0.5 + 2 + 6 = 9.5
    (1, 1): 1e6 * 1e-6 + 0.5 + 1.5 + 5e5 * 1e-6,  # 1 + 0.5 + 1.5 + 0.5 = 3.5
    (1, 2): 1e6 * 1e-6 + 0.5 + 2e6 * 2.5e-7 + 0 + 5e5 * 1.25e-6,  # 1 + 0.5 + 0.5 + 0.625 = 2.625
    (2, 0): 1e6 * 1.25e-6 + 0 + 2e6 * 1.25e-6 + 6,  # 1.25 + 2.5 + 6 = 9.75
    (2, 1): 1e6 * 1.25e-6 + 0 + 2e6 * 2.5e-7 + 1.5 + 5e5 * 1e-6,  # 1.25 + 0.5 + 1.5 + 0.5 = 3.75
    (2, 2): 1e6 * 1.25e-6 + 0 + 0 + 5e5 * 1.25e-6,  # 1.25 + 0.625 = 1.875
}


@pytest.mark.parametrize("decision", sorted(TWO_SUBTASK_LATENCY))
def test_two_subtask_latency(decision):
    assert kd.latency(two_subtasks(), [decision])[0] == pytest.approx(TWO_SUBTASK_LATENCY[decision], rel=1e-12)


def test_two_subtask_latency_batched():
    # All nine decisions of the same requirement in one batch of n = 9.
    req = two_subtasks().take(np.zeros(9, dtype=int))
    decisions = sorted(TWO_SUBTASK_LATENCY)
    expected = [8.0, 6.0, 5.125, 9.5, 3.5, 2.625, 9.75, 3.75, 1.875]
    np.testing.assert_allclose(kd.latency(req, decisions), expected, rtol=1e-12)
    np.testing.assert_allclose([TWO_SUBTASK_LATENCY[d] for d in decisions], expected, rtol=1e-12)


def test_two_subtask_latency_without_output_return():
    req = two_subtasks()
    # The last hop (0.5 MB back to the device) is dropped.
    assert kd.latency(req, [(0, 0)], output_return=False)[0] == pytest.approx(8.0)
    assert kd.latency(req, [(0, 1)], output_return=False)[0] == pytest.approx(2 + 2 + 1.5)
    assert kd.latency(req, [(1, 2)], output_return=False)[0] == pytest.approx(1 + 0.5 + 0.5)
    assert kd.latency(req, [(2, 2)], output_return=False)[0] == pytest.approx(1.25)


def test_relay_device_cloud_is_sum_of_hops():
    # One subtask with no computation and no output, so only the relayed input counts:
    # 3 MB over b1 = 1.5 MB/s then b2 = 0.6 MB/s: 3e6/1.5e6 + 3e6/6e5 = 2 + 5 = 7 s.
    req = kd.Requirements(E=[[0.0]], D=[[3e6, 0.0]], p1=[1e9], p2=[1e9], b1=[1.5e6], b2=[6e5])
    assert kd.latency(req, [[CLOUD]])[0] == pytest.approx(7.0, rel=1e-12)
    assert kd.latency(req, [[EDGE]])[0] == pytest.approx(2.0, rel=1e-12)
    assert kd.latency(req, [[DEVICE]])[0] == 0.0


def test_batch_rows_are_independent():
    # Stacking the |A| = 1 case with a scaled copy (E, D doubled): latencies double.
    req = kd.Requirements(E=[[2e9], [4e9]], D=[[4e6, 2e6], [8e6, 4e6]], p1=[1e9, 1e9], p2=[4e9, 4e9],
                          b1=[2e6, 2e6], b2=[1e6, 1e6])
    np.testing.assert_allclose(kd.latency(req, [[EDGE], [EDGE]]), [3.5, 7.0], rtol=1e-12)
    np.testing.assert_allclose(kd.latency(req, [[CLOUD], [DEVICE]]), [9.0, 4.0], rtol=1e-12)


def test_float_decisions_with_integral_values_are_accepted():
    assert kd.latency(two_subtasks(), np.array([[2.0, 2.0]]))[0] == pytest.approx(1.875)


# Energy ----------------------------------------------------------------------------------

# Energy of the |A| = 2 case (only the device's energy counts):
# CPU: kappa * p1**2 * E = 1e-27 * (5e8)**2 * E = 2.5e-10 J/cycle -> 0.25 J and 0.75 J.
# Radio: 0.5 W while sending, 0.1 W while receiving, for the device<->edge air time d / b1
# (also when relaying to/from the cloud; the edge<->cloud hop costs the device nothing).
TWO_SUBTASK_ENERGY = {
    (0, 0): 0.25 + 0.75,  # 1.0
    (0, 1): 0.25 + 0.5 * (2e6 / 1e6) + 0.1 * (5e5 / 1e6),  # 0.25 + 1 + 0.05 = 1.3
    (0, 2): 0.25 + 0.5 * (2e6 / 1e6) + 0.1 * (5e5 / 1e6),  # 1.3 (relay costs the same air time)
    (1, 0): 0.5 * (1e6 / 1e6) + 0.1 * (2e6 / 1e6) + 0.75,  # 0.5 + 0.2 + 0.75 = 1.45
    (1, 1): 0.5 * 1 + 0.1 * 0.5,  # 0.55
    (1, 2): 0.5 * 1 + 0 + 0.1 * 0.5,  # 0.55
    (2, 0): 0.5 * 1 + 0.1 * 2 + 0.75,  # 1.45
    (2, 1): 0.5 * 1 + 0 + 0.1 * 0.5,  # 0.55
    (2, 2): 0.5 * 1 + 0.1 * 0.5,  # 0.55
}


@pytest.mark.parametrize("decision", sorted(TWO_SUBTASK_ENERGY))
def test_two_subtask_energy(decision):
    assert kd.energy(two_subtasks(), [decision])[0] == pytest.approx(TWO_SUBTASK_ENERGY[decision], rel=1e-12)
    assert kd.cost(two_subtasks(), [decision], objective="energy")[0] == pytest.approx(
        TWO_SUBTASK_ENERGY[decision], rel=1e-12)


def test_energy_without_output_return():
    # (1, 1) without receiving the output: only the 1 s of sending the input at 0.5 W.
    assert kd.energy(two_subtasks(), [(1, 1)], output_return=False)[0] == pytest.approx(0.5)


def test_weighted_objective():
    req = two_subtasks()
    # (2, 2): 0.3 * 1.875 s + 0.7 * 0.55 J = 0.5625 + 0.385 = 0.9475
    assert kd.cost(req, [(2, 2)], "weighted", weight=0.3)[0] == pytest.approx(0.9475, rel=1e-12)
    # weight 1 is latency, weight 0 is energy: (0, 1) is 6 s and 1.3 J.
    assert kd.cost(req, [(0, 1)], "weighted", weight=1.0)[0] == pytest.approx(6.0, rel=1e-12)
    assert kd.cost(req, [(0, 1)], "weighted", weight=0.0)[0] == pytest.approx(1.3, rel=1e-12)


# Cost tensors --------------------------------------------------------------------------

def test_cost_tensor_shapes_and_hop_matrix():
    req = two_subtasks()
    computation, transfer = kd.cost_tensors(req)
    assert computation.shape == (1, 2, 3)
    assert transfer.shape == (1, 3, 3, 3)
    np.testing.assert_allclose(computation[0], [[2.0, 0.5, 0.0], [6.0, 1.5, 0.0]])
    # D_1 = 2 MB: device<->edge 2 s, edge<->cloud 0.5 s, device<->cloud 2.5 s, symmetric.
    np.testing.assert_allclose(transfer[0, 1], [[0.0, 2.0, 2.5], [2.0, 0.0, 0.5], [2.5, 0.5, 0.0]])


# Sampling ------------------------------------------------------------------------------

FIELDS = ("E", "D", "p1", "p2", "b1", "b2")


@pytest.mark.parametrize("preset", ["wide", "narrow"])
def test_same_seed_gives_bit_identical_arrays(preset):
    a = kd.sample(500, preset=preset, num_subtasks=4, seed=123)
    b = kd.sample(500, preset=preset, num_subtasks=4, seed=123)
    c = kd.sample(500, preset=preset, num_subtasks=4, seed=124)
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype == np.float64
        assert x.tobytes() == y.tobytes()
        assert not np.array_equal(x, getattr(c, name))


def test_sample_shapes():
    req = kd.sample(7, num_subtasks=3, seed=0)
    assert (req.n, req.num_subtasks, len(req)) == (7, 3, 7)
    assert req.E.shape == (7, 3) and req.D.shape == (7, 4)
    assert all(getattr(req, name).shape == (7,) for name in ("p1", "p2", "b1", "b2"))


@pytest.mark.parametrize("preset", ["wide", "narrow"])
def test_sampled_values_inside_preset_ranges(preset):
    req = kd.sample(50_000, preset=preset, seed=7)
    for name in FIELDS:
        low, high = PRESETS[preset][name]
        values = getattr(req, name)
        assert values.min() > low and values.max() <= high, name
        # The sample spans most of the range (uniform draws, 50,000 of them).
        assert values.min() < low + 0.01 * (high - low) and values.max() > high - 0.01 * (high - low), name
    assert (req.b1 > 0).all() and (req.b2 > 0).all()
    assert np.isfinite(kd.latency(req, np.full((req.n, 6), CLOUD))).all()


@pytest.mark.parametrize("preset, ranges", [
    # The paper's §5.1 ranges: eps in [0, 2000] Mcycles, d in [0, 10] MB, p1 in [100, 1000] MHz,
    # p2 in [500, 5000] MHz, b1 in [0, 2] MB/s, b2 in [0, 3] MB/s; §5.2 narrows eps and d only.
    ("wide", {"E": (0, 2000e6), "D": (0, 10e6), "p1": (100e6, 1000e6), "p2": (500e6, 5000e6),
              "b1": (0, 2e6), "b2": (0, 3e6)}),
    ("narrow", {"E": (500e6, 1500e6), "D": (3e6, 8e6), "p1": (100e6, 1000e6), "p2": (500e6, 5000e6),
                "b1": (0, 2e6), "b2": (0, 3e6)}),
])
def test_samples_fill_the_papers_ranges(preset, ranges):
    """100,000 draws stay inside each stated range and come within 0.1 % of both ends."""
    req = kd.sample(100_000, preset, seed=3)
    for field, (low, high) in ranges.items():
        values = getattr(req, field)
        width = high - low
        assert values.min() >= low and values.max() <= high, field
        assert values.min() <= low + 1e-3 * width and values.max() >= high - 1e-3 * width, field


# Input validation ------------------------------------------------------------------------

def valid_fields(**changes):
    fields = dict(E=[[1e9, 2e9]], D=[[1e6, 1e6, 1e6]], p1=[1e9], p2=[2e9], b1=[1e6], b2=[2e6])
    fields.update(changes)
    return fields


@pytest.mark.parametrize("changes, pattern", [
    # Cycles and bytes: non-negative (>= 0).
    (dict(E=[[1e9, -5.0]]), r"E must be non-negative \(>= 0\), got E\[0, 1\] = -5\.0"),
    (dict(E=[[math.nan, 1.0]]), r"E must not be NaN, got E\[0, 0\] = nan"),
    (dict(E=[[math.inf, 1.0]]), r"E must be finite, got E\[0, 0\] = inf"),
    (dict(D=[[1e6, -1.0, 1e6]]), r"D must be non-negative \(>= 0\), got D\[0, 1\] = -1\.0"),
    (dict(D=[[1e6, 1e6, math.nan]]), r"D must not be NaN, got D\[0, 2\] = nan"),
    (dict(D=[[1e6, 1e6, -math.inf]]), r"D must be finite, got D\[0, 2\] = -inf"),
    # Hz and bytes/s: positive (> 0), one message for zero and for negatives.
    (dict(p1=[-1e9]), r"p1 must be positive \(> 0\), got p1\[0\] = -1000000000\.0"),
    (dict(p2=[math.nan]), r"p2 must not be NaN, got p2\[0\] = nan"),
    (dict(p1=[0.0]), r"p1 must be positive \(> 0\), got p1\[0\] = 0\.0"),
    (dict(p2=[0.0]), r"p2 must be positive \(> 0\), got p2\[0\] = 0\.0"),
    (dict(p2=[-1.0]), r"p2 must be positive \(> 0\), got p2\[0\] = -1\.0"),
    (dict(b1=[0.0]), r"b1 must be positive \(> 0\), got b1\[0\] = 0\.0"),
    (dict(b2=[0.0]), r"b2 must be positive \(> 0\), got b2\[0\] = 0\.0"),
    (dict(b1=[-3.0]), r"b1 must be positive \(> 0\), got b1\[0\] = -3\.0"),
    (dict(b2=[-0.5]), r"b2 must be positive \(> 0\), got b2\[0\] = -0\.5"),
    (dict(b2=[math.nan]), r"b2 must not be NaN, got b2\[0\] = nan"),
    (dict(b1=[math.inf]), r"b1 must be finite, got b1\[0\] = inf"),
    # Shapes: the field that is wrong, the shape expected and the shape given.
    (dict(D=[[1e6, 1e6]]), r"E and D disagree on \|A\|: E must have shape \(n, \|A\|\) and D shape \(n, \|A\| \+ 1\), "
                           r"got E\.shape = \(1, 2\) \(\|A\| = 2\) and D\.shape = \(1, 2\) \(\|A\| = 1\)$"),
    (dict(E=[[1e9, 2e9, 3e9]]), r"E and D disagree on \|A\|: .*got E\.shape = \(1, 3\) \(\|A\| = 3\) "
                                r"and D\.shape = \(1, 3\) \(\|A\| = 2\)$"),
    (dict(E=[[1e9, 2e9], [1e9, 2e9]]), r"^E must have shape \(n, \|A\|\) = \(1, 2\) \(n = 1 like D, p1, p2, b1, b2\), "
                                       r"got E\.shape = \(2, 2\)$"),
    (dict(D=[[1e6, 1e6, 1e6], [1e6, 1e6, 1e6]]), r"^D must have shape \(n, \|A\| \+ 1\) = \(1, 3\) "
                                                 r"\(n = 1 like E, p1, p2, b1, b2\), got D\.shape = \(2, 3\)$"),
    (dict(p1=[1e9, 1e9]), r"^p1 must have shape \(n,\) = \(1,\) \(n = 1 like E, D, p2, b1, b2\), got p1\.shape = \(2,\)$"),
    (dict(b2=[]), r"^b2 must have shape \(n,\) = \(1,\) .*got b2\.shape = \(0,\)$"),
    (dict(E=[[1.0, 1.0]] * 3, D=[[1.0] * 3] * 3, p1=[1.0] * 3),
     r"^E, D, p1, p2, b1 and b2 must have the same number of rows n, got E\.shape = \(3, 2\), D\.shape = \(3, 3\), "
     r"p1\.shape = \(3,\), p2\.shape = \(1,\), b1\.shape = \(1,\), b2\.shape = \(1,\)$"),
    (dict(b2=[[2e6]]), r"b2 must be a 1-d array of shape \(n,\), got b2\.shape = \(1, 1\)"),
    (dict(p1=1e9), r"p1 must be a 1-d array of shape \(n,\), got p1\.shape = \(\)"),
    (dict(E=[1e9, 2e9]), r"E must be a 2-d array of shape \(n, \|A\|\), got E\.shape = \(2,\)"),
    (dict(D=[1e6, 1e6, 1e6]), r"D must be a 2-d array of shape \(n, \|A\| \+ 1\), got D\.shape = \(3,\)"),
    (dict(E=[["a", "b"]]), r"E must be a 2-d array of numbers of shape \(n, \|A\|\), got E = \[\['a', 'b'\]\]"),
    (dict(E=np.zeros((1, 0)), D=np.zeros((1, 1))), r"E must have at least one subtask, got \|A\| = 0"),
    (dict(E=np.zeros((0, 2)), D=np.zeros((0, 3)), p1=[], p2=[], b1=[], b2=[]),
     r"E must hold at least one requirement, got n = 0"),
])
def test_bad_requirements(changes, pattern):
    with pytest.raises(ValueError, match=pattern):
        kd.Requirements(**valid_fields(**changes))


def test_zero_bandwidth_in_a_later_row_is_named():
    fields = dict(E=[[1.0], [1.0]], D=[[1.0, 1.0], [1.0, 1.0]], p1=[1.0, 1.0], p2=[1.0, 1.0],
                  b1=[1.0, 0.0], b2=[1.0, 1.0])
    with pytest.raises(ValueError, match=r"b1 must be positive \(> 0\), got b1\[1\] = 0\.0"):
        kd.Requirements(**fields)


def test_zero_cycles_and_bytes_are_allowed():
    # E and D are non-negative: a subtask of 0 cycles, an empty input or output is fine.
    req = kd.Requirements(**valid_fields(E=[[0.0, 0.0]], D=[[0.0, 0.0, 0.0]]))
    assert kd.latency(req, [[2, 2]])[0] == 0.0


def test_requirements_docstring_states_the_rules_and_units():
    doc = " ".join(kd.Requirements.__doc__.split())
    for text in ("CPU cycles; finite and non-negative (>= 0)", "bytes; finite and non-negative (>= 0)",
                 "Hz; finite and positive (> 0)", "bytes/s; finite and positive (> 0)"):
        assert text in doc, text


@pytest.mark.parametrize("call", [
    lambda req: kd.latency(req.E, [[0, 0]]),
    lambda req: kd.energy(req.E, [[0, 0]]),
    lambda req: kd.cost(req.E, [[0, 0]]),
    lambda req: kd.cost_tensors(req.E),
])
def test_arrays_instead_of_requirements_are_named(call):
    req = kd.Requirements(**valid_fields())
    with pytest.raises(TypeError, match=r"^req must be a kdoffload\.Requirements, got numpy\.ndarray of shape \(1, 2\); "
                                        r"make one with kd\.sample\(\.\.\.\) or kd\.Requirements\(E=\.\.\."):
        call(req)


def test_dict_instead_of_requirements_is_named():
    req = kd.Requirements(**valid_fields())
    with pytest.raises(TypeError, match=r"req must be a kdoffload\.Requirements, got dict with keys "
                                        r"\['E', 'D', 'p1', 'p2', 'b1', 'b2'\]"):
        kd.latency(req.as_dict(), [[0, 0]])


@pytest.mark.parametrize("decisions, pattern", [
    ([[0, 3]], r"decisions must be in \{0, 1, 2\}, got decisions\[0, 1\] = 3"),
    ([[-1, 0]], r"decisions must be in \{0, 1, 2\}, got decisions\[0, 0\] = -1"),
    ([[0.5, 0]], r"decisions must be in \{0, 1, 2\}, got decisions\[0, 0\] = 0\.5"),
    ([[0, math.nan]], r"decisions must be in \{0, 1, 2\}, got decisions\[0, 1\] = nan"),
    ([[0, 1, 2]], r"decisions must have shape \(n, \|A\|\) = \(1, 2\), got decisions\.shape = \(1, 3\)"),
    ([0, 1], r"decisions must have shape \(n, \|A\|\) = \(1, 2\), got decisions\.shape = \(2,\)"),
    ([[0, 1], [1, 0]], r"decisions must have shape .*\(1, 2\), got decisions\.shape = \(2, 2\)"),
    ([["a", "b"]], r"decisions must be integers in \{0, 1, 2\}, got dtype <U1"),
])
def test_bad_decisions(decisions, pattern):
    req = kd.Requirements(**valid_fields())
    with pytest.raises(ValueError, match=pattern):
        kd.latency(req, decisions)


def test_unknown_names():
    req = kd.Requirements(**valid_fields())
    with pytest.raises(ValueError, match=r"preset must be one of \['narrow', 'wide'\], got preset = 'medium'$"):
        kd.sample(10, preset="medium")
    with pytest.raises(ValueError, match=r"method must be one of \['dp', 'exhaustive', 'ilp'\], got method = 'simplex'$"):
        kd.solve(req, method="simplex")
    with pytest.raises(ValueError, match=r"solver must be one of \['dp', 'exhaustive', 'ilp'\], got solver = 'greedy'$"):
        kd.labelled_dataset(10, solver="greedy", cache=False)
    with pytest.raises(ValueError, match=r"solver must be one of .*, got solver = 'lp'$"):
        kd.label(req, solver="lp")
    with pytest.raises(ValueError, match=r"preset must be one of .*, got preset = 'medium'$"):
        kd.labelled_dataset(10, preset="medium", cache=False)
    with pytest.raises(ValueError, match=r"objective must be one of \['energy', 'latency', 'weighted'\], "
                                         r"got objective = 'throughput'$"):
        kd.solve(req, objective="throughput")
    with pytest.raises(ValueError, match=r"objective must be one of .*, got objective = 'throughput'$"):
        kd.cost(req, [[0, 0]], objective="throughput")
    with pytest.raises(ValueError, match=r"objective must be one of .*, got objective = 'throughput'$"):
        kd.cost_tensors(req, objective="throughput")
    with pytest.raises(ValueError, match=r"objective must be one of .*, got objective = 'throughput'$"):
        kd.labelled_dataset(10, objective="throughput", cache=False)
    with pytest.raises(ValueError, match=r"heuristic must be one of \['cloud', 'edge', 'greedy', 'local', 'random'\], "
                                         r"got heuristic = 'smart'$"):
        kd.heuristic("smart")


@pytest.mark.parametrize("weight, pattern", [
    (-0.1, r"weight must be in \[0, 1\], got weight = -0\.1$"),
    (1.5, r"weight must be in \[0, 1\], got weight = 1\.5$"),
    (math.nan, r"weight must be in \[0, 1\], got weight = nan$"),
    ("0.5", r"weight must be a number in \[0, 1\], got weight = '0\.5'$"),
])
def test_bad_weight(weight, pattern):
    req = kd.Requirements(**valid_fields())
    with pytest.raises(ValueError, match=pattern):
        kd.cost(req, [[0, 0]], objective="weighted", weight=weight)


@pytest.mark.parametrize("call, pattern", [
    (lambda: kd.sample(10, num_subtasks=0), r"num_subtasks must be an integer >= 1, got num_subtasks = 0"),
    (lambda: kd.sample(10, num_subtasks=-2), r"num_subtasks must be an integer >= 1, got num_subtasks = -2"),
    (lambda: kd.sample(0), r"n must be an integer >= 1, got n = 0"),
    (lambda: kd.sample(-5), r"n must be an integer >= 1, got n = -5"),
    (lambda: kd.sample(2.5), r"n must be an integer >= 1, got n = 2\.5"),
    (lambda: kd.sample(10.0), r"n must be an integer >= 1, got n = 10\.0"),
    (lambda: kd.sample(True), r"n must be an integer >= 1 \(not a bool\), got n = True"),
    (lambda: kd.sample("10"), r"n must be an integer >= 1, got n = '10'"),
    (lambda: kd.sample(10, num_subtasks=1.5), r"num_subtasks must be an integer >= 1, got num_subtasks = 1\.5"),
    (lambda: kd.sample(10, num_subtasks=True), r"num_subtasks must be an integer >= 1 \(not a bool\), got num_subtasks = True"),
    (lambda: kd.sample(10, seed=-1), r"seed must be an integer >= 0, got seed = -1$"),
    (lambda: kd.sample(10, seed=1.5), r"seed must be an integer >= 0, got seed = 1\.5$"),
    (lambda: kd.sample(10, seed=True), r"seed must be an integer >= 0 \(not a bool\), got seed = True$"),
    (lambda: kd.sample(10, seed="0"), r"seed must be an integer >= 0, got seed = '0'$"),
    (lambda: kd.sample(10, seed=np.int64(-3)), r"seed must be an integer >= 0, got seed = -3$"),
    (lambda: kd.labelled_dataset(0, cache=False), r"n must be an integer >= 1, got n = 0"),
    (lambda: kd.labelled_dataset(10, num_subtasks=0, cache=False), r"num_subtasks must be an integer >= 1"),
])
def test_bad_counts(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_numpy_integers_are_accepted_and_sampling_is_unchanged():
    same = kd.sample(np.int64(5), num_subtasks=np.int32(3), seed=np.uint32(9))
    reference = kd.sample(5, num_subtasks=3, seed=9)
    for name in FIELDS:
        assert getattr(same, name).tobytes() == getattr(reference, name).tobytes()


def test_seeded_sample_values_are_pinned():
    # Values printed by the package before the argument checks moved to kdoffload.checks:
    # seeded sampling must keep giving exactly these numbers.
    req = kd.sample(3, num_subtasks=2, seed=0)
    assert req.E.tolist() == [[726076625.3570914, 1460426572.4722595], [1918052952.1276107, 1966944728.942942],
                              [373459521.5994551, 174488845.44455647]]
    assert req.b2.tolist() == [1153844.6655562385, 1848967.3372143498, 8370.192632366903]
