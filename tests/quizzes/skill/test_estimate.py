"""Abilities: the multivariate MAP estimate across stages, and the one-stage EAP."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizzes.skill import (
    Estimate,
    ItemParams,
    Response,
    estimate_abilities,
    estimate_ability_eap,
    probability,
    recency_weight,
)

STAGES = [1, 2, 3]
TOLERANCE = 1e-7

item_params = st.builds(ItemParams, a=st.floats(0.3, 3.0), b=st.floats(-3.0, 3.0))
answers = st.lists(
    st.tuples(
        item_params,
        st.sampled_from(STAGES),
        st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0)),
        st.floats(0.05, 1.0),
    ),
    max_size=12,
)
correlations = st.floats(0.0, 0.9)


def _build(rows):
    params = {k: p for k, (p, _, _, _) in enumerate(rows)}
    responses = [
        Response(k, stage, score, weight) for k, (_, stage, score, weight) in enumerate(rows)
    ]
    return responses, params


def _thetas(responses, params, correlation=0.6):
    estimates = estimate_abilities(responses, params, STAGES, correlation=correlation)
    return np.array([estimates[s].theta for s in STAGES])


def _all_finite(estimates):
    return all(
        math.isfinite(e.theta) and math.isfinite(e.se) and e.se > 0 for e in estimates.values()
    )


# --- properties ------------------------------------------------------------------------------
@given(answers, st.data(), correlations)
def test_more_credit_never_lowers_any_estimate(rows, data, correlation):
    """Raising one score never lowers the estimate of any stage (correlation >= 0)."""
    if not rows:
        return
    k = data.draw(st.integers(0, len(rows) - 1))
    params, stage, score, weight = rows[k]
    higher = data.draw(st.floats(score, 1.0))
    raised = [*rows[:k], (params, stage, higher, weight), *rows[k + 1 :]]
    before = _thetas(*_build(rows), correlation)
    after = _thetas(*_build(raised), correlation)
    assert np.all(after >= before - TOLERANCE)


@given(answers, item_params, st.floats(0.0, 3.0), st.sampled_from(STAGES), correlations)
def test_a_right_answer_to_a_harder_item_moves_the_estimate_more(
    rows, easy, harder_by, stage, correlation
):
    """Precisely: for the same discrimination, adding a right answer to an item with a
    higher b raises every stage's estimate at least as much as one with a lower b."""
    hard = ItemParams(a=easy.a, b=easy.b + harder_by)
    before = _thetas(*_build(rows), correlation)
    after_easy = _thetas(*_build([*rows, (easy, stage, 1.0, 1.0)]), correlation)
    after_hard = _thetas(*_build([*rows, (hard, stage, 1.0, 1.0)]), correlation)
    assert np.all(after_easy >= before - TOLERANCE)
    assert np.all(after_hard - before >= after_easy - before - TOLERANCE)
    # ...and a wrong answer to an easier item lowers it more.
    after_easy = _thetas(*_build([*rows, (easy, stage, 0.0, 1.0)]), correlation)
    after_hard = _thetas(*_build([*rows, (hard, stage, 0.0, 1.0)]), correlation)
    assert np.all(after_easy <= after_hard + TOLERANCE)


@given(answers, st.floats(0.3, 3.0), st.floats(-3.0, 3.0), st.sampled_from(STAGES), correlations)
def test_evidence_consistent_with_the_estimate_shrinks_every_standard_error(
    rows, a, b, stage, correlation
):
    """An answer scored at its expected score under the current estimate adds information
    without moving the estimate, so no standard error grows and its stage's shrinks.

    (A surprising answer can widen the posterior, so the SE is not monotone in the number
    of answers for every pattern; on average it is, see the next test.)"""
    responses, params = _build(rows)
    before = estimate_abilities(responses, params, STAGES, correlation=correlation)
    item = ItemParams(a=a, b=b)
    expected = probability(before[stage].theta, item)
    params["new"] = item
    after = estimate_abilities(
        [*responses, Response("new", stage, expected)], params, STAGES, correlation=correlation
    )
    for s in STAGES:
        assert after[s].theta == pytest.approx(before[s].theta, abs=1e-6)
        assert after[s].se <= before[s].se + TOLERANCE
    assert after[stage].se < before[stage].se


def test_standard_errors_shrink_on_average_as_answers_accumulate():
    rng = random.Random(5)
    params = {k: ItemParams(a=rng.uniform(0.7, 1.8), b=rng.gauss(0, 1)) for k in range(30)}
    mean_se = np.zeros(31)
    for _ in range(100):
        theta = rng.gauss(0, 1)
        responses: list[Response] = []
        mean_se[0] += estimate_abilities(responses, params, [1])[1].se
        for k in range(30):
            right = rng.random() < probability(theta, params[k])
            responses.append(Response(k, 1, float(right)))
            mean_se[k + 1] += estimate_abilities(responses, params, [1])[1].se
    assert np.all(np.diff(mean_se) < 0)


def test_a_stage_with_one_answer_borrows_strength_from_the_others():
    params = {k: ItemParams(a=1.2, b=0.0) for k in range(21)}
    strong = [Response(k, 1 + k % 2, 1.0 if k % 5 else 0.0) for k in range(20)]
    one = Response(20, 3, 0.0)
    alone = estimate_abilities([*strong, one], params, STAGES, correlation=0.0)
    together = estimate_abilities([*strong, one], params, STAGES, correlation=0.6)
    others = (together[1].theta + together[2].theta) / 2
    assert others > 0.5
    assert alone[3].theta < together[3].theta < others
    assert together[3].se < alone[3].se
    # With no correlation, the other stages tell nothing about stage 3.
    assert alone[3].theta == pytest.approx(estimate_abilities([one], params, [3])[3].theta)
    # A stronger correlation pulls harder.
    closer = estimate_abilities([*strong, one], params, STAGES, correlation=0.85)
    assert together[3].theta < closer[3].theta


def test_an_unanswered_stage_is_not_assessed_but_predicted_from_the_others():
    params = {k: ItemParams(a=1.0, b=0.0) for k in range(10)}
    responses = [Response(k, 1, 1.0) for k in range(10)]
    estimates = estimate_abilities(responses, params, [1, 2], correlation=0.6)
    assert estimates[1].n == 10 and estimates[2].n == 0
    assert 0 < estimates[2].theta < estimates[1].theta
    assert estimates[2].se < 1.0


def test_weights_scale_the_evidence():
    params = {k: ItemParams(a=1.0, b=0.0) for k in range(8)}
    fresh = [Response(k, 1, 1.0) for k in range(4)]
    old = [Response(k, 1, 1.0, weight=0.5) for k in range(8)]
    a = estimate_abilities(fresh, params, [1])[1]
    b = estimate_abilities(old, params, [1])[1]
    assert a.theta == pytest.approx(b.theta)
    assert a.se == pytest.approx(b.se)


# --- degenerate input ------------------------------------------------------------------------
def test_no_answers_give_the_prior():
    estimates = estimate_abilities([], {}, range(1, 12))
    assert estimates == {stage: Estimate(0.0, 1.0, 0) for stage in range(1, 12)}


@pytest.mark.parametrize("score", [0.0, 1.0])
def test_all_right_or_all_wrong_stays_finite(score):
    params = {k: ItemParams(a=4.0, b=6.0 if score else -6.0) for k in range(40)}
    responses = [Response(k, 1 + k % 11, score) for k in range(40)]
    estimates = estimate_abilities(responses, params, range(1, 12), correlation=0.9)
    assert _all_finite(estimates)
    assert all((e.theta > 1) if score else (e.theta < -1) for e in estimates.values())


@given(answers, correlations)
def test_any_answers_give_finite_estimates(rows, correlation):
    responses, params = _build(rows)
    estimates = estimate_abilities(responses, params, STAGES, correlation=correlation)
    assert _all_finite(estimates)
    assert sum(e.n for e in estimates.values()) == len(responses)


def test_answers_outside_the_stages_are_left_out_and_missing_params_are_an_error():
    params = {1: ItemParams(a=1.0, b=0.0)}
    assert estimate_abilities([Response(1, 4, 1.0)], params, [1]) == {1: Estimate(0.0, 1.0, 0)}
    with pytest.raises(KeyError, match="no item parameters"):
        estimate_abilities([Response(2, 1, 1.0)], params, [1])


@pytest.mark.parametrize("correlation", [-0.1, 1.0, math.nan])
def test_the_correlation_must_be_in_zero_to_one(correlation):
    with pytest.raises(ValueError):
        estimate_abilities([], {}, [1, 2], correlation=correlation)


@pytest.mark.parametrize(
    ("score", "weight"), [(-0.1, 1.0), (1.1, 1.0), (math.nan, 1.0), (1.0, 0.0), (1.0, 1.5)]
)
def test_responses_refuse_scores_and_weights_out_of_range(score, weight):
    with pytest.raises(ValueError):
        Response(1, 1, score, weight)


# --- recency ---------------------------------------------------------------------------------
def test_recency_halves_the_weight_every_half_life():
    assert recency_weight(0, 90) == 1.0
    assert recency_weight(90, 90) == pytest.approx(0.5)
    assert recency_weight(180, 90) == pytest.approx(0.25)
    assert recency_weight(-5, 90) == 1.0  # a clock ahead counts as now
    assert recency_weight(1e9, 90) > 0
    assert recency_weight(1e9, math.inf) == 1.0
    with pytest.raises(ValueError):
        recency_weight(10, 0)


@given(st.floats(0, 1e6), st.floats(0, 1e6), st.floats(0.1, 1e4))
def test_recency_weights_are_in_zero_one_and_fall_with_age(young, old, half_life):
    young, old = min(young, old), max(young, old)
    assert 0 < recency_weight(old, half_life) <= recency_weight(young, half_life) <= 1


# --- EAP -------------------------------------------------------------------------------------
def test_eap_is_the_prior_without_answers_and_finite_with_extreme_ones():
    empty = estimate_ability_eap([], [])
    assert empty.theta == pytest.approx(0.0, abs=1e-9)
    assert empty.se == pytest.approx(1.0, abs=1e-6)
    items = [ItemParams(a=2.0, b=b) for b in np.linspace(-2, 2, 20)]
    top = estimate_ability_eap([1.0] * 20, items)
    bottom = estimate_ability_eap([0.0] * 20, items)
    assert math.isfinite(top.theta) and top.theta > 2
    assert bottom.theta == pytest.approx(-top.theta)
    assert top.n == 20


def test_eap_and_map_agree_for_a_long_test():
    rng = random.Random(3)
    items = [ItemParams(a=rng.uniform(0.8, 2), b=rng.gauss(0, 1)) for _ in range(60)]
    scores = [float(rng.random() < probability(0.7, p)) for p in items]
    eap = estimate_ability_eap(scores, items)
    mode = estimate_abilities(
        [Response(k, 1, s) for k, s in enumerate(scores)], dict(enumerate(items)), [1]
    )[1]
    assert eap.theta == pytest.approx(mode.theta, abs=0.05)
    assert eap.se == pytest.approx(mode.se, abs=0.03)
