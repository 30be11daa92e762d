"""The bank's Celery tasks on the grading queue: verifying a challenge, and running an
author's trial solution as a learner's would be graded."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from quizzes.bank.trial import TRIAL_CHALLENGE_TASK, trial_run
from quizzes.bank.verification import (
    MAX_GRADINGS_PER_VERIFICATION,
    VERIFY_CHALLENGE_TASK,
    verification_run,
)
from quizzes.models import ChallengeVerification, VerificationStatus
from quizzes.pipeline.tasks import worker_slot


@shared_task(
    name=VERIFY_CHALLENGE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.GRADING_TASK_SOFT_TIME_LIMIT * MAX_GRADINGS_PER_VERIFICATION,
    time_limit=settings.GRADING_TASK_TIME_LIMIT * MAX_GRADINGS_PER_VERIFICATION,
    ignore_result=True,
)
def verify_challenge(verification_id: int) -> str:
    # Idempotent by the claim: a redelivered message finds the row taken and does nothing.
    try:
        return verification_run(verification_id=verification_id, slot=worker_slot())
    except SoftTimeLimitExceeded:
        ChallengeVerification.objects.filter(
            pk=verification_id, status=VerificationStatus.RUNNING
        ).update(
            status=VerificationStatus.ERROR,
            problems=["The verification took too long and was stopped."],
            finished_at=timezone.now(),
        )
        return str(VerificationStatus.ERROR)


@shared_task(
    name=TRIAL_CHALLENGE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.GRADING_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.GRADING_TASK_TIME_LIMIT,
    ignore_result=True,
)
def trial_challenge(trial_id: int) -> str:
    # Idempotent by the claim, as verify_challenge.
    try:
        return trial_run(trial_id=trial_id, slot=worker_slot())
    except SoftTimeLimitExceeded:
        ChallengeVerification.objects.filter(pk=trial_id, status=VerificationStatus.RUNNING).update(
            status=VerificationStatus.ERROR,
            problems=["The run took too long and was stopped."],
            finished_at=timezone.now(),
        )
        return str(VerificationStatus.ERROR)
