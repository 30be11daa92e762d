"""The reported scale: scores, bands, levels and the starting stage."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizzes.skill import (
    LEVEL_CUTS,
    LEVEL_SCORE_CUTS,
    PROFICIENT_CUT,
    SCORE_MAX,
    SCORE_MIN,
    Estimate,
    Level,
    level_for,
    level_for_score,
    recommend_start,
    score_band,
    to_score,
)
from quizzes.skill.scale import to_theta

thetas = st.floats(allow_nan=False)


@given(thetas, thetas)
def test_scores_are_monotone_and_clipped(low, high):
    low, high = min(low, high), max(low, high)
    assert SCORE_MIN <= to_score(low) <= to_score(high) <= SCORE_MAX


def test_scores_are_centred_at_150_with_50_points_per_logit():
    assert to_score(0.0) == 150
    assert to_score(1.0) == 200
    assert to_score(-1.0) == 100
    assert to_score(2.999) == 299
    assert to_score(3.5) == SCORE_MAX
    assert to_score(-3.5) == SCORE_MIN
    assert to_score(math.inf) == SCORE_MAX
    assert to_score(-math.inf) == SCORE_MIN
    assert all(to_score(to_theta(score)) == score for score in range(SCORE_MIN, SCORE_MAX + 1))
    with pytest.raises(ValueError):
        to_score(math.nan)


@given(thetas, st.floats(0, 5))
def test_the_band_holds_the_score_and_widens_with_the_error(theta, se):
    low, high = score_band(theta, se)
    assert SCORE_MIN <= low <= to_score(theta) <= high <= SCORE_MAX
    wider = score_band(theta, se + 0.5)
    assert wider[0] <= low and high <= wider[1]


def test_the_band_is_theta_plus_or_minus_two_standard_errors():
    assert score_band(0.0, 0.5) == (to_score(-0.98), to_score(0.98))


def test_level_cuts_are_increasing_and_match_the_score_cuts():
    assert [level for level, _ in LEVEL_CUTS] == list(Level)
    cuts = [cut for _, cut in LEVEL_CUTS]
    assert cuts == sorted(cuts)
    assert LEVEL_SCORE_CUTS == [
        (Level.NOVICE, 0),
        (Level.DEVELOPING, 100),
        (Level.PROFICIENT, 150),
        (Level.ADVANCED, 200),
        (Level.EXPERT, 250),
    ]
    assert dict(LEVEL_CUTS)[Level.PROFICIENT] == PROFICIENT_CUT
    for (level, cut), (_, score_cut) in zip(LEVEL_CUTS[1:], LEVEL_SCORE_CUTS[1:], strict=True):
        assert to_score(cut) == score_cut
        assert level_for(cut) is level
        assert level_for(cut - 0.001) is not level
        assert level_for_score(score_cut) is level
        assert level_for_score(score_cut - 1) is not level


@given(thetas, thetas)
def test_levels_are_monotone_and_agree_with_the_reported_score(low, high):
    low, high = min(low, high), max(low, high)
    order = list(Level)
    assert order.index(level_for(low)) <= order.index(level_for(high))
    assert level_for(low) is level_for_score(to_score(low))


def test_levels_have_labels():
    assert [level.label for level in Level] == [
        "Novice",
        "Developing",
        "Proficient",
        "Advanced",
        "Expert",
    ]


def _estimates(*thetas: float) -> dict[int, Estimate]:
    return {stage: Estimate(theta, 0.4, 3) for stage, theta in enumerate(thetas, start=1)}


def test_the_start_is_the_first_stage_below_the_cut_in_roadmap_order():
    assert recommend_start(_estimates(0.5, 0.2, -0.3, -1.0, 0.4)) == 3
    assert recommend_start(_estimates(-2.0, 1.0)) == 1
    # Roadmap order, not the mapping's order.
    estimates = {3: Estimate(-1.0, 0.4, 2), 1: Estimate(0.5, 0.4, 2), 2: Estimate(-0.1, 0.4, 1)}
    assert recommend_start(estimates) == 2
    assert recommend_start(estimates, cut=-0.5) == 3


def test_the_start_is_the_last_stage_when_no_stage_is_below_the_cut():
    assert recommend_start(_estimates(*[0.5] * 11)) == 11
    assert recommend_start(_estimates(0.0, 0.1)) == 11  # at the cut is not below it
    assert recommend_start({}) == 11
