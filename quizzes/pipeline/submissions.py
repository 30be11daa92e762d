"""Creating submissions: stored QUEUED, enqueued once the transaction commits.

The state machine is written once, in quizzes/pipeline/grading.py."""

from __future__ import annotations

import logging
from functools import partial

from celery import current_app
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from quizzes.models import (
    AttemptItem,
    ItemVersion,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)

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


def submission_create(
    *,
    learner: User | None,
    item_version: ItemVersion,
    source: str,
    kind: str = SubmissionKind.SUBMIT,
    attempt_item: AttemptItem | None = None,
    idempotency_key: str = "",
) -> Submission:
    """Store a QUEUED submission and enqueue its grading once the transaction commits.

    With an ``idempotency_key``, a retried request returns the first submission.
    """
    with transaction.atomic():
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
            idempotency_key=idempotency_key,
            status=SubmissionStatus.QUEUED,
            enqueued_at=timezone.now(),
        )
        enqueue(submission.pk)
    return submission
