"""Tail index of the latency ratios (kdoffload.tails)."""

import numpy as np
import pytest

from kdoffload import tails


@pytest.mark.parametrize("alpha", [0.8, 1.5, 3.0])
def test_hill_recovers_the_index_of_a_pareto_sample(alpha):
    # P(X > x) = x**-alpha for x >= 1: X = U**(-1/alpha) with U uniform on (0, 1].
    rng = np.random.default_rng(0)
    values = (1.0 - rng.random(200_000)) ** (-1.0 / alpha)
    assert tails.hill_tail_index(values, top=2_000) == pytest.approx(alpha, rel=0.06)


def test_hill_on_one_over_uniform_is_one():
    """1/b with b ~ U(0, B] has P(1/b > x) = 1/(B x): tail index 1, the case of the bandwidths."""
    rng = np.random.default_rng(1)
    b = 2e6 * (1.0 - rng.random(200_000))
    assert tails.hill_tail_index(1.0 / b, top=2_000) == pytest.approx(1.0, rel=0.06)


@pytest.mark.parametrize("values, top, message", [
    (np.ones(10), 10, "top must be smaller than the number of values"),
    (np.array([1.0, -1.0, 2.0]), 1, "values must be positive"),
    (np.ones(10), 0, "top must be"),
])
def test_bad_input(values, top, message):
    with pytest.raises(ValueError, match=message):
        tails.hill_tail_index(values, top)


def test_edge_has_no_mean_ratio_and_greedy_has_one():
    table = tails.tail_table(200_000, seed=11, policies=("edge", "greedy"), progress=False)
    assert table.loc["edge", "tail index (Hill)"] < 1.2
    assert table.loc["greedy", "tail index (Hill)"] > 1.5
    assert (table["max ratio"] >= table["99.99 % quantile"]).all()
