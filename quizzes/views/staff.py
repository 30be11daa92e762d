"""Pages for instructors (items, statistics, attempt logs) and admins (grading operations)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
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
    events = [
        {"event": e, "details": ", ".join(f"{k}={v}" for k, v in sorted(e.data.items()))}
        for e in AttemptEvent.objects.filter(attempt=attempt).order_by("at", "id")
    ]
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


# --- authoring ------------------------------------------------------------------------------
def _author(view):  # type: ignore[no-untyped-def]
    return login_required(permission_required("quizzes.author_item", raise_exception=True)(view))


def _item_form(
    request: HttpRequest, *, stage: Stage, item: Item | None, initial: str, context: dict[str, Any]
) -> HttpResponse:
    """GET shows the YAML editor; POST saves (a new item or a new version) or lists problems."""
    from quizzes.services.authoring import AuthoringError, item_save_from_yaml

    text, problems = initial, []
    if request.method == "POST":
        text = request.POST.get("source", "")
        try:
            saved = item_save_from_yaml(text=text, stage=stage, author=request.user, item=item)  # type: ignore[arg-type]
        except AuthoringError as exc:
            problems = exc.problems
        else:
            messages.success(
                request,
                "Draft created. Preview it, then publish it."
                if item is None
                else "Saved as a new version; past attempts keep theirs.",
            )
            return redirect("item-preview", slug=saved.slug)
    return render(
        request,
        "quizzes/staff/item_edit.html",
        {**context, "item": item, "stage": stage, "source": text, "problems": problems},
        status=400 if problems else 200,
    )


@_author
def item_edit(request: HttpRequest, slug: str) -> HttpResponse:
    from quizzes.services.authoring import item_yaml

    item = get_object_or_404(Item.objects.select_related("stage", "current_version"), slug=slug)
    return _item_form(request, stage=item.stage, item=item, initial=item_yaml(item), context={})


@_author
def item_new(request: HttpRequest) -> HttpResponse:
    from quizzes.services.authoring import NEW_ITEM_TEMPLATE

    stages = Stage.objects.active().prefetch_related("topics")
    number = request.GET.get("stage") or request.POST.get("stage")
    if number is None:
        stage = stages.first()
        if stage is None:
            raise Http404("Load the roadmap first: there is no stage to add items to.")
    else:
        stage = get_object_or_404(stages, number=int(number) if number.isdigit() else 0)
    first_topic = stage.topics.first()
    template = NEW_ITEM_TEMPLATE.format(
        prefix=stage.slug.split("-")[0], topic=first_topic.slug if first_topic else ""
    )
    return _item_form(request, stage=stage, item=None, initial=template, context={"stages": stages})


@_author
@require_POST
def item_status(request: HttpRequest, slug: str) -> HttpResponse:
    from quizzes.services.authoring import AuthoringError, item_set_status

    item = get_object_or_404(Item, slug=slug)
    try:
        item_set_status(item=item, status=request.POST.get("status", ""))
    except AuthoringError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{item.slug} is now {item.get_status_display().lower()}.")
    return redirect("item-preview", slug=item.slug)


@login_required
@permission_required("quizzes.regrade", raise_exception=True)
@require_POST
def item_regrade_view(request: HttpRequest, slug: str) -> HttpResponse:
    from quizzes.services.authoring import item_regrade

    item = get_object_or_404(Item.objects.select_related("current_version"), slug=slug)
    report = item_regrade(item=item)
    messages.success(
        request,
        f"Regraded with version {item.current_version.number if item.current_version else '-'}: "
        f"{report.rescored} answers re-scored in {len(report.attempts)} attempts, "
        f"{report.resubmitted} code submissions sent to grading, "
        f"{report.skipped} left as they were.",
    )
    return redirect("item-preview", slug=item.slug)


@_author
def bank_import_view(request: HttpRequest) -> HttpResponse:
    from quizzes.services.authoring import BankFileError, bank_import, bank_import_errors

    problems: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("bank")
        if upload is None:
            problems = ["Choose a bank file (stage-NN.yaml) to import."]
        elif (upload.size or 0) > 2 * 1024 * 1024:
            problems = ["The file is larger than 2 MiB."]
        else:
            try:
                text = upload.read().decode("utf-8")
                report = bank_import(name=upload.name or "bank.yaml", text=text)
            except UnicodeDecodeError:
                problems = ["The file is not UTF-8 text."]
            except BankFileError as exc:
                problems = bank_import_errors(exc)
            else:
                messages.success(
                    request,
                    f"Imported: {len(report.created)} created, {len(report.updated)} updated, "
                    f"{len(report.unchanged)} unchanged.",
                )
                return redirect("author-items")
    return render(
        request,
        "quizzes/staff/import.html",
        {"problems": problems, "stages": Stage.objects.active()},
        status=400 if problems else 200,
    )


@_author
@require_GET
def bank_export_view(request: HttpRequest, number: int) -> HttpResponse:
    from quizzes.services.authoring import bank_export

    stage = get_object_or_404(Stage, number=number)
    response = HttpResponse(bank_export(stage=stage), content_type="application/x-yaml")
    response["Content-Disposition"] = f'attachment; filename="stage-{number:02d}.yaml"'
    return response


@login_required
@permission_required("quizzes.view_item_statistics", raise_exception=True)
@require_GET
def cohort_analytics(request: HttpRequest) -> HttpResponse:
    from quizzes.selectors import cohort_overview

    return render(request, "quizzes/staff/analytics.html", {"rows": cohort_overview()})


@_author
@require_GET
def quiz_list(request: HttpRequest) -> HttpResponse:
    from quizzes.models import Quiz
    from quizzes.services.quizzes import quiz_item_count

    quizzes = (
        Quiz.objects.select_related("stage")
        .prefetch_related("pools")
        .order_by("kind", "stage__number", "title")
    )
    rows = [{"quiz": q, "items": quiz_item_count(q)} for q in quizzes]
    return render(request, "quizzes/staff/quizzes.html", {"rows": rows})


@_author
def quiz_edit(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    from django.db import transaction

    from quizzes.forms import PoolFormSet, QuizForm
    from quizzes.models import Quiz

    quiz = get_object_or_404(Quiz, slug=slug) if slug else None
    form = QuizForm(request.POST or None, instance=quiz)
    pools = PoolFormSet(request.POST or None, instance=quiz or Quiz())
    if request.method == "POST" and form.is_valid() and pools.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            if quiz is None:
                saved.created_by = request.user  # type: ignore[assignment]
            saved.save()
            pools.instance = saved
            pools.save()
        messages.success(request, f"Quiz “{saved.title}” saved.")
        return redirect("quiz-list")
    return render(
        request,
        "quizzes/staff/quiz_edit.html",
        {"form": form, "pools": pools, "quiz": quiz},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required("accounts.view_learner_results", raise_exception=True)
@require_GET
def learner_attempts_view(request: HttpRequest) -> HttpResponse:
    from django.core.paginator import Paginator

    from quizzes.models import Quiz
    from quizzes.selectors import recent_attempts

    quiz = Quiz.objects.filter(slug=request.GET.get("quiz", "")).first()
    email = request.GET.get("q", "").strip()[:100]
    page = Paginator(recent_attempts(quiz=quiz, email=email), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "quizzes/staff/attempts.html",
        {"page": page, "quiz": quiz, "q": email, "quizzes": Quiz.objects.order_by("title")},
    )
