"""Authoring pages for instructors: items, import/export, quizzes, regrade."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
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
    item_entry_problems,
    item_save,
    item_set_status,
    parse_item_yaml,
    to_yaml,
)
from quizzes.bank.forms import ItemAuthoring, PoolFormSet, QuizForm
from quizzes.bank.preview import (
    PreviewError,
    answer_score,
    item_preview_answer,
    item_preview_start,
)
from quizzes.bank.quizzes import QuizInvalid, quiz_item_count, quiz_save
from quizzes.bank.verification import (
    VerificationError,
    latest_verification,
    verification_is_stalled,
    verification_request,
)
from quizzes.itemtypes import (
    AnswerError,
    ItemTypeHandler,
    all_handlers,
    handler_for,
    is_registered,
)
from quizzes.itemtypes.base import strip_lines
from quizzes.models import Item, ItemStatus, ItemVersion, Quiz, Stage
from quizzes.pipeline.ops import worker_status


@login_required
@permission_required("quizzes.author_item", raise_exception=True)
@require_GET
def author_items(request: AuthenticatedRequest) -> HttpResponse:
    stage_number = request.GET.get("stage", "")
    stage = (
        Stage.objects.filter(number=int(stage_number)).first()
        if stage_number.isdecimal() and len(stage_number) < 6
        else None
    )
    can_see_stats = request.user.has_perm("quizzes.view_item_statistics")
    if can_see_stats:
        # Picks read every answer: for one stage's items, not the whole bank's.
        rows: list[Any] = item_statistics(stage=stage, picks=stage is not None)
    else:
        items = Item.objects.select_related("current_version", "topic", "stage")
        rows = [{"item": i} for i in (items.filter(stage=stage) if stage else items)]
    return render(
        request,
        "quizzes/staff/items.html",
        {
            "stages": Stage.objects.active(),
            "stage": stage,
            "rows": rows,
            "can_see_stats": can_see_stats,
            "flag_min": FLAG_MIN_ANSWERS,
            "poor_fit": POOR_FIT_RMSD,
        },
    )


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
            "is_challenge": handler_for(item.type).needs_sandbox,
            **(_verification_context(item) if handler_for(item.type).needs_sandbox else {}),
            "flag_min": FLAG_MIN_ANSWERS,
            "poor_fit": POOR_FIT_RMSD,
        },
    )


# --- authoring ------------------------------------------------------------------------------
def _author(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return login_required(permission_required("quizzes.author_item", raise_exception=True)(view))


# What the form's buttons post, besides the row buttons ("add:choices", "up:pairs:2", …).
_FORM_OPS = ("save", "publish", "to-yaml", "test-answer")
_SAVED = {
    True: "Draft created. Preview it as a learner, then publish it.",
    False: "Saved as a new version; past attempts keep theirs.",
}


def _item_page(
    request: AuthenticatedRequest,
    *,
    stage: Stage,
    item: Item | None,
    handler: ItemTypeHandler,
    entry: dict[str, Any] | None,
    context: dict[str, Any],
) -> HttpResponse:
    """An item's form, or its YAML ("advanced"); both save through ``item_save``.

    A POST names what to do in ``op``: save (or save and publish), switch between the form
    and YAML (each carries what was typed into the other), test a typed answer, or add,
    remove or move a row. htmx posts the row and test buttons and swaps in the part of the
    page that changed; without JavaScript the whole page comes back."""
    op = request.POST.get("op", "save") if request.method == "POST" else ""
    # A post of YAML alone (the editor before the forms, scripts) is the YAML mode.
    posted_yaml = "source" in request.POST and "mode" not in request.POST
    mode = "yaml" if posted_yaml else request.POST.get("mode") or request.GET.get("mode") or "form"
    if handler.authoring_form is None:
        mode = "yaml"
    page: dict[str, Any] = {
        **context,
        "item": item,
        "stage": stage,
        "handler": handler,
        "type_name": str(handler.type),
        "answer_test": handler.typed_answer_field is not None,
    }
    status = 200
    authoring: ItemAuthoring | None = None
    source = to_yaml(entry) if entry else ""
    problems: list[str] = []

    def new_form(entry: dict[str, Any] | None) -> ItemAuthoring:
        return ItemAuthoring(handler=handler, stage=stage, item=item, entry=entry)

    if mode == "yaml" and request.method == "POST":
        source = request.POST.get("source", "")
        try:
            parsed = parse_item_yaml(source)
            if op == "to-form":
                if parsed.get("type") != str(handler.type):
                    raise AuthoringError(
                        [f"the form edits a {handler.label} item: keep 'type: {handler.type}'"]
                    )
                authoring, mode = new_form(parsed), "form"
            else:
                saved = item_save(entry=parsed, stage=stage, author=request.user, item=item)
                return _saved(request, saved, created=item is None, publish=op == "publish")
        except AuthoringError as exc:
            problems, status = exc.problems, 400
    elif mode == "form" and request.method == "POST":
        authoring = ItemAuthoring.after_row_op(
            handler=handler, stage=stage, item=item, op=op, data=request.POST
        )
        if authoring is None and op not in _FORM_OPS:
            authoring, problems, status = (
                new_form(entry),
                [f"Nothing was done: {op!r} is no action of this page."],
                400,
            )
        elif authoring is None:
            authoring = ItemAuthoring(handler=handler, stage=stage, item=item, data=request.POST)
            built = authoring.entry()
            if built is None:
                status = 400 if op in ("save", "publish") else 200
            elif op == "to-yaml":
                source, mode = to_yaml(built), "yaml"
            elif op == "test-answer":
                page["tested"] = _test_answer(handler, stage, item, built, request.POST)
                if page["tested"].get("problems"):
                    authoring.add_problems(page["tested"]["problems"])
            else:
                try:
                    saved = item_save(entry=built, stage=stage, author=request.user, item=item)
                except AuthoringError as exc:
                    authoring.add_problems(exc.problems)
                    status = 400
                else:
                    return _saved(request, saved, created=item is None, publish=op == "publish")
    elif mode == "form":
        authoring = new_form(entry)
    if authoring is not None and authoring.typed.unsupported:
        mode = "yaml"
    return render(
        request,
        "quizzes/staff/item_edit.html",
        {**page, "mode": mode, "authoring": authoring, "source": source, "problems": problems},
        status=status,
    )


def _saved(
    request: AuthenticatedRequest, item: Item, *, created: bool, publish: bool
) -> HttpResponse:
    messages.success(request, _SAVED[created])
    if publish:
        try:
            item_set_status(item=item, status=ItemStatus.PUBLISHED)
        except AuthoringError as exc:
            messages.error(request, f"Not published: {exc}")
        else:
            messages.success(request, f"{item.slug} is now published.")
    return redirect("item-preview", slug=item.slug)


def _test_answer(
    handler: ItemTypeHandler,
    stage: Stage,
    item: Item | None,
    entry: dict[str, Any],
    post: Any,
) -> dict[str, Any]:
    """Score a typed answer against the form's key, by the type's own scoring."""
    given = str(post.get("test_answer", ""))[:1000]
    problems = [
        p
        for p in item_entry_problems(entry=entry, stage=stage, item=item)
        if "slug" not in p  # a draft's slug is checked when it is saved
    ]
    if problems:
        return {"given": given, "problems": problems}
    try:
        score = answer_score(
            handler=handler,
            entry=entry,
            answer=handler.answer_from_post({handler.typed_answer_field: given}, {}),
        )
    except AnswerError as exc:
        return {"given": given, "refused": str(exc)}
    return {"given": given, "score": score}


@_author
def item_edit(request: AuthenticatedRequest, slug: str) -> HttpResponse:

    item = get_object_or_404(Item.objects.select_related("stage", "current_version"), slug=slug)
    entry = strip_lines(item.current_version.source) if item.current_version else None
    return _item_page(
        request,
        stage=item.stage,
        item=item,
        handler=handler_for(item.type),
        entry=entry,
        context={},
    )


@_author
def item_new(request: AuthenticatedRequest) -> HttpResponse:

    stages = Stage.objects.active().prefetch_related("topics")
    number = request.GET.get("stage") or request.POST.get("stage")
    if number is None:
        stage = stages.first()
        if stage is None:
            raise Http404("Load the roadmap first: there is no stage to add items to.")
    else:
        stage = get_object_or_404(
            stages, number=int(number) if number.isdecimal() and len(number) < 6 else 0
        )
    type_name = request.GET.get("type") or request.POST.get("type") or _yaml_type(request)
    if not is_registered(type_name):
        refused = request.method == "POST"
        return render(
            request,
            "quizzes/staff/item_new.html",
            {
                "stages": stages,
                "stage": stage,
                "handlers": list(all_handlers()),
                "refused": "Nothing was saved: choose one of these types." if refused else "",
            },
            status=400 if refused else 200,
        )
    handler = handler_for(type_name)
    first_topic = stage.topics.first()
    prefix = stage.slug.split("-")[0]
    entry = {
        "slug": f"{prefix}-",
        "type": type_name,
        "topic": first_topic.slug if first_topic else "",
        "difficulty": 3,
        "cognitive": "judgement",
    }
    if handler.authoring_form is None:
        entry = yaml.safe_load(NEW_ITEM_TEMPLATE.format(prefix=prefix, topic=entry["topic"]))
    return _item_page(
        request,
        stage=stage,
        item=None,
        handler=handler,
        entry=entry,
        context={"stages": stages},
    )


def _yaml_type(request: AuthenticatedRequest) -> str:
    """The type named in posted YAML, for a new item posted as YAML alone."""
    try:
        return str(parse_item_yaml(request.POST.get("source", "")).get("type", ""))
    except AuthoringError:
        return ""


@_author
@require_POST
def item_status(request: AuthenticatedRequest, slug: str) -> HttpResponse:

    item = get_object_or_404(Item.objects.select_related("current_version"), slug=slug)
    try:
        item_set_status(item=item, status=request.POST.get("status", ""))
    except AuthoringError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{item.slug} is now {item.get_status_display().lower()}.")
    return redirect("item-preview", slug=item.slug)


@_author
@require_http_methods(["GET", "POST"])
def item_try(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The current version as a learner sees it, answerable, scored; nothing is stored."""
    item = get_object_or_404(
        Item.objects.select_related("current_version", "topic", "stage"), slug=slug
    )
    if item.current_version is None:
        raise Http404("This item has no content yet.")
    if request.method == "POST":
        try:
            preview = item_preview_answer(
                version=item.current_version,
                signed_layout=request.POST.get("layout", ""),
                post=request.POST,
            )
        except PreviewError as exc:
            preview = item_preview_start(version=item.current_version)
            preview.refused = str(exc)
    else:
        preview = item_preview_start(version=item.current_version)
    return render(
        request,
        "quizzes/staff/item_try.html",
        {"item": item, "preview": preview, "view": preview.view},
        status=400 if preview.refused else 200,
    )


@_author
@require_http_methods(["GET", "POST"])
def item_verify(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """POST: verify the challenge's current version on the grading workers. GET: how the
    latest verification stands (polled by the item's page with htmx while it runs)."""
    item = get_object_or_404(Item.objects.select_related("current_version"), slug=slug)
    if not handler_for(item.type).needs_sandbox:
        raise Http404("Only challenges are verified.")
    if request.method == "POST":
        try:
            verification_request(item=item, author=request.user)
        except VerificationError as exc:
            messages.error(request, str(exc))
        if not request.headers.get("HX-Request"):
            return redirect("item-preview", slug=item.slug)
    return render(request, "quizzes/staff/_verification.html", _verification_context(item))


def _verification_context(item: Item) -> dict[str, Any]:
    verification = latest_verification(item.current_version)
    return {
        "item": item,
        "verification": verification,
        "stalled": verification is not None and verification_is_stalled(verification),
        "grading": worker_status(),
    }


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
        {"form": form, "pools": pools, "quiz": quiz},
        status=400 if request.method == "POST" else 200,
    )
