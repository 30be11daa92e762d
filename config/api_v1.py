"""API v1: every route under /api/v1/, with its schema, Swagger UI and ReDoc.

The schema is generated from this URLconf alone, so the unversioned aliases
(config/api_legacy.py) never appear in it.
"""

from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from config.docs import redoc_csp

urlpatterns = [
    path(
        "api/v1/",
        include(
            [
                path(
                    "schema/",
                    SpectacularAPIView.as_view(urlconf="config.api_v1"),
                    name="api-schema",
                ),
                path(
                    "docs/",
                    SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
                    name="api-docs",
                ),
                path(
                    "redoc/",
                    redoc_csp(SpectacularRedocView.as_view(url_name="api-schema")),
                    name="api-redoc",
                ),
                path("", include("accounts.api_urls")),
                path("", include("quizzes.api_urls")),
            ]
        ),
    ),
]
