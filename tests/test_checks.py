"""kdoffload.checks: every message reads "<field> must be <rule>, got <field> = <value>"."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kdoffload import checks, system


# Integers --------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [(0, 0), (7, 7), (np.int64(3), 3), (np.uint8(200), 200)])
def test_check_int_accepts_python_and_numpy_integers(value, expected):
    result = checks.check_int("seed", value, minimum=0)
    assert result == expected and type(result) is int


@pytest.mark.parametrize("value, pattern", [
    (-1, r"seed must be an integer >= 0, got seed = -1$"),
    (1.5, r"seed must be an integer >= 0, got seed = 1\.5$"),
    (2.0, r"seed must be an integer >= 0, got seed = 2\.0$"),
    ("3", r"seed must be an integer >= 0, got seed = '3'$"),
    (None, r"seed must be an integer >= 0, got seed = None$"),
    (True, r"seed must be an integer >= 0 \(not a bool\), got seed = True$"),
    (np.bool_(False), r"seed must be an integer >= 0 \(not a bool\), got seed = False$"),
    (np.int64(-4), r"seed must be an integer >= 0, got seed = -4$"),
    (np.float64(0.5), r"seed must be an integer >= 0, got seed = 0\.5$"),
])
def test_check_int_names_field_and_value(value, pattern):
    with pytest.raises(ValueError, match=pattern):
        checks.check_int("seed", value, minimum=0)


def test_check_int_without_minimum():
    assert checks.check_int("offset", -12) == -12
    with pytest.raises(ValueError, match=r"offset must be an integer, got offset = 0\.5"):
        checks.check_int("offset", 0.5)


@pytest.mark.parametrize("value, pattern", [
    (0, r"n must be an integer >= 1, got n = 0"),
    (-5, r"n must be an integer >= 1, got n = -5"),
    (2.5, r"n must be an integer >= 1, got n = 2\.5"),
    (False, r"n must be an integer >= 1 \(not a bool\), got n = False"),
    (True, r"n must be an integer >= 1 \(not a bool\), got n = True"),
])
def test_check_count(value, pattern):
    with pytest.raises(ValueError, match=pattern):
        checks.check_count("n", value)
    assert checks.check_count("n", 1) == 1


def test_system_reexports_the_same_checks():
    # delay.py and others import these names from kdoffload.system.
    assert system.check_count is checks.check_count
    assert system.check_choice is checks.check_choice


# Choices ---------------------------------------------------------------------------------

def test_check_choice():
    assert checks.check_choice("preset", "wide", {"wide": 1, "narrow": 2}) == "wide"
    with pytest.raises(ValueError, match=r"preset must be one of \['narrow', 'wide'\], got preset = 'medium'$"):
        checks.check_choice("preset", "medium", {"wide": 1, "narrow": 2})
    # An unhashable value is just another unknown value, not a TypeError from the lookup.
    with pytest.raises(ValueError, match=r"preset must be one of \['narrow', 'wide'\], got preset = \['wide'\]"):
        checks.check_choice("preset", ["wide"], {"wide": 1, "narrow": 2})


# Ranges ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, pattern", [
    (-0.1, r"weight must be in \[0, 1\], got weight = -0\.1$"),
    (1.5, r"weight must be in \[0, 1\], got weight = 1\.5$"),
    (math.nan, r"weight must be in \[0, 1\], got weight = nan$"),
    ("0.5", r"weight must be a number in \[0, 1\], got weight = '0\.5'$"),
    (None, r"weight must be a number in \[0, 1\], got weight = None$"),
    (True, r"weight must be a number in \[0, 1\], got weight = True$"),
])
def test_check_in_range(value, pattern):
    with pytest.raises(ValueError, match=pattern):
        checks.check_in_range("weight", value, 0.0, 1.0)
    assert checks.check_in_range("weight", 1, 0.0, 1.0) == 1.0
    assert checks.check_in_range("weight", np.float32(0.25), 0.0, 1.0) == 0.25


# Arrays ----------------------------------------------------------------------------------

def test_positive_array_gives_one_message_for_zero_and_negative():
    for value in (0.0, -0.0, -3.0):
        with pytest.raises(ValueError, match=rf"b1 must be positive \(> 0\), got b1\[1\] = {value!r}".replace(".", r"\.")):
            checks.check_positive_array("b1", [2.0, value], 1, "(n,)")


def test_nonnegative_array_accepts_zero():
    np.testing.assert_array_equal(checks.check_nonnegative_array("D", [[0.0, 1.0]], 2), [[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"D must be non-negative \(>= 0\), got D\[0, 1\] = -1\.0"):
        checks.check_nonnegative_array("D", [[0.0, -1.0]], 2)


@pytest.mark.parametrize("value, pattern", [
    ([[1.0, math.nan]], r"E must not be NaN, got E\[0, 1\] = nan"),
    ([[-math.inf, 1.0]], r"E must be finite, got E\[0, 0\] = -inf"),
    ([1.0, 2.0], r"E must be a 2-d array of shape \(n, \|A\|\), got E\.shape = \(2,\)"),
    ([["a", "b"]], r"E must be a 2-d array of numbers of shape \(n, \|A\|\), got E = \[\['a', 'b'\]\]"),
    ([[1.0], [1.0, 2.0]], r"E must be a 2-d array of numbers of shape \(n, \|A\|\), got E = \[\[1\.0\], \[1\.0, 2\.0\]\]"),
])
def test_check_array_messages(value, pattern):
    with pytest.raises(ValueError, match=pattern):
        checks.check_nonnegative_array("E", value, 2, "(n, |A|)")


def test_check_array_returns_float64():
    array = checks.check_array("x", [[1, 2]], 2)
    assert array.dtype == np.float64 and array.tolist() == [[1.0, 2.0]]


# Descriptions ----------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (np.zeros((4, 6)), "numpy.ndarray of shape (4, 6)"),
    ({"E": 1, "D": 2}, "dict with keys ['E', 'D']"),
    ([1, 2, 3], "list of length 3"),
    ((1,), "tuple of length 1"),
    (5, "int 5"),
    (None, "NoneType None"),
    ("req", "str 'req'"),
])
def test_describe(value, expected):
    assert checks.describe(value) == expected


def test_show_is_short_and_plain():
    assert checks.show(np.float64(0.5)) == "0.5"
    assert checks.show(np.int64(-1)) == "-1"
    assert len(checks.show("x" * 500)) == 80


# Declared intervals ----------------------------------------------------------------------

@pytest.mark.parametrize("args, value, pattern", [
    ((0, None, "neither"), 0.0, r"lr must be a finite number > 0, got lr = 0\.0$"),
    ((0, None, "both"), -1, r"lr must be a finite number >= 0, got lr = -1$"),
    ((0, 1, "left"), 1.0, r"lr must be in \[0, 1\), got lr = 1\.0$"),
    ((0, 1, "right"), 0, r"lr must be in \(0, 1\], got lr = 0$"),
    ((None, 5, "both"), 6, r"lr must be a finite number <= 5, got lr = 6$"),
    ((0, 1, "both"), float("nan"), r"lr must be in \[0, 1\], got lr = nan$"),
    ((None, None, "both"), float("inf"), r"lr must be a finite number, got lr = inf$"),
    ((0, 1, "both"), True, r"lr must be in \[0, 1\], got lr = True$"),
    ((0, 1, "both"), "0.5", r"lr must be in \[0, 1\], got lr = '0\.5'$"),
])
def test_check_number_states_the_declared_interval(args, value, pattern):
    with pytest.raises(ValueError, match=pattern):
        checks.check_number("lr", value, *args)


def test_check_number_accepts_the_bounds_it_includes():
    assert checks.check_number("x", 0, 0, 1, "left") == 0.0 and checks.check_number("x", np.float32(1), 0, 1) == 1.0
    assert checks.check_number("x", np.int64(3), low=0, closed="neither") == 3.0


@pytest.mark.parametrize("value", [(), (4, 0), (3.0,), (True,), None, "32"])
def test_check_widths(value):
    with pytest.raises(ValueError, match=r"hidden must be a non-empty sequence of integers >= 1, got hidden = "):
        checks.check_widths("hidden", value)
    assert checks.check_widths("hidden", [np.int64(4), 2]) == (4, 2)
