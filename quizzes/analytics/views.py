"""Pages over graded work: the dashboard, cohort analytics, learners' attempts and logs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from quizzes.access import AuthenticatedRequest, learner_required
from quizzes.analytics.presenters import skill_chart
from quizzes.analytics.selectors import (
    cohort_overview,
    next_best_step,
    recent_attempts,
    skill_dashboard,
    stage_quiz_by_stage,
)
from quizzes.assessments.selectors import access_attempt, learner_attempts, placement_quiz
from quizzes.models import (
    AttemptEvent,
    Quiz,
)


@login_required
@permission_required("quizzes.view_attempt_log", raise_exception=True)
@require_GET
def attempt_log(request: AuthenticatedRequest, attempt_id: int) -> HttpResponse:
    attempt = access_attempt(user=request.user, attempt_id=attempt_id)
    events = [
        {"event": e, "details": ", ".join(f"{k}={v}" for k, v in sorted(e.data.items()))}
        for e in AttemptEvent.objects.filter(attempt=attempt).order_by("at", "id")
    ]
    return render(request, "quizzes/staff/attempt_log.html", {"attempt": attempt, "events": events})


@login_required
@permission_required("quizzes.view_item_statistics", raise_exception=True)
@require_GET
def cohort_analytics(request: HttpRequest) -> HttpResponse:

    return render(request, "quizzes/staff/analytics.html", {"rows": cohort_overview()})


@login_required
@permission_required("accounts.view_learner_results", raise_exception=True)
@require_GET
def learner_attempts_view(request: HttpRequest) -> HttpResponse:
    quiz = Quiz.objects.filter(slug=request.GET.get("quiz", "")).first()
    email = request.GET.get("q", "").strip()[:100]
    page = Paginator(recent_attempts(quiz=quiz, email=email), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "quizzes/staff/attempts.html",
        {"page": page, "quiz": quiz, "q": email, "quizzes": Quiz.objects.order_by("title")},
    )


@learner_required
@require_GET
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    rows = skill_dashboard(request.user)
    placement = placement_quiz()
    return render(
        request,
        "quizzes/dashboard.html",
        {
            "rows": rows,
            "chart": skill_chart(rows),
            "next_step": next_best_step(rows, stage_quiz_by_stage(), placement=placement),
            "attempts": learner_attempts(request.user)[:10],
            "placement": placement,
        },
    )
