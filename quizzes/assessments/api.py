"""REST API v1 for learners: the roadmap, quizzes, attempts and submissions.

Thin views: an input serializer checks the request, one service does the work (the same
services as the pages, quizzes/assessments/services.py), an output serializer describes
the answer. Errors are problem details (quizzes/problems.py). What a learner sees of an
item comes from the presenters, learner-safe until feedback is due.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import link
from quizzes.access import ApiView, LearnerAPIView, account_of
from quizzes.api_schema import ITEM_TYPE_CHOICES, AnswerField, PresenterOut, answer_examples
from quizzes.assessments.feedback import feedback_due, submission_feedback_due
from quizzes.assessments.presenters import attempt_item_views, submission_for_learner
from quizzes.assessments.selectors import (
    access_attempt,
    access_submission,
    attempt_items,
    best_results,
    learner_attempts,
    published_quizzes,
    stage_list_with_topics,
)
from quizzes.assessments.services import (
    MAX_REVISION,
    MAX_RUN_REQUEST_ID,
    AttemptClosed,
    AttemptError,
    attempt_answer_save,
    attempt_examples_run,
    attempt_item_flag,
    attempt_placement_next,
    attempt_start,
    attempt_submit,
    language_needed,
    open_attempt,
    seconds_left,
)
from quizzes.bank.quizzes import quiz_item_count
from quizzes.grading.languages.names import LANGUAGE_KEYS
from quizzes.itemtypes.challenge import MAX_CODE_BYTES
from quizzes.models import (
    Attempt,
    AttemptStatus,
    FeedbackMode,
    OutcomeCategory,
    Quiz,
    QuizKind,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from quizzes.pipeline.ops import graders_alive
from quizzes.preferences import (
    PreferenceError,
    language_choices,
    learner_language,
    learner_language_set,
)
from quizzes.problems import ATTEMPT_CLOSED, ATTEMPT_REFUSED, INVALID_INPUT, problem_response
from quizzes.throttles import (
    AnswerSaveThrottle,
    ApiReadThrottle,
    ApiWriteThrottle,
    ChallengeStartThrottle,
    RunExamplesThrottle,
)

TAG = "learners"


def amount(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=8, decimal_places=2, coerce_to_string=False, **kwargs
    )


def error(exc: AttemptError) -> Response:
    """A service's refusal as problem details; a refusal about a field names it."""
    if exc.field is not None:
        errors = [{"field": exc.field, "message": str(exc)}]
        return problem_response(INVALID_INPUT, exc.status_code, str(exc), errors=errors)
    kind = ATTEMPT_CLOSED if isinstance(exc, AttemptClosed) else ATTEMPT_REFUSED
    return problem_response(kind, exc.status_code, str(exc))


# --- output shapes ---------------------------------------------------------------------------
class TopicOut(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()


class StageOut(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    topics = TopicOut(many=True, source="topics.all")


class RoadmapOut(serializers.Serializer[Any]):
    stages = StageOut(many=True)


class QuizOut(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=QuizKind.choices)
    stage = serializers.IntegerField(source="stage.number", allow_null=True, default=None)
    time_limit_seconds = serializers.IntegerField(allow_null=True)
    max_attempts = serializers.IntegerField(allow_null=True)
    pass_mark_percent = serializers.IntegerField()
    feedback_mode = serializers.ChoiceField(choices=FeedbackMode.choices)
    closes_at = serializers.DateTimeField(allow_null=True)
    adaptive = serializers.BooleanField(source="is_adaptive")
    url = serializers.SerializerMethodField()

    def get_url(self, quiz: Quiz) -> str:
        return reverse("api-quiz-detail", args=[quiz.slug])


class QuizDetailOut(QuizOut):
    """A quiz, with your attempts at it (``context``: ``learner``)."""

    items = serializers.SerializerMethodField(help_text="How many questions an attempt has.")
    attempts_used = serializers.SerializerMethodField(help_text="Your attempts so far.")
    best_percent = serializers.SerializerMethodField(
        help_text="Your best graded result whose feedback is due."
    )

    def get_items(self, quiz: Quiz) -> int:
        return quiz_item_count(quiz)

    def get_attempts_used(self, quiz: Quiz) -> int:
        return quiz.attempts.filter(learner=self.context["learner"]).count()

    def get_best_percent(self, quiz: Quiz) -> float | None:
        best = best_results(learner=self.context["learner"], quizzes=[quiz]).get(quiz.pk)
        return float(best) if best is not None else None


class OutcomeOut(PresenterOut):
    name = serializers.CharField(allow_null=True)
    visible = serializers.BooleanField()
    passed = serializers.BooleanField()
    category = serializers.CharField(
        help_text="One of: " + ", ".join(c.value for c in OutcomeCategory) + " (older results "
        "may hold others)."
    )
    category_label = serializers.CharField()
    exception_type = serializers.CharField(allow_null=True, required=False)
    input_repr = serializers.CharField(allow_null=True, required=False)
    expected_repr = serializers.CharField(allow_null=True, required=False)
    actual_repr = serializers.CharField(allow_null=True, required=False)


class SubmissionOut(PresenterOut):
    """A code submission or run. Per-test outcomes once feedback is due (a run: at once);
    hidden tests say passed or failed only."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=SubmissionKind.choices)
    status = serializers.ChoiceField(choices=SubmissionStatus.choices)
    created_at = serializers.DateTimeField()
    language = serializers.CharField(
        allow_blank=True, help_text="The code's language (python, go, …); '' for SQL."
    )
    graded_at = serializers.DateTimeField(allow_null=True)
    pending = serializers.BooleanField(help_text="Still queued or running: poll status_url.")
    failed = serializers.BooleanField()
    error = serializers.CharField(required=False)
    note = serializers.CharField(required=False)
    grading_unavailable = serializers.BooleanField(required=False)
    score = serializers.FloatField(required=False, allow_null=True, help_text="0 to 1")
    message = serializers.CharField(required=False, allow_blank=True)
    outcomes = OutcomeOut(many=True, required=False)
    status_url = serializers.CharField()


class TokenTextOut(PresenterOut):
    token = serializers.CharField(help_text="Per-attempt token: send it back in the answer.")
    html = serializers.CharField()


class ChoiceOut(TokenTextOut):
    picked = serializers.BooleanField(required=False, help_text="Review only.")
    correct = serializers.BooleanField(required=False, help_text="Review only.")
    feedback = serializers.CharField(required=False, allow_blank=True, help_text="Review only.")


class LeftOut(TokenTextOut):
    chosen = serializers.CharField(allow_blank=True, help_text="Token of the right side chosen.")


class ExampleOut(PresenterOut):
    name = serializers.CharField(allow_blank=True)
    text = serializers.CharField()


class KeyLineOut(PresenterOut):
    label = serializers.CharField()  # type: ignore[assignment]
    text = serializers.CharField()


class MatchOut(PresenterOut):
    left = serializers.CharField()
    given = serializers.CharField()
    right = serializers.CharField()
    ok = serializers.BooleanField()


class ItemOut(PresenterOut):
    """One question of an attempt. The widget fields depend on the type (``choices`` for
    choice types, ``sequence`` for ordering, ``lefts``/``rights`` for matching, ``unit`` for
    numeric, the code fields for challenges); the review fields appear once its feedback
    is due."""

    position = serializers.IntegerField()
    type = serializers.ChoiceField(choices=ITEM_TYPE_CHOICES)
    type_label = serializers.CharField()
    title = serializers.CharField()
    body_html = serializers.CharField()
    points = amount()
    topic = serializers.CharField()
    answer = AnswerField(help_text="Your saved answer, in this item type's shape.")
    revision = serializers.IntegerField(help_text="Revision of the saved answer (0: none yet).")
    flagged = serializers.BooleanField()
    locked = serializers.BooleanField()
    feedback_due = serializers.BooleanField()
    # the widget
    choices = ChoiceOut(many=True, required=False)
    sequence = TokenTextOut(many=True, required=False)
    lefts = LeftOut(many=True, required=False)
    rights = TokenTextOut(many=True, required=False)
    unit = serializers.CharField(required=False, allow_blank=True)
    language = serializers.CharField(required=False)
    code_label = serializers.CharField(required=False)
    starter = serializers.CharField(required=False, allow_blank=True)
    code = serializers.CharField(required=False, allow_blank=True)
    examples = ExampleOut(many=True, required=False)
    schema = serializers.CharField(required=False, allow_blank=True)
    # the review
    score = amount(required=False, allow_null=True)
    max_score = amount(required=False)
    is_correct = serializers.BooleanField(required=False, allow_null=True)
    graded = serializers.BooleanField(required=False)
    explanation_html = serializers.CharField(required=False, allow_blank=True)
    key_lines = KeyLineOut(many=True, required=False, help_text="The key, as labelled text.")
    feedback = serializers.CharField(required=False, allow_blank=True)
    matches = MatchOut(many=True, required=False)
    submission = SubmissionOut(required=False, allow_null=True)


class AttemptOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    quiz = serializers.CharField(help_text="The quiz's slug.")
    adaptive = serializers.BooleanField(
        help_text="The placement: one question at a time, the next added by POST …/next/<n>."
    )
    status = serializers.ChoiceField(choices=AttemptStatus.choices)
    started_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField(allow_null=True)
    seconds_left = serializers.IntegerField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    auto_submitted = serializers.BooleanField()
    score = amount(allow_null=True, help_text="Null until feedback is due.")
    max_score = amount()
    passed = serializers.BooleanField(allow_null=True, help_text="Null until feedback is due.")
    feedback_due = serializers.BooleanField()
    items = ItemOut(many=True)
    url = serializers.CharField()
    result_url = serializers.CharField()


def attempt_data(attempt: Attempt) -> dict[str, Any]:
    due = feedback_due(attempt)
    return {
        "id": attempt.pk,
        "quiz": attempt.quiz.slug,
        "adaptive": attempt.quiz.is_adaptive,
        "status": attempt.status,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "seconds_left": seconds_left(attempt),
        "submitted_at": attempt.submitted_at,
        "auto_submitted": attempt.auto_submitted,
        "score": attempt.score if due else None,
        "max_score": attempt.max_score,
        "passed": attempt.passed if due else None,
        "feedback_due": due,
        "items": [_item(view) for view in attempt_item_views(attempt, attempt_items(attempt))],
        "url": reverse("api-attempt-detail", args=[attempt.pk]),
        "result_url": reverse("api-attempt-result", args=[attempt.pk]),
    }


def _item(view: dict[str, Any]) -> dict[str, Any]:
    submission = view.get("submission")
    if submission:
        view["submission"] = {**submission, "status_url": _status_url(submission["id"])}
    return view


def _status_url(submission_id: int) -> str:
    return reverse("api-submission-detail", args=[submission_id])


def attempt_response(attempt: Attempt, *, code: int = status.HTTP_200_OK) -> Response:
    return Response(AttemptOut(attempt_data(attempt)).data, status=code)


def submission_data(submission: Submission, *, feedback: bool, alive: bool) -> dict[str, Any]:
    view = submission_for_learner(submission, feedback=feedback, graders_alive=alive)
    return {**view, "status_url": _status_url(submission.pk)}


class AttemptSummaryOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    quiz = serializers.CharField(source="quiz.slug")
    quiz_title = serializers.CharField(source="quiz.title")
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AttemptStatus.choices)
    started_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    graded_at = serializers.DateTimeField(allow_null=True)
    feedback_due = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField()
    max_score = amount()
    passed = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    def get_feedback_due(self, attempt: Attempt) -> bool:
        return feedback_due(attempt)

    def get_score(self, attempt: Attempt) -> float | None:
        return float(attempt.score) if feedback_due(attempt) and attempt.score is not None else None

    def get_passed(self, attempt: Attempt) -> bool | None:
        return attempt.passed if feedback_due(attempt) else None

    def get_url(self, attempt: Attempt) -> str:
        return reverse("api-attempt-detail", args=[attempt.pk])


class ResultItemOut(serializers.Serializer[Any]):
    position = serializers.IntegerField()
    title = serializers.CharField()
    type = serializers.CharField()
    score = amount(allow_null=True)
    max_score = amount()
    is_correct = serializers.BooleanField(allow_null=True)
    graded = serializers.BooleanField()


class ResultOut(serializers.Serializer[Any]):
    """An attempt's result. ``ready`` once it is graded and its feedback is due; until then
    the scores are null (poll this URL)."""

    id = serializers.IntegerField()
    quiz = serializers.CharField()
    status = serializers.ChoiceField(choices=AttemptStatus.choices)
    ready = serializers.BooleanField()
    feedback_due = serializers.BooleanField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    score = amount(allow_null=True)
    max_score = amount()
    percent = serializers.FloatField(allow_null=True)
    passed = serializers.BooleanField(allow_null=True)
    items = ResultItemOut(many=True)
    url = serializers.CharField()


# --- the roadmap and quizzes --------------------------------------------------------------------
class RoadmapAPI(ApiView):
    """The roadmap's stages and their topics (any signed-in account)."""

    @extend_schema(operation_id="roadmap", tags=[TAG], responses={200: RoadmapOut})
    def get(self, request: Request) -> Response:
        return Response(RoadmapOut({"stages": stage_list_with_topics()}).data)


class QuizFilter(filters.FilterSet):  # type: ignore[misc]
    stage = filters.NumberFilter(field_name="stage__number", help_text="Stage number.")
    kind = filters.ChoiceFilter(choices=QuizKind.choices)

    class Meta:
        model = Quiz
        fields = ["stage", "kind"]


class QuizListAPI(LearnerAPIView):
    """Published quizzes, filtered by stage and kind."""

    serializer_class = QuizOut
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = QuizFilter
    ordering_fields = ["title", "stage__number", "kind", "slug"]
    ordering = ["stage__number", "kind", "title"]

    def get_queryset(self) -> QuerySet[Quiz]:
        return published_quizzes()

    @extend_schema(operation_id="quiz_list", tags=[TAG], responses={200: QuizOut(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(QuizOut(page, many=True).data)


class QuizDetailAPI(LearnerAPIView):
    @extend_schema(operation_id="quiz_retrieve", tags=[TAG], responses={200: QuizDetailOut})
    def get(self, request: Request, slug: str) -> Response:
        quiz = get_object_or_404(published_quizzes(), slug=slug)
        return Response(QuizDetailOut(quiz, context={"learner": account_of(request)}).data)


# --- attempts ---------------------------------------------------------------------------------
class QuizStartAPI(LearnerAPIView):
    """Start an attempt, or resume the open one (idempotent). New attempts at quizzes with
    code are rate-limited (CHALLENGE_START_RATE)."""

    throttle_classes = [ApiReadThrottle, ApiWriteThrottle, ChallengeStartThrottle]

    @extend_schema(
        operation_id="attempt_start",
        tags=[TAG],
        request=None,
        responses={
            201: AttemptOut,
            409: OpenApiResponse(
                description="The quiz has closed, or your programming language is needed first."
            ),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        quiz = get_object_or_404(published_quizzes(), slug=slug)
        learner = account_of(request)
        if language_needed(learner=learner, quiz=quiz) and not open_attempt(
            learner=learner, quiz=quiz
        ):
            message = "Choose your programming language first (PUT /api/v1/me/language)."
            return problem_response(
                INVALID_INPUT, 409, message, errors=[{"field": "language", "message": message}]
            )
        try:
            attempt = attempt_start(learner=learner, quiz=quiz)
        except AttemptError as exc:
            return error(exc)
        return attempt_response(attempt, code=status.HTTP_201_CREATED)


class AttemptFilter(filters.FilterSet):  # type: ignore[misc]
    quiz = filters.CharFilter(field_name="quiz__slug", help_text="The quiz's slug.")
    status = filters.ChoiceFilter(choices=AttemptStatus.choices)

    class Meta:
        model = Attempt
        fields = ["quiz", "status"]


class AttemptListAPI(LearnerAPIView):
    """Your attempts, newest first."""

    serializer_class = AttemptSummaryOut
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = AttemptFilter
    ordering_fields = ["started_at", "submitted_at", "id"]
    ordering = ["-started_at", "-id"]

    def get_queryset(self) -> QuerySet[Attempt]:
        if getattr(self, "swagger_fake_view", False):  # the schema is being generated
            return Attempt.objects.none()
        return learner_attempts(account_of(self.request))

    @extend_schema(
        operation_id="attempt_list", tags=[TAG], responses={200: AttemptSummaryOut(many=True)}
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AttemptSummaryOut(page, many=True).data)


class AttemptDetailAPI(LearnerAPIView):
    """An attempt as you may see it now: learner-safe until its feedback is due, then with
    the review (instructors may read anyone's)."""

    @extend_schema(operation_id="attempt_retrieve", tags=[TAG], responses={200: AttemptOut})
    def get(self, request: Request, attempt_id: int) -> Response:
        return attempt_response(access_attempt(user=account_of(request), attempt_id=attempt_id))


class AnswerInput(serializers.Serializer[Any]):
    answer = AnswerField(help_text="The answer, in the shape of the item's type.")
    revision = serializers.IntegerField(
        min_value=1,
        max_value=MAX_REVISION,
        help_text="Higher than the last one saved: an older save arriving late is ignored.",
    )


class SaveOut(serializers.Serializer[Any]):
    saved = serializers.BooleanField(help_text="False: a newer revision was already saved.")
    revision = serializers.IntegerField()
    saved_at = serializers.CharField(allow_blank=True)


class AttemptAnswerAPI(LearnerAPIView):
    """Save (autosave) the answer to one question. A wrongly shaped answer is a 400 that
    names the field; nothing is saved."""

    throttle_classes = [ApiReadThrottle, AnswerSaveThrottle]

    @extend_schema(
        operation_id="answer_save",
        tags=[TAG],
        request=AnswerInput,
        responses={200: SaveOut, 409: OpenApiResponse(description="Submitted, or past time.")},
        examples=answer_examples(),
    )
    def put(self, request: Request, attempt_id: int, position: int) -> Response:
        learner = account_of(request)
        data = AnswerInput(data=request.data)
        if not data.is_valid():
            # Someone else's attempt is a 404 whatever the body (an extra read on bad
            # input only: a good save reads its attempt once, locked, in the service).
            access_attempt(user=learner, attempt_id=attempt_id, write=True)
            raise ValidationError(data.errors)
        try:
            result = attempt_answer_save(
                attempt=attempt_id,
                learner=learner,
                position=position,
                answer=data.validated_data["answer"],
                revision=data.validated_data["revision"],
            )
        except AttemptError as exc:
            return error(exc)
        return Response(SaveOut(result).data)

    @extend_schema(
        operation_id="answer_save_post",
        tags=[TAG],
        request=AnswerInput,
        responses={200: SaveOut, 409: OpenApiResponse(description="Submitted, or past time.")},
        description="The same as PUT, for clients that cannot send PUT (sendBeacon).",
    )
    def post(self, request: Request, attempt_id: int, position: int) -> Response:
        return self.put(request, attempt_id, position)


class FlagInput(serializers.Serializer[Any]):
    flagged = serializers.BooleanField()


class AttemptFlagAPI(LearnerAPIView):
    @extend_schema(
        operation_id="attempt_flag",
        tags=[TAG],
        request=FlagInput,
        responses={200: FlagInput, 409: OpenApiResponse(description="Already submitted.")},
    )
    def post(self, request: Request, attempt_id: int, position: int) -> Response:
        attempt = access_attempt(user=account_of(request), attempt_id=attempt_id, write=True)
        data = FlagInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            attempt_item_flag(
                attempt=attempt, position=position, flagged=data.validated_data["flagged"]
            )
        except AttemptError as exc:
            return error(exc)
        return Response(FlagInput(data.validated_data).data)


class RunInput(serializers.Serializer[Any]):
    code = serializers.CharField(
        max_length=MAX_CODE_BYTES, allow_blank=False, trim_whitespace=False
    )
    request_id = serializers.CharField(
        max_length=MAX_RUN_REQUEST_ID,
        required=False,
        allow_blank=True,
        help_text="Idempotency key: a retry with the same id returns the first run.",
    )
    language = serializers.ChoiceField(
        choices=list(LANGUAGE_KEYS),
        required=False,
        help_text="The language the code is written in (a code challenge; default: Python).",
    )


class AttemptRunExamplesAPI(LearnerAPIView):
    """Run a challenge's visible examples against some code (not saved, not scored):
    202 and a status URL to poll. Strictly rate-limited (RUN_EXAMPLES_RATE)."""

    throttle_classes = [ApiReadThrottle, RunExamplesThrottle]

    @extend_schema(
        operation_id="attempt_run_examples",
        tags=[TAG],
        request=RunInput,
        responses={202: SubmissionOut, 409: OpenApiResponse(description="Submitted, or late.")},
    )
    def post(self, request: Request, attempt_id: int, position: int) -> Response:
        attempt = access_attempt(user=account_of(request), attempt_id=attempt_id, write=True)
        data = RunInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            submission = attempt_examples_run(
                attempt=attempt,
                position=position,
                code=data.validated_data["code"],
                idempotency_key=data.validated_data.get("request_id") or "",
                language=data.validated_data.get("language"),
            )
        except AttemptError as exc:
            return error(exc)
        body = submission_data(submission, feedback=False, alive=graders_alive())
        return Response(
            SubmissionOut(body).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": body["status_url"]},
        )


class AttemptNextAPI(LearnerAPIView):
    """Adaptive placement: record the answer at ``position`` (saved beforehand through the
    answers endpoint; none scores 0) and get the attempt with the next question added, or
    submitted when the placement is over. Repeating it for an answered position is a no-op."""

    @extend_schema(
        operation_id="attempt_next",
        tags=[TAG],
        request=None,
        responses={200: AttemptOut, 409: OpenApiResponse(description="Past time.")},
    )
    def post(self, request: Request, attempt_id: int, position: int) -> Response:
        attempt = access_attempt(user=account_of(request), attempt_id=attempt_id, write=True)
        try:
            attempt = attempt_placement_next(attempt=attempt, position=position)
        except AttemptError as exc:
            return error(exc)
        return attempt_response(attempt)


class AttemptSubmitAPI(LearnerAPIView):
    """Submit (idempotent): 200 when graded at once, 202 while code is graded (poll the
    result URL). Never rate-limited: a submit always counts."""

    throttle_classes: list[Any] = []

    @extend_schema(
        operation_id="attempt_submit",
        tags=[TAG],
        request=None,
        responses={200: AttemptOut, 202: AttemptOut},
    )
    def post(self, request: Request, attempt_id: int) -> Response:
        attempt = attempt_submit(attempt=attempt_id, learner=account_of(request))
        graded = attempt.status != AttemptStatus.SUBMITTED
        code = status.HTTP_200_OK if graded else status.HTTP_202_ACCEPTED
        response = attempt_response(attempt, code=code)
        if not graded:
            response["Location"] = reverse("api-attempt-result", args=[attempt.pk])
        return response


class AttemptResultAPI(LearnerAPIView):
    @extend_schema(operation_id="attempt_result", tags=[TAG], responses={200: ResultOut})
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = access_attempt(user=account_of(request), attempt_id=attempt_id)
        due = feedback_due(attempt)
        ready = due and attempt.status == AttemptStatus.GRADED
        items = [
            {
                "position": i.position,
                "title": i.item_version.title,
                "type": i.item_version.item.type,
                "score": i.score if due else None,
                "max_score": i.max_score,
                "is_correct": i.is_correct if due else None,
                "graded": i.graded_at is not None,
            }
            for i in attempt_items(attempt)
        ]
        data = {
            "id": attempt.pk,
            "quiz": attempt.quiz.slug,
            "status": attempt.status,
            "ready": ready,
            "feedback_due": due,
            "submitted_at": attempt.submitted_at,
            "score": attempt.score if ready else None,
            "max_score": attempt.max_score,
            "percent": round(attempt.percent, 2) if ready and attempt.percent is not None else None,
            "passed": attempt.passed if ready else None,
            "items": items,
            "url": reverse("api-attempt-result", args=[attempt.pk]),
        }
        return Response(ResultOut(data).data)


class SubmissionDetailAPI(LearnerAPIView):
    """A submission's status; poll until ``pending`` is false."""

    @extend_schema(operation_id="submission_retrieve", tags=[TAG], responses={200: SubmissionOut})
    def get(self, request: Request, submission_id: int) -> Response:
        submission = access_submission(user=account_of(request), submission_id=submission_id)
        feedback = submission_feedback_due(submission)
        body = submission_data(
            submission,
            feedback=feedback,
            alive=not submission.is_pending or graders_alive(),
        )
        return Response(SubmissionOut(body).data)


class LanguageInput(serializers.Serializer[Any]):
    language = serializers.CharField(help_text="an id of `choices` (e.g. python, go)")


class LanguageChoiceOut(serializers.Serializer[Any]):
    id = serializers.CharField(help_text="the language, as `language` takes it")
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label


class LanguageOut(serializers.Serializer[Any]):
    language = serializers.CharField(allow_null=True, help_text="None until the learner chooses.")
    choices = LanguageChoiceOut(many=True)


class LearnerLanguageAPI(LearnerAPIView):
    """The learner's programming language: code challenges open in it, stage 1 asks
    about it, and the placement needs it."""

    @extend_schema(operation_id="my_language", tags=[TAG], responses={200: LanguageOut})
    def get(self, request: Request) -> Response:
        return Response(LanguageOut(_language_payload(account_of(request))).data)

    @extend_schema(
        operation_id="my_language_set",
        tags=[TAG],
        request=LanguageInput,
        responses={200: LanguageOut},
    )
    def put(self, request: Request) -> Response:
        data = LanguageInput(data=request.data)
        data.is_valid(raise_exception=True)
        learner = account_of(request)
        try:
            learner_language_set(user=learner, language=data.validated_data["language"])
        except PreferenceError as exc:
            return problem_response(
                INVALID_INPUT, 400, str(exc), errors=[{"field": exc.field, "message": str(exc)}]
            )
        return Response(LanguageOut(_language_payload(learner)).data)


def _language_payload(learner: Any) -> dict[str, Any]:
    return {
        "language": learner_language(user=learner),
        "choices": [{"id": key, "label": label} for key, label in language_choices()],
    }


# The attempt flow, as OpenAPI links (clients and the schema fuzzer follow them).
link("quiz_list", "200", "QuizDetail", "quiz_retrieve", slug="$response.body#/results/0/slug")
link("quiz_list", "200", "StartAttempt", "attempt_start", slug="$response.body#/results/0/slug")
for _target in ("attempt_retrieve", "attempt_submit", "attempt_result"):
    link("attempt_start", "201", _target, _target, attempt_id="$response.body#/id")
for _target in ("answer_save", "attempt_flag", "attempt_run_examples", "attempt_next"):
    link(
        "attempt_start",
        "201",
        _target,
        _target,
        attempt_id="$response.body#/id",
        position="$response.body#/items/0/position",
    )
link(
    "attempt_run_examples",
    "202",
    "Status",
    "submission_retrieve",
    submission_id="$response.body#/id",
)
link("attempt_submit", "202", "Result", "attempt_result", attempt_id="$response.body#/id")
link("attempt_submit", "200", "Result", "attempt_result", attempt_id="$response.body#/id")
link(
    "attempt_list", "200", "Attempt", "attempt_retrieve", attempt_id="$response.body#/results/0/id"
)
