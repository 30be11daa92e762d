"""Item statistics as quiz engines report them, with flags for items that look broken.

Over every graded answer in a graded attempt (any version of the item), per item:

- **n**: the number of answers.
- **facility**: the mean score as a fraction of the item's points (0 to 1; higher is
  easier).
- **sd**: the sample standard deviation (divisor n - 1) of that score fraction.
- **discrimination**: the *corrected item-total* correlation, also called item-rest: the
  Pearson correlation between the item's score fraction and the attempt's score on its
  *other* items, as a fraction of their points. Leaving the item out keeps it from
  correlating with itself (which inflates the plain item-total correlation, most in short
  quizzes). For an item scored right or wrong this is the point-biserial correlation.
  Attempts with no other scored item do not count; it needs 3 such answers and some
  variation in both scores (``None`` otherwise).
- **full marks**: the answers that earned all the item's points ("correct").
- **picks** (types with options, as the item type's handler names them): how many answers
  to the *current* version picked each option, and how many picked none. Older versions
  may word or order their options differently, so they are not counted here.
- **IRT**: the 2PL discrimination ``a`` and difficulty ``b`` with their standard errors
  from the last calibration, and its RMSD item fit; "provisional" (the prior from the
  author's difficulty, no standard errors and no fit) until the item is calibrated.

**Flags** (``ItemFlag``) mark items worth a look. The first three need at least
``FLAG_MIN_ANSWERS`` answers, because a handful of answers says little:

- negative discrimination: learners who do well on the rest of the quiz do worse on this
  item (often a wrong key or a misleading stem);
- nobody correct: no answer earned full marks;
- everybody correct: every answer earned full marks (it tells learners apart not at all);
- poor fit: a calibrated item whose RMSD is above ``POOR_FIT_RMSD`` (0.1, a little
  stricter than PISA's 0.12): its answers do not follow its 2PL curve.

A fixed number of queries whatever the number of answers: the items, one aggregate over
the answers grouped by item (done by the database), and one pass over the current
versions' answers of types with options.
"""

from __future__ import annotations

import enum
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, FloatField, Q, QuerySet, Sum
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Cast

from quizzes.bank.calibration import prior_for
from quizzes.itemtypes import ChoiceOption, choice_types, handler_for
from quizzes.models import AttemptItem, AttemptStatus, Item, ItemCalibration, Stage
from quizzes.skill.stats import RMSD_THRESHOLD

FLAG_MIN_ANSWERS = 10
POOR_FIT_RMSD = RMSD_THRESHOLD
# Below this variance a score is taken as constant: no correlation is defined.
_MIN_VARIANCE = 1e-9


class ItemFlag(enum.Enum):
    NEGATIVE_DISCRIMINATION = "negative discrimination"
    NOBODY_CORRECT = "nobody correct"
    EVERYBODY_CORRECT = "everybody correct"
    POOR_FIT = "poor fit"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class ChoiceCount:
    option: ChoiceOption
    picks: int
    share: float | None  # of the answers to the current version; None without any


@dataclass(frozen=True)
class ItemStats:
    item: Item
    n: int
    facility: float | None
    sd: float | None
    discrimination: float | None
    full_marks: int
    a: float
    b: float
    se_a: float | None
    se_b: float | None
    calibrated: bool
    fit: float | None
    choices: list[ChoiceCount] = field(default_factory=list)  # empty when not counted
    choice_answers: int = 0  # answers to the current version (the picks' denominator)
    blank: int = 0  # of those, answers that picked nothing
    flags: list[ItemFlag] = field(default_factory=list)

    @property
    def has_choices(self) -> bool:
        return bool(self.choices)


def _graded_answers() -> QuerySet[AttemptItem]:
    return AttemptItem.objects.filter(
        graded_at__isnull=False,
        score__isnull=False,
        max_score__gt=0,
        attempt__status=AttemptStatus.GRADED,
        attempt__score__isnull=False,
    )


def _float(expression: F | CombinedExpression) -> Cast:
    return Cast(expression, output_field=FloatField())


def _sums() -> dict[str, Count | Sum]:
    """Aggregates per item: x is the item's score fraction; y the rest of the attempt's."""
    x = _float(F("score")) / _float(F("max_score"))
    y = _float(F("attempt__score") - F("score")) / _float(F("attempt__max_score") - F("max_score"))
    rest = Q(attempt__max_score__gt=F("max_score"))
    return {
        "n": Count("pk"),
        "sx": Sum(x),
        "sxx": Sum(x * x),
        "full": Count("pk", filter=Q(score__gte=F("max_score"))),
        "m": Count("pk", filter=rest),
        "mx": Sum(x, filter=rest),
        "mxx": Sum(x * x, filter=rest),
        "my": Sum(y, filter=rest),
        "myy": Sum(y * y, filter=rest),
        "mxy": Sum(x * y, filter=rest),
    }


def correlation(n: int, sx: float, sy: float, sxx: float, syy: float, sxy: float) -> float | None:
    """Pearson's r from sums; None below 3 pairs or when either side does not vary."""
    if n < 3:
        return None
    var_x = sxx / n - (sx / n) ** 2
    var_y = syy / n - (sy / n) ** 2
    if var_x <= _MIN_VARIANCE or var_y <= _MIN_VARIANCE:
        return None
    cov = sxy / n - (sx / n) * (sy / n)
    return max(-1.0, min(1.0, cov / math.sqrt(var_x * var_y)))


def _sample_sd(n: int, sx: float, sxx: float) -> float | None:
    if n < 2:
        return None
    return math.sqrt(max(0.0, (sxx - sx * sx / n) / (n - 1)))


def _calibration(item: Item) -> ItemCalibration | None:
    try:
        return item.calibration
    except ItemCalibration.DoesNotExist:
        return None


def _picks(items: dict[int, Item]) -> dict[int, tuple[Counter[str], int, int]]:
    """Per item: picks per option id, answers and blank answers, over its current version."""
    found: dict[int, tuple[Counter[str], int, int]] = {}
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    answers: Counter[int] = Counter()
    blank: Counter[int] = Counter()
    rows = (
        _graded_answers()
        .filter(
            item_version__item_id__in=list(items),
            item_version__item__type__in=choice_types(),
            item_version_id=F("item_version__item__current_version_id"),
        )
        .values_list("item_version__item_id", "answer", "layout")
    )
    for item_id, answer, layout in rows.iterator(chunk_size=5000):
        item = items[item_id]
        handler = handler_for(item.type)
        version = item.current_version
        if version is None:
            continue
        try:
            given = handler.to_item_ids(answer if isinstance(answer, dict) else None, layout or {})
            picked = handler.choice_picks(version.data, given)
        except (KeyError, TypeError, ValueError, AttributeError):
            picked = []  # an answer this version cannot read counts as no pick
        answers[item_id] += 1
        if picked:
            counts[item_id].update(picked)
        else:
            blank[item_id] += 1
    for item_id in answers:
        found[item_id] = (counts[item_id], answers[item_id], blank[item_id])
    return found


def _flags(
    *, n: int, rest_n: int, full: int, discrimination: float | None, fit: float | None
) -> list[ItemFlag]:
    flags = []
    if rest_n >= FLAG_MIN_ANSWERS and discrimination is not None and discrimination < 0:
        flags.append(ItemFlag.NEGATIVE_DISCRIMINATION)
    if n >= FLAG_MIN_ANSWERS and full == 0:
        flags.append(ItemFlag.NOBODY_CORRECT)
    if n >= FLAG_MIN_ANSWERS and full == n:
        flags.append(ItemFlag.EVERYBODY_CORRECT)
    if fit is not None and fit > POOR_FIT_RMSD:
        flags.append(ItemFlag.POOR_FIT)
    return flags


def item_statistics(
    *, stage: Stage | None = None, item: Item | None = None, picks: bool = True
) -> list[ItemStats]:
    """The statistics of every item (of one stage, or one item), in the bank's order.

    Three queries whatever the number of answers (see the module docstring); two without
    ``picks``. The picks are the one part that reads every answer in Python (about 20 µs
    each), so a page over the whole bank may leave them out.
    """
    items_qs = Item.objects.select_related("current_version", "topic", "stage", "calibration")
    answers = _graded_answers()
    if stage is not None:
        items_qs = items_qs.filter(stage=stage)
        answers = answers.filter(item_version__item__stage=stage)
    if item is not None:
        items_qs = items_qs.filter(pk=item.pk)
        answers = answers.filter(item_version__item=item)
    items = {i.pk: i for i in items_qs}
    sums: dict[int, dict[str, Any]] = {
        row["item_version__item_id"]: dict(row)
        for row in answers.values("item_version__item_id").annotate(**_sums()).order_by()
    }
    counted = _picks(items) if items and picks else {}
    rows = []
    for pk, found in items.items():
        s = sums.get(pk)
        n = int(s["n"]) if s else 0
        sx, sxx = (float(s["sx"] or 0), float(s["sxx"] or 0)) if s else (0.0, 0.0)
        rest_n = int(s["m"]) if s else 0
        discrimination = (
            correlation(
                rest_n,
                float(s["mx"] or 0),
                float(s["my"] or 0),
                float(s["mxx"] or 0),
                float(s["myy"] or 0),
                float(s["mxy"] or 0),
            )
            if s
            else None
        )
        full = int(s["full"]) if s else 0
        calibration = _calibration(found)
        if calibration is not None and calibration.calibrated:
            a, b = calibration.a, calibration.b
            se_a, se_b, fit = calibration.se_a, calibration.se_b, calibration.fit
            calibrated = True
        else:
            prior = prior_for(found)
            a, b, se_a, se_b, fit, calibrated = prior.a, prior.b, None, None, None, False
        choices: list[ChoiceCount] = []
        choice_answers = blank = 0
        version = found.current_version
        handler = handler_for(found.type)
        if picks and handler.has_choices and version is not None:
            per_option, choice_answers, blank = counted.get(pk, (Counter(), 0, 0))
            choices = [
                ChoiceCount(
                    option,
                    per_option[option.id],
                    per_option[option.id] / choice_answers if choice_answers else None,
                )
                for option in handler.choice_options(version.data)
            ]
        rows.append(
            ItemStats(
                item=found,
                n=n,
                facility=sx / n if n else None,
                sd=_sample_sd(n, sx, sxx),
                discrimination=discrimination,
                full_marks=full,
                a=a,
                b=b,
                se_a=se_a,
                se_b=se_b,
                calibrated=calibrated,
                fit=fit,
                choices=choices,
                choice_answers=choice_answers,
                blank=blank,
                flags=_flags(n=n, rest_n=rest_n, full=full, discrimination=discrimination, fit=fit),
            )
        )
    return rows
