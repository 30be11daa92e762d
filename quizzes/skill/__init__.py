"""The skill model: how Skillmap turns answers into a score per roadmap stage.

This package is pure Python with numpy and scipy. It imports no Django and no other
``quizzes`` package (an import contract in ``tests/importlinter.ini`` holds it to that):
dataclasses and plain values go in and come out, and the Django side stores them.

**Response model (``irt``).** Each stage has its own ability scale. An item has a
discrimination ``a`` and a difficulty ``b``; a learner of ability ``theta`` answers it
correctly with probability ``P = 1 / (1 + exp(-a (theta - b)))`` (the two-parameter
logistic model, 2PL). Abilities and difficulties share one logit scale on which a stage's
learners have mean 0 and SD 1.

**Partial credit.** A score ``x`` between 0 and 1 counts as a fraction ``x`` of a right
answer and ``1 - x`` of a wrong one (a "fractional Bernoulli"): its log-likelihood is
``x log P + (1 - x) log(1 - P)``. One model then serves every item type, and more credit
always means a higher estimate.

**Recency.** An answer's log-likelihood is multiplied by its weight,
``0.5 ** (age / half-life)`` (``recency_weight``): an answer one half-life old counts half,
so the estimate follows a learner who improves.

**Stages borrow strength (``estimate``).** The 11 stage abilities are estimated together
under a multivariate normal prior: mean 0, SD 1, and the same correlation (0.6 by default)
between any two stages. A stage with one or two answers is pulled toward the learner's
other stages rather than only toward the average learner; a stage with many answers
speaks for itself. The estimate is the posterior mode, and its standard error comes from
the posterior's curvature. A stage with no answers is reported as "not assessed" (``n ==
0``), never as a score.

**Before calibration.** A new item's parameters come from its author's difficulty 1-5:
discrimination 1, difficulty ``(d - 3) * 0.8`` logits (``prior_params``). They are marked
provisional (``calibrated=False``).

**Calibration (``calibrate``).** Once an item has 200 answers, its parameters are estimated
from the data: per stage, by marginal maximum likelihood (EM over a grid of abilities),
with weak priors that keep even an item everyone gets right finite. Standard errors come
with each estimate, and ``item_fit`` flags items whose answers do not follow their curve.

**Anchoring.** Each recalibration is put on the previous calibration's scale through the
items both share (Stocking-Lord linking), so a learner's score does not move just because
the bank was recalibrated or a new cohort is stronger; it moves when the learner's own
answers change.

**Scale and levels (``scale``).** The reported score is ``150 + 50 theta``, truncated to a
whole number and clipped to 0-300, shown with its 95 % band. Five levels cut the scale at
theta -1, 0, 1 and 2 (scores 100, 150, 200, 250): Novice, Developing, Proficient, Advanced,
Expert. The recommended starting stage is the first stage, in roadmap order, below
Proficient (the last stage if none is).

**Placement (``placement``).** An adaptive test across the 11 stages: it asks every stage
once, then keeps asking the stage whose estimate is least certain, each time the item most
informative at that stage's current estimate (drawn among the top three, and skipping
over-exposed items, so that items are not all given to everyone). It stops when every
stage's standard error is small enough, or at 40 items.

``bench/placement.py`` simulates learners to check calibration recovery and the
placement's accuracy against a fixed form of the same length.
"""

from quizzes.skill.calibrate import (
    CalibrationResponse,
    CalibrationResult,
    MatrixFit,
    calibrate,
    calibrate_matrix,
    stocking_lord,
)
from quizzes.skill.estimate import (
    Estimate,
    Response,
    eap_matrix,
    estimate_abilities,
    estimate_ability_eap,
    recency_weight,
)
from quizzes.skill.irt import ItemParams, information, prior_params, probability
from quizzes.skill.placement import Candidate, PlacementSettings, next_item, should_stop
from quizzes.skill.scale import (
    LEVEL_CUTS,
    LEVEL_SCORE_CUTS,
    PROFICIENT_CUT,
    SCORE_MAX,
    SCORE_MIN,
    Level,
    level_for,
    level_for_score,
    recommend_start,
    score_band,
    to_score,
)
from quizzes.skill.stats import ItemFit, item_fit

__all__ = [
    "LEVEL_CUTS",
    "LEVEL_SCORE_CUTS",
    "PROFICIENT_CUT",
    "SCORE_MAX",
    "SCORE_MIN",
    "CalibrationResponse",
    "CalibrationResult",
    "Candidate",
    "Estimate",
    "ItemFit",
    "ItemParams",
    "Level",
    "MatrixFit",
    "PlacementSettings",
    "Response",
    "calibrate",
    "calibrate_matrix",
    "eap_matrix",
    "estimate_abilities",
    "estimate_ability_eap",
    "information",
    "item_fit",
    "level_for",
    "level_for_score",
    "next_item",
    "prior_params",
    "probability",
    "recency_weight",
    "recommend_start",
    "score_band",
    "should_stop",
    "stocking_lord",
    "to_score",
]
