"""Adaptive placement: item choice, stopping, exposure control and determinism."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from quizzes.skill import (
    Candidate,
    Estimate,
    ItemParams,
    PlacementSettings,
    Response,
    estimate_abilities,
    information,
    next_item,
    probability,
    should_stop,
)

STAGES = list(range(1, 12))


def _bank(per_stage: int, seed: int = 1) -> list[Candidate]:
    rng = np.random.default_rng(seed)
    return [
        Candidate(
            item=f"s{stage}-{k}",
            stage=stage,
            params=ItemParams(float(rng.lognormal(0, 0.3)), float(rng.normal(0, 1))),
        )
        for stage in STAGES
        for k in range(per_stage)
    ]


def _run(
    bank: list[Candidate],
    settings: PlacementSettings,
    *,
    seed: int,
    thetas: dict[int, float] | None = None,
    stages: list[int] = STAGES,
) -> list[Response]:
    """One simulated placement; returns the answers in the order asked."""
    thetas = thetas or dict.fromkeys(STAGES, 0.3)
    params = {c.item: c.params for c in bank}
    by_item = {c.item: c for c in bank}
    select, answer = random.Random(seed), random.Random(seed + 1000)
    responses: list[Response] = []
    while (item := next_item(responses, bank, params, stages, settings, select)) is not None:
        candidate = by_item[item]
        right = answer.random() < probability(thetas[candidate.stage], candidate.params)
        responses.append(Response(item, candidate.stage, float(right)))
        assert len(responses) <= settings.max_items
    return responses


def test_placement_never_repeats_an_item_and_visits_every_stage_first():
    responses = _run(_bank(10), PlacementSettings(se_target=0.01), seed=3)
    items = [r.item for r in responses]
    assert len(items) == len(set(items)) == 40
    assert [r.stage for r in responses[:11]] == STAGES


def test_placement_stops_at_max_items():
    responses = _run(_bank(10), PlacementSettings(max_items=15, se_target=0.01), seed=4)
    assert len(responses) == 15


def test_placement_stops_early_once_every_standard_error_is_on_target():
    settings = PlacementSettings(se_target=0.7)
    bank = _bank(10)
    responses = _run(bank, settings, seed=5)
    assert settings.min_items <= len(responses) < settings.max_items
    params = {c.item: c.params for c in bank}
    estimates = estimate_abilities(responses, params, STAGES, correlation=settings.correlation)
    assert all(e.se <= 0.7 for e in estimates.values())
    assert should_stop(responses, estimates, settings)
    # ...and not one answer earlier.
    earlier = estimate_abilities(responses[:-1], params, STAGES, correlation=0.6)
    assert not should_stop(responses[:-1], earlier, settings)


def test_placement_runs_min_items_even_when_the_target_is_met():
    settings = PlacementSettings(se_target=5.0, min_items=11)
    assert len(_run(_bank(5), settings, seed=6)) == 11


def test_placement_stops_when_no_candidate_is_left():
    bank = _bank(2)[:6]  # stages 1 to 3, two items each
    responses = _run(bank, PlacementSettings(se_target=0.01), seed=7, stages=[1, 2, 3])
    assert sorted(r.item for r in responses) == sorted(c.item for c in bank)
    assert next_item(responses, bank, {}, [1, 2, 3], PlacementSettings(), random.Random(1)) is None


def test_placement_is_deterministic_given_the_rng():
    bank = _bank(12)
    first = _run(bank, PlacementSettings(), seed=8)
    again = _run(bank, PlacementSettings(), seed=8)
    other = _run(bank, PlacementSettings(), seed=9)
    assert [r.item for r in first] == [r.item for r in again]
    assert [r.item for r in first] != [r.item for r in other]


def test_without_randomisation_the_most_informative_item_is_chosen():
    bank = _bank(10)
    params = {c.item: c.params for c in bank}
    settings = PlacementSettings(randomesque=1)
    chosen = next_item([], bank, params, STAGES, settings, random.Random(1))
    stage_one = [c for c in bank if c.stage == 1]
    best = max(stage_one, key=lambda c: information(0.0, c.params))
    assert chosen == best.item


def test_over_exposed_items_are_skipped_unless_nothing_else_is_left():
    stage_one = [
        Candidate("hot", 1, ItemParams(3.0, 0.0), exposure=0.9),
        Candidate("cool", 1, ItemParams(0.5, 2.0), exposure=0.1),
    ]
    settings = PlacementSettings(randomesque=1)
    assert next_item([], stage_one, {}, [1], settings, random.Random(1)) == "cool"
    only_hot = stage_one[:1]
    assert next_item([], only_hot, {}, [1], settings, random.Random(1)) == "hot"


@pytest.mark.parametrize(("max_exposure", "bound"), [(0.4, 0.45), (1.0, 1.0)])
def test_exposure_control_bounds_how_often_an_item_is_used(max_exposure, bound):
    """Over 150 placements (exposure updated after each), no item is used in more than
    ``max_exposure`` of them, give or take one placement; without control, the best items
    go to nearly everyone."""
    stages = [1, 2, 3]
    base = [c for c in _bank(12, seed=10) if c.stage in stages]
    settings = PlacementSettings(
        max_items=12, min_items=3, se_target=0.01, max_exposure=max_exposure
    )
    used: Counter[str] = Counter()
    rng = np.random.default_rng(11)
    runs = 150
    for n in range(runs):
        bank = [
            Candidate(c.item, c.stage, c.params, exposure=used[c.item] / n if n else 0.0)
            for c in base
        ]
        thetas = dict(zip(stages, rng.normal(0, 1, 3), strict=True))
        responses = _run(bank, settings, seed=100 + n, thetas=thetas, stages=stages)
        used.update(r.item for r in responses)
    highest = max(used.values()) / runs
    if max_exposure < 1:
        assert highest <= bound
    else:
        assert highest > 0.8


def test_should_stop_needs_min_items_and_every_stage_on_target():
    settings = PlacementSettings(min_items=2, max_items=5, se_target=0.5)
    on_target = {1: Estimate(0.0, 0.4, 3), 2: Estimate(0.0, 0.5, 1)}
    off_target = {1: Estimate(0.0, 0.4, 3), 2: Estimate(0.0, 0.6, 1)}
    answers = [Response(k, 1, 1.0) for k in range(3)]
    assert should_stop(answers, on_target, settings)
    assert not should_stop(answers, off_target, settings)
    assert not should_stop(answers[:1], on_target, settings)
    assert should_stop([Response(k, 1, 1.0) for k in range(5)], off_target, settings)


def test_answered_items_missing_from_params_are_estimated_with_the_candidates_params():
    bank = _bank(3)
    answered = [Response(bank[0].item, 1, 1.0)]
    settings = PlacementSettings()
    with_params = next_item(
        answered, bank, {c.item: c.params for c in bank}, STAGES, settings, random.Random(2)
    )
    without = next_item(answered, bank, {}, STAGES, settings, random.Random(2))
    assert with_params == without
    assert with_params is not None and with_params != bank[0].item
