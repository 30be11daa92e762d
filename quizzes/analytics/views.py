"""Pages over graded work: the dashboard, cohort analytics (the heatmap, score
distributions, CSV exports), learners' attempts and logs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from quizzes.access import AuthenticatedRequest, learner_required
from quizzes.analytics.exports import csv_lines, item_statistics_rows, results_rows
from quizzes.analytics.presenters import heatmap_links, histogram, skill_chart
from quizzes.analytics.selectors import (
    HEATMAP_PAGE_SIZE,
    SORT_EMAIL,
    cohort_heatmap,
    cohort_overview,
    next_best_step,
    recent_attempts,
    score_distributions,
    skill_dashboard,
    solved_challenges,
    stage_quiz_by_stage,
)
from quizzes.assessments.selectors import access_attempt, learner_attempts, placement_quiz
from quizzes.models import AttemptEvent, Quiz, Stage
from quizzes.skill import LEVEL_SCORE_CUTS, SCORE_MAX
from quizzes.text import text_problem

SEARCH_MAX = 100


def _statistics(
    view: Callable[..., HttpResponse | StreamingHttpResponse],
) -> Callable[..., HttpResponse | StreamingHttpResponse]:
    return login_required(
        permission_required("quizzes.view_item_statistics", raise_exception=True)(require_GET(view))
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


@_statistics
def cohort_analytics(request: HttpRequest) -> HttpResponse:
    rows = cohort_overview()
    distributions = score_distributions()
    for row in rows:
        counts = distributions.get(row["quiz"].pk)
        row["histogram"] = histogram(counts) if counts else None
    return render(request, "quizzes/staff/analytics.html", {"rows": rows})


def _levels() -> list[dict[str, Any]]:
    """The legend: each level with its score range."""
    cuts = [*LEVEL_SCORE_CUTS, (None, SCORE_MAX + 1)]
    return [
        {"level": level, "low": low, "high": cuts[k + 1][1] - 1}
        for k, (level, low) in enumerate(LEVEL_SCORE_CUTS)
    ]


@_statistics
def cohort_heatmap_view(request: HttpRequest) -> HttpResponse:
    """Learners by stages. Unknown sort, order or page values fall back to the default; a
    filter that cannot be stored text is refused with a 400."""
    search = request.GET.get("q", "").strip()[:SEARCH_MAX]
    problem = text_problem(search, subject="The email filter")
    if problem:
        search = ""
    heatmap = cohort_heatmap(
        sort=request.GET.get("sort", SORT_EMAIL),
        descending=request.GET.get("order") == "desc",
        search=search,
        page=request.GET.get("page"),
    )
    return render(
        request,
        "quizzes/staff/heatmap.html",
        {
            "heatmap": heatmap,
            "links": heatmap_links(heatmap),
            "levels": _levels(),
            "page_size": HEATMAP_PAGE_SIZE,
            "problem": problem,
        },
        status=400 if problem else 200,
    )


def _csv(rows: Iterable[list[Any]], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="skillmap-{name}-{stamp}.csv"'
    return response


@_statistics
def results_csv(request: HttpRequest) -> StreamingHttpResponse:
    """One row per graded attempt; ``?quiz=<slug>`` for one quiz (an unknown slug: all)."""
    slug = request.GET.get("quiz", "")
    quiz = Quiz.objects.filter(slug=slug).first() if slug and not text_problem(slug) else None
    return _csv(results_rows(quiz=quiz), f"results-{quiz.slug}" if quiz else "results")


@_statistics
def item_statistics_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every item's statistics; ``?stage=<number>`` for one stage (anything else: all)."""
    number = request.GET.get("stage", "")
    stage = (
        Stage.objects.filter(number=int(number)).first()
        if number.isdecimal() and len(number) < 6
        else None
    )
    name = f"item-statistics-stage-{stage.number:02d}" if stage else "item-statistics"
    return _csv(item_statistics_rows(stage=stage), name)


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
            "solved": solved_challenges(request.user),
        },
    )
