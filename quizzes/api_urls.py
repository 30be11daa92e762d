"""The quizzes routes of API v1, mounted under /api/v1/ by config/api_v1.py."""

from django.urls import path

from quizzes.analytics import api as analytics
from quizzes.assessments import api as learner
from quizzes.bank import api as authoring

urlpatterns = [
    # learners
    path("roadmap/", learner.RoadmapAPI.as_view(), name="api-roadmap"),
    path("me/language", learner.LearnerLanguageAPI.as_view(), name="api-learner-language"),
    path("quizzes/", learner.QuizListAPI.as_view(), name="api-quiz-list"),
    path("quizzes/<slug:slug>/", learner.QuizDetailAPI.as_view(), name="api-quiz-detail"),
    path("quizzes/<slug:slug>/attempts", learner.QuizStartAPI.as_view(), name="api-quiz-start"),
    path("attempts/", learner.AttemptListAPI.as_view(), name="api-attempt-list"),
    path(
        "attempts/<int:attempt_id>", learner.AttemptDetailAPI.as_view(), name="api-attempt-detail"
    ),
    path(
        "attempts/<int:attempt_id>/answers/<int:position>",
        learner.AttemptAnswerAPI.as_view(),
        name="api-attempt-answer",
    ),
    path(
        "attempts/<int:attempt_id>/flags/<int:position>",
        learner.AttemptFlagAPI.as_view(),
        name="api-attempt-flag",
    ),
    path(
        "attempts/<int:attempt_id>/items/<int:position>/run",
        learner.AttemptRunExamplesAPI.as_view(),
        name="api-attempt-run",
    ),
    path(
        "attempts/<int:attempt_id>/next/<int:position>",
        learner.AttemptNextAPI.as_view(),
        name="api-attempt-next",
    ),
    path(
        "attempts/<int:attempt_id>/submit",
        learner.AttemptSubmitAPI.as_view(),
        name="api-attempt-submit",
    ),
    path(
        "attempts/<int:attempt_id>/result",
        learner.AttemptResultAPI.as_view(),
        name="api-attempt-result",
    ),
    path(
        "submissions/<int:submission_id>",
        learner.SubmissionDetailAPI.as_view(),
        name="api-submission-detail",
    ),
    path("dashboard/", analytics.DashboardAPI.as_view(), name="api-dashboard"),
    # instructors: items, quizzes, the bank
    path("author/items/", authoring.ItemListAPI.as_view(), name="api-author-items"),
    path("author/items/<slug:slug>", authoring.ItemDetailAPI.as_view(), name="api-author-item"),
    path(
        "author/items/<slug:slug>/preview",
        authoring.ItemPreviewAPI.as_view(),
        name="api-author-item-preview",
    ),
    path(
        "author/items/<slug:slug>/verify",
        authoring.ItemVerifyAPI.as_view(),
        name="api-author-item-verify",
    ),
    path(
        "author/items/<slug:slug>/publish",
        authoring.ItemPublishAPI.as_view(),
        name="api-author-item-publish",
    ),
    path(
        "author/items/<slug:slug>/retire",
        authoring.ItemRetireAPI.as_view(),
        name="api-author-item-retire",
    ),
    path("author/quizzes/", authoring.AuthorQuizListAPI.as_view(), name="api-author-quizzes"),
    path(
        "author/quizzes/<slug:slug>",
        authoring.AuthorQuizDetailAPI.as_view(),
        name="api-author-quiz",
    ),
    path("author/bank/import", authoring.BankImportAPI.as_view(), name="api-bank-import"),
    path(
        "author/bank/export/stage-<int:number>.yaml",
        authoring.BankExportAPI.as_view(),
        name="api-bank-export",
    ),
    # instructors: learners' work and cohort analytics
    path(
        "author/attempts/", analytics.LearnerAttemptListAPI.as_view(), name="api-learner-attempts"
    ),
    path(
        "author/attempts/<int:attempt_id>/events",
        analytics.AttemptEventListAPI.as_view(),
        name="api-attempt-events",
    ),
    path("author/analytics/quizzes", analytics.CohortOverviewAPI.as_view(), name="api-cohort"),
    path(
        "author/analytics/results",
        analytics.CohortResultListAPI.as_view(),
        name="api-cohort-results",
    ),
    path(
        "author/analytics/results.csv",
        analytics.CohortResultCSVAPI.as_view(),
        name="api-cohort-results-csv",
    ),
    path("author/analytics/items", analytics.ItemStatisticsAPI.as_view(), name="api-item-stats"),
    path(
        "author/analytics/items.csv",
        analytics.ItemStatisticsCSVAPI.as_view(),
        name="api-item-stats-csv",
    ),
]
