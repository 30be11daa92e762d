"""Running an author's own solution to a challenge as a learner's would be graded.

On "Preview as a learner" of a code or SQL challenge the author writes a solution in the
learner's editor (a code challenge in any language it is offered in) and presses "Run as
a learner". ``trial_request`` checks the code as a learner's answer is checked (size,
language, not blank), stores a QUEUED ``ChallengeVerification`` with purpose TRIAL and,
once that commits, sends ``TRIAL_CHALLENGE_TASK`` by name to the grading queue. The task
calls ``trial_run``: it claims the row with a guarded UPDATE (QUEUED → RUNNING), grades
the code with the learners' grading function (``quizzes.pipeline.grading.run_grader``,
every test, in the sandbox) and stores the grading report a learner's submission would
store. ``trial_review`` shows it through the learner's presenters (``item_review`` with
an unsaved submission), so the author sees the review a learner gets.

Nothing counts: no attempt, no submission, no answer is stored (statistics, skill
estimates and cohort views read those), and the verification checks read VERIFY rows
only, so a trial never opens the publish gate (docs/architecture.md, bank/). A worker that
dies mid-run leaves the row RUNNING; the page calls it stalled as Verify does.
"""

from __future__ import annotations

import random
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from quizzes.assessments.presenters import item_review
from quizzes.bank.verification import send_run
from quizzes.grading.outcomes import ReportStatus
from quizzes.grading.sandbox import SandboxUnavailable
from quizzes.itemtypes import AnswerError, handler_for
from quizzes.models import (
    AttemptItem,
    ChallengeVerification,
    Item,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    VerificationPurpose,
    VerificationStatus,
)
from quizzes.pipeline.grading import language_unavailable, run_grader, sandbox_available

# Routed to the grading queue by its name (CELERY_TASK_ROUTES: "skillmap.grading.*").
TRIAL_CHALLENGE_TASK = "skillmap.grading.trial_challenge"


class TrialError(Exception):
    """The solution cannot be run (not a challenge, no code, a language the challenge is
    not offered in, too long); the message says why, in plain words."""


def trial_answer(*, item: Item, code: str, language: str) -> dict[str, Any]:
    """The posted solution as a learner's answer, checked as one is; raises TrialError."""
    handler = handler_for(item.type)
    version = item.current_version
    if not handler.needs_sandbox:
        raise TrialError("Only code and SQL challenges are run as a learner.")
    if version is None:
        raise TrialError("The item has no content to run yet.")
    raw: dict[str, Any] = {"code": code}
    if language:
        raw["language"] = language
    try:
        answer = handler.clean_answer(raw, {})
    except AnswerError as exc:
        raise TrialError(str(exc)) from None
    if language and handler.submission_language(version.data, answer) != language:
        raise TrialError(f"This challenge is not offered in {language}.")
    if handler.is_blank(version.data, answer):
        raise TrialError("Write a solution first: the editor holds no code of your own.")
    return answer


def trial_request(
    *, item: Item, author: User | None, code: str, language: str = ""
) -> ChallengeVerification:
    """Queue a run of ``code`` against ``item``'s current version (sent once the caller
    commits); raises TrialError, having stored nothing."""
    answer = trial_answer(item=item, code=code, language=language)
    version = item.current_version
    assert version is not None
    with transaction.atomic():
        trial = ChallengeVerification.objects.create(
            version=version,
            requested_by=author,
            purpose=VerificationPurpose.TRIAL,
            source=answer["code"],
            language=handler_for(item.type).submission_language(version.data, answer),
        )
        transaction.on_commit(partial(send_run, trial.pk, TRIAL_CHALLENGE_TASK))
    return trial


def _finish(trial_id: int, status: str, **values: Any) -> None:
    ChallengeVerification.objects.filter(pk=trial_id, status=VerificationStatus.RUNNING).update(
        status=status, finished_at=timezone.now(), **values
    )


def trial_run(*, trial_id: int, slot: int = 0) -> str:
    """Grade a queued trial (the task's body); returns the status it ended with."""
    claimed = ChallengeVerification.objects.filter(
        pk=trial_id, status=VerificationStatus.QUEUED, purpose=VerificationPurpose.TRIAL
    ).update(status=VerificationStatus.RUNNING, started_at=timezone.now())
    if not claimed:
        return "skipped"  # unknown, or claimed by an earlier delivery
    trial = ChallengeVerification.objects.select_related("version__item").get(pk=trial_id)
    available, reason = sandbox_available()
    missing = reason if not available else language_unavailable(trial.language)
    if missing is not None:
        _finish(trial_id, VerificationStatus.ERROR, problems=[f"Grading is unavailable: {missing}"])
        return str(VerificationStatus.ERROR)
    try:
        report = run_grader(
            trial.version, trial.source, visible_only=False, slot=slot, language=trial.language
        )
    except SandboxUnavailable as exc:
        _finish(trial_id, VerificationStatus.ERROR, problems=[f"Grading is unavailable: {exc}"])
        return str(VerificationStatus.ERROR)
    if report.status == ReportStatus.ERROR:
        # The harness failed, not the code: a learner's submission would be retried.
        _finish(trial_id, VerificationStatus.ERROR, problems=[f"Grading failed: {report.message}"])
        return str(VerificationStatus.ERROR)
    status = VerificationStatus.PASSED if report.score >= 1.0 else VerificationStatus.FAILED
    _finish(trial_id, status, result=report.to_dict(), score=report.score)
    return str(status)


def trial_of(*, item: Item, trial_id: int, author: User) -> ChallengeVerification | None:
    """The author's own trial of the item's current version, or None."""
    return (
        ChallengeVerification.objects.select_related("version__item__topic")
        .filter(
            pk=trial_id,
            purpose=VerificationPurpose.TRIAL,
            version_id=item.current_version_id,
            requested_by=author,
        )
        .first()
    )


def trial_code(trial: ChallengeVerification) -> dict[str, Any]:
    """The trial's solution as the learner's answer it stands for (the editor shows it)."""
    answer: dict[str, Any] = {"code": trial.source}
    if trial.language:
        answer["language"] = trial.language
    return answer


def trial_review(trial: ChallengeVerification) -> dict[str, Any] | None:
    """The review a learner whose submission graded so would see (None until graded):
    the learner's presenters, over an attempt item and a submission never saved."""
    if trial.score is None:
        return None
    version = trial.version
    handler = handler_for(version.item.type)
    layout = handler.layout(version.data, random.Random(), shuffle=True)  # noqa: S311
    item = AttemptItem(
        item_version=version,
        position=1,
        layout=layout,
        answer=trial_code(trial),
        max_score=version.points,
    )
    fraction = trial.score
    item.score = (Decimal(str(fraction)) * item.max_score).quantize(Decimal("0.01"))
    item.is_correct = fraction >= 1.0
    item.graded_at = trial.finished_at
    submission = Submission(
        kind=SubmissionKind.SUBMIT,
        status=SubmissionStatus.GRADED,
        source=trial.source,
        language=trial.language,
        score=fraction,
        results=trial.result,
        created_at=trial.created_at,
        graded_at=trial.finished_at,
    )
    item.submission_list = [submission]  # type: ignore[attr-defined]
    view = item_review(item)
    view["feedback_due"] = True
    return view
