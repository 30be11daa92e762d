"""Reads for the grading operator page."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone

from quizzes.models import GRADING_UNAVAILABLE, HELD, Submission, SubmissionStatus


def grading_overview() -> dict[str, Any]:
    """For the operator page: counts by status, oldest queued, stuck and errored rows."""
    counts = dict(
        Submission.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    now = timezone.now()
    base = Submission.objects.select_related("item_version__item", "learner")
    return {
        "counts": counts,
        "queue_depth": counts.get(SubmissionStatus.QUEUED, 0),
        "oldest_queued": list(
            base.filter(status=SubmissionStatus.QUEUED).order_by("created_at")[:20]
        ),
        "stuck": list(
            base.filter(status=SubmissionStatus.RUNNING, lease_expires_at__lt=now).order_by(
                "lease_expires_at"
            )[:20]
        ),
        "errors": list(base.filter(status=SubmissionStatus.ERROR).order_by("-graded_at")[:20]),
        "recent": list(base.order_by("-created_at")[:20]),
        "latest": Submission.objects.aggregate(last=Max("graded_at"))["last"],
        # Queued but not sent: behind their learner's in-flight cap.
        "held": Submission.objects.filter(HELD).count(),
        "unavailable": base.filter(
            Q(status=SubmissionStatus.QUEUED) & Q(error_reason__startswith=GRADING_UNAVAILABLE)
        ).count(),
    }
