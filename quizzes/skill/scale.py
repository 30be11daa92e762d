"""The reported scale: scores from 0 to 300, five levels, and where to start on the roadmap.

**Score.** ``to_score(theta) = round(150 + 50 * theta)``, clipped to 0..300: the population
mean of a stage is 150 and one population SD is 50 points; the clip is reached at 3 SDs.
``score_band`` is the score of ``theta ± 1.96 se``, the 95 % band shown with the score.

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

A theta exactly at a cut belongs to the higher level. Because ``to_score`` is monotone and
the cuts fall on whole scores, ``level_for(theta)`` and the level of ``to_score(theta)``
(``level_for_score``) agree.

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


def to_score(theta: float) -> int:
    """``round(150 + 50 * theta)``, clipped to 0..300."""
    _check(theta)
    if math.isinf(theta):
        return SCORE_MAX if theta > 0 else SCORE_MIN
    return int(min(SCORE_MAX, max(SCORE_MIN, round(SCORE_CENTRE + SCORE_PER_LOGIT * theta))))


def to_theta(score: float) -> float:
    """The theta a score stands for (the inverse of ``to_score`` before rounding)."""
    return (score - SCORE_CENTRE) / SCORE_PER_LOGIT


def score_band(theta: float, se: float) -> tuple[int, int]:
    """The scores of ``theta - 1.96 se`` and ``theta + 1.96 se`` (clipped to 0..300)."""
    _check(se)
    half = Z_95 * abs(se)
    return to_score(theta - half), to_score(theta + half)


def level_for(theta: float) -> Level:
    """The level whose cut is the highest one at or below ``theta``."""
    _check(theta)
    found = LEVEL_CUTS[0][0]
    for level, cut in LEVEL_CUTS:
        if theta >= cut:
            found = level
    return found


def level_for_score(score: int) -> Level:
    """The level of a reported score, consistent with ``level_for``."""
    return level_for(to_theta(score))


LEVEL_SCORE_CUTS: list[tuple[Level, int]] = [
    (level, SCORE_MIN if math.isinf(cut) else to_score(cut)) for level, cut in LEVEL_CUTS
]


def recommend_start(estimates: Mapping[int, Estimate], *, cut: float = PROFICIENT_CUT) -> int:
    """The first stage, in roadmap order, whose estimate is below ``cut``; 11 if none is."""
    for stage in sorted(estimates):
        if estimates[stage].theta < cut:
            return stage
    return LAST_STAGE
