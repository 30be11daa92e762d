"""API v1 for authors: items (YAML, as the editor takes them), quizzes and their pools, and
bank import (a dry run, then the real thing) and export. The same services as the
authoring pages (quizzes/bank/authoring.py, quizzes/bank/quizzes.py)."""

from __future__ import annotations

import random
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import link
from quizzes.access import StaffAPIView, account_of, needs_perm
from quizzes.api_schema import ITEM_TYPE_CHOICES
from quizzes.assessments.api import ItemOut, KeyLineOut
from quizzes.assessments.presenters import item_preview
from quizzes.bank.authoring import (
    AuthoringError,
    bank_export,
    item_delete,
    item_save_from_yaml,
    item_set_status,
    item_verify,
    item_yaml,
)
from quizzes.bank.quizzes import QuizInUse, QuizInvalid, quiz_delete, quiz_item_count, quiz_save
from quizzes.bank.transfer import (
    CREATE,
    UNCHANGED,
    UPDATE,
    ImportRefused,
    bank_import_apply,
    bank_import_plan,
)
from quizzes.itemtypes import handler_for
from quizzes.models import (
    FeedbackMode,
    Item,
    ItemStatus,
    Quiz,
    QuizKind,
    QuizPool,
    QuizStatus,
    Stage,
    Topic,
)
from quizzes.renderers import PrintableJSONRenderer, YAMLRenderer
from quizzes.throttles import ApiReadThrottle, BankImportThrottle

TAG = "authoring"
CanAuthor = needs_perm("quizzes.author_item", "You do not have permission to author items.")
TYPE_CHOICES = ITEM_TYPE_CHOICES


class AuthorAPIView(StaffAPIView):
    permission_classes = [*StaffAPIView.permission_classes, CanAuthor]


def refused(problems: list[str], *, field: str, what: str) -> exceptions.ValidationError:
    """Problems of a service as a 400 naming the field they are about."""
    return exceptions.ValidationError({"detail": f"{what}: {'; '.join(problems)}", field: problems})


# --- items ------------------------------------------------------------------------------------
class ItemSummaryOut(serializers.Serializer[Any]):
    slug = serializers.CharField()
    type = serializers.ChoiceField(choices=TYPE_CHOICES)
    stage = serializers.IntegerField(source="stage.number")
    topic = serializers.CharField(source="topic.slug")
    status = serializers.ChoiceField(choices=ItemStatus.choices)
    title = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField(help_text="The current version's number.")
    difficulty = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    def get_title(self, item: Item) -> str:
        return item.current_version.title if item.current_version else ""

    def get_version(self, item: Item) -> int | None:
        return item.current_version.number if item.current_version else None

    def get_difficulty(self, item: Item) -> int | None:
        return item.current_version.difficulty if item.current_version else None

    def get_url(self, item: Item) -> str:
        return reverse("api-author-item", args=[item.slug])


class VersionOut(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    title = serializers.CharField()
    created_at = serializers.DateTimeField()


class ItemDetailOut(ItemSummaryOut):
    """An item as its author sees it: the key, the explanation, its YAML and its versions."""

    body_html = serializers.SerializerMethodField()
    explanation_html = serializers.SerializerMethodField()
    key_lines = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="The current version as YAML."
    )
    versions = VersionOut(many=True, source="versions.all")

    def get_body_html(self, item: Item) -> str:
        return item.current_version.body_html if item.current_version else ""

    def get_explanation_html(self, item: Item) -> str:
        return item.current_version.explanation_html if item.current_version else ""

    @extend_schema_field(KeyLineOut(many=True))
    def get_key_lines(self, item: Item) -> list[dict[str, str]]:
        version = item.current_version
        lines = handler_for(item.type).key_lines(version.data) if version else []
        return [{"label": label, "text": text} for label, text in lines]

    def get_source(self, item: Item) -> str:
        return item_yaml(item)


class ItemFilter(filters.FilterSet):  # type: ignore[misc]
    stage = filters.NumberFilter(field_name="stage__number", help_text="Stage number.")
    topic = filters.CharFilter(field_name="topic__slug", help_text="Topic slug.")
    type = filters.ChoiceFilter(choices=TYPE_CHOICES)
    status = filters.ChoiceFilter(choices=ItemStatus.choices)
    q = filters.CharFilter(field_name="slug", lookup_expr="icontains", help_text="Slug contains.")

    class Meta:
        model = Item
        fields = ["stage", "topic", "type", "status", "q"]


class ItemCreateInput(serializers.Serializer[Any]):
    stage = serializers.IntegerField(min_value=0, max_value=10**4, help_text="Stage number.")
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=200_000, trim_whitespace=False, help_text="One item in the bank's YAML."
    )


class ItemUpdateInput(serializers.Serializer[Any]):
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=200_000, trim_whitespace=False, help_text="The item's new YAML (same slug)."
    )


def _items() -> QuerySet[Item]:
    return Item.objects.select_related("current_version", "stage", "topic")


def _item(slug: str) -> Item:
    return get_object_or_404(_items().prefetch_related("versions"), slug=slug)


def _item_response(item: Item, *, code: int = status.HTTP_200_OK) -> Response:
    return Response(ItemDetailOut(_item(item.slug)).data, status=code)


class ItemListAPI(AuthorAPIView):
    """Every item, any status (``quizzes.author_item``); create a draft from YAML."""

    serializer_class = ItemSummaryOut
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = ItemFilter
    ordering_fields = ["slug", "stage__number", "updated_at", "status"]
    ordering = ["stage__number", "slug"]

    def get_queryset(self) -> QuerySet[Item]:
        return _items()

    @extend_schema(
        operation_id="author_item_list", tags=[TAG], responses={200: ItemSummaryOut(many=True)}
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ItemSummaryOut(page, many=True).data)

    @extend_schema(
        operation_id="author_item_create",
        tags=[TAG],
        request=ItemCreateInput,
        responses={201: ItemDetailOut},
    )
    def post(self, request: Request) -> Response:
        data = ItemCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        stage = Stage.objects.active().filter(number=data.validated_data["stage"]).first()
        if stage is None:
            raise exceptions.ValidationError({"stage": ["There is no such stage."]})
        try:
            item = item_save_from_yaml(
                text=data.validated_data["source"], stage=stage, author=account_of(request)
            )
        except AuthoringError as exc:
            raise refused(exc.problems, field="source", what="The item was not saved") from exc
        return _item_response(item, code=status.HTTP_201_CREATED)


class ItemDetailAPI(AuthorAPIView):
    @extend_schema(operation_id="author_item_retrieve", tags=[TAG], responses={200: ItemDetailOut})
    def get(self, request: Request, slug: str) -> Response:
        return Response(ItemDetailOut(_item(slug)).data)

    @extend_schema(
        operation_id="author_item_update",
        tags=[TAG],
        request=ItemUpdateInput,
        responses={200: ItemDetailOut},
        description="Save a new version; past attempts keep the version they were given.",
    )
    def put(self, request: Request, slug: str) -> Response:
        item = _item(slug)
        data = ItemUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            item_save_from_yaml(
                text=data.validated_data["source"],
                stage=item.stage,
                author=account_of(request),
                item=item,
            )
        except AuthoringError as exc:
            raise refused(exc.problems, field="source", what="The item was not saved") from exc
        return _item_response(item)

    @extend_schema(
        operation_id="author_item_delete",
        tags=[TAG],
        responses={
            204: OpenApiResponse(description="Deleted."),
            409: OpenApiResponse(description="Answered or drawn by name: retire it instead."),
        },
    )
    def delete(self, request: Request, slug: str) -> Response:
        try:
            item_delete(item=_item(slug))
        except AuthoringError as exc:
            raise Conflict(f"The item was not deleted: {exc}") from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class ItemPreviewAPI(AuthorAPIView):
    """The current version as a learner would be shown it (fresh tokens, no key)."""

    @extend_schema(operation_id="author_item_preview", tags=[TAG], responses={200: ItemOut})
    def get(self, request: Request, slug: str) -> Response:
        item = _item(slug)
        if item.current_version is None:
            raise Conflict("The item has no content to preview yet.")
        view = item_preview(item.current_version, random.Random())  # noqa: S311 (shuffling)
        return Response(ItemOut(view).data)


class VerifyOut(serializers.Serializer[Any]):
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())


class ItemVerifyAPI(AuthorAPIView):
    """Check the current version by every rule an edit must pass; a challenge's reference
    and wrong solutions run in the sandbox (rate-limited: API_BANK_IMPORT_RATE)."""

    throttle_classes = [ApiReadThrottle, BankImportThrottle]

    @extend_schema(
        operation_id="author_item_verify", tags=[TAG], request=None, responses={200: VerifyOut}
    )
    def post(self, request: Request, slug: str) -> Response:
        problems = item_verify(item=_item(slug), author=account_of(request))
        return Response(VerifyOut({"ok": not problems, "problems": problems}).data)


class ItemStatusAPI(AuthorAPIView):
    """Publish or retire an item."""

    target: str = ItemStatus.PUBLISHED

    def post(self, request: Request, slug: str) -> Response:
        item = _item(slug)
        try:
            item_set_status(item=item, status=self.target)
        except AuthoringError as exc:
            raise Conflict(f"The item's status was not changed: {exc}") from exc
        return _item_response(item)


class ItemPublishAPI(ItemStatusAPI):
    target = ItemStatus.PUBLISHED

    @extend_schema(
        operation_id="author_item_publish",
        tags=[TAG],
        request=None,
        responses={200: ItemDetailOut, 409: OpenApiResponse(description="No content yet.")},
    )
    def post(self, request: Request, slug: str) -> Response:
        return super().post(request, slug)


class ItemRetireAPI(ItemStatusAPI):
    target = ItemStatus.RETIRED

    @extend_schema(
        operation_id="author_item_retire",
        tags=[TAG],
        request=None,
        responses={200: ItemDetailOut},
    )
    def post(self, request: Request, slug: str) -> Response:
        return super().post(request, slug)


# --- quizzes ----------------------------------------------------------------------------------
class PoolSerializer(serializers.Serializer[Any]):
    """Draw ``count`` published items matching every filter given (none: any item)."""

    count = serializers.IntegerField(min_value=1, max_value=200)
    stage = serializers.IntegerField(required=False, allow_null=True, help_text="Stage number.")
    topic = serializers.CharField(
        required=False, allow_null=True, help_text="Topic slug (of the pool's stage)."
    )
    item = serializers.CharField(required=False, allow_null=True, help_text="One item's slug.")
    difficulty_min = serializers.IntegerField(required=False, default=1, min_value=1, max_value=5)
    difficulty_max = serializers.IntegerField(required=False, default=5, min_value=1, max_value=5)
    item_types = serializers.ListField(
        child=serializers.ChoiceField(choices=TYPE_CHOICES), required=False, default=list
    )


class AuthorQuizSerializer(serializers.Serializer[Any]):
    slug = serializers.SlugField(max_length=120)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=QuizKind.choices, read_only=True)
    stage = serializers.IntegerField(required=False, allow_null=True, help_text="Stage number.")
    status = serializers.ChoiceField(choices=QuizStatus.choices, default=QuizStatus.DRAFT)
    time_limit_seconds = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=7 * 24 * 3600
    )
    max_attempts = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**6
    )
    pass_mark_percent = serializers.IntegerField(default=70, min_value=0, max_value=100)
    feedback_mode = serializers.ChoiceField(
        choices=FeedbackMode.choices, default=FeedbackMode.AFTER_SUBMIT
    )
    closes_at = serializers.DateTimeField(required=False, allow_null=True)
    shuffle_items = serializers.BooleanField(default=True)
    shuffle_choices = serializers.BooleanField(default=True)
    pools = PoolSerializer(many=True)
    items = serializers.IntegerField(read_only=True, help_text="Questions an attempt draws.")
    url = serializers.CharField(read_only=True)


def _quiz_data(quiz: Quiz) -> dict[str, Any]:
    return {
        "slug": quiz.slug,
        "title": quiz.title,
        "description": quiz.description,
        "kind": quiz.kind,
        "stage": quiz.stage.number if quiz.stage else None,
        "status": quiz.status,
        "time_limit_seconds": quiz.time_limit_seconds,
        "max_attempts": quiz.max_attempts,
        "pass_mark_percent": quiz.pass_mark_percent,
        "feedback_mode": quiz.feedback_mode,
        "closes_at": quiz.closes_at,
        "shuffle_items": quiz.shuffle_items,
        "shuffle_choices": quiz.shuffle_choices,
        "pools": [
            {
                "count": p.count,
                "stage": p.stage.number if p.stage else None,
                "topic": p.topic.slug if p.topic else None,
                "item": p.item.slug if p.item else None,
                "difficulty_min": p.difficulty_min,
                "difficulty_max": p.difficulty_max,
                "item_types": p.item_types,
            }
            for p in quiz.pools.select_related("stage", "topic", "item").order_by("position")
        ],
        "items": quiz_item_count(quiz),
        "url": reverse("api-author-quiz", args=[quiz.slug]),
    }


def _lookup(model: Any, field: str, **where: Any) -> Any:
    """A related row by its natural key, or a 400 naming ``field``."""
    found = model.objects.filter(**where).first()
    if found is None:
        raise exceptions.ValidationError({field: ["There is no such " + field.split(".")[-1]]})
    return found


def _quiz_from(data: dict[str, Any], quiz: Quiz) -> tuple[Quiz, list[QuizPool]]:
    """The quiz and pools the input describes (not saved: ``quiz_save`` checks and saves)."""
    for name in (
        "slug", "title", "description", "status", "time_limit_seconds", "max_attempts",
        "pass_mark_percent", "feedback_mode", "closes_at", "shuffle_items", "shuffle_choices",
    ):  # fmt: skip
        if name in data:
            setattr(quiz, name, data[name])
    number = data.get("stage")
    quiz.stage = _lookup(Stage, "stage", number=number) if number is not None else None
    pools = []
    for index, raw in enumerate(data["pools"]):
        where = f"pools.{index}"
        stage = (
            _lookup(Stage, f"{where}.stage", number=raw["stage"])
            if raw.get("stage") is not None
            else None
        )
        topic = None
        if raw.get("topic"):
            if stage is None:
                raise exceptions.ValidationError({f"{where}.topic": ["A topic needs its stage."]})
            topic = _lookup(Topic, f"{where}.topic", stage=stage, slug=raw["topic"])
        item = _lookup(Item, f"{where}.item", slug=raw["item"]) if raw.get("item") else None
        pools.append(
            QuizPool(
                count=raw["count"],
                stage=stage,
                topic=topic,
                item=item,
                difficulty_min=raw["difficulty_min"],
                difficulty_max=raw["difficulty_max"],
                item_types=raw["item_types"],
            )
        )
    return quiz, pools


def _save_quiz(request: Request, quiz: Quiz) -> Quiz:
    data = AuthorQuizSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    if quiz.pk is not None and data.validated_data["slug"] != quiz.slug:
        taken = Quiz.objects.filter(slug=data.validated_data["slug"]).exclude(pk=quiz.pk)
        if taken.exists():
            raise exceptions.ValidationError({"slug": ["Another quiz has this slug."]})
    quiz, pools = _quiz_from(data.validated_data, quiz)
    try:
        return quiz_save(quiz=quiz, pools=pools, author=account_of(request))
    except QuizInvalid as exc:
        errors = {
            name.replace("[", ".").replace("]", ""): messages
            for name, messages in exc.message_dict.items()
        }
        raise exceptions.ValidationError(errors) from exc


class QuizFilter(filters.FilterSet):  # type: ignore[misc]
    stage = filters.NumberFilter(field_name="stage__number", help_text="Stage number.")
    kind = filters.ChoiceFilter(choices=QuizKind.choices)
    status = filters.ChoiceFilter(choices=QuizStatus.choices)

    class Meta:
        model = Quiz
        fields = ["stage", "kind", "status"]


class AuthorQuizListAPI(AuthorAPIView):
    """Every quiz, drafts included; create one with its pools."""

    serializer_class = AuthorQuizSerializer
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = QuizFilter
    ordering_fields = ["slug", "title", "stage__number", "kind", "created_at"]
    ordering = ["kind", "stage__number", "title"]

    def get_queryset(self) -> QuerySet[Quiz]:
        return Quiz.objects.select_related("stage")

    @extend_schema(
        operation_id="author_quiz_list",
        tags=[TAG],
        responses={200: AuthorQuizSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            AuthorQuizSerializer([_quiz_data(q) for q in page or []], many=True).data
        )

    @extend_schema(
        operation_id="author_quiz_create",
        tags=[TAG],
        request=AuthorQuizSerializer,
        responses={201: AuthorQuizSerializer},
    )
    def post(self, request: Request) -> Response:
        data = AuthorQuizSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if Quiz.objects.filter(slug=data.validated_data["slug"]).exists():
            raise exceptions.ValidationError({"slug": ["A quiz with this slug already exists."]})
        quiz = _save_quiz(request, Quiz(kind=QuizKind.CUSTOM))
        return Response(AuthorQuizSerializer(_quiz_data(quiz)).data, status=status.HTTP_201_CREATED)


class AuthorQuizDetailAPI(AuthorAPIView):
    @extend_schema(
        operation_id="author_quiz_retrieve", tags=[TAG], responses={200: AuthorQuizSerializer}
    )
    def get(self, request: Request, slug: str) -> Response:
        quiz = get_object_or_404(Quiz.objects.select_related("stage"), slug=slug)
        return Response(AuthorQuizSerializer(_quiz_data(quiz)).data)

    @extend_schema(
        operation_id="author_quiz_update",
        tags=[TAG],
        request=AuthorQuizSerializer,
        responses={200: AuthorQuizSerializer},
        description="Replace the quiz's settings and pools (pools left out are removed).",
    )
    def put(self, request: Request, slug: str) -> Response:
        quiz = get_object_or_404(Quiz, slug=slug)
        quiz = _save_quiz(request, quiz)
        return Response(AuthorQuizSerializer(_quiz_data(quiz)).data)

    @extend_schema(
        operation_id="author_quiz_delete",
        tags=[TAG],
        responses={
            204: OpenApiResponse(description="Deleted."),
            409: OpenApiResponse(description="Attempted: set it back to draft instead."),
        },
    )
    def delete(self, request: Request, slug: str) -> Response:
        try:
            quiz_delete(quiz=get_object_or_404(Quiz, slug=slug))
        except QuizInUse as exc:
            raise Conflict(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- bank import and export ----------------------------------------------------------------------
class ImportInput(serializers.Serializer[Any]):
    name = serializers.RegexField(
        r"^[\w.-]{1,100}$", default="bank.yaml", help_text="The file's name (stage-NN.yaml)."
    )
    content = serializers.CharField(trim_whitespace=False, help_text="The bank file (YAML).")
    dry_run = serializers.BooleanField(
        default=True, help_text="True (the default): report what would change, change nothing."
    )


class ImportOut(serializers.Serializer[Any]):
    dry_run = serializers.BooleanField()
    created = serializers.ListField(child=serializers.CharField(), help_text="Item slugs.")
    updated = serializers.ListField(child=serializers.CharField())
    unchanged = serializers.ListField(child=serializers.CharField())


class BankImportAPI(AuthorAPIView):
    """Import a bank file by the rules of ``load_bank`` (all or nothing): first with
    ``dry_run`` (the default) to see what would change, then with ``dry_run: false``.
    Rate-limited: API_BANK_IMPORT_RATE."""

    throttle_classes = [ApiReadThrottle, BankImportThrottle]

    @extend_schema(
        operation_id="bank_import", tags=[TAG], request=ImportInput, responses={200: ImportOut}
    )
    def post(self, request: Request) -> Response:
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        dry_run = data.validated_data["dry_run"]
        name = data.validated_data["name"]
        content = data.validated_data["content"].encode("utf-8")
        try:
            if dry_run:
                report = bank_import_plan(name=name, data=content)
            else:
                report = bank_import_apply(name=name, data=content, author=account_of(request))
        except ImportRefused as exc:
            raise refused([str(exc)], field="content", what="Nothing was imported") from exc
        if report.problems:
            raise refused(report.problems, field="content", what="Nothing was imported")
        rows = report.questions
        body = {
            "dry_run": dry_run,
            "created": [q.slug for q in rows if q.action == CREATE],
            "updated": [q.slug for q in rows if q.action == UPDATE],
            "unchanged": [q.slug for q in rows if q.action == UNCHANGED],
        }
        return Response(ImportOut(body).data)


class BankItemOut(serializers.Serializer[Any]):
    """One item as authored; each type adds its own fields (fixtures/questions/README.md)."""

    slug = serializers.CharField()
    type = serializers.ChoiceField(choices=TYPE_CHOICES)
    topic = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()


class BankFileOut(serializers.Serializer[Any]):
    stage = serializers.IntegerField()
    items = BankItemOut(many=True)


class BankExportAPI(AuthorAPIView):
    """One stage's items as a bank file (YAML), ready to import elsewhere."""

    renderer_classes = [YAMLRenderer, PrintableJSONRenderer]

    @extend_schema(
        operation_id="bank_export",
        tags=[TAG],
        responses={
            (200, "application/x-yaml"): OpenApiResponse(BankFileOut, description="A bank file")
        },
    )
    def get(self, request: Request, number: int) -> HttpResponse:
        stage = get_object_or_404(Stage, number=number)
        response = HttpResponse(bank_export(stage=stage), content_type="application/x-yaml")
        response["Content-Disposition"] = f'attachment; filename="stage-{number:02d}.yaml"'
        return response


link(
    "author_item_list", "200", "Item", "author_item_retrieve", slug="$response.body#/results/0/slug"
)
link("author_item_create", "201", "Preview", "author_item_preview", slug="$response.body#/slug")
link("author_item_create", "201", "Publish", "author_item_publish", slug="$response.body#/slug")
link("author_quiz_create", "201", "Quiz", "author_quiz_retrieve", slug="$response.body#/slug")
