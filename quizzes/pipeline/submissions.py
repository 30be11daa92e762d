"""Creating submissions: stored QUEUED, sent to the broker within the learner's cap.

A learner has at most ``GRADING_MAX_IN_FLIGHT_PER_LEARNER`` submissions in flight (sent and
not finished); the others are stored held and sent in order as those finish. The state
machine is written once, in quizzes/pipeline/grading.py."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone

from accounts.models import User
from quizzes.metrics import SUBMISSIONS_CREATED
from quizzes.models import (
    HELD,
    IN_FLIGHT,
    AttemptItem,
    ItemVersion,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from quizzes.models.sql import CompiledQuery, connection_for

logger = logging.getLogger(__name__)

# Sent by name: the task module imports the grading service, which records grades through
# the attempts service, which creates submissions here; naming the task keeps that a line.
GRADE_SUBMISSION_TASK = "skillmap.grading.grade_submission"
# Publishing gives up quickly: a row that could not be sent stays QUEUED and the sweeper
# sends it again, so a broker outage never turns a learner's submit into an error.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}


def _send(submission_id: int) -> None:

    try:
        current_app.send_task(
            GRADE_SUBMISSION_TASK,
            (submission_id,),
            retry=True,
            retry_policy=PUBLISH_RETRY_POLICY,
        )
    except Exception:
        logger.warning(
            "could not enqueue submission %s; the sweeper will retry", submission_id, exc_info=True
        )


def enqueue(submission_id: int) -> None:
    """Send the grading task once the surrounding transaction commits (never before)."""
    transaction.on_commit(partial(_send, submission_id))


# The learner's row, locked (compiled once: quizzes/models/sql.py).
_LEARNER_LOCK = CompiledQuery(
    User,
    lambda learner_id: (
        User.objects.select_for_update(no_key=True).filter(pk=learner_id).values_list("pk")
    ),
    arity=1,
)
# The learner's held and in-flight rows in one read (a few: the cap and the queue behind it).
_LEARNER_QUEUE = CompiledQuery(
    Submission,
    lambda learner_id: (
        Submission.objects.filter(HELD | IN_FLIGHT, learner_id=learner_id)
        .annotate(held=ExpressionWrapper(HELD, output_field=BooleanField()))
        .order_by("pk")
        .values_list("pk", "held")
    ),
    arity=1,
)


def lock_learner(learner_id: int) -> None:
    """Serialise the decisions about one learner's queue until the transaction ends.

    Taken after any attempt lock and before touching another submission's row. NO KEY
    UPDATE, so rows that reference the account can still be inserted meanwhile.
    """
    connection = connection_for(User)
    if not connection.features.has_select_for_update:
        # SQLite: every transaction takes the database's write lock at BEGIN
        # (transaction_mode IMMEDIATE, config/settings.py), which serialises them already.
        return
    with connection.cursor() as cursor:
        _LEARNER_LOCK.execute(cursor, learner_id).fetchall()


def held_submissions_release(*, learner_id: int | None, now: datetime | None = None) -> list[int]:
    """Send the learner's oldest held submissions while fewer than the cap are in flight.

    Called whenever a submission is stored and whenever one reaches GRADED or ERROR, in
    the same transaction; the sends happen on commit. Rows without a learner (their
    account was deleted) are not capped. Returns the ids released, each with its
    ``enqueued_at`` set to ``now``.
    """
    # No savepoint: nothing here is caught and carried on from, and the grading service
    # calls this inside its result transaction for every grade.
    with transaction.atomic(savepoint=False):
        if learner_id is None:
            free = 500
            held = list(
                Submission.objects.filter(HELD, learner_id=None)
                .order_by("pk")
                .values_list("pk", flat=True)[:free]
            )
        else:
            lock_learner(learner_id)
            with connection_for(Submission).cursor() as cursor:
                rows = _LEARNER_QUEUE.execute(cursor, learner_id).fetchall()
            held = [pk for pk, is_held in rows if is_held]
            in_flight = len(rows) - len(held)
            free = settings.GRADING_MAX_IN_FLIGHT_PER_LEARNER - in_flight
        if free <= 0 or not held:
            return []
        now = now or timezone.now()
        released = []
        for pk in held[:free]:
            if Submission.objects.filter(HELD, pk=pk).update(enqueued_at=now):
                enqueue(pk)
                released.append(pk)
    return released


def submission_create(
    *,
    learner: User | None,
    item_version: ItemVersion,
    source: str,
    kind: str = SubmissionKind.SUBMIT,
    attempt_item: AttemptItem | None = None,
    idempotency_key: str = "",
    language: str = "",
) -> Submission:
    """Store a QUEUED submission; send it on commit unless the learner has the cap in flight.

    Never refused for the learner's load: over the cap, it is stored held and sent when
    an earlier one finishes. With an ``idempotency_key``, a retried request returns the
    first submission.
    """
    # No savepoint inside a caller's transaction (a submit): a failure here fails it whole.
    with transaction.atomic(savepoint=False):
        if idempotency_key and learner is not None:
            existing = Submission.objects.filter(
                learner=learner, idempotency_key=idempotency_key
            ).first()
            if existing is not None:
                return existing
        submission = Submission.objects.create(
            learner=learner,
            item_version=item_version,
            attempt_item=attempt_item,
            kind=kind,
            source=source,
            language=language,
            idempotency_key=idempotency_key,
            status=SubmissionStatus.QUEUED,
            enqueued_at=None,  # held, until released below (first in, first out)
        )
        now = timezone.now()
        if submission.pk in held_submissions_release(learner_id=submission.learner_id, now=now):
            submission.enqueued_at = now
    # In a request, this line carries its request id, as do the grading task's lines.
    SUBMISSIONS_CREATED.labels(kind).inc()
    logger.info(
        "submission %s stored for grading (%s)",
        submission.pk,
        "sent" if submission.enqueued_at else "held behind the learner's in-flight cap",
        extra={"submission_id": submission.pk, "kind": kind},
    )
    return submission
