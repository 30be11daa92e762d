"""The unversioned API paths of before v1: aliases of their v1 routes until the sunset
(see config/api.py), each answer carrying Deprecation, Sunset and a Link to its successor.
"""

from django.urls import path
from django.views.generic import RedirectView

from accounts import api as accounts_api
from config.api import deprecated_alias
from quizzes.analytics import api as analytics_api
from quizzes.assessments import api

urlpatterns = [
    path("api/schema/", RedirectView.as_view(pattern_name="api-schema", permanent=True)),
    path("api/docs/", RedirectView.as_view(pattern_name="api-docs", permanent=True)),
    path("api/stages/", deprecated_alias(api.RoadmapAPI.as_view(), renamed_to="roadmap/")),
    path("api/dashboard/", deprecated_alias(analytics_api.DashboardAPI.as_view())),
    path("api/quizzes/<slug:slug>/attempts", deprecated_alias(api.QuizStartAPI.as_view())),
    path("api/attempts/<int:attempt_id>", deprecated_alias(api.AttemptDetailAPI.as_view())),
    path(
        "api/attempts/<int:attempt_id>/answers/<int:position>",
        deprecated_alias(api.AttemptAnswerAPI.as_view()),
    ),
    path(
        "api/attempts/<int:attempt_id>/flags/<int:position>",
        deprecated_alias(api.AttemptFlagAPI.as_view()),
    ),
    path(
        "api/attempts/<int:attempt_id>/items/<int:position>/run",
        deprecated_alias(api.AttemptRunExamplesAPI.as_view()),
    ),
    path(
        "api/attempts/<int:attempt_id>/next/<int:position>",
        deprecated_alias(api.AttemptNextAPI.as_view()),
    ),
    path("api/attempts/<int:attempt_id>/submit", deprecated_alias(api.AttemptSubmitAPI.as_view())),
    path(
        "api/submissions/<int:submission_id>",
        deprecated_alias(api.SubmissionDetailAPI.as_view()),
    ),
    path("api/users/", deprecated_alias(accounts_api.UserListApi.as_view())),
    path("api/users/<int:user_id>/role", deprecated_alias(accounts_api.UserRoleApi.as_view())),
]
