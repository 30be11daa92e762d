from django.urls import path

from quizzes.views import health, pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("status/workers", health.workers, name="worker-status"),
]
