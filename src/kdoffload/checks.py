"""Argument checks shared by the public API, with one message format.

Every check raises with the message ``"<field> must be <rule>, got <field> = <value>"``
(for an array element ``<field>[i, j]``, for a shape ``<field>.shape``), so an error
always names the argument that is wrong, the rule it breaks and the value it had.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "check_choice", "check_count", "check_int", "check_in_range", "check_number", "check_widths", "check_array",
    "check_nonnegative_array", "check_positive_array", "describe", "show",
]


def show(value, limit: int = 80) -> str:
    """A short repr of ``value`` for a message (numpy scalars as plain Python numbers)."""
    if isinstance(value, np.ndarray):
        return describe(value)
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(value) -> str:
    """What ``value`` is, for a type error: ``numpy.ndarray of shape (n, 6)``, ``dict with
    keys [...]``, ``list of length 3``, ``int 5``..."""
    kind = type(value)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray of shape {value.shape}"
    if hasattr(value, "shape") and isinstance(getattr(value, "shape"), tuple):
        return f"{name} of shape {value.shape}"
    if isinstance(value, dict):
        return f"{name} with keys {show(list(value))}"
    if isinstance(value, (list, tuple)):
        return f"{name} of length {len(value)}"
    return f"{name} {show(value)}"


def check_int(name: str, value, minimum: int | None = None) -> int:
    """``value`` as an int (Python or numpy integer, not a bool) that is ``>= minimum``."""
    rule = "an integer" if minimum is None else f"an integer >= {minimum}"
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be {rule} (not a bool), got {name} = {show(value)}")
    if not isinstance(value, (int, np.integer)) or (minimum is not None and value < minimum):
        raise ValueError(f"{name} must be {rule}, got {name} = {show(value)}")
    return int(value)


def check_count(name: str, value) -> int:
    """``value`` as an int >= 1 (a number of things), or a ValueError naming ``name``."""
    return check_int(name, value, minimum=1)


def check_choice(name: str, value, choices):
    """``value`` if it is one of ``choices``, else a ValueError listing them."""
    try:
        known = value in choices
    except TypeError:  # an unhashable value looked up in a dict or set
        known = False
    if not known:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {name} = {show(value)}")
    return value


def check_in_range(name: str, value, low: float, high: float) -> float:
    """``value`` as a float in the closed interval [low, high] (a real number, not a bool)."""
    rule = f"in [{low:g}, {high:g}]"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number {rule}, got {name} = {show(value)}")
    if not low <= value <= high:  # also False for NaN
        raise ValueError(f"{name} must be {rule}, got {name} = {show(value)}")
    return float(value)


def check_number(name: str, value, low: float | None = None, high: float | None = None,
                 closed: str = "both") -> float:
    """``value`` as a float in a declared interval: a finite real number (not a bool) with
    ``low`` and ``high`` as bounds (None: unbounded), ``closed`` naming the bounds that are
    included ("both", "left", "right" or "neither").

    Messages: ``lr must be a finite number > 0, got lr = -0.001`` (one bound),
    ``val_fraction must be in [0, 1), got val_fraction = 1.0`` (two).
    """
    check_choice("closed", closed, ("both", "left", "right", "neither"))
    left, right = closed in ("both", "left"), closed in ("both", "right")
    if low is not None and high is not None:
        rule = f"in {'[' if left else '('}{low:g}, {high:g}{']' if right else ')'}"
    elif low is not None:
        rule = f"a finite number {'>=' if left else '>'} {low:g}"
    elif high is not None:
        rule = f"a finite number {'<=' if right else '<'} {high:g}"
    else:
        rule = "a finite number"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be {rule}, got {name} = {show(value)}")
    inside = np.isfinite(value)
    if low is not None:
        inside = inside and (value >= low if left else value > low)
    if high is not None:
        inside = inside and (value <= high if right else value < high)
    if not inside:
        raise ValueError(f"{name} must be {rule}, got {name} = {show(value)}")
    return float(value)


def check_widths(name: str, value) -> tuple[int, ...]:
    """``value`` (layer widths) as a non-empty tuple of integers >= 1."""
    try:
        widths = tuple(value)
    except TypeError:
        widths = ()
    if not widths or any(isinstance(w, (bool, np.bool_)) or not isinstance(w, (int, np.integer)) or w < 1
                         for w in widths):
        raise ValueError(f"{name} must be a non-empty sequence of integers >= 1, got {name} = {show(value)}")
    return tuple(int(w) for w in widths)


def check_array(name: str, value, ndim: int, shape: str = "", minimum: float | None = None,
                strict: bool = False) -> np.ndarray:
    """``value`` as a float64 array of ``ndim`` dimensions, without NaN or infinity, and
    with every element ``> minimum`` (``strict``) or ``>= minimum``.

    ``shape`` (e.g. ``"(n, |A|)"``) is the expected shape quoted in the messages. The
    element that breaks a rule is named with its index: ``b1[3] = 0.0``.
    """
    of_shape = f" of shape {shape}" if shape else ""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a {ndim}-d array of numbers{of_shape}, got {name} = {show(value)}") from None
    if array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array{of_shape}, got {name}.shape = {array.shape}")

    def first(bad: np.ndarray):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return f"{name}{list(index)} = {array[index]}"

    if np.isnan(array).any():
        raise ValueError(f"{name} must not be NaN, got {first(np.isnan(array))}")
    if np.isinf(array).any():
        raise ValueError(f"{name} must be finite, got {first(np.isinf(array))}")
    if minimum is not None:
        bad = array <= minimum if strict else array < minimum
        if bad.any():
            if minimum == 0:
                rule = "positive (> 0)" if strict else "non-negative (>= 0)"
            else:
                rule = f"> {minimum:g}" if strict else f">= {minimum:g}"
            raise ValueError(f"{name} must be {rule}, got {first(bad)}")
    return array


def check_nonnegative_array(name: str, value, ndim: int, shape: str = "") -> np.ndarray:
    """:func:`check_array` with every element ``>= 0``."""
    return check_array(name, value, ndim, shape, minimum=0.0, strict=False)


def check_positive_array(name: str, value, ndim: int, shape: str = "") -> np.ndarray:
    """:func:`check_array` with every element ``> 0`` (zero and negatives get one message)."""
    return check_array(name, value, ndim, shape, minimum=0.0, strict=True)
