"""Learners report a problem with a question once its feedback is released; the report
queues for the item's authors (quizzes/bank/bulk.py closes it)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from quizzes.assessments.feedback import item_feedback_due
from quizzes.models import Attempt, AttemptItem, ItemReport, ItemReportStatus

MAX_REPORT_CHARS = 2000


class ReportRefused(Exception):
    """The report cannot be made (feedback not released, an empty message...)."""


def item_report_create(
    *, attempt: Attempt, position: int, learner: User, message: str
) -> ItemReport:
    """Record ``learner``'s report about the question at ``position`` of their ``attempt``.

    The caller has checked the attempt is the learner's. Allowed once the item's feedback
    is released (so a report cannot fish for the key). One report per learner, attempt and
    item: reporting again while it is open replaces the message (a double click is one
    report); a closed report is not reopened."""
    attempt = Attempt.objects.select_related("quiz").get(pk=attempt.pk)  # its status now
    text = message.strip()
    if not text:
        raise ReportRefused("Say what is wrong with the question.")
    if len(text) > MAX_REPORT_CHARS:
        raise ReportRefused(f"Keep the report under {MAX_REPORT_CHARS:,} characters.")
    answer = (
        AttemptItem.objects.select_related("item_version__item", "attempt__quiz")
        .filter(attempt=attempt, position=position)
        .first()
    )
    if answer is None:
        raise ReportRefused("There is no such question in this attempt.")
    if not item_feedback_due(attempt, answer):
        raise ReportRefused("You can report a problem once this question's feedback is shown.")
    version = answer.item_version
    with transaction.atomic():
        existing = (
            ItemReport.objects.select_for_update()
            .filter(attempt=attempt, item=version.item, reporter=learner)
            .first()
        )
        if existing is not None:
            if existing.status != ItemReportStatus.OPEN:
                raise ReportRefused("Your report about this question has already been answered.")
            existing.message = text
            existing.save(update_fields=["message"])
            return existing
        try:
            with transaction.atomic():
                return ItemReport.objects.create(
                    item=version.item,
                    version=version,
                    attempt=attempt,
                    reporter=learner,
                    message=text,
                )
        except IntegrityError:  # a concurrent double submit won the race
            return ItemReport.objects.get(attempt=attempt, item=version.item, reporter=learner)
