"""Authoring pages for instructors: items, import/export, quizzes, regrade."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quizzes.access import AuthenticatedRequest
from quizzes.analytics.itemstats import FLAG_MIN_ANSWERS, POOR_FIT_RMSD, item_statistics
from quizzes.assessments.services import RegradeError, item_regrade, item_regrade_preview
from quizzes.bank.authoring import (
    NEW_ITEM_TEMPLATE,
    AuthoringError,
    bank_export,
    item_entry_problems,
    item_save,
    item_set_status,
    parse_item_yaml,
    to_yaml,
)
from quizzes.bank.formats import FORMAT_LABELS, FORMATS, GIFT, MOODLE_XML, YAML
from quizzes.bank.forms import (
    MAX_POOLS,
    ItemAuthoring,
    PoolForm,
    PoolFormSet,
    QuizForm,
    is_slug_problem,
)
from quizzes.bank.preview import (
    Preview,
    PreviewError,
    answer_score,
    entry_preview_answer,
    entry_preview_start,
    item_preview_answer,
    item_preview_start,
)
from quizzes.bank.quizzes import QuizInvalid, quiz_item_count, quiz_save
from quizzes.bank.transfer import (
    ImportRefused,
    ImportReport,
    bank_import_apply,
    bank_import_plan,
    bank_import_stage,
    bank_import_staged,
    bank_import_unstage,
    export_gift,
    export_items,
    export_moodle_xml,
)
from quizzes.bank.trial import TrialError, trial_code, trial_of, trial_request, trial_review
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
from quizzes.models import ChallengeVerification, Item, ItemStatus, ItemVersion, Quiz, Stage
from quizzes.pipeline.ops import worker_status
from quizzes.throttles import BankImportThrottle, page_refusal


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
    """The current version as a learner sees it, answerable, scored; nothing is stored.
    A challenge's solution is posted to ``item_trial`` instead; ``?trial=<id>`` shows the
    page with that run of the author's (its code in the editor, its result below)."""
    item = get_object_or_404(
        Item.objects.select_related("current_version", "topic", "stage"), slug=slug
    )
    if item.current_version is None:
        raise Http404("This item has no content yet.")
    trial = None
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
        trial_id = request.GET.get("trial", "")
        if trial_id.isdecimal() and len(trial_id) < 19:
            trial = trial_of(item=item, trial_id=int(trial_id), author=request.user)
        answer = trial_code(trial) if trial else None
        preview = item_preview_start(version=item.current_version, answer=answer)
    return _try_page(request, item, preview, trial=trial, status=400 if preview.refused else 200)


def _try_page(
    request: AuthenticatedRequest,
    item: Item,
    preview: Preview,
    *,
    trial: ChallengeVerification | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "quizzes/staff/item_try.html",
        {
            "item": item,
            "preview": preview,
            "view": preview.view,
            "is_challenge": handler_for(item.type).needs_sandbox,
            **(_trial_context(item, trial) if trial else {}),
        },
        status=status,
    )


@_author
@require_POST
def item_trial(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Run the author's solution to a challenge as a learner's would be graded, on the
    grading workers (quizzes/bank/trial.py): nothing counts. A solution that cannot run
    comes back in the editor with why; nothing is stored."""
    item = get_object_or_404(
        Item.objects.select_related("current_version", "topic", "stage"), slug=slug
    )
    if not handler_for(item.type).needs_sandbox or item.current_version is None:
        raise Http404("Only a challenge's solution is run as a learner.")
    code = request.POST.get("code", "")
    language = request.POST.get("language", "")
    posted = {"code": code, **({"language": language} if language else {})}
    limited = page_refusal(request, BankImportThrottle, slug=slug)
    if limited is None:
        try:
            trial = trial_request(item=item, author=request.user, code=code, language=language)
        except TrialError as exc:
            refused, status = str(exc), 400
        else:
            return redirect(f"{reverse('item-try', args=[item.slug])}?trial={trial.pk}")
    else:
        refused, status = str(limited.detail), 429
    # The editor holds what was posted (a language it does not offer opens in its first).
    preview = item_preview_start(version=item.current_version, answer=posted)
    preview.refused = refused
    response = _try_page(request, item, preview, status=status)
    if limited is not None and limited.wait is not None:
        response["Retry-After"] = str(limited.wait)
    return response


@_author
@require_GET
def item_trial_status(request: AuthenticatedRequest, slug: str, trial_id: int) -> HttpResponse:
    """How the author's run stands (polled by the preview page with htmx while it runs)."""
    item = get_object_or_404(Item.objects.select_related("current_version"), slug=slug)
    trial = trial_of(item=item, trial_id=trial_id, author=request.user)
    if trial is None:
        raise Http404("No such run of yours of this version.")
    return render(request, "quizzes/staff/_trial.html", _trial_context(item, trial))


def _trial_context(item: Item, trial: ChallengeVerification) -> dict[str, Any]:
    return {
        "item": item,
        "trial": trial,
        "trial_review": trial_review(trial),
        "trial_stalled": verification_is_stalled(trial),
        "grading": worker_status(),
    }


@_author
@require_POST
def item_live_preview(request: AuthenticatedRequest) -> HttpResponse:
    """The item form's content, saved or not, as a learner sees it: htmx posts the form
    here as it stands (on the item page's "Preview" button, and a moment after each
    change) and swaps the answer into the page. With ``preview_op=answer`` it also holds
    the learner's answer and the signed layout: the answer is scored as on "Preview as a
    learner". Nothing is saved. The item is the one edited (``item``: its slug) or a new
    one (``stage`` and ``type``, as the new item's form posts them)."""
    slug = request.POST.get("item", "")
    item = None
    if slug:
        item = get_object_or_404(Item.objects.select_related("stage"), slug=slug)
        stage, handler = item.stage, handler_for(item.type)
    else:
        number = request.POST.get("stage", "")
        type_name = request.POST.get("type", "")
        if not (number.isdecimal() and len(number) < 6 and is_registered(type_name)):
            return HttpResponse("Post the item form: its stage and type are missing.", status=400)
        stage = get_object_or_404(Stage.objects.active(), number=int(number))
        handler = handler_for(type_name)
    entry, problems = _posted_entry(request, item=item, stage=stage, handler=handler)
    preview = None
    if entry is not None:
        refused = None
        if request.POST.get("preview_op") == "answer":
            try:
                preview = entry_preview_answer(
                    entry=entry,
                    stage=stage,
                    signed_layout=request.POST.get("layout", ""),
                    post=request.POST,
                )
            except PreviewError as exc:
                refused = str(exc)
        if preview is None:
            preview = entry_preview_start(entry=entry, stage=stage)
            preview.refused = refused
    return render(
        request,
        "quizzes/staff/_live_preview.html",
        {"problems": problems, "preview": preview, "view": preview.view if preview else None},
    )


def _posted_entry(
    request: AuthenticatedRequest, *, item: Item | None, stage: Stage, handler: ItemTypeHandler
) -> tuple[dict[str, Any] | None, list[str]]:
    """The bank entry the posted item form (or its YAML) holds, or, when it holds none that
    can be saved, every problem in plain words. The slug is not checked: a draft may be
    previewed before it has one."""
    authoring = None
    if request.POST.get("mode") == "yaml" or handler.authoring_form is None:
        try:
            entry: dict[str, Any] | None = parse_item_yaml(request.POST.get("source", ""))
        except AuthoringError as exc:
            return None, exc.problems
        assert entry is not None
        if entry.get("type") != str(handler.type):
            return None, [f"The page edits a {handler.label} item: keep 'type: {handler.type}'."]
    else:
        authoring = ItemAuthoring(handler=handler, stage=stage, item=item, data=request.POST)
        entry = authoring.entry()
        if entry is None:
            return None, authoring.error_messages()
    problems = [
        p
        for p in item_entry_problems(entry=entry, stage=stage, item=item)
        if not is_slug_problem(p)
    ]
    if not problems:
        return entry, []
    if authoring is None:
        return None, problems
    authoring.add_problems(problems)
    return None, authoring.error_messages()


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


def _import_page(
    request: AuthenticatedRequest,
    *,
    report: ImportReport | None = None,
    problems: list[str] | None = None,
    digest: str = "",
    fmt: str = "",
    status: int = 200,
) -> HttpResponse:
    stages = list(Stage.objects.active().prefetch_related("topics"))
    targets = [
        (stage, [(f"{stage.number}/{t.slug}", t.title) for t in stage.topics.all()])
        for stage in stages
    ]
    return render(
        request,
        "quizzes/staff/import.html",
        {
            "problems": problems or [],
            "report": report,
            "digest": digest,
            "format": fmt or (report.format if report else "auto"),
            "formats": [("auto", "Detect from the file"), *FORMAT_LABELS.items()],
            "export_formats": [(MOODLE_XML, FORMAT_LABELS[MOODLE_XML]), (GIFT, "GIFT")],
            "stages": stages,
            "targets": targets,
            "previewed": json.dumps(report.category_map, sort_keys=True) if report else "",
            "max_bytes": settings.BANK_IMPORT_MAX_BYTES,
        },
        status=status,
    )


def _chosen_format(request: AuthenticatedRequest) -> str | None:
    fmt = request.POST.get("format", "auto")
    return fmt if fmt in FORMATS else None


@_author
@require_http_methods(["GET", "POST"])
def bank_import_view(request: AuthenticatedRequest) -> HttpResponse:
    """GET: the upload form. POST ``upload``: keep the file server-side and show the dry run.
    POST ``preview``: the dry run again with the chosen category mapping. POST ``confirm``:
    import exactly what the shown report says, or nothing."""
    if request.method == "GET":
        return _import_page(request)
    action = request.POST.get("action", "upload")
    fmt = _chosen_format(request)
    if action == "upload":
        upload = request.FILES.get("bank")
        if upload is None:
            return _import_page(request, problems=["Choose a file to import."], status=400)
        limit = settings.BANK_IMPORT_MAX_BYTES
        if (upload.size or 0) > limit:
            return _import_page(
                request,
                problems=[
                    f"The file is {upload.size:,} bytes; the limit is {limit:,}. "
                    "Split it and import the parts."
                ],
                status=400,
            )
        data = upload.read()
        name = upload.name or "upload"
        digest = bank_import_stage(user_id=request.user.pk, name=name, data=data)
        report = bank_import_plan(name=name, data=data, fmt=fmt)
        return _import_page(
            request, report=report, digest=digest, status=400 if report.problems else 200
        )
    if action not in ("preview", "confirm"):
        return _import_page(request, problems=["Unknown action."], status=400)
    digest = request.POST.get("upload", "")
    try:
        name, data = bank_import_staged(user_id=request.user.pk, digest=digest)
    except ImportRefused as exc:
        return _import_page(request, problems=[f"Nothing was imported: {exc}"], status=400)
    # The categories come from the file itself; the form only says where each one goes.
    categories = bank_import_plan(name=name, data=data, fmt=fmt).categories
    mapping = {
        c.path: request.POST.get(f"map-{i}", c.target)[:200] for i, c in enumerate(categories)
    }
    report = bank_import_plan(name=name, data=data, fmt=fmt, category_map=mapping)
    if action == "preview":
        return _import_page(request, report=report, digest=digest)
    if request.POST.get("previewed", "") != json.dumps(mapping, sort_keys=True):
        return _import_page(
            request,
            report=report,
            digest=digest,
            problems=["The category mapping changed: review the new report, then confirm."],
            status=400,
        )
    try:
        done = bank_import_apply(
            name=name, data=data, fmt=fmt, category_map=mapping, author=request.user
        )
    except ImportRefused as exc:
        return _import_page(
            request,
            report=report,
            digest=digest,
            problems=[f"Nothing was imported: {exc}"],
            status=400,
        )
    bank_import_unstage(user_id=request.user.pk, digest=digest)
    summary = done.summary()
    messages.success(
        request,
        f"Imported {done.file}: {summary['create']} created"
        + (" (as drafts)" if done.format != YAML else "")
        + f", {summary['update']} updated, {summary['unchanged']} unchanged, "
        f"{summary['skip']} skipped.",
    )
    return redirect("author-items")


@_author
@require_GET
def bank_export_view(request: AuthenticatedRequest, number: int) -> HttpResponse:

    stage = get_object_or_404(Stage, number=number)
    response = HttpResponse(bank_export(stage=stage), content_type="application/x-yaml")
    response["Content-Disposition"] = f'attachment; filename="stage-{number:02d}.yaml"'
    return response


def _download(text: str, fmt: str, filename: str) -> HttpResponse:
    content_type = "application/xml" if fmt == MOODLE_XML else "text/plain"
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@_author
@require_GET
def bank_export_moodle_view(request: AuthenticatedRequest, number: int) -> HttpResponse:

    stage = get_object_or_404(Stage, number=number)
    text = export_moodle_xml(export_items(stage=stage))
    return _download(text, MOODLE_XML, f"stage-{number:02d}.xml")


@_author
@require_GET
def bank_export_gift_view(request: AuthenticatedRequest, number: int) -> HttpResponse:

    stage = get_object_or_404(Stage, number=number)
    return _download(export_gift(export_items(stage=stage)), GIFT, f"stage-{number:02d}.gift")


@_author
@require_GET
def bank_export_selection_view(request: AuthenticatedRequest) -> HttpResponse:
    """A selection as Moodle XML or GIFT: a stage, one of its topics, and/or items by slug
    (``?item=a&item=b``, or ``items`` separated by commas or spaces)."""
    fmt = request.GET.get("format", MOODLE_XML)
    number = request.GET.get("stage", "")
    topic = request.GET.get("topic", "")
    slugs = request.GET.getlist("item") + request.GET.get("items", "").replace(",", " ").split()
    problems = []
    if fmt not in (MOODLE_XML, GIFT):
        problems.append("Choose Moodle XML or GIFT.")
    stage = None
    if number:
        known = number.isdecimal() and len(number) < 6
        stage = Stage.objects.filter(number=int(number)).first() if known else None
        if stage is None:
            problems.append(f"There is no stage {number[:10]!r}.")
    if topic and stage is None:
        problems.append("Choose the topic's stage too.")
    if len(slugs) > 5000:
        problems.append("Select at most 5000 items.")
    items = export_items(stage=stage, topic=topic[:60], slugs=slugs or None) if not problems else []
    if not problems and not items:
        problems.append("No item matches this selection.")
    if problems:
        return _import_page(request, problems=problems, status=400)
    text = export_moodle_xml(items) if fmt == MOODLE_XML else export_gift(items)
    suffix = "xml" if fmt == MOODLE_XML else "gift"
    return _download(text, fmt, f"skillmap-selection.{suffix}")


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
