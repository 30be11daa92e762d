"""Reads that feed pages and APIs, with their joins done."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from quizzes.models import Stage, Topic


def stage_list_with_topics() -> QuerySet[Stage]:
    return Stage.objects.active().prefetch_related(
        Prefetch("topics", queryset=Topic.objects.active().order_by("position"))
    )
