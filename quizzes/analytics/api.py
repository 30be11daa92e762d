"""API v1 over graded work: the learner's skill estimates (as the dashboard shows them), and
for instructors learners' attempts, their event logs, cohort results and item statistics
(JSON, and CSV as the pages export them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response

from quizzes.access import LearnerAPIView, StaffAPIView, account_of, needs_perm
from quizzes.analytics.exports import csv_lines, item_statistics_rows, results_rows
from quizzes.analytics.itemstats import ItemStats, item_statistics
from quizzes.analytics.selectors import (
    StageSkill,
    attempt_events,
    cohort_overview,
    graded_attempts,
    next_best_step,
    recent_attempts,
    skill_dashboard,
    solved_challenges,
    stage_quiz_by_stage,
)
from quizzes.assessments.selectors import access_attempt, placement_quiz
from quizzes.models import Attempt, AttemptEvent, AttemptStatus, EventKind, Quiz, Stage
from quizzes.renderers import CSVRenderer, PrintableJSONRenderer


class TopicSkillOut(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    assessed = serializers.BooleanField()
    score = serializers.IntegerField(allow_null=True, help_text="0 to 300; null: not assessed")
    band = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    answers = serializers.IntegerField()


class HistoryPointOut(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    score = serializers.IntegerField()


class StageSkillOut(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    title = serializers.CharField()
    assessed = serializers.BooleanField(help_text="False: no evidence yet (never a zero)")
    answers = serializers.IntegerField()
    score = serializers.IntegerField(allow_null=True, help_text="0 to 300 scale")
    band = serializers.ListField(
        child=serializers.IntegerField(), allow_null=True, help_text="95 % band [low, high]"
    )
    theta = serializers.FloatField(allow_null=True, help_text="ability on the logit scale")
    se = serializers.FloatField(allow_null=True, help_text="standard error of theta")
    level = serializers.CharField(allow_null=True)
    percentile = serializers.IntegerField(allow_null=True)
    provisional = serializers.BooleanField(
        help_text="true until the stage's items are calibrated from learners' answers"
    )
    topics = TopicSkillOut(many=True)
    history = HistoryPointOut(many=True, help_text="The stage score after each change.")


class NextStepOut(serializers.Serializer[Any]):
    text = serializers.CharField()
    stage = serializers.IntegerField(allow_null=True)
    topic = serializers.CharField(allow_null=True)
    quiz = serializers.CharField(allow_null=True, help_text="slug of the quiz to take")


class SolvedChallengeOut(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    language = serializers.CharField(help_text="the code language it was solved in; '' for SQL")
    solved_at = serializers.DateTimeField(allow_null=True)


class DashboardOut(serializers.Serializer[Any]):
    stages = StageSkillOut(many=True)
    next_step = NextStepOut()
    challenges_solved = SolvedChallengeOut(many=True)


def _stage(row: StageSkill) -> dict[str, Any]:
    return {
        "number": row.stage.number,
        "title": row.stage.title,
        "assessed": row.assessed,
        "answers": row.n_answers,
        "score": row.score,
        "band": [row.low, row.high] if row.assessed else None,
        "theta": round(row.theta, 4) if row.theta is not None else None,
        "se": round(row.se, 4) if row.se is not None else None,
        "level": row.level.label if row.level is not None else None,
        "percentile": row.percentile,
        "provisional": row.provisional,
        "topics": [
            {
                "slug": t.topic.slug,
                "title": t.topic.title,
                "assessed": t.score is not None,
                "score": t.score,
                "band": [t.low, t.high] if t.score is not None else None,
                "answers": t.n_answers,
            }
            for t in row.topics
        ],
        "history": [{"at": at, "score": score} for at, score in row.history],
    }


class DashboardAPI(LearnerAPIView):
    """Your skill estimates per stage and topic, as the dashboard shows them."""

    @extend_schema(operation_id="skill_estimates", tags=["learners"], responses={200: DashboardOut})
    def get(self, request: Request) -> Response:
        rows = skill_dashboard(account_of(request))
        step = next_best_step(rows, stage_quiz_by_stage(), placement=placement_quiz())
        return Response(
            DashboardOut(
                {
                    "stages": [_stage(r) for r in rows],
                    "next_step": {
                        "text": step.text,
                        "stage": step.stage.number if step.stage else None,
                        "topic": step.topic.slug if step.topic else None,
                        "quiz": step.quiz.slug if step.quiz else None,
                    },
                    "challenges_solved": [
                        {
                            "slug": c.slug,
                            "title": c.title,
                            "language": c.language,
                            "solved_at": c.solved_at,
                        }
                        for c in solved_challenges(account_of(request))
                    ],
                }
            ).data
        )


# --- instructors ----------------------------------------------------------------------------
STAFF = "instructors"
CanReadResults = needs_perm(
    "accounts.view_learner_results", "You do not have permission to read learners' results."
)
CanReadLogs = needs_perm("quizzes.view_attempt_log", "You do not have permission to read logs.")
CanReadStatistics = needs_perm(
    "quizzes.view_item_statistics", "You do not have permission to read cohort analytics."
)


def amount(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=8, decimal_places=2, coerce_to_string=False, **kwargs
    )


class LearnerAttemptOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    quiz = serializers.CharField(source="quiz.slug")
    learner = serializers.SerializerMethodField(help_text="Email; null: a deleted account.")
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AttemptStatus.choices)
    started_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    graded_at = serializers.DateTimeField(allow_null=True)
    auto_submitted = serializers.BooleanField()
    score = amount(allow_null=True)
    max_score = amount()
    percent = serializers.SerializerMethodField()
    passed = serializers.BooleanField(allow_null=True)
    url = serializers.SerializerMethodField()
    events_url = serializers.SerializerMethodField()

    def get_learner(self, attempt: Attempt) -> str | None:
        return attempt.learner.email if attempt.learner else None

    def get_percent(self, attempt: Attempt) -> float | None:
        return round(attempt.percent, 2) if attempt.percent is not None else None

    def get_url(self, attempt: Attempt) -> str:
        return reverse("api-attempt-detail", args=[attempt.pk])

    def get_events_url(self, attempt: Attempt) -> str:
        return reverse("api-attempt-events", args=[attempt.pk])


class LearnerAttemptFilter(filters.FilterSet):  # type: ignore[misc]
    quiz = filters.CharFilter(field_name="quiz__slug", help_text="The quiz's slug.")
    learner = filters.CharFilter(
        field_name="learner__email", lookup_expr="icontains", help_text="Email contains."
    )
    status = filters.ChoiceFilter(choices=AttemptStatus.choices)

    class Meta:
        model = Attempt
        fields = ["quiz", "learner", "status"]


class LearnerAttemptListAPI(StaffAPIView):
    """Learners' attempts, newest first (``accounts.view_learner_results``)."""

    permission_classes = [*StaffAPIView.permission_classes, CanReadResults]
    serializer_class = LearnerAttemptOut
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = LearnerAttemptFilter
    ordering_fields = ["started_at", "graded_at", "score", "id"]
    ordering = ["-started_at", "-id"]

    def get_queryset(self) -> QuerySet[Attempt]:
        return recent_attempts()

    @extend_schema(
        operation_id="learner_attempt_list",
        tags=[STAFF],
        responses={200: LearnerAttemptOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(LearnerAttemptOut(page, many=True).data)


class EventDetailOut(serializers.Serializer[Any]):
    name = serializers.CharField()
    value = serializers.CharField(allow_blank=True)


class EventOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    position = serializers.IntegerField(allow_null=True)
    details = serializers.SerializerMethodField()

    @extend_schema_field(EventDetailOut(many=True))
    def get_details(self, event: AttemptEvent) -> list[dict[str, str]]:
        return [{"name": str(k), "value": str(v)} for k, v in sorted(event.data.items())]


class EventFilter(filters.FilterSet):  # type: ignore[misc]
    kind = filters.ChoiceFilter(choices=EventKind.choices)

    class Meta:
        model = AttemptEvent
        fields = ["kind"]


class AttemptEventListAPI(StaffAPIView):
    """An attempt's append-only event log, oldest first (``quizzes.view_attempt_log``)."""

    permission_classes = [*StaffAPIView.permission_classes, CanReadLogs]
    queryset = AttemptEvent.objects.none()  # the schema's model; get_queryset reads the log
    serializer_class = EventOut
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = EventFilter
    ordering_fields = ["at", "id"]
    ordering = ["at", "id"]

    @extend_schema(
        operation_id="attempt_event_list", tags=[STAFF], responses={200: EventOut(many=True)}
    )
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = access_attempt(user=account_of(request), attempt_id=attempt_id)
        page = self.paginate_queryset(self.filter_queryset(attempt_events(attempt)))
        return self.get_paginated_response(EventOut(page, many=True).data)


class QuizOverviewOut(serializers.Serializer[Any]):
    quiz = serializers.CharField(source="quiz.slug")
    title = serializers.CharField(source="quiz.title")
    stage = serializers.IntegerField(source="quiz.stage.number", allow_null=True, default=None)
    attempts = serializers.IntegerField()
    learners = serializers.IntegerField()
    graded = serializers.IntegerField()
    mean_percent = serializers.FloatField(allow_null=True)
    pass_rate = serializers.IntegerField(allow_null=True, help_text="Percent of graded.")


class CohortOverviewAPI(StaffAPIView):
    """Per quiz: learners, attempts, graded attempts, mean score and pass rate."""

    permission_classes = [*StaffAPIView.permission_classes, CanReadStatistics]
    serializer_class = QuizOverviewOut

    @extend_schema(
        operation_id="cohort_overview", tags=[STAFF], responses={200: QuizOverviewOut(many=True)}
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(cohort_overview())
        return self.get_paginated_response(QuizOverviewOut(page, many=True).data)


class ResultFilter(filters.FilterSet):  # type: ignore[misc]
    quiz = filters.CharFilter(field_name="quiz__slug", help_text="The quiz's slug.")

    class Meta:
        model = Attempt
        fields = ["quiz"]


class CohortResultListAPI(StaffAPIView):
    """Graded attempts, one result each (the JSON twin of results.csv)."""

    permission_classes = [*StaffAPIView.permission_classes, CanReadStatistics]
    serializer_class = LearnerAttemptOut
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = ResultFilter
    ordering_fields = ["graded_at", "score", "id"]
    ordering = ["graded_at", "id"]

    def get_queryset(self) -> QuerySet[Attempt]:
        return graded_attempts()

    @extend_schema(
        operation_id="cohort_result_list",
        tags=[STAFF],
        responses={200: LearnerAttemptOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(LearnerAttemptOut(page, many=True).data)


class ResultQuery(serializers.Serializer[Any]):
    quiz = serializers.SlugField(required=False, help_text="One quiz's results (its slug).")


class StageQuery(serializers.Serializer[Any]):
    stage = serializers.IntegerField(
        required=False, min_value=0, max_value=10**4, help_text="One stage's items."
    )


def _csv(rows: Iterable[list[Any]], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="skillmap-{name}-{stamp}.csv"'
    return response


class CohortResultCSVAPI(StaffAPIView):
    """Graded attempts as CSV (as the cohort page exports them)."""

    permission_classes = [*StaffAPIView.permission_classes, CanReadStatistics]
    renderer_classes = [CSVRenderer, PrintableJSONRenderer]

    @extend_schema(
        operation_id="cohort_result_csv",
        tags=[STAFF],
        parameters=[ResultQuery],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV")},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = ResultQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        slug = query.validated_data.get("quiz")
        quiz = get_object_or_404(Quiz, slug=slug) if slug else None
        return _csv(results_rows(quiz=quiz), f"results-{quiz.slug}" if quiz else "results")


class ChoiceCountOut(serializers.Serializer[Any]):
    option = serializers.CharField(source="option.text")
    correct = serializers.BooleanField(source="option.correct")
    picks = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)


class ItemStatsOut(serializers.Serializer[Any]):
    item = serializers.CharField(source="item.slug")
    type = serializers.CharField(source="item.type")
    stage = serializers.IntegerField(source="item.stage.number")
    topic = serializers.CharField(source="item.topic.slug")
    status = serializers.CharField(source="item.status")
    n = serializers.IntegerField(help_text="Graded answers.")
    facility = serializers.FloatField(allow_null=True)
    sd = serializers.FloatField(allow_null=True)
    discrimination = serializers.FloatField(allow_null=True, help_text="Item-rest correlation.")
    full_marks = serializers.IntegerField()
    calibrated = serializers.BooleanField()
    a = serializers.FloatField()
    b = serializers.FloatField()
    se_a = serializers.FloatField(allow_null=True)
    se_b = serializers.FloatField(allow_null=True)
    fit = serializers.FloatField(allow_null=True, help_text="RMSD item fit.")
    flags = serializers.SerializerMethodField()
    choices = ChoiceCountOut(many=True, help_text="Picks per option (with ?stage= only).")

    def get_flags(self, row: ItemStats) -> list[str]:
        return [flag.value for flag in row.flags]


class ItemStatisticsAPI(StaffAPIView):
    """Every item's statistics, classical and IRT, with flags; picks per option for one
    stage at a time (``?stage=``), as the items page counts them."""

    permission_classes = [*StaffAPIView.permission_classes, CanReadStatistics]
    serializer_class = ItemStatsOut

    @extend_schema(
        operation_id="item_statistics_list",
        tags=[STAFF],
        parameters=[StageQuery],
        responses={200: ItemStatsOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        query = StageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        number = query.validated_data.get("stage")
        stage = get_object_or_404(Stage, number=number) if number is not None else None
        page = self.paginate_queryset(item_statistics(stage=stage, picks=stage is not None))
        return self.get_paginated_response(ItemStatsOut(page, many=True).data)


class ItemStatisticsCSVAPI(StaffAPIView):
    """Every item's statistics as CSV (as the items page exports them)."""

    permission_classes = [*StaffAPIView.permission_classes, CanReadStatistics]
    renderer_classes = [CSVRenderer, PrintableJSONRenderer]

    @extend_schema(
        operation_id="item_statistics_csv",
        tags=[STAFF],
        parameters=[StageQuery],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV")},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = StageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        number = query.validated_data.get("stage")
        stage = get_object_or_404(Stage, number=number) if number is not None else None
        name = f"item-statistics-stage-{stage.number:02d}" if stage else "item-statistics"
        return _csv(item_statistics_rows(stage=stage), name)
