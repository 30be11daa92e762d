"""REST API for learners: thin views with their own input serializers; services do the work."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.fields import empty
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from quizzes.access import LearnerAPIView, account_of, jsonable
from quizzes.assessments.feedback import feedback_due, submission_feedback_due
from quizzes.assessments.presenters import (
    PAGE_ONLY_KEYS,
    attempt_item_views,
    submission_for_learner,
)
from quizzes.assessments.selectors import (
    access_attempt,
    access_submission,
    attempt_items,
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
from quizzes.grading.languages.names import LANGUAGE_KEYS
from quizzes.itemtypes.challenge import MAX_CODE_BYTES
from quizzes.models import AttemptStatus, Quiz, QuizStatus
from quizzes.pipeline.ops import graders_alive
from quizzes.preferences import (
    PreferenceError,
    language_choices,
    learner_language,
    learner_language_set,
)
from quizzes.problems import ATTEMPT_CLOSED, ATTEMPT_REFUSED, INVALID_INPUT, problem_response
from quizzes.throttles import ChallengeStartThrottle, RunExamplesThrottle

# Errors are RFC 9457 problem details (application/problem+json): see quizzes/problems.py.
DetailSerializer = inline_serializer(
    "Problem",
    {
        "type": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
        "errors": serializers.ListField(
            child=serializers.DictField(child=serializers.CharField()), required=False
        ),
    },
)


def error(exc: AttemptError) -> Response:
    """A service's refusal as problem details; a refusal about a field names it."""
    if exc.field is not None:
        errors = [{"field": exc.field, "message": str(exc)}]
        return problem_response(INVALID_INPUT, exc.status_code, str(exc), errors=errors)
    kind = ATTEMPT_CLOSED if isinstance(exc, AttemptClosed) else ATTEMPT_REFUSED
    return problem_response(kind, exc.status_code, str(exc))


def attempt_payload(request: Request, attempt: Any) -> dict[str, Any]:
    items = attempt_item_views(attempt, attempt_items(attempt))
    for view in items:
        for key in PAGE_ONLY_KEYS:
            view.pop(key, None)
    due = feedback_due(attempt)
    payload: dict[str, Any] = jsonable(
        {
            "id": attempt.pk,
            "quiz": attempt.quiz.slug,
            # Adaptive (the placement): one question at a time, added by POST …/next/<position>.
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
            "items": items,
            "url": request.build_absolute_uri(reverse("api-attempt-detail", args=[attempt.pk])),
        }
    )
    return payload


class StageListAPI(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: inline_serializer("Stages", {"stages": serializers.ListField()})}
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "stages": [
                    {
                        "number": s.number,
                        "slug": s.slug,
                        "title": s.title,
                        "topics": [{"slug": t.slug, "title": t.title} for t in s.topics.all()],
                    }
                    for s in stage_list_with_topics()
                ]
            }
        )


class QuizStartAPI(LearnerAPIView):
    """Start or resume an attempt; new attempts at quizzes with code are rate-limited."""

    throttle_classes = [ChallengeStartThrottle]

    @extend_schema(
        request=None,
        responses={201: dict, 400: DetailSerializer, 409: DetailSerializer, 429: DetailSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        quiz = get_object_or_404(Quiz, slug=slug, status=QuizStatus.PUBLISHED)
        learner = account_of(request)
        if language_needed(learner=learner, quiz=quiz) and not open_attempt(
            learner=learner, quiz=quiz
        ):
            message = "Choose your programming language first (PUT /api/me/language)."
            return problem_response(
                INVALID_INPUT, 409, message, errors=[{"field": "language", "message": message}]
            )
        try:
            attempt = attempt_start(learner=learner, quiz=quiz)
        except AttemptError as exc:
            return error(exc)
        return Response(attempt_payload(request, attempt), status=status.HTTP_201_CREATED)


class AttemptDetailAPI(LearnerAPIView):
    @extend_schema(responses={200: dict, 404: DetailSerializer})
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = access_attempt(user=account_of(request), attempt_id=attempt_id)
        return Response(attempt_payload(request, attempt))


class JSONValueField(serializers.JSONField):
    """A JSON value from a JSON body. DRF's JSONField would also ``json.loads`` a form
    field's text, past the bounds the JSON parser keeps (quizzes/parsers.py); here a form
    field stays the text it is (and an answer must be an object)."""

    def get_value(self, dictionary: Any) -> Any:
        return dictionary.get(self.field_name, empty)


class AnswerInput(serializers.Serializer[Any]):
    # The item type's schema checks the answer itself (services.check_answer).
    answer = JSONValueField()
    revision = serializers.IntegerField(min_value=1, max_value=MAX_REVISION)


class AttemptAnswerAPI(LearnerAPIView):
    @extend_schema(request=AnswerInput, responses={200: dict, 400: DetailSerializer})
    def put(self, request: Request, attempt_id: int, position: int) -> Response:
        attempt = access_attempt(user=account_of(request), attempt_id=attempt_id, write=True)
        data = AnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = attempt_answer_save(
                attempt=attempt,
                position=position,
                answer=data.validated_data["answer"],
                revision=data.validated_data["revision"],
            )
        except AttemptError as exc:
            return error(exc)
        return Response(
            {"saved": result.saved, "revision": result.revision, "saved_at": result.saved_at}
        )

    post = put


class FlagInput(serializers.Serializer[Any]):
    flagged = serializers.BooleanField()


class AttemptFlagAPI(LearnerAPIView):
    @extend_schema(request=FlagInput, responses={200: dict})
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
        return Response({"flagged": data.validated_data["flagged"]})


class RunInput(serializers.Serializer[Any]):
    code = serializers.CharField(
        max_length=MAX_CODE_BYTES, allow_blank=False, trim_whitespace=False
    )
    request_id = serializers.CharField(
        max_length=MAX_RUN_REQUEST_ID, required=False, allow_blank=True
    )
    language = serializers.ChoiceField(
        choices=list(LANGUAGE_KEYS),
        required=False,
        help_text="The language the code is written in (a code challenge; default: Python).",
    )


class AttemptRunExamplesAPI(LearnerAPIView):
    """Run the visible examples of a challenge in the sandbox (rate-limited); 202 + status URL."""

    throttle_classes = [RunExamplesThrottle]

    @extend_schema(
        request=RunInput,
        responses={
            202: dict,
            400: DetailSerializer,
            409: DetailSerializer,
            429: DetailSerializer,
        },
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
        return Response(
            {
                **submission_for_learner(submission, feedback=False, graders_alive=graders_alive()),
                "status_url": reverse("api-submission-detail", args=[submission.pk]),
            },
            status=status.HTTP_202_ACCEPTED,
        )


class AttemptNextAPI(LearnerAPIView):
    """Adaptive placement: record the answer at ``position`` (saved beforehand through the
    answers endpoint; none scores 0) and get the attempt with the next question added, or
    submitted when the placement is over. Repeating it for an answered position is a no-op."""

    @extend_schema(
        request=None, responses={200: dict, 400: DetailSerializer, 409: DetailSerializer}
    )
    def post(self, request: Request, attempt_id: int, position: int) -> Response:
        attempt = access_attempt(user=account_of(request), attempt_id=attempt_id, write=True)
        try:
            attempt = attempt_placement_next(attempt=attempt, position=position)
        except AttemptError as exc:
            return error(exc)
        return Response(attempt_payload(request, attempt))


class AttemptSubmitAPI(LearnerAPIView):
    # Never throttled: a submit is always accepted and waits behind the in-flight cap.
    @extend_schema(request=None, responses={200: dict, 202: dict})
    def post(self, request: Request, attempt_id: int) -> Response:
        attempt = access_attempt(user=account_of(request), attempt_id=attempt_id, write=True)
        attempt = attempt_submit(attempt=attempt)
        code = (
            status.HTTP_202_ACCEPTED
            if attempt.status == AttemptStatus.SUBMITTED
            else status.HTTP_200_OK
        )
        return Response(attempt_payload(request, attempt), status=code)


class SubmissionDetailAPI(LearnerAPIView):
    @extend_schema(responses={200: dict, 404: DetailSerializer})
    def get(self, request: Request, submission_id: int) -> Response:
        submission = access_submission(user=account_of(request), submission_id=submission_id)
        feedback = submission_feedback_due(submission)
        view = submission_for_learner(
            submission,
            feedback=feedback,
            graders_alive=not submission.is_pending or graders_alive(),
        )
        return Response(jsonable(view))


class LanguageInput(serializers.Serializer[Any]):
    language = serializers.CharField(help_text="a key of `choices` (e.g. python, go)")


class LearnerLanguageAPI(LearnerAPIView):
    """The learner's programming language: code challenges open in it, stage 1 asks
    about it, and the placement needs it."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(_language_payload(account_of(request)))

    @extend_schema(request=LanguageInput, responses={200: dict, 400: DetailSerializer})
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
        return Response(_language_payload(learner))


def _language_payload(learner: Any) -> dict[str, Any]:
    return {
        "language": learner_language(user=learner),
        "choices": [{"id": key, "label": label} for key, label in language_choices()],
    }
