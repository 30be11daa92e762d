"""Authoring pages for instructors: items, import/export, quizzes, regrade."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quizzes.access import AuthenticatedRequest
from quizzes.analytics.itemstats import FLAG_MIN_ANSWERS, POOR_FIT_RMSD, item_statistics
from quizzes.assessments.services import RegradeError, item_regrade, item_regrade_preview
from quizzes.bank.authoring import (
    NEW_ITEM_TEMPLATE,
    AuthoringError,
    BankFileError,
    bank_export,
    bank_import,
    bank_import_errors,
    item_save_from_yaml,
    item_set_status,
    item_yaml,
)
from quizzes.bank.forms import MAX_POOLS, PoolForm, PoolFormSet, QuizForm
from quizzes.bank.quizzes import QuizInvalid, quiz_item_count, quiz_save
from quizzes.itemtypes import handler_for
from quizzes.models import Item, ItemStatus, ItemVersion, Quiz, Stage


@login_required
@permission_required("quizzes.author_item", raise_exception=True)
@require_GET
def item_preview(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The full item as an author sees it: body, key, explanation, tests, every version."""
    item = get_object_or_404(
        Item.objects.select_related("current_version", "stage", "topic").prefetch_related(
            Prefetch("versions", queryset=ItemVersion.objects.order_by("-number"))
        ),
        slug=slug,
    )
    version = item.current_version
    key_lines = handler_for(item.type).key_lines(version.data) if version else []
    can_see_stats = request.user.has_perm("quizzes.view_item_statistics")
    return render(
        request,
        "quizzes/staff/item_preview.html",
        {
            "item": item,
            "statuses": ItemStatus,
            "key_lines": key_lines,
            "stats": item_statistics(item=item)[0] if can_see_stats else None,
            "flag_min": FLAG_MIN_ANSWERS,
            "poor_fit": POOR_FIT_RMSD,
        },
    )


# --- authoring ------------------------------------------------------------------------------
def _author(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return login_required(permission_required("quizzes.author_item", raise_exception=True)(view))


def _item_form(
    request: AuthenticatedRequest,
    *,
    stage: Stage,
    item: Item | None,
    initial: str,
    context: dict[str, Any],
) -> HttpResponse:
    """GET shows the YAML editor; POST saves (a new item or a new version) or lists problems."""

    text, problems = initial, []
    if request.method == "POST":
        text = request.POST.get("source", "")
        try:
            saved = item_save_from_yaml(text=text, stage=stage, author=request.user, item=item)
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
def item_edit(request: AuthenticatedRequest, slug: str) -> HttpResponse:

    item = get_object_or_404(Item.objects.select_related("stage", "current_version"), slug=slug)
    return _item_form(request, stage=item.stage, item=item, initial=item_yaml(item), context={})


@_author
def item_new(request: AuthenticatedRequest) -> HttpResponse:

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
def item_status(request: AuthenticatedRequest, slug: str) -> HttpResponse:

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
@require_http_methods(["GET", "POST"])
def item_regrade_view(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """GET: the dry run, listing what would change. POST (confirmed): apply it."""
    item = get_object_or_404(Item.objects.select_related("current_version"), slug=slug)
    if request.method == "POST":
        version = request.POST.get("version", "")
        if request.POST.get("confirm") != "yes" or not (version.isdecimal() and len(version) < 10):
            messages.error(request, "Nothing was regraded: review the changes, then confirm.")
            return redirect("item-regrade", slug=item.slug)
        try:
            report = item_regrade(item=item, actor=request.user, version=int(version))
        except RegradeError as exc:
            messages.error(request, f"Nothing was regraded: {exc}")
            return redirect("item-regrade", slug=item.slug)
        messages.success(
            request,
            f"Regraded with version {version}: "
            f"{report.rescored} answers re-scored in {len(report.attempts)} attempts, "
            f"{report.resubmitted} code submissions sent to grading, "
            f"{report.skipped} left as they were.",
        )
        return redirect("item-preview", slug=item.slug)
    plan = item_regrade_preview(item=item)
    return render(request, "quizzes/staff/item_regrade.html", {"item": item, "plan": plan})


@_author
def bank_import_view(request: AuthenticatedRequest) -> HttpResponse:

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
def bank_export_view(request: AuthenticatedRequest, number: int) -> HttpResponse:

    stage = get_object_or_404(Stage, number=number)
    response = HttpResponse(bank_export(stage=stage), content_type="application/x-yaml")
    response["Content-Disposition"] = f'attachment; filename="stage-{number:02d}.yaml"'
    return response


@_author
@require_GET
def quiz_list(request: AuthenticatedRequest) -> HttpResponse:

    quizzes = (
        Quiz.objects.select_related("stage")
        .prefetch_related("pools")
        .order_by("kind", "stage__number", "title")
    )
    rows = [{"quiz": q, "items": quiz_item_count(q)} for q in quizzes]
    return render(request, "quizzes/staff/quizzes.html", {"rows": rows})


@_author
def quiz_edit(request: AuthenticatedRequest, slug: str | None = None) -> HttpResponse:

    quiz = get_object_or_404(Quiz, slug=slug) if slug else None
    form = QuizForm(request.POST or None, instance=quiz)
    pools = PoolFormSet(request.POST or None, instance=quiz or Quiz())
    if request.method == "POST" and form.is_valid() and pools.is_valid():
        kept = [
            f
            for f in pools.forms
            if f not in pools.deleted_forms and (f.instance.pk or f.has_changed())
        ]
        try:
            saved = quiz_save(
                quiz=form.instance,
                pools=[f.instance for f in kept],
                author=request.user,
            )
        except QuizInvalid as exc:
            for name, problems in exc.quiz_errors.items():
                form.add_error(name if name in form.fields else None, problems)
            for index, errors in exc.pool_errors.items():
                for name, problems in errors.items():
                    kept[index].add_error(name if name in kept[index].fields else None, problems)
        else:
            messages.success(request, f"Quiz “{saved.title}” saved.")
            return redirect("quiz-list")
    return render(
        request,
        "quizzes/staff/quiz_edit.html",
        {"form": form, "pools": pools, "quiz": quiz, "item_slugs": _published_slugs()},
        status=400 if request.method == "POST" else 200,
    )


def _published_slugs() -> list[str]:
    return list(
        Item.objects.filter(status=ItemStatus.PUBLISHED)
        .order_by("slug")
        .values_list("slug", flat=True)
    )


@_author
@require_GET
def quiz_pool_form(request: AuthenticatedRequest) -> HttpResponse:
    """One more empty pool for the quiz builder (htmx), with the formset's new form count."""
    raw = request.GET.get("pools-TOTAL_FORMS", "")
    if not raw.isdecimal() or int(raw) >= MAX_POOLS:
        return HttpResponse(f"A quiz has at most {MAX_POOLS} pools.", status=400)
    index = int(raw)
    pool = PoolForm(prefix=f"pools-{index}", use_required_attribute=False)
    return render(
        request,
        "quizzes/staff/_pool_form.html",
        {"pool": pool, "number": index + 1, "total": index + 1, "oob": True},
    )
