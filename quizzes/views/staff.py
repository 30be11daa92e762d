"""Pages for instructors (items, statistics, attempt logs) and admins (grading operations)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from quizzes.models import AttemptEvent, Item, ItemVersion, Stage, Submission
from quizzes.selectors import access_attempt, grading_overview, item_statistics
from quizzes.services.grading import submission_requeue
from quizzes.services.ops import worker_status


@login_required
@permission_required("quizzes.author_item", raise_exception=True)
@require_GET
def author_items(request: HttpRequest) -> HttpResponse:
    stage_number = request.GET.get("stage", "")
    stage = Stage.objects.filter(number=stage_number).first() if stage_number.isdigit() else None
    return render(
        request,
        "quizzes/staff/items.html",
        {
            "stages": Stage.objects.active(),
            "stage": stage,
            "rows": item_statistics(stage=stage),
            "can_see_stats": request.user.has_perm("quizzes.view_item_statistics"),
        },
    )


@login_required
@permission_required("quizzes.author_item", raise_exception=True)
@require_GET
def item_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The full item as an author sees it: body, key, explanation, tests, every version."""
    item = get_object_or_404(
        Item.objects.select_related("current_version", "stage", "topic").prefetch_related(
            Prefetch("versions", queryset=ItemVersion.objects.order_by("-number"))
        ),
        slug=slug,
    )
    return render(request, "quizzes/staff/item_preview.html", {"item": item})


@login_required
@permission_required("quizzes.view_attempt_log", raise_exception=True)
@require_GET
def attempt_log(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = access_attempt(user=request.user, attempt_id=attempt_id)  # type: ignore[arg-type]
    events = AttemptEvent.objects.filter(attempt=attempt).order_by("at", "id")
    return render(request, "quizzes/staff/attempt_log.html", {"attempt": attempt, "events": events})


@login_required
@permission_required("quizzes.operate_grading", raise_exception=True)
@require_GET
def grading_operator(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "quizzes/staff/grading.html",
        {"overview": grading_overview(), "workers": worker_status()},
    )


@login_required
@permission_required("quizzes.operate_grading", raise_exception=True)
@require_POST
def grading_requeue(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = get_object_or_404(Submission, pk=submission_id)
    if submission_requeue(submission=submission):
        messages.success(request, f"Submission {submission.pk} is back in the grading queue.")
    else:
        messages.error(request, f"Submission {submission.pk} is already graded; nothing to do.")
    return redirect("grading-operator")
