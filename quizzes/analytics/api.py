"""REST API over graded work: the learner's dashboard."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from quizzes.access import LearnerAPIView, account_of
from quizzes.analytics.selectors import dashboard_for


class DashboardAPI(LearnerAPIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        rows = dashboard_for(account_of(request))
        return Response(
            {
                "stages": [
                    {
                        "number": r["stage"].number,
                        "title": r["stage"].title,
                        "mastery": r["mastery"],
                        "best_quiz": r["best_quiz"],
                        "topics": r["topics"],
                    }
                    for r in rows
                ]
            }
        )
