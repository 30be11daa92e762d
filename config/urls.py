from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

# The admin login goes through allauth, so it gets the same rate limits and MFA.
admin.autodiscover()
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

# Errors raised before DRF runs: problem details under /api/, and a 400 that never fails.
handler400 = "quizzes.problems.bad_request"
handler404 = "quizzes.problems.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    # The REST API: v1, and the unversioned aliases of before it (config/api.py says until when).
    path("", include("config.api_v1")),
    path("", include("config.api_legacy")),
    path("", include("quizzes.urls")),
]
