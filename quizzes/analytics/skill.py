"""Skill estimates and item calibration over the database (the model is ``quizzes.skill``).

- Evidence: every graded answer in a graded attempt whose feedback is due (an
  after-close quiz's answers count once it closes), as a fraction of the item's points.
  When a learner answered an item several times, the latest answer counts. Older answers
  weigh less: weight = 0.5 ** (age in days / ``SKILL_HALF_LIFE_DAYS``).
- A learner's programming language narrows stage 1's evidence to that language
  (``evidence_in_language``): a Go learner's stage-1 estimate rests on Go evidence.
- ``skill_update_learner`` recomputes one learner's stage and topic estimates;
  ``skill_updates_drain`` runs it for every learner a graded attempt or a regrade marked
  out of date (``SkillUpdateRequest``, written with the grade); ``skill_calibrate``
  recalibrates the items that have enough responses and recomputes the estimates it
  affects (a periodic task).
- Pages read the stored rows; nothing here runs per request.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from quizzes.assessments.feedback import feedback_due_q
from quizzes.assessments.services import skill_updates_kick
from quizzes.bank.calibration import item_params, prior_for
from quizzes.itemtypes import any_language_types
from quizzes.models import (
    AttemptItem,
    AttemptStatus,
    CalibrationRun,
    FeedbackMode,
    Item,
    ItemCalibration,
    LearnerPreference,
    SkillEstimate,
    SkillHistory,
    SkillUpdateRequest,
    Stage,
    Topic,
)
from quizzes.preferences import learner_language
from quizzes.skill import (
    CalibrationResponse,
    ItemParams,
    Response,
    calibrate,
    estimate_abilities,
    estimate_ability_eap,
    item_fit,
    recency_weight,
)

DEFAULT_LANGUAGE = "python"  # a code answer saved before answers named their language
User = get_user_model()

# History rows are written when a stage estimate moves by more than this (or its N changes).
HISTORY_MIN_CHANGE = 1e-3

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evidence:
    item_id: int
    stage: int  # the stage's number
    topic_id: int
    fraction: float
    at: datetime
    # The programming language a code challenge was answered in ("" for other items).
    language: str = ""


def _evidence_rows(learner_ids: Iterable[int] | None) -> Iterable[tuple[int, Evidence]]:
    answers = AttemptItem.objects.filter(
        feedback_due_q("attempt__"),
        attempt__status=AttemptStatus.GRADED,
        graded_at__isnull=False,
        max_score__gt=0,
        attempt__learner__isnull=False,
    )
    if learner_ids is not None:
        answers = answers.filter(attempt__learner_id__in=list(learner_ids))
    rows = answers.order_by("attempt__graded_at", "pk").values_list(
        "attempt__learner_id",
        "item_version__item_id",
        "item_version__item__stage__number",
        "item_version__item__topic_id",
        "score",
        "max_score",
        "attempt__graded_at",
        "item_version__item__type",
        "answer__language",
    )
    in_any_language = set(any_language_types())
    for (
        learner_id,
        item_id,
        stage,
        topic_id,
        score,
        max_score,
        at,
        item_type,
        language,
    ) in rows.iterator(chunk_size=5000):
        fraction = min(1.0, max(0.0, float(score or 0) / float(max_score)))
        written_in = (language or DEFAULT_LANGUAGE) if item_type in in_any_language else ""
        yield (
            learner_id,
            Evidence(item_id, stage, topic_id, fraction, at or timezone.now(), written_in),
        )


def language_topics() -> dict[int, list[str]]:
    """Topic id → the programming languages it is about, for the language topics."""
    return {t.pk: t.languages for t in Topic.objects.only("pk", "languages") if t.languages}


def evidence_in_language(
    evidence: list[Evidence],
    language: str | None,
    topics: dict[int, list[str]] | None = None,
) -> list[Evidence]:
    """The evidence a learner's estimates rest on, given their programming language: an
    answer about a language topic (stage 1's) counts only if it is about theirs, and a
    code challenge of such a topic only if they wrote it in their language. Without a
    language, all of it."""
    if not language:
        return evidence
    if topics is None:
        topics = language_topics()
    kept = []
    for e in evidence:
        about = topics.get(e.topic_id)
        if about is None:
            kept.append(e)
        elif e.language:
            if e.language == language:
                kept.append(e)
        elif language in about:
            kept.append(e)
    return kept


def learners_evidence(learner_ids: Iterable[int] | None = None) -> dict[int, list[Evidence]]:
    """Each learner's latest answer per item, oldest first."""
    latest: dict[int, dict[int, Evidence]] = defaultdict(dict)
    for learner_id, evidence in _evidence_rows(learner_ids):
        latest[learner_id].pop(evidence.item_id, None)
        latest[learner_id][evidence.item_id] = evidence
    return {learner: list(by_item.values()) for learner, by_item in latest.items()}


def _responses(evidence: list[Evidence], now: datetime) -> list[Response]:
    half_life = settings.SKILL_HALF_LIFE_DAYS
    return [
        Response(
            item=e.item_id,
            stage=e.stage,
            score=e.fraction,
            weight=recency_weight(max(0.0, (now - e.at).total_seconds() / 86400), half_life),
        )
        for e in evidence
    ]


def _stages() -> dict[int, int]:
    """Active stages: number → id."""
    return dict(Stage.objects.active().values_list("number", "pk"))


def skill_update_learner(learner_id: int) -> None:
    """Recompute one learner's stage and topic estimates from all their evidence."""
    evidence = evidence_in_language(
        learners_evidence([learner_id]).get(learner_id, []),
        learner_language(user=User.objects.filter(pk=learner_id).first()),
    )
    items = Item.objects.filter(pk__in={e.item_id for e in evidence}).select_related(
        "current_version"
    )
    _store_estimates({learner_id: evidence}, item_params(items), _stages())


def _store_estimates(
    evidence_by_learner: dict[int, list[Evidence]],
    params: dict[Hashable, ItemParams],
    stages: dict[int, int],
) -> int:
    now = timezone.now()
    numbers = sorted(stages)
    updated = 0
    for learner_id, evidence in evidence_by_learner.items():
        known = [e for e in evidence if e.item_id in params and e.stage in stages]
        estimates = estimate_abilities(
            _responses(known, now),
            params,
            numbers,
            correlation=settings.SKILL_STAGE_CORRELATION,
        )
        by_topic: dict[tuple[int, int], list[Evidence]] = defaultdict(list)
        for e in known:
            by_topic[(e.stage, e.topic_id)].append(e)
        with transaction.atomic():
            stored = {
                (row.stage_id, row.topic_id): row
                for row in SkillEstimate.objects.select_for_update().filter(learner_id=learner_id)
            }
            keep: set[tuple[int, int | None]] = set()
            history = []
            # Rows to insert and rows that changed, written in bulk below (not one per row).
            writes: tuple[list[SkillEstimate], list[SkillEstimate]] = ([], [])
            for number in numbers:
                estimate = estimates[number]
                if estimate.n == 0:
                    continue  # not assessed: no row, never a zero
                stage_id = stages[number]
                keep.add((stage_id, None))
                old = stored.get((stage_id, None))
                if (
                    old is None
                    or abs(old.theta - estimate.theta) > HISTORY_MIN_CHANGE
                    or old.n_answers != estimate.n
                ):
                    history.append(
                        SkillHistory(
                            learner_id=learner_id,
                            stage_id=stage_id,
                            theta=estimate.theta,
                            se=estimate.se,
                            n_answers=estimate.n,
                            at=now,
                        )
                    )
                _upsert(
                    stored,
                    writes,
                    learner_id,
                    stage_id,
                    None,
                    estimate.theta,
                    estimate.se,
                    estimate.n,
                    now,
                )
            for (number, topic_id), answers in by_topic.items():
                stage_id = stages[number]
                topic = estimate_ability_eap(
                    [a.fraction for a in answers],
                    [params[a.item_id] for a in answers],
                    prior_mean=estimates[number].theta,
                    prior_sd=settings.SKILL_TOPIC_SD,
                )
                keep.add((stage_id, topic_id))
                _upsert(
                    stored,
                    writes,
                    learner_id,
                    stage_id,
                    topic_id,
                    topic.theta,
                    topic.se,
                    topic.n,
                    now,
                )
            stale = [row.pk for key, row in stored.items() if key not in keep]
            if stale:
                SkillEstimate.objects.filter(pk__in=stale).delete()
            new, changed = writes
            if changed:
                # Rewritten under the lock with their own ids: a DELETE and an INSERT cost
                # far less than bulk_update's CASE per field and row (or a save per row).
                SkillEstimate.objects.filter(pk__in=[row.pk for row in changed]).delete()
            if new or changed:
                SkillEstimate.objects.bulk_create([*changed, *new])
            if history:
                SkillHistory.objects.bulk_create(history)
        updated += 1
    return updated


def _upsert(
    stored: dict[tuple[int, int | None], SkillEstimate],
    writes: tuple[list[SkillEstimate], list[SkillEstimate]],
    learner_id: int,
    stage_id: int,
    topic_id: int | None,
    theta: float,
    se: float,
    n: int,
    now: datetime,
) -> None:
    """Queue a new row, or a stored row whose values changed (written in bulk after)."""
    new, changed = writes
    row = stored.get((stage_id, topic_id))
    if row is None:
        new.append(
            SkillEstimate(
                learner_id=learner_id,
                stage_id=stage_id,
                topic_id=topic_id,
                theta=theta,
                se=se,
                n_answers=n,
                updated_at=now,
            )
        )
        return
    if (row.theta, row.se, row.n_answers) != (theta, se, n):
        row.theta, row.se, row.n_answers, row.updated_at = theta, se, n, now
        changed.append(row)


@dataclass(frozen=True)
class CalibrationReport:
    responses: int
    items_calibrated: int
    learners_updated: int
    converged: bool
    seconds: float


def skill_calibrate() -> CalibrationReport:
    """Calibrate every item with at least ``SKILL_MIN_RESPONSES`` responses, on the scale of
    the previous calibration (storing each one's RMSD item fit), then recompute the
    estimates of the learners who answered an item whose parameters changed."""
    started = timezone.now()
    clock = time.perf_counter()
    evidence = learners_evidence()
    responses = [
        CalibrationResponse(person=learner, item=e.item_id, stage=e.stage, score=e.fraction)
        for learner, answers in evidence.items()
        for e in answers
    ]
    items = {
        i.pk: i
        for i in Item.objects.filter(pk__in={r.item for r in responses}).select_related(
            "current_version"
        )
    }
    responses = [r for r in responses if r.item in items]
    priors: dict[Hashable, ItemParams] = {pk: prior_for(item) for pk, item in items.items()}
    previous: dict[Hashable, ItemParams] = {
        c.item_id: ItemParams(a=c.a, b=c.b, se_a=c.se_a, se_b=c.se_b, calibrated=True)
        for c in ItemCalibration.objects.filter(calibrated=True, item_id__in=items)
    }
    result = calibrate(responses, priors, previous, min_responses=settings.SKILL_MIN_RESPONSES)
    # Each item's RMSD fit under the new parameters (item statistics flag a poor fit).
    fits = item_fit(responses, result.params) if responses else {}
    counts: dict[Hashable, int] = defaultdict(int)
    for r in responses:
        counts[r.item] += 1
    changed: set[int] = set()
    with transaction.atomic():
        existing = {c.item_id: c for c in ItemCalibration.objects.filter(item_id__in=items)}
        for key, params in result.params.items():
            if not params.calibrated:
                continue
            pk = cast(int, key)
            row = existing.get(pk)
            if row is None:
                row = ItemCalibration(item_id=pk)
            moved = (row.a, row.b) != (params.a, params.b) if row.pk else True
            row.a, row.b, row.se_a, row.se_b = params.a, params.b, params.se_a, params.se_b
            row.calibrated = True
            row.fit = fits[key].rmsd if key in fits else None
            row.n_responses = counts[pk]
            row.calibrated_at = started
            row.save()
            if moved:
                changed.add(pk)
    languages = dict(
        LearnerPreference.objects.filter(user_id__in=evidence).values_list("user_id", "language")
    )
    topics = language_topics()
    affected = {
        learner: evidence_in_language(answers, languages.get(learner), topics)
        for learner, answers in evidence.items()
        if any(e.item_id in changed for e in answers)
    }
    updated = _store_estimates(affected, item_params(items.values()), _stages()) if affected else 0
    seconds = time.perf_counter() - clock
    CalibrationRun.objects.create(
        started_at=started,
        seconds=seconds,
        responses=len(responses),
        items_calibrated=sum(1 for p in result.params.values() if p.calibrated),
        learners_updated=updated,
        converged=result.converged,
        linking={str(k): list(v) for k, v in result.linking.items()},
    )
    return CalibrationReport(
        len(responses),
        sum(1 for p in result.params.values() if p.calibrated),
        updated,
        result.converged,
        seconds,
    )


def learners_to_refresh(*, window: timedelta) -> list[int]:
    """Learners whose evidence changed within ``window``: attempts graded lately (in case a
    task was lost) and after-close quizzes that closed lately (their answers now count)."""
    now = timezone.now()
    recent = (
        AttemptItem.objects.filter(
            attempt__status=AttemptStatus.GRADED,
            attempt__learner__isnull=False,
            attempt__graded_at__gte=now - window,
        )
        .values_list("attempt__learner_id", flat=True)
        .distinct()
    )
    released = (
        AttemptItem.objects.filter(
            attempt__status=AttemptStatus.GRADED,
            attempt__learner__isnull=False,
            attempt__quiz__feedback_mode=FeedbackMode.AFTER_CLOSE,
            attempt__quiz__closes_at__gte=now - window,
            attempt__quiz__closes_at__lte=now,
        )
        .values_list("attempt__learner_id", flat=True)
        .distinct()
    )
    return sorted(set(recent) | set(released))


def skill_refresh(*, window: timedelta) -> int:
    """The periodic catch-up: requests whose drain was lost, then learners whose evidence
    changed lately (``learners_to_refresh``)."""
    drained = skill_updates_drain()
    learners = learners_to_refresh(window=window)
    for learner_id in learners:
        skill_update_learner(learner_id)
    return drained + len(learners)


DRAIN_BATCH = 50


def skill_updates_drain(*, limit: int = 2000) -> int:
    """Recompute the learners named by ``SkillUpdateRequest`` rows, oldest request first,
    until none is left (or ``limit`` updates were made: then another drain is sent).

    A row is removed only if it still holds the request read before the update, so a
    grade committed during the update leaves its row for the next pass. A learner whose
    update fails is logged and let go (the refresh recomputes recent learners anyway), so
    one bad learner never holds up the others. Several drains may run at once: updates
    are idempotent. Returns the number of updates made."""
    done = 0
    while done < limit:
        batch = list(
            SkillUpdateRequest.objects.order_by("requested_at", "learner_id").values_list(
                "learner_id", "requested_at"
            )[: min(DRAIN_BATCH, limit - done)]
        )
        if not batch:
            return done
        for learner_id, requested_at in batch:
            try:
                skill_update_learner(learner_id)
            except Exception:
                logger.exception("skill update of learner %s failed", learner_id)
            SkillUpdateRequest.objects.filter(
                learner_id=learner_id, requested_at=requested_at
            ).delete()
            done += 1
    skill_updates_kick()
    return done


def responses_per_item(item_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        AttemptItem.objects.filter(
            feedback_due_q("attempt__"),
            attempt__status=AttemptStatus.GRADED,
            item_version__item_id__in=list(item_ids),
        )
        .values("item_version__item_id")
        .annotate(n=Count("pk"))
    )
    return {r["item_version__item_id"]: r["n"] for r in rows}
