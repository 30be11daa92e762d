"""Grading of code and SQL submissions.

State machine of a submission (the only place it is written down):

    submission_create ─┬─ the learner has fewer than the cap in flight ─────────────▶ QUEUED
                       └─ otherwise ─▶ HELD ── a slot frees: one of the learner's ──▶ QUEUED
                                               submissions ends GRADED or ERROR
                                               (same transaction), or the sweeper

    QUEUED ──claim──▶ RUNNING ──result (token matches)──▶ GRADED
      ▲                  │
      │                  ├─ lease expired (worker died/hung) ─ sweeper ─▶ QUEUED (new token later)
      │                  ├─ sandbox unavailable ─▶ QUEUED (the try is not counted)
      │                  ├─ any other fault (grader error, time limit) ─▶ QUEUED (counted)
      └──── sweeper re-enqueues QUEUED rows not enqueued recently (lost message)
                         └─ attempt_count ≥ GRADING_MAX_ATTEMPTS ─▶ ERROR (reason for the learner)

    ERROR / QUEUED / RUNNING ──operator requeue──▶ HELD (then released like any other)

- In flight means QUEUED (sent to the broker) or RUNNING; the cap is
  ``GRADING_MAX_IN_FLIGHT_PER_LEARNER``. HELD is stored as QUEUED with ``enqueued_at`` NULL
  (``quizzes.models.HELD``): learners see it as queued. A held row is never sent, never
  re-sent by the sweeper, and the claim refuses it.
- ``held_submissions_release`` (pipeline/submissions.py) sends a learner's oldest held rows
  while fewer than the cap are in flight, under a lock on the learner's account row, so
  concurrent releases cannot overshoot. Held rows go out in order, one per finished
  submission, behind whatever other learners sent meanwhile: one learner's flood never
  holds more than the cap of the workers.
- The cap never refuses anything: an attempt's submit and the deadline's auto-submit are
  stored at once and wait their turn.
- ``submission_create`` stores QUEUED (or HELD) and sends on commit, never inside the
  transaction.
- ``submission_grade`` claims with a guarded UPDATE (QUEUED and sent, or RUNNING with an
  expired lease) that sets a fresh claim token; 0 rows means someone else holds a live
  lease, or the row is held.
- The result is written with ``WHERE claim_token = <ours>``: a slow worker whose lease was
  taken over writes nothing, so each submission gets exactly one GRADED transition.
- Learner code never runs outside the sandbox: if bubblewrap cannot run, the row waits."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from quizzes.assessments.services import attempt_item_apply_grade
from quizzes.grading.languages import LANGUAGES
from quizzes.grading.outcomes import ReportStatus
from quizzes.grading.runner import GradeReport
from quizzes.grading.sandbox import SandboxUnavailable, check_sandbox
from quizzes.itemtypes import challenge_handler_for
from quizzes.metrics import (
    GRADING_CLAIM_TO_GRADED_SECONDS,
    GRADING_QUEUE_WAIT_SECONDS,
    GRADING_RUNS,
    SANDBOX_RUN_SECONDS,
    SANDBOX_RUNS,
    SANDBOX_TEST_OUTCOMES,
    SWEEPER_RECOVERIES,
)
from quizzes.models import (
    GRADING_UNAVAILABLE,
    HELD,
    Item,
    ItemVersion,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from quizzes.models.sql import (
    HandWritten,
    Names,
    adapt_datetime,
    adapt_json,
    adapt_uuid,
    connection_for,
    read_datetime,
)
from quizzes.pipeline.submissions import enqueue, held_submissions_release, lock_learner

logger = logging.getLogger(__name__)


class GradingInfrastructureError(Exception):
    """A fault that is not the learner's: retry later (bounded)."""


class GradingRun(StrEnum):
    """What one call of ``submission_grade`` did."""

    GRADED = "graded"  # the result is stored
    NOT_CLAIMED = "not-claimed"  # graded already, or another worker holds a live lease
    ERROR = "error"  # tried too often: marked ERROR
    UNAVAILABLE = "unavailable"  # no sandbox: back in the queue, the try not counted
    LOST_LEASE = "lost-lease"  # ran too long; another worker took it over


INFRASTRUCTURE_ERROR = "infrastructure-error"  # raised GradingInfrastructureError: retried
for _outcome in [*GradingRun, INFRASTRUCTURE_ERROR]:
    GRADING_RUNS.labels(str(_outcome))  # every outcome is exported from the start, at 0


# --- sandbox health, cached per process ---------------------------------------------------
_health_cache: dict[str, Any] = {"at": 0.0, "available": False, "reason": ""}


def sandbox_available() -> tuple[bool, str]:
    now = time.monotonic()
    if now - _health_cache["at"] > settings.SANDBOX_HEALTH_CACHE_SECONDS:
        try:
            health = check_sandbox()
            _health_cache.update(available=health.available, reason=health.reason)
        except Exception as exc:
            _health_cache.update(available=False, reason=f"{type(exc).__name__}: {exc}")
        _health_cache["at"] = now
    return bool(_health_cache["available"]), str(_health_cache["reason"])


def forget_sandbox_health() -> None:
    _health_cache["at"] = 0.0


@dataclass(frozen=True)
class VersionRef:
    """An item version as the claim returns it: enough to find its parsed challenge in
    the cache below without loading the version's data."""

    pk: int
    content_hash: str
    item_type: str


# Item versions never change once stored, so their parsed specs can be kept per process.
_spec_cache: dict[tuple[int, str], Any] = {}


_SPEC_CACHE_SIZE = 256


def _item_type(version: ItemVersion | VersionRef) -> str:
    return version.item_type if isinstance(version, VersionRef) else version.item.type


def challenge_spec(version: ItemVersion | VersionRef) -> Any:
    key = (version.pk, version.content_hash)
    spec = _spec_cache.get(key) if version.pk else None
    if spec is None:
        if isinstance(version, VersionRef):
            data = ItemVersion.objects.values_list("data", flat=True).get(pk=version.pk)
        else:
            data = version.data
        spec = challenge_handler_for(_item_type(version)).parse_spec(data["challenge"])
        if version.pk:
            if len(_spec_cache) >= _SPEC_CACHE_SIZE:
                _spec_cache.pop(next(iter(_spec_cache)))
            _spec_cache[key] = spec
    return spec


def run_grader(
    version: ItemVersion | VersionRef,
    source: str,
    *,
    visible_only: bool,
    slot: int,
    language: str = "",
) -> GradeReport:
    """Grade ``source`` (written in ``language``; "" for the type's own) against an item
    version's challenge through the sandbox runner."""
    handler = challenge_handler_for(_item_type(version))
    return handler.grade(
        challenge_spec(version),
        source,
        language=language or None,
        visible_only=visible_only,
        slot=slot,
    )


def language_unavailable(language: str) -> str | None:
    """Why this worker cannot grade ``language`` (None when it can, or for "")."""
    if not language:
        return None
    if language not in LANGUAGES:
        return f"no worker here grades {language}"
    reason = LANGUAGES[language].unavailable_reason()
    return None if reason is None else f"{LANGUAGES[language].label}: {reason}"


def _release(submission_id: int, token: uuid.UUID, *, reason: str, count_try: bool) -> None:
    """Give a claimed row back to the queue. Waiting for a sandbox costs no try; any other
    fault does, so a submission that always fails (a broken reference solution, a run that
    outlives its time limit) ends as ERROR after GRADING_MAX_ATTEMPTS instead of looping."""
    Submission.objects.filter(pk=submission_id, claim_token=token).update(
        status=SubmissionStatus.QUEUED,
        claim_token=None,
        lease_expires_at=None,
        attempt_count=F("attempt_count") - (0 if count_try else 1),
        enqueued_at=timezone.now(),
        error_reason=reason,
    )


def submission_grade(*, submission_id: int, slot: int = 0) -> GradingRun:
    """Claim, run in the sandbox, and store the result once. Returns what happened.

    Each run is counted (``skillmap_grading_runs_total``) and logged with the submission's
    id; in a worker the log line also carries the submitting request's id (config/logs.py)."""
    try:
        run = _submission_grade(submission_id=submission_id, slot=slot)
    except GradingInfrastructureError as exc:
        GRADING_RUNS.labels(INFRASTRUCTURE_ERROR).inc()
        logger.warning(
            "grading submission %s: %s (%s); retried",
            submission_id,
            INFRASTRUCTURE_ERROR,
            exc,
            extra={"submission_id": submission_id, "outcome": INFRASTRUCTURE_ERROR},
        )
        raise
    GRADING_RUNS.labels(run.value).inc()
    logger.info(
        "grading submission %s: %s",
        submission_id,
        run.value,
        extra={"submission_id": submission_id, "outcome": run.value},
    )
    return run


@dataclass(frozen=True)
class ClaimedSubmission:
    """What the claim returns of the row it claimed: what the rest of the run reads."""

    id: int
    kind: str
    source: str
    language: str
    attempt_count: int
    attempt_item_id: int | None
    learner_id: int | None
    enqueued_at: datetime | None
    item_version_id: int
    score: float | None = None  # set once graded

    @property
    def pk(self) -> int:
        return self.id


_CLAIMED_FIELDS = (
    "id", "kind", "source", "language", "attempt_count", "attempt_item", "learner",
    "enqueued_at", "item_version",
)  # fmt: skip


def _claim_sql(n: Names) -> str:
    """The guarded claim: QUEUED and sent (not held), or RUNNING with an expired lease;
    it returns the claimed fields, then the item version's content hash and its item's
    type, by subqueries on the row's item version (``UPDATE … RETURNING``, on PostgreSQL
    and SQLite alike). Identifiers from the models' meta, quoted; no value is spliced in."""
    sub, versions, items = n.table(Submission), n.table(ItemVersion), n.table(Item)

    def c(name: str) -> str:
        return f"{sub}.{n.col(Submission, name)}"

    version_of = f"v.{n.col(ItemVersion, 'id')} = {c('item_version')}"
    return (
        f"UPDATE {sub} SET {n.col(Submission, 'status')} = %s, "  # noqa: S608
        f"{n.col(Submission, 'claim_token')} = %s, {n.col(Submission, 'lease_expires_at')} = %s, "
        f"{n.col(Submission, 'attempt_count')} = {c('attempt_count')} + 1, "
        f"{n.col(Submission, 'started_at')} = %s "
        f"WHERE {c('id')} = %s AND (({c('status')} = %s AND {c('enqueued_at')} IS NOT NULL) "
        f"OR ({c('status')} = %s AND {c('lease_expires_at')} < %s)) "
        f"RETURNING {', '.join(c(name) for name in _CLAIMED_FIELDS)}, "
        f"(SELECT v.{n.col(ItemVersion, 'content_hash')} FROM {versions} v WHERE {version_of}), "
        f"(SELECT i.{n.col(Item, 'type')} FROM {items} i JOIN {versions} v "
        f"ON v.{n.col(ItemVersion, 'item')} = i.{n.col(Item, 'id')} WHERE {version_of})"
    )


_CLAIM = HandWritten(_claim_sql)


def _claim(
    submission_id: int, token: uuid.UUID, now: datetime
) -> tuple[ClaimedSubmission, VersionRef] | None:
    """Claim the row in one statement; None when nothing was claimed (graded already,
    held, or another worker holds a live lease)."""
    connection = connection_for(Submission)
    lease = now + timedelta(seconds=settings.GRADING_LEASE_SECONDS)
    params = [
        SubmissionStatus.RUNNING.value,
        adapt_uuid(connection, token),
        adapt_datetime(connection, lease),
        adapt_datetime(connection, now),
        submission_id,
        SubmissionStatus.QUEUED.value,
        SubmissionStatus.RUNNING.value,
        adapt_datetime(connection, now),
    ]
    using = connection.alias
    with transaction.mark_for_rollback_on_error(using=using), connection.cursor() as cursor:
        cursor.execute(_CLAIM.on(connection), params)
        row = cursor.fetchone()
    if row is None:
        return None
    pk, kind, source, language, tries, attempt_item_id, learner_id, enqueued_at, version_id = row[
        : len(_CLAIMED_FIELDS)
    ]
    content_hash, item_type = row[len(_CLAIMED_FIELDS) :]
    claimed = ClaimedSubmission(
        id=pk, kind=kind, source=source, language=language, attempt_count=tries,
        attempt_item_id=attempt_item_id, learner_id=learner_id,
        enqueued_at=read_datetime(connection, enqueued_at), item_version_id=version_id,
    )  # fmt: skip
    return claimed, VersionRef(version_id, content_hash, item_type)


def _submission_grade(*, submission_id: int, slot: int) -> GradingRun:
    claimed_at = time.monotonic()
    now = timezone.now()
    token = uuid.uuid4()
    claimed = _claim(submission_id, token, now)
    if claimed is None:
        return GradingRun.NOT_CLAIMED
    submission, version = claimed
    if submission.enqueued_at is not None:
        GRADING_QUEUE_WAIT_SECONDS.observe(max(0.0, (now - submission.enqueued_at).total_seconds()))
    if submission.attempt_count > settings.GRADING_MAX_ATTEMPTS:
        _mark_error(submission.id, token, "Grading failed repeatedly; an operator has been told.")
        return GradingRun.ERROR
    available, reason = sandbox_available()
    if not available:
        SANDBOX_RUNS.labels("unavailable").inc()
        _release(submission_id, token, reason=f"{GRADING_UNAVAILABLE}: {reason}", count_try=False)
        return GradingRun.UNAVAILABLE
    missing = language_unavailable(submission.language)
    if missing is not None:
        # Another worker may have the toolchain: back in the queue, the try not counted;
        # the learner sees why it waits.
        _release(submission_id, token, reason=f"{GRADING_UNAVAILABLE}: {missing}", count_try=False)
        return GradingRun.UNAVAILABLE
    try:
        report = run_grader(
            version,
            submission.source,
            visible_only=submission.kind == SubmissionKind.RUN_EXAMPLES,
            slot=slot,
            language=submission.language,
        )
    except SandboxUnavailable as exc:
        SANDBOX_RUNS.labels("unavailable").inc()
        forget_sandbox_health()
        _release(submission_id, token, reason=f"{GRADING_UNAVAILABLE}: {exc}", count_try=False)
        return GradingRun.UNAVAILABLE
    except Exception as exc:
        SANDBOX_RUNS.labels("crashed").inc()
        logger.exception(
            "grading submission %s failed", submission_id, extra={"submission_id": submission_id}
        )
        _release(
            submission_id, token, reason=f"infrastructure: {type(exc).__name__}", count_try=True
        )
        raise GradingInfrastructureError(str(exc)) from exc
    SANDBOX_RUNS.labels(str(report.status)).inc()
    SANDBOX_RUN_SECONDS.observe(report.wall_seconds)
    for outcome in report.outcomes:
        SANDBOX_TEST_OUTCOMES.labels(str(outcome.category)).inc()
    if report.status == ReportStatus.ERROR:
        # The harness itself failed (not the learner's code): retry, bounded.
        _release(submission_id, token, reason=report.message, count_try=True)
        raise GradingInfrastructureError(report.message)
    if not _store_result(submission, token, report):
        return GradingRun.LOST_LEASE
    GRADING_CLAIM_TO_GRADED_SECONDS.observe(time.monotonic() - claimed_at)
    return GradingRun.GRADED


def _graded_sql(n: Names) -> str:
    """The result's guarded UPDATE: written only while our claim token holds."""
    sets = ", ".join(
        f"{n.col(Submission, name)} = %s"
        for name in ("status", "score", "results", "graded_at", "run_seconds")
    )
    return (
        f"UPDATE {n.table(Submission)} SET {sets}, "  # noqa: S608
        f"{n.col(Submission, 'lease_expires_at')} = NULL, "
        f"{n.col(Submission, 'error_reason')} = '' "
        f"WHERE {n.col(Submission, 'id')} = %s AND {n.col(Submission, 'claim_token')} = %s "
        f"AND {n.col(Submission, 'status')} = %s"
    )


_GRADED = HandWritten(_graded_sql)


def _store_result(submission: ClaimedSubmission, token: uuid.UUID, report: GradeReport) -> bool:
    """One transaction: the result (if our claim still holds), the attempt item's grade
    (which may finish the attempt), and the release of the learner's held rows."""
    connection = connection_for(Submission)
    params = [
        SubmissionStatus.GRADED.value,
        report.score,
        adapt_json(connection, report.to_dict()),
        adapt_datetime(connection, timezone.now()),
        report.wall_seconds,
        submission.id,
        adapt_uuid(connection, token),
        SubmissionStatus.RUNNING.value,
    ]
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute(_GRADED.on(connection), params)
            if cursor.rowcount != 1:
                return False
        if submission.attempt_item_id is not None:
            attempt_item_apply_grade(submission=replace(submission, score=report.score))
        held_submissions_release(learner_id=submission.learner_id)
    return True


def _mark_error(submission_id: int, token: uuid.UUID | None, reason: str) -> bool:

    with transaction.atomic():
        guard = Q(claim_token=token) if token else Q(claim_token__isnull=True)
        written = (
            Submission.objects.filter(pk=submission_id)
            .filter(guard)
            .update(
                status=SubmissionStatus.ERROR,
                error_reason=reason,
                score=0.0,
                graded_at=timezone.now(),
                lease_expires_at=None,
            )
        )
        if written:
            submission = Submission.objects.get(pk=submission_id)
            attempt_item_apply_grade(submission=submission)
            held_submissions_release(learner_id=submission.learner_id)
    return bool(written)


@dataclass
class SweepReport:
    requeued_expired: list[int] = field(default_factory=list)
    requeued_stale: list[int] = field(default_factory=list)
    errored: list[int] = field(default_factory=list)
    released_held: list[int] = field(default_factory=list)


def submissions_sweep() -> SweepReport:
    """Recover from lost messages and dead workers; give up after GRADING_MAX_ATTEMPTS."""
    report = SweepReport()
    now = timezone.now()
    expired = Submission.objects.filter(
        status=SubmissionStatus.RUNNING, lease_expires_at__lt=now
    ).values_list("pk", "claim_token", "attempt_count")
    for pk, token, tries in expired[:500]:
        if tries >= settings.GRADING_MAX_ATTEMPTS:
            if _mark_error(pk, token, "Grading did not finish after several tries."):
                report.errored.append(pk)
            continue
        with transaction.atomic():
            moved = Submission.objects.filter(
                pk=pk, claim_token=token, status=SubmissionStatus.RUNNING
            ).update(
                status=SubmissionStatus.QUEUED,
                claim_token=None,
                lease_expires_at=None,
                enqueued_at=now,
            )
            if moved:
                enqueue(pk)
                report.requeued_expired.append(pk)
    stale_before = now - timedelta(seconds=settings.GRADING_REQUEUE_AFTER_SECONDS)
    stale = Submission.objects.filter(
        status=SubmissionStatus.QUEUED, enqueued_at__lt=stale_before
    ).values_list("pk", flat=True)
    for pk in list(stale[:500]):
        with transaction.atomic():
            moved = Submission.objects.filter(
                pk=pk, status=SubmissionStatus.QUEUED, enqueued_at__lt=stale_before
            ).update(enqueued_at=now)
            if moved:
                enqueue(pk)
                report.requeued_stale.append(pk)
    # Held rows whose release was missed (or whose learner's cap was raised) go out now.
    waiting = Submission.objects.filter(HELD).values_list("learner_id", flat=True).distinct()
    for learner_id in list(waiting.order_by("learner_id")[:500]):
        report.released_held += held_submissions_release(learner_id=learner_id)
    for kind, ids in (
        ("expired_lease", report.requeued_expired),
        ("stale_queued", report.requeued_stale),
        ("errored", report.errored),
        ("released_held", report.released_held),
    ):
        SWEEPER_RECOVERIES.labels(kind).inc(len(ids))
        if ids:
            logger.info(
                "sweeper: %s %s", kind, ids, extra={"sweep": kind, "submission_ids": ids[:50]}
            )
    return report


def submission_requeue(*, submission: Submission) -> bool:
    """Operator action: put an ERROR (or stuck) submission back in the queue, fresh.

    It goes back in line behind the learner's cap like a new submission."""
    with transaction.atomic():
        if submission.learner_id is not None:
            lock_learner(submission.learner_id)
        moved = Submission.objects.filter(
            pk=submission.pk,
            status__in=[SubmissionStatus.ERROR, SubmissionStatus.QUEUED, SubmissionStatus.RUNNING],
        ).update(
            status=SubmissionStatus.QUEUED,
            claim_token=None,
            lease_expires_at=None,
            attempt_count=0,
            enqueued_at=None,  # held until released
            error_reason="",
        )
        if moved:
            held_submissions_release(learner_id=submission.learner_id)
    return bool(moved)
