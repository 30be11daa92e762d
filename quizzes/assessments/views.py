"""Pages of the learner's journey: stage → quiz → attempt → result and review."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quizzes.access import AuthenticatedRequest, learner_required
from quizzes.assessments.feedback import feedback_due
from quizzes.assessments.placement import placement_result
from quizzes.assessments.presenters import attempt_item_views, item_review
from quizzes.assessments.reports import ReportRefused, item_report_create
from quizzes.assessments.selectors import (
    access_attempt,
    attempt_items,
    best_results,
    learner_attempts,
    placement_quiz,
    stage_list_with_topics,
    stage_quizzes,
)
from quizzes.assessments.services import (
    AttemptError,
    attempt_is_expired,
    attempt_item_check,
    attempt_placement_next,
    attempt_start,
    attempt_submit,
    language_needed,
    open_attempt,
    seconds_left,
)
from quizzes.bank.quizzes import describe_quiz
from quizzes.models import AttemptStatus, FeedbackMode, Quiz, QuizStatus
from quizzes.pipeline.ops import worker_status
from quizzes.preferences import (
    LanguageForm,
    PreferenceError,
    learner_language,
    learner_language_set,
)
from quizzes.throttles import ChallengeStartThrottle, page_refusal


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "quizzes/home.html",
        {"stages": stage_list_with_topics(), "placement": placement_quiz()},
    )


@learner_required
@require_GET
def stage_detail(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    stage = get_object_or_404(stage_list_with_topics(), slug=slug)
    quizzes = list(stage_quizzes(stage))
    best = best_results(learner=request.user, quizzes=quizzes)
    rows = [{"quiz": q, "best": best.get(q.pk), **describe_quiz(q)} for q in quizzes]
    return render(
        request,
        "quizzes/stage_detail.html",
        {
            "stage": stage,
            "stage_quizzes": [r for r in rows if not r["quiz"].is_challenge],
            "challenges": [r for r in rows if r["quiz"].is_challenge],
        },
    )


@learner_required
@require_GET
def quiz_detail(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    quiz = get_object_or_404(Quiz.objects.select_related("stage"), slug=slug)
    if quiz.status != QuizStatus.PUBLISHED and not request.user.has_perm("quizzes.author_item"):
        return render(request, "404.html", status=404)
    return _quiz_page(request, quiz)


def _quiz_page(request: AuthenticatedRequest, quiz: Quiz, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "quizzes/quiz_detail.html",
        {
            "quiz": quiz,
            "info": describe_quiz(quiz),
            "open_attempt": open_attempt(learner=request.user, quiz=quiz),
            "attempts": learner_attempts(request.user).filter(quiz=quiz)[:10],
        },
        status=status,
    )


@learner_required
@require_POST
def quiz_start(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    quiz = get_object_or_404(Quiz, slug=slug, status=QuizStatus.PUBLISHED)
    refused = page_refusal(request, ChallengeStartThrottle, slug=quiz.slug)
    if refused is not None:
        # The quiz's page with the message, as a 429: the browser shows it like any page.
        messages.error(request, str(refused.detail))
        response = _quiz_page(request, quiz, status=429)
        if refused.wait is not None:
            response["Retry-After"] = str(refused.wait)
        return response
    if language_needed(learner=request.user, quiz=quiz) and not open_attempt(
        learner=request.user, quiz=quiz
    ):
        # The placement estimates stage 1 in the learner's language: ask for it first.
        messages.info(request, "First tell us which language you write code in.")
        back = reverse("quiz-detail", args=[quiz.slug])
        return redirect(f"{reverse('learner-language')}?next={back}")
    try:
        attempt = attempt_start(learner=request.user, quiz=quiz)
    except AttemptError as exc:
        messages.error(request, str(exc))
        return redirect("quiz-detail", slug=quiz.slug)
    return redirect("attempt-take", attempt_id=attempt.pk)


@learner_required
@require_http_methods(["GET", "POST"])
def learner_language_page(request: AuthenticatedRequest) -> HttpResponse:
    """The learner's programming language: the form (also a section of the profile page),
    saved, then back to ``next`` (a page of this site) or the profile."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        wanted = ""
    form = LanguageForm(
        request.POST if request.method == "POST" else None,
        initial={"language": learner_language(user=request.user)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            preference = learner_language_set(
                user=request.user, language=form.cleaned_data["language"]
            )
        except PreferenceError as exc:
            form.add_error(exc.field, str(exc))
        else:
            label = dict(form.fields["language"].choices)[preference.language]  # type: ignore[attr-defined]
            messages.success(request, f"Your language is now {label}.")
            return redirect(wanted or "profile")
    return render(
        request,
        "quizzes/learner_language.html",
        {"form": form, "next": wanted},
        status=400 if form.errors else 200,
    )


@learner_required
@require_GET
def attempt_take(request: AuthenticatedRequest, attempt_id: int) -> HttpResponse:
    attempt = access_attempt(user=request.user, attempt_id=attempt_id, write=True)
    if attempt_is_expired(attempt):
        # Time ran out while nobody was looking (the periodic task may not have run yet).
        attempt_submit(attempt=attempt, auto=True)
    if attempt.status != AttemptStatus.IN_PROGRESS or attempt_is_expired(attempt):
        return redirect("attempt-result", attempt_id=attempt.pk)
    items = attempt_items(attempt)
    adaptive = attempt.quiz.is_adaptive
    if adaptive:
        # Only the question being answered: answered ones are locked and out of sight.
        items = [i for i in items if not i.locked][-1:]
    # Resume where the learner was: the question answered last, else the first one.
    saved = [(i.saved_at, i.position) for i in items if i.saved_at is not None]
    resume_position = max(saved)[1] if saved else None
    views = attempt_item_views(attempt, items)
    return render(
        request,
        "quizzes/attempt_take.html",
        {
            "attempt": attempt,
            "items": views,
            "adaptive": adaptive,
            "max_items": settings.PLACEMENT_MAX_ITEMS,
            "seconds_left": seconds_left(attempt),
            "immediate": attempt.quiz.feedback_mode == FeedbackMode.IMMEDIATE,
            "resume_position": resume_position,
            "grading": worker_status(),
        },
    )


@learner_required
@require_POST
def attempt_check(request: AuthenticatedRequest, attempt_id: int, position: int) -> HttpResponse:
    attempt = access_attempt(user=request.user, attempt_id=attempt_id, write=True)
    try:
        item = attempt_item_check(attempt=attempt, position=position)
    except AttemptError as exc:
        return render(
            request,
            "quizzes/_check_error.html",
            {"message": str(exc), "position": position},
            status=exc.status_code,
        )
    view = item_review(item)
    view["feedback_due"] = True
    return render(request, "quizzes/_item_feedback.html", {"item": view})


@learner_required
@require_POST
def attempt_submit_view(request: AuthenticatedRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_submit(attempt=attempt_id, learner=request.user)
    return redirect("attempt-result", attempt_id=attempt.pk)


@learner_required
@require_POST
def attempt_next(request: AuthenticatedRequest, attempt_id: int, position: int) -> HttpResponse:
    """Adaptive placement: record the answer at ``position`` and move to the next question."""
    attempt = access_attempt(user=request.user, attempt_id=attempt_id, write=True)
    try:
        attempt = attempt_placement_next(attempt=attempt, position=position)
    except AttemptError as exc:
        messages.error(request, str(exc))
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return redirect("attempt-result", attempt_id=attempt.pk)
    return redirect("attempt-take", attempt_id=attempt.pk)


def _result_context(request: AuthenticatedRequest, attempt_id: int) -> dict[str, Any]:
    attempt = access_attempt(user=request.user, attempt_id=attempt_id)
    due = feedback_due(attempt)
    items = attempt_items(attempt) if attempt.status != AttemptStatus.IN_PROGRESS else []
    placement = (
        placement_result(items)
        if attempt.quiz.is_adaptive and due and attempt.status == AttemptStatus.GRADED
        else None
    )
    return {
        "placement": placement,
        "attempt": attempt,
        "feedback_due": due,
        "items": [item_review(i) for i in items] if due else [],
        "pending": attempt.status == AttemptStatus.SUBMITTED,
        "answered": sum(1 for i in items if i.answer),
        "total": len(items),
        "grading": worker_status() if attempt.status == AttemptStatus.SUBMITTED else None,
        "is_owner": attempt.learner_id == request.user.pk,
    }


@login_required
@require_GET
def attempt_result(request: AuthenticatedRequest, attempt_id: int) -> HttpResponse:
    context = _result_context(request, attempt_id)
    if context["attempt"].status == AttemptStatus.IN_PROGRESS and context["is_owner"]:
        return redirect("attempt-take", attempt_id=attempt_id)
    return render(request, "quizzes/attempt_result.html", context)


@login_required
@require_GET
def attempt_result_status(request: AuthenticatedRequest, attempt_id: int) -> HttpResponse:
    """Polled by the result page while code is being graded; swaps in the review when done."""
    context = _result_context(request, attempt_id)
    response = render(request, "quizzes/_result_body.html", context)
    if not context["pending"]:
        # Stop htmx polling: the fragment no longer carries the polling trigger.
        response["HX-Trigger"] = "graded"
    return response


@login_required
@require_POST
def attempt_item_report(
    request: AuthenticatedRequest, attempt_id: int, position: int
) -> HttpResponse:
    """A learner reports a problem with a question of their own attempt (feedback shown)."""
    attempt = access_attempt(user=request.user, attempt_id=attempt_id, write=True)
    try:
        item_report_create(
            attempt=attempt,
            position=position,
            learner=request.user,
            message=request.POST.get("message", ""),
        )
    except ReportRefused as exc:
        messages.error(request, f"Your report was not sent: {exc}")
    else:
        messages.success(request, "Thank you: your report was sent to the question's authors.")
    return redirect(f"{reverse('attempt-result', args=[attempt.pk])}#q{position}")
