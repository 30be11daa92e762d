"""The reported scale: scores from 0 to 300, five levels, and where to start on the roadmap.

**Score.** ``to_score(theta) = floor(150 + 50 * theta)``, clipped to 0..300: the population
mean of a stage is 150 and one population SD is 50 points; the clip is reached at 3 SDs.
The score is truncated rather than rounded so that it reaches a level's score cut exactly
when theta reaches the level's theta cut (a learner at theta -1.005 reads 99, Novice, not
100). ``score_band`` is the score of ``theta ± 1.96 se``, the 95 % band shown with the score.

**Levels.** Cut scores on the logit scale (and on the score scale):

==============  ==============  ===========  ========================
level           from theta      from score   share of a N(0, 1) stage
==============  ==============  ===========  ========================
Novice          (lowest)        0            16 %
Developing      -1.0            100          34 %
Proficient      0.0             150          34 %
Advanced        1.0             200          14 %
Expert          2.0             250          2 %
==============  ==============  ===========  ========================

A theta exactly at a cut belongs to the higher level. ``level_for(theta)`` is by
definition the level of the reported score ``to_score(theta)`` (``level_for_score``), so a
score and its level never disagree; since the cuts fall on whole scores and the score is
truncated, that is the level of the theta cuts above (to within 1e-9 logit of a cut).

**Starting stage.** ``recommend_start`` walks the stages in roadmap order and returns the
first whose estimate is below ``cut`` (by default the Proficient cut, 0.0); if none is, the
learner starts at the last stage, 11. A stage without answers (``n == 0``) is judged on its
estimate too, which then comes from the learner's other stages through the correlation
prior.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping

from quizzes.skill.estimate import Estimate

SCORE_MIN, SCORE_MAX = 0, 300
SCORE_CENTRE = 150.0
SCORE_PER_LOGIT = 50.0
Z_95 = 1.96
LAST_STAGE = 11


class Level(enum.Enum):
    """The five reported levels, lowest first; ``.label`` is the display text."""

    NOVICE = "novice"
    DEVELOPING = "developing"
    PROFICIENT = "proficient"
    ADVANCED = "advanced"
    EXPERT = "expert"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# Each level with the lowest theta that reaches it, in increasing order.
LEVEL_CUTS: list[tuple[Level, float]] = [
    (Level.NOVICE, -math.inf),
    (Level.DEVELOPING, -1.0),
    (Level.PROFICIENT, 0.0),
    (Level.ADVANCED, 1.0),
    (Level.EXPERT, 2.0),
]
PROFICIENT_CUT = 0.0


def _check(theta: float) -> None:
    if math.isnan(theta):
        raise ValueError("theta must be a number")


def to_theta(score: float) -> float:
    """The theta a score stands for (the inverse of ``to_score`` before truncation)."""
    return (score - SCORE_CENTRE) / SCORE_PER_LOGIT


# Added before truncating, so that a theta computed from a whole score (``to_theta``) maps
# back to that score despite rounding error.
_SCORE_EPSILON = 1e-9


def to_score(theta: float) -> int:
    """``floor(150 + 50 * theta)``, clipped to 0..300."""
    _check(theta)
    # Clip theta first: beyond the score range its value no longer matters, and a huge
    # theta would overflow.
    theta = min(max(theta, to_theta(SCORE_MIN) - 1.0), to_theta(SCORE_MAX) + 1.0)
    raw = math.floor(SCORE_CENTRE + SCORE_PER_LOGIT * theta + _SCORE_EPSILON)
    return int(min(SCORE_MAX, max(SCORE_MIN, raw)))


def score_band(theta: float, se: float) -> tuple[int, int]:
    """The scores of ``theta - 1.96 se`` and ``theta + 1.96 se`` (clipped to 0..300)."""
    _check(se)
    half = Z_95 * abs(se)
    return to_score(theta - half), to_score(theta + half)


# The same cuts on the score scale: 0, 100, 150, 200 and 250.
LEVEL_SCORE_CUTS: list[tuple[Level, int]] = [
    (level, SCORE_MIN if math.isinf(cut) else to_score(cut)) for level, cut in LEVEL_CUTS
]


def level_for_score(score: int) -> Level:
    """The level whose score cut is the highest one at or below ``score``."""
    found = LEVEL_SCORE_CUTS[0][0]
    for level, cut in LEVEL_SCORE_CUTS:
        if score >= cut:
            found = level
    return found


def level_for(theta: float) -> Level:
    """The level of ``to_score(theta)``: the highest level whose theta cut ``theta`` reaches."""
    return level_for_score(to_score(theta))


def recommend_start(estimates: Mapping[int, Estimate], *, cut: float = PROFICIENT_CUT) -> int:
    """The first stage, in roadmap order, whose estimate is below ``cut``; 11 if none is."""
    for stage in sorted(estimates):
        if estimates[stage].theta < cut:
            return stage
    return LAST_STAGE
