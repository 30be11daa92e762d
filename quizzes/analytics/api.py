"""REST API over graded work: the learner's skill estimates, as the dashboard shows them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from quizzes.access import LearnerAPIView, account_of
from quizzes.analytics.selectors import (
    StageSkill,
    next_best_step,
    skill_dashboard,
    solved_challenges,
    stage_quiz_by_stage,
)
from quizzes.assessments.selectors import placement_quiz


class TopicSkillOut(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    assessed = serializers.BooleanField()
    score = serializers.IntegerField(allow_null=True, help_text="0 to 300; null: not assessed")
    band = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    answers = serializers.IntegerField()


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
    history = serializers.ListField(child=serializers.DictField())


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
        "history": [{"at": at.isoformat(), "score": score} for at, score in row.history],
    }


class DashboardAPI(LearnerAPIView):
    @extend_schema(responses={200: DashboardOut})
    def get(self, request: Request) -> Response:
        rows = skill_dashboard(account_of(request))
        step = next_best_step(rows, stage_quiz_by_stage(), placement=placement_quiz())
        return Response(
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
                        "solved_at": c.solved_at.isoformat() if c.solved_at else None,
                    }
                    for c in solved_challenges(account_of(request))
                ],
            }
        )
