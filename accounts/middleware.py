from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

# Paths a person who must set up two-factor authentication can still reach.
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/readyz")


class RequireMFAMiddleware:
    """When MFA_REQUIRED_FOR_STAFF is on, staff without an authenticator must add one.

    allauth has no setting for "require MFA for these users", hence this middleware.
    Staff means anyone holding the authoring permission (instructors and admins).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.MFA_REQUIRED_FOR_STAFF
            and request.user.is_authenticated
            and not request.path.startswith(_MFA_EXEMPT_PREFIXES)
            and request.user.has_perm("quizzes.author_item")
        ) and not Authenticator.objects.filter(user=request.user).exists():
            return redirect("mfa_activate_totp")
        return self.get_response(request)
