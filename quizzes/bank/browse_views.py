"""The bank browser for authors: filters, bulk actions, version differences, learners'
problem reports, and previewing a quiz as a learner would draw it."""

from __future__ import annotations

import random
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from quizzes.access import AuthenticatedRequest
from quizzes.analytics.itemstats import FLAG_MIN_ANSWERS, POOR_FIT_RMSD, item_statistics
from quizzes.bank.browser import (
    ItemFilterForm,
    item_usage,
    items_filtered,
    open_reports,
    version_diff,
)
from quizzes.bank.bulk import BulkError, item_report_close, items_bulk_update
from quizzes.bank.quizzes import quiz_draw
from quizzes.itemtypes import handler_for
from quizzes.models import (
    BankAction,
    BankEvent,
    Item,
    ItemReport,
    ItemReportStatus,
    ItemVersion,
    Quiz,
    Topic,
)

PAGE_SIZE = 50


def _author(view: Any) -> Any:
    return login_required(permission_required("quizzes.author_item", raise_exception=True)(view))


@_author
@require_GET
def bank_browser(request: AuthenticatedRequest) -> HttpResponse:
    """Every item, filtered by stage, topic, type, difficulty, status, reports and text."""
    form = ItemFilterForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    filters = form.cleaned_data if request.GET and valid else {}
    items = items_filtered(filters) if valid else Item.objects.none()
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    stage = filters.get("stage")
    can_see_stats = request.user.has_perm("quizzes.view_item_statistics")
    stats: dict[int, Any] = {}
    if can_see_stats and page.object_list:
        # Picks read every answer: for one stage's items, not the whole bank's.
        stats = {row.item.pk: row for row in item_statistics(stage=stage, picks=stage is not None)}
    rows = [{"item": item, "stats": stats.get(item.pk)} for item in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "quizzes/staff/items.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "query": query.urlencode(),
            "stage": stage,
            "can_see_stats": can_see_stats,
            "flag_min": FLAG_MIN_ANSWERS,
            "poor_fit": POOR_FIT_RMSD,
            "actions": BankAction,
            "topics": Topic.objects.select_related("stage").order_by("stage__number", "slug"),
            "open_report_count": open_reports().count(),
        },
        status=200 if valid else 400,
    )


@_author
@require_POST
def bank_bulk(request: AuthenticatedRequest) -> HttpResponse:
    """Publish, retire or move the selected items; each change is audited."""
    back = request.POST.get("next", "")
    target = reverse("author-items") + (f"?{back}" if back and len(back) < 1000 else "")
    topic = None
    topic_slug = request.POST.get("topic", "")
    if request.POST.get("action") == BankAction.MOVE_TOPIC and topic_slug:
        stage_number, _, slug = topic_slug.partition("/")
        topic = (
            Topic.objects.filter(stage__number__in=[stage_number], slug=slug).first()
            if stage_number.isdecimal() and len(stage_number) < 4
            else None
        )
        if topic is None:
            messages.error(request, "Nothing was changed: choose an existing topic.")
            return redirect(target)
    try:
        report = items_bulk_update(
            actor=request.user,
            slugs=request.POST.getlist("items"),
            action=request.POST.get("action", ""),
            topic=topic,
        )
    except BulkError as exc:
        messages.error(request, f"Nothing was changed: {exc}")
        return redirect(target)
    label = BankAction(request.POST["action"]).label.lower()
    if report.changed:
        messages.success(request, f"{label.capitalize()}: {', '.join(report.changed)}.")
    if report.unchanged:
        messages.info(request, f"Already so: {', '.join(report.unchanged)}.")
    for slug, why in report.refused.items():
        messages.error(request, f"{slug} was not {label}: {why}.")
    return redirect(target)


@_author
@require_GET
def item_history(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """An item's versions, what changed between two of them, where it is used, its reports
    and the audit trail of bulk changes."""
    item = get_object_or_404(
        Item.objects.select_related("current_version", "stage", "topic").prefetch_related(
            Prefetch(
                "versions",
                queryset=ItemVersion.objects.select_related("created_by").order_by("-number"),
            )
        ),
        slug=slug,
    )
    versions = list(item.versions.all())
    numbers = {v.number: v for v in versions}
    new = _version_param(request.GET.get("new"), numbers)
    old = _version_param(request.GET.get("old"), numbers)
    if ("old" in request.GET and old is None) or ("new" in request.GET and new is None):
        raise Http404("No such version.")
    if new is None and versions:
        new = versions[0]
    if old is None and new is not None:
        old = next((v for v in versions if v.number < new.number), None)
    return render(
        request,
        "quizzes/staff/item_history.html",
        {
            "item": item,
            "versions": versions,
            "old": old,
            "new": new,
            "diff": version_diff(old, new) if old is not None and new is not None else [],
            "usage": item_usage(item),
            "reports": ItemReport.objects.filter(item=item).select_related(
                "reporter", "version", "resolved_by"
            ),
            "events": BankEvent.objects.filter(item=item).select_related("actor")[:50],
            "statuses": ItemReportStatus,
        },
    )


def _version_param(raw: str | None, numbers: dict[int, ItemVersion]) -> ItemVersion | None:
    if raw is None or not raw.isdecimal() or len(raw) > 9:
        return None
    return numbers.get(int(raw))


@_author
@require_GET
def report_queue(request: AuthenticatedRequest) -> HttpResponse:
    """Learners' open problem reports, oldest first, with the item they are about."""
    reports = open_reports().order_by("created_at", "pk")
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "quizzes/staff/reports.html", {"page": page, "statuses": ItemReportStatus}
    )


@_author
@require_POST
def report_close(request: AuthenticatedRequest, report_id: int) -> HttpResponse:
    report = get_object_or_404(ItemReport.objects.select_related("item"), pk=report_id)
    try:
        item_report_close(
            report=report,
            actor=request.user,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
        )
    except BulkError as exc:
        messages.error(request, f"The report was not changed: {exc}")
    else:
        messages.success(
            request, f"Report on {report.item.slug} {report.get_status_display().lower()}."
        )
    if request.POST.get("next") == "item":
        return redirect("item-history", slug=report.item.slug)
    return redirect("item-reports")


@_author
@require_GET
def quiz_preview(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """One draw of the quiz, shown as a learner would see its questions; nothing is saved
    and nothing counts. Another seed (``?seed=``) gives another draw."""
    quiz = get_object_or_404(Quiz, slug=slug)
    raw = request.GET.get("seed", "")
    seed = int(raw) if raw.isdecimal() and len(raw) < 12 else random.SystemRandom().randrange(10**9)
    rng = random.Random(seed)  # noqa: S311 (a preview's shuffle, not a secret)
    items = [] if quiz.is_adaptive else quiz_draw(quiz=quiz, rng=rng)
    questions = []
    for position, item in enumerate(items, start=1):
        version = item.current_version
        if version is None:
            continue
        handler = handler_for(item.type)
        layout = handler.layout(version.data, rng, shuffle=quiz.shuffle_choices)
        view: dict[str, Any] = {
            "position": position,
            "slug": item.slug,
            "type_label": handler.label,
            "title": version.title,
            "body_html": version.body_html,
            "points": version.points,
            "topic": item.topic.title,
            "answer": {},
            "question_template": handler.question_template,
        }
        view.update(handler.learner_view(version.data, layout, {}))
        questions.append(view)
    return render(
        request,
        "quizzes/staff/quiz_preview.html",
        # The question widgets name their attempt's URLs; a preview has no attempt.
        {"quiz": quiz, "questions": questions, "seed": seed, "attempt": {"pk": 0}},
    )
