"""Adaptive placement: which item to ask next across the 11 stages, and when to stop.

After every answer, ``next_item``:

1. estimates every stage at once (``estimate_abilities``, with the correlation prior, so
   each answer also informs the other stages);
2. stops (returns None) when ``max_items`` answers are in, when no candidate is left, or
   when at least ``min_items`` answers are in and every stage's standard error is at or
   below ``se_target`` (``should_stop``);
3. picks the stage (content balancing): first every stage not yet asked, in roadmap order,
   then the stage whose standard error is largest, among stages with candidates left;
4. picks the item of that stage with the most Fisher information at the stage's current
   estimate, with exposure control: items already used in ``max_exposure`` or more of
   placements are skipped unless the stage has nothing else, and the item is drawn at
   random among the ``randomesque`` most informative (the "randomesque" method), so that
   the same few items do not go to everyone.

An item already answered is never asked again. Given the same ``rng`` state, the choice is
deterministic (ties keep the order of ``candidates``).

The defaults come from ``bench/placement.py`` (simulated learners, 11 correlated stages):
see the numbers there.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from quizzes.skill.estimate import Estimate, Response, estimate_abilities
from quizzes.skill.irt import ItemParams, information


@dataclass(frozen=True, slots=True)
class Candidate:
    """An item placement may ask, with its parameters and its exposure so far."""

    item: Hashable
    stage: int
    params: ItemParams
    exposure: float = 0.0  # the fraction of placement attempts that used this item


@dataclass(frozen=True, slots=True)
class PlacementSettings:
    """How long placement runs and how it spreads items (see the module docstring)."""

    max_items: int = 40
    min_items: int = 11  # at least one per stage
    se_target: float = 0.45
    randomesque: int = 3
    max_exposure: float = 0.4
    correlation: float = 0.6

    def __post_init__(self) -> None:
        if self.max_items < 1 or self.min_items < 0 or self.randomesque < 1:
            raise ValueError("max_items and randomesque must be positive, min_items not negative")
        if not self.se_target > 0 or not 0 < self.max_exposure <= 1:
            raise ValueError("se_target must be positive and max_exposure in (0, 1]")


def should_stop(
    responses: Sequence[Response], estimates: Mapping[int, Estimate], settings: PlacementSettings
) -> bool:
    """True at ``max_items`` answers, or past ``min_items`` with every SE on target."""
    if len(responses) >= settings.max_items:
        return True
    if len(responses) < settings.min_items:
        return False
    return all(e.se <= settings.se_target for e in estimates.values())


def choose_stage(estimates: Mapping[int, Estimate], available: Sequence[int]) -> int:
    """A stage not asked yet (roadmap order), else the one with the largest SE."""
    unvisited = [stage for stage in available if estimates[stage].n == 0]
    if unvisited:
        return min(unvisited)
    return max(sorted(available), key=lambda stage: estimates[stage].se)


def next_item(
    responses: Sequence[Response],
    candidates: Sequence[Candidate],
    params: Mapping[Hashable, ItemParams],
    stages: Sequence[int],
    settings: PlacementSettings,
    rng: random.Random,
) -> Hashable | None:
    """The next item to ask, or None to stop (see the module docstring).

    ``params`` holds the parameters of the answered items, for the estimate (an answered
    item missing from it is looked up among the candidates); a candidate is chosen on its
    own parameters. Candidates outside ``stages`` are ignored.
    """
    if len(responses) >= settings.max_items:
        return None
    answered = {r.item for r in responses}
    wanted = set(stages)
    by_stage: dict[int, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.item not in answered and candidate.stage in wanted:
            by_stage.setdefault(candidate.stage, []).append(candidate)
    if not by_stage:
        return None
    known = {c.item: c.params for c in candidates}
    known.update(params)
    estimates = estimate_abilities(responses, known, stages, correlation=settings.correlation)
    if should_stop(responses, estimates, settings):
        return None
    stage = choose_stage(estimates, list(by_stage))
    pool = by_stage[stage]
    pool = [c for c in pool if c.exposure < settings.max_exposure] or pool
    theta = estimates[stage].theta
    ranked = sorted(pool, key=lambda c: -information(theta, c.params))
    top = ranked[: settings.randomesque]
    return top[rng.randrange(len(top))].item
