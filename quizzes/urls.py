from django.urls import path

from quizzes.analytics import views as analytics
from quizzes.assessments import views as learner
from quizzes.bank import browse_views as browser
from quizzes.bank import views as authoring
from quizzes.pipeline import views as ops

urlpatterns = [
    path("", learner.home, name="home"),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("status/workers", ops.workers, name="worker-status"),
    path("metrics", ops.metrics, name="metrics"),
    # Learner pages
    path("stages/<slug:slug>/", learner.stage_detail, name="stage-detail"),
    path("quizzes/<slug:slug>/", learner.quiz_detail, name="quiz-detail"),
    path("quizzes/<slug:slug>/start", learner.quiz_start, name="quiz-start"),
    path("me/language", learner.learner_language_page, name="learner-language"),
    path("attempts/<int:attempt_id>/", learner.attempt_take, name="attempt-take"),
    path(
        "attempts/<int:attempt_id>/check/<int:position>",
        learner.attempt_check,
        name="attempt-check",
    ),
    path(
        "attempts/<int:attempt_id>/next/<int:position>", learner.attempt_next, name="attempt-next"
    ),
    path("attempts/<int:attempt_id>/submit", learner.attempt_submit_view, name="attempt-submit"),
    path("attempts/<int:attempt_id>/result", learner.attempt_result, name="attempt-result"),
    path(
        "attempts/<int:attempt_id>/result/status",
        learner.attempt_result_status,
        name="attempt-result-status",
    ),
    path(
        "attempts/<int:attempt_id>/items/<int:position>/report",
        learner.attempt_item_report,
        name="attempt-item-report",
    ),
    path("dashboard/", analytics.dashboard, name="dashboard"),
    # Instructors and admins
    path("author/items/", browser.bank_browser, name="author-items"),
    path("author/items/bulk", browser.bank_bulk, name="bank-bulk"),
    path("author/items/<slug:slug>/history", browser.item_history, name="item-history"),
    path("author/reports/", browser.report_queue, name="item-reports"),
    path("author/reports/<int:report_id>/close", browser.report_close, name="item-report-close"),
    path("author/quizzes/pool-form", authoring.quiz_pool_form, name="quiz-pool-form"),
    path("author/quizzes/<slug:slug>/preview", browser.quiz_preview, name="quiz-preview"),
    path("author/items/new", authoring.item_new, name="item-new"),
    path("author/items/preview", authoring.item_live_preview, name="item-live-preview"),
    path("author/items/<slug:slug>/", authoring.item_preview, name="item-preview"),
    path("author/items/<slug:slug>/edit", authoring.item_edit, name="item-edit"),
    path("author/items/<slug:slug>/status", authoring.item_status, name="item-status"),
    path("author/items/<slug:slug>/try", authoring.item_try, name="item-try"),
    path("author/items/<slug:slug>/verify", authoring.item_verify, name="item-verify"),
    path("author/items/<slug:slug>/trial", authoring.item_trial, name="item-trial"),
    path(
        "author/items/<slug:slug>/trial/<int:trial_id>",
        authoring.item_trial_status,
        name="item-trial-status",
    ),
    path("author/items/<slug:slug>/regrade", authoring.item_regrade_view, name="item-regrade"),
    path("author/import", authoring.bank_import_view, name="bank-import"),
    path("author/export/stage-<int:number>.yaml", authoring.bank_export_view, name="bank-export"),
    path(
        "author/export/stage-<int:number>.xml",
        authoring.bank_export_moodle_view,
        name="bank-export-moodle",
    ),
    path(
        "author/export/stage-<int:number>.gift",
        authoring.bank_export_gift_view,
        name="bank-export-gift",
    ),
    path(
        "author/export/selection",
        authoring.bank_export_selection_view,
        name="bank-export-selection",
    ),
    path("author/analytics/", analytics.cohort_analytics, name="cohort-analytics"),
    path("author/analytics/heatmap", analytics.cohort_heatmap_view, name="cohort-heatmap"),
    path("author/analytics/results.csv", analytics.results_csv, name="results-csv"),
    path("author/analytics/items.csv", analytics.item_statistics_csv, name="item-statistics-csv"),
    path("author/quizzes/", authoring.quiz_list, name="quiz-list"),
    path("author/quizzes/new", authoring.quiz_edit, name="quiz-new"),
    path("author/quizzes/<slug:slug>/edit", authoring.quiz_edit, name="quiz-edit"),
    path("attempts/<int:attempt_id>/log", analytics.attempt_log, name="attempt-log"),
    path("author/attempts/", analytics.learner_attempts_view, name="learner-attempts"),
    path("ops/grading/", ops.grading_operator, name="grading-operator"),
    path("ops/grading/<int:submission_id>/requeue", ops.grading_requeue, name="grading-requeue"),
]
