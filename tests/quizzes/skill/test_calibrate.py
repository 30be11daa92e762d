"""Item calibration: EM estimates, thresholds, degenerate data, linking and item fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quizzes.skill import (
    CalibrationResponse,
    ItemParams,
    Response,
    calibrate,
    calibrate_matrix,
    estimate_abilities,
    item_fit,
    prior_params,
)
from quizzes.skill.calibrate import A_BOUNDS, B_BOUNDS, stocking_lord
from tests.quizzes.skill.simulation import (
    answer_matrix,
    correlated_abilities,
    draw_items,
    flat_priors,
    responses_from,
)


def _finite(params: dict) -> bool:
    return all(
        math.isfinite(p.a)
        and math.isfinite(p.b)
        and A_BOUNDS[0] <= p.a <= A_BOUNDS[1]
        and B_BOUNDS[0] <= p.b <= B_BOUNDS[1]
        and all(se is None or (math.isfinite(se) and se > 0) for se in (p.se_a, p.se_b))
        for p in params.values()
    )


def test_calibration_recovers_known_items():
    rng = np.random.default_rng(11)
    a, b = draw_items(rng, 12)
    matrix = answer_matrix(rng, rng.normal(0, 1, 3000), a, b)
    fit = calibrate_matrix(matrix, [ItemParams(1.0, 0.0)] * 12)
    assert fit.converged
    assert np.sqrt(np.mean((fit.b - b) ** 2)) < 0.12
    assert np.sqrt(np.mean((fit.a - a) ** 2)) < 0.12
    # The standard errors are of the size of the actual errors.
    assert 0.5 < np.sqrt(np.mean(((fit.b - b) / fit.se_b) ** 2)) < 2.0


def test_partial_credit_is_accepted_and_lands_between_right_and_wrong():
    rng = np.random.default_rng(12)
    a, b = draw_items(rng, 8)
    matrix = answer_matrix(rng, rng.normal(0, 1, 800), a, b)
    halves = matrix.copy()
    halves[:, 0] = np.where(matrix[:, 0] == 1, 1.0, 0.5)  # wrong answers now earn half
    plain = calibrate_matrix(matrix, [ItemParams(1.0, 0.0)] * 8)
    softer = calibrate_matrix(halves, [ItemParams(1.0, 0.0)] * 8)
    assert softer.converged
    assert softer.b[0] < plain.b[0]


def test_an_item_strong_learners_fail_becomes_harder():
    rng = np.random.default_rng(13)
    a, b = draw_items(rng, 12)
    thetas = rng.normal(0, 1, 1500)
    matrix = answer_matrix(rng, thetas, a, b)
    items = [f"i{k}" for k in range(12)]
    persons = list(range(len(thetas)))
    priors = {item: prior_params(3) for item in items}
    strong = thetas > np.quantile(thetas, 0.75)
    failed = matrix.copy()
    failed[strong, 0] = 0.0  # the strongest quarter now fails item 0
    before = calibrate(responses_from(matrix, persons=persons, items=items, stage=1), priors, {})
    after = calibrate(responses_from(failed, persons=persons, items=items, stage=1), priors, {})
    assert after.params["i0"].b > before.params["i0"].b + 0.2
    assert after.params["i0"].b > priors["i0"].b
    # The other items hardly move.
    others = [abs(after.params[i].b - before.params[i].b) for i in items[1:]]
    assert max(others) < 0.15


def test_only_items_with_enough_answers_are_calibrated():
    rng = np.random.default_rng(14)
    a, b = draw_items(rng, 6)
    matrix = answer_matrix(rng, rng.normal(0, 1, 400), a, b)
    matrix[250:, 4] = np.nan  # 250 answers
    matrix[150:, 5] = np.nan  # 150 answers: under the threshold
    items = ["a", "b", "c", "d", "e", "f"]
    priors = {item: prior_params(k % 5 + 1) for k, item in enumerate(items)}
    priors["unanswered"] = prior_params(2)
    previous = {"e": ItemParams(1.3, 0.4, 0.1, 0.1, calibrated=True)}
    result = calibrate(
        responses_from(matrix, persons=range(400), items=items, stage=2),
        priors,
        previous,
        min_responses=200,
    )
    assert all(result.params[item].calibrated for item in "abcde")
    assert result.params["f"] == priors["f"]  # kept its prior, still provisional
    assert result.params["unanswered"] == priors["unanswered"]
    assert result.params["e"] != previous["e"]  # recalibrated and linked
    assert result.converged and result.iterations > 0
    assert set(result.linking) == {2}


def test_a_previously_calibrated_item_short_of_answers_keeps_its_calibration():
    previous = {"x": ItemParams(1.4, 0.9, 0.1, 0.2, calibrated=True)}
    responses = [CalibrationResponse(p, "x", 1, float(p % 2)) for p in range(10)]
    result = calibrate(responses, {"x": prior_params(3)}, previous)
    assert result.params["x"] == previous["x"]
    assert result.linking == {1: (1.0, 0.0)}


def test_a_learners_first_answer_to_an_item_is_the_one_calibrated():
    responses = [
        CalibrationResponse("p", "x", 1, 0.0),
        CalibrationResponse("p", "x", 1, 1.0),
        CalibrationResponse("q", "x", 1, 1.0),
    ]
    priors = {"x": prior_params(3)}
    once = calibrate([responses[0], responses[2]], priors, {}, min_responses=2)
    twice = calibrate(responses, priors, {}, min_responses=2)
    assert twice.params == once.params


def test_an_item_in_two_stages_or_without_a_prior_is_an_error():
    with pytest.raises(ValueError, match="stages 1 and 2"):
        calibrate(
            [CalibrationResponse("p", "x", 1, 1.0), CalibrationResponse("q", "x", 2, 1.0)],
            {"x": prior_params(3)},
            {},
        )
    with pytest.raises(KeyError, match="no prior"):
        calibrate([CalibrationResponse("p", "y", 1, 1.0)], {}, {})


# --- degenerate data -------------------------------------------------------------------------
@pytest.mark.parametrize("regularise", [True, False])
def test_items_everyone_gets_right_or_wrong_stay_finite(regularise):
    rng = np.random.default_rng(15)
    a, b = draw_items(rng, 8)
    matrix = answer_matrix(rng, rng.normal(0, 1, 300), a, b)
    matrix[:, 0] = 1.0  # everyone right
    matrix[:, 1] = 0.0  # everyone wrong
    matrix[0, :] = 1.0  # a learner with every answer right
    matrix[1, :] = 0.0  # and one with every answer wrong
    items = list(range(8))
    result = calibrate(
        responses_from(matrix, persons=range(300), items=items, stage=1),
        flat_priors(items),
        {},
        regularise=regularise,
        max_iterations=60,
    )
    assert _finite(result.params)
    assert result.converged or result.iterations == 60
    assert result.params[0].b < -2 and result.params[1].b > 2
    if regularise:
        assert result.params[0].se_b is not None


def test_empty_input_and_tiny_stages_calibrate_nothing():
    assert calibrate([], {}, {}).params == {}
    assert calibrate([], {}, {}).converged
    priors = {"x": prior_params(1)}
    one = calibrate([CalibrationResponse("p", "x", 3, 1.0)], priors, {}, min_responses=1)
    assert _finite(one.params) and one.params["x"].calibrated


def test_calibration_stops_at_max_iterations_without_nan():
    rng = np.random.default_rng(16)
    a, b = draw_items(rng, 10)
    matrix = answer_matrix(rng, rng.normal(0, 1, 500), a, b)
    fit = calibrate_matrix(matrix, [ItemParams(1.0, 0.0)] * 10, max_iterations=2, tolerance=0)
    assert fit.iterations == 2 and not fit.converged
    assert np.all(np.isfinite(fit.a)) and np.all(np.isfinite(fit.b))


# --- linking: scores do not drift without new evidence ---------------------------------------
STAGES = [1, 2]
ITEMS_PER_STAGE = 15
# Stated tolerance: recalibrating with 1,000 more learners moves an original learner's
# estimate, from unchanged answers, by at most MAX_DRIFT logits, MEAN_DRIFT on average.
MAX_DRIFT = 0.15
MEAN_DRIFT = 0.04


def _cohort(rng, a, b, first_person, count, mean=0.0):
    thetas = correlated_abilities(rng, count, len(STAGES), 0.6, mean)
    responses = []
    for k, stage in enumerate(STAGES):
        cols = slice(k * ITEMS_PER_STAGE, (k + 1) * ITEMS_PER_STAGE)
        matrix = answer_matrix(rng, thetas[:, k], a[cols], b[cols])
        items = [(stage, j) for j in range(ITEMS_PER_STAGE)]
        persons = range(first_person, first_person + count)
        responses += responses_from(matrix, persons=persons, items=items, stage=stage)
    return responses


def _learner_estimates(responses, params):
    by_person: dict = {}
    for r in responses:
        by_person.setdefault(r.person, []).append(Response(r.item, r.stage, r.score))
    return np.array(
        [
            [e.theta for e in estimate_abilities(answers, params, STAGES).values()]
            for answers in by_person.values()
        ]
    )


@pytest.mark.parametrize("new_cohort_mean", [0.0, 0.5], ids=["same population", "abler cohort"])
def test_recalibration_does_not_move_unchanged_learners(new_cohort_mean):
    rng = np.random.default_rng(17)
    a, b = draw_items(rng, ITEMS_PER_STAGE * len(STAGES))
    items = [(stage, j) for stage in STAGES for j in range(ITEMS_PER_STAGE)]
    priors = {item: prior_params(int(rng.integers(1, 6))) for item in items}
    first = _cohort(rng, a, b, 0, 1000)
    old = calibrate(first, priors, {})
    before = _learner_estimates(first, old.params)

    second = _cohort(rng, a, b, 1000, 1000, mean=new_cohort_mean)
    new = calibrate(first + second, priors, old.params)
    after = _learner_estimates(first, new.params)
    drift = np.abs(after - before)
    assert drift.max() <= MAX_DRIFT
    assert drift.mean() <= MEAN_DRIFT
    if new_cohort_mean:
        # Without linking, the abler cohort would have pulled everyone down.
        unlinked = _learner_estimates(first, calibrate(first + second, priors, {}).params)
        assert np.mean(unlinked - before) < -0.1
        assert all(shift > 0.1 for _, shift in new.linking.values())


def test_stocking_lord_recovers_a_known_transformation():
    rng = np.random.default_rng(18)
    a, b = draw_items(rng, 10)
    old = [ItemParams(float(x), float(y)) for x, y in zip(a, b, strict=True)]
    # The same items on a scale where theta_new = (theta_old - 0.3) / 1.2.
    new = [ItemParams(p.a * 1.2, (p.b - 0.3) / 1.2) for p in old]
    scale, shift = stocking_lord(old, new)
    assert scale == pytest.approx(1.2, abs=1e-3)
    assert shift == pytest.approx(0.3, abs=1e-3)
    assert stocking_lord(old[:1], new[:1]) == (1.0, pytest.approx(old[0].b - new[0].b))


# --- item fit --------------------------------------------------------------------------------
def test_item_fit_flags_a_miskeyed_item():
    rng = np.random.default_rng(19)
    a, b = draw_items(rng, 10)
    matrix = answer_matrix(rng, rng.normal(0, 1, 2000), a, b)
    matrix[:, 3] = 1.0 - matrix[:, 3]  # the key is wrong: strong learners "fail"
    items = list(range(10))
    responses = responses_from(matrix, persons=range(2000), items=items, stage=1)
    true_params = {k: ItemParams(float(a[k]), float(b[k])) for k in items}
    fit = item_fit(responses, true_params)
    assert fit[3].poor and fit[3].rmsd > 0.2
    assert all(not fit[k].poor and fit[k].rmsd < 0.06 for k in items if k != 3)
    assert all(fit[k].n == 2000 for k in items)
