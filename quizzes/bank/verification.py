"""Verifying a challenge: its reference and wrong solutions run through the real grading.

An author presses "Verify" on a challenge; ``verification_request`` stores a QUEUED
``ChallengeVerification`` of the current version and, once that commits, sends
``VERIFY_CHALLENGE_TASK`` by name to the grading queue (the same workers and sandbox as
learners' code). The task calls ``verification_run``, which claims the row with a guarded
UPDATE (QUEUED → RUNNING, so a redelivered message does nothing), runs every solution
against every test (``quizzes.bank.check.challenge_runs``, the rules of ``check_bank``)
and stores each test's outcome with PASSED or FAILED. Publishing a challenge needs a PASSED
verification of its current version (``verification_passed``); a new version needs its
own.

A worker that dies mid-run leaves the row RUNNING; the page calls a run older than
``STALE_AFTER`` stalled, and the author verifies again (a new row).

The same table holds an author's trial runs (quizzes/bank/trial.py, purpose TRIAL); every
function here reads the VERIFY rows only, so a trial never passes the publish gate.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from quizzes.bank.check import challenge_runs, unavailable_languages
from quizzes.grading.sandbox import SandboxUnavailable
from quizzes.itemtypes import handler_for
from quizzes.itemtypes.base import strip_lines
from quizzes.models import (
    ChallengeVerification,
    Item,
    ItemVersion,
    VerificationPurpose,
    VerificationStatus,
)

logger = logging.getLogger(__name__)

# Routed to the grading queue by its name (CELERY_TASK_ROUTES: "skillmap.grading.*").
VERIFY_CHALLENGE_TASK = "skillmap.grading.verify_challenge"
# A verification grades the reference and each wrong solution in turn.
MAX_GRADINGS_PER_VERIFICATION = 6


def stale_after() -> timedelta:
    return timedelta(seconds=settings.GRADING_TASK_TIME_LIMIT * MAX_GRADINGS_PER_VERIFICATION + 60)


class VerificationError(Exception):
    """The item cannot be verified (not a challenge, no content); the message says why."""


def send_run(verification_id: int, task: str = VERIFY_CHALLENGE_TASK) -> None:
    try:
        current_app.send_task(
            task,
            (verification_id,),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception:
        # Nothing re-sends a verification: say so, and the author presses Verify again.
        logger.warning("could not enqueue verification %s", verification_id, exc_info=True)
        ChallengeVerification.objects.filter(
            pk=verification_id, status=VerificationStatus.QUEUED
        ).update(
            status=VerificationStatus.ERROR,
            problems=["The grading queue could not be reached: try again in a moment."],
            finished_at=timezone.now(),
        )


def verification_request(*, item: Item, author: User | None) -> ChallengeVerification:
    """Queue a verification of ``item``'s current version (sent once the caller commits)."""
    if not handler_for(item.type).needs_sandbox:
        raise VerificationError("Only code and SQL challenges are verified.")
    if item.current_version is None:
        raise VerificationError("The item has no content to verify yet.")
    with transaction.atomic():
        verification = ChallengeVerification.objects.create(
            version=item.current_version, requested_by=author
        )
        transaction.on_commit(partial(send_run, verification.pk))
    return verification


def verification_run_now(*, item: Item, author: User | None) -> ChallengeVerification:
    """Verify ``item``'s current version in this process (the API's synchronous verify),
    recorded like one run by a worker."""
    if not handler_for(item.type).needs_sandbox:
        raise VerificationError("Only code and SQL challenges are verified.")
    if item.current_version is None:
        raise VerificationError("The item has no content to verify yet.")
    verification = ChallengeVerification.objects.create(
        version=item.current_version, requested_by=author
    )
    verification_run(verification_id=verification.pk)
    verification.refresh_from_db()
    return verification


def verification_run(*, verification_id: int, slot: int = 0) -> str:
    """Run a queued verification (the task's body); returns the status it ended with."""
    claimed = ChallengeVerification.objects.filter(
        pk=verification_id, status=VerificationStatus.QUEUED, purpose=VerificationPurpose.VERIFY
    ).update(status=VerificationStatus.RUNNING, started_at=timezone.now())
    if not claimed:
        return "skipped"  # unknown, or claimed by an earlier delivery
    verification = ChallengeVerification.objects.select_related("version__item").get(
        pk=verification_id
    )
    entry = strip_lines(verification.version.source)
    try:
        runs = challenge_runs(entry, slot, skip=unavailable_languages())
    except SandboxUnavailable as exc:
        status, found, problems = VerificationStatus.ERROR, [], [f"Grading is unavailable: {exc}"]
    else:
        found = [run.to_dict() for run in runs]
        problems = [p for run in runs for p in run.problems]
        status = VerificationStatus.FAILED if problems else VerificationStatus.PASSED
    ChallengeVerification.objects.filter(
        pk=verification_id, status=VerificationStatus.RUNNING
    ).update(status=status, runs=found, problems=problems, finished_at=timezone.now())
    return str(status)


def latest_verification(version: ItemVersion | None) -> ChallengeVerification | None:
    if version is None:
        return None
    return ChallengeVerification.objects.filter(
        version=version, purpose=VerificationPurpose.VERIFY
    ).first()


def verification_is_stalled(verification: ChallengeVerification) -> bool:
    """Whether a pending run (a verification or a trial) has outlived any worker's run."""
    started = verification.started_at or verification.created_at
    return verification.is_pending and timezone.now() - started > stale_after()


def verification_passed(item: Item) -> bool:
    """Whether the item's current version has a passing verification."""
    return ChallengeVerification.objects.filter(
        version_id=item.current_version_id,
        status=VerificationStatus.PASSED,
        purpose=VerificationPurpose.VERIFY,
    ).exists()
