"""The 2PL response model and the priors from the author's difficulty."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizzes.skill import ItemParams, information, prior_params, probability


def test_priors_spread_the_author_difficulties_around_the_mean():
    params = [prior_params(d) for d in range(1, 6)]
    assert [p.b for p in params] == pytest.approx([-1.6, -0.8, 0.0, 0.8, 1.6])
    assert all(p.a == 1.0 and not p.calibrated for p in params)


@pytest.mark.parametrize("difficulty", [0, 6, -1, True])
def test_priors_refuse_a_difficulty_outside_one_to_five(difficulty):
    with pytest.raises(ValueError, match="1 to 5"):
        prior_params(difficulty)


@pytest.mark.parametrize(("a", "b"), [(0.0, 0.0), (-1.0, 0.0), (math.nan, 0.0), (1.0, math.inf)])
def test_item_params_refuse_impossible_values(a, b):
    with pytest.raises(ValueError):
        ItemParams(a=a, b=b)


def test_probability_is_one_half_at_the_difficulty_and_rises_with_ability():
    item = ItemParams(a=1.7, b=0.4)
    assert probability(0.4, item) == pytest.approx(0.5)
    assert probability(1.0, item) == pytest.approx(1 / (1 + math.exp(-1.7 * 0.6)))
    assert isinstance(probability(0.0, item), float)


def test_probability_broadcasts_over_arrays_and_stays_finite_in_the_tails():
    theta = np.array([-1e6, -2.0, 0.0, 2.0, 1e6])
    p = probability(theta[:, None], (np.array([1.0, 2.0]), np.array([0.0, 1.0])))
    assert p.shape == (5, 2)
    assert np.all(np.isfinite(p))
    assert p[0, 0] == 0.0 and p[-1, 1] == 1.0
    assert np.all(np.diff(p, axis=0) >= 0)


@given(
    theta=st.floats(-6, 6),
    a=st.floats(0.2, 4),
    b=st.floats(-4, 4),
)
def test_information_is_a_squared_p_q_and_peaks_at_the_difficulty(theta, a, b):
    item = ItemParams(a=a, b=b)
    p = probability(theta, item)
    assert information(theta, item) == pytest.approx(a * a * p * (1 - p))
    assert information(theta, item) <= information(b, item) + 1e-12
    assert information(b, item) == pytest.approx(a * a / 4)
