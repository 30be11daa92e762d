"""How API requests authenticate: a personal token (``Authorization: Bearer skm_…``), or
the browser's session. Token requests need no CSRF token (a browser never adds the header
on its own); session requests keep DRF's CSRF check.

``TokenScope`` narrows a token request to its token's scope: reads need ``read``, writes
need the view's ``write_scope`` (``instructor`` unless the view says otherwise, so a view
that forgets is closed, not open). Every API view lists it in ``permission_classes``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from accounts.models import ApiToken, TokenScope, User
from accounts.tokens import api_token_authenticate

BEARER = b"bearer"


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != BEARER:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send the token as 'Authorization: Bearer <token>'.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("The token is not valid.") from None
        token = api_token_authenticate(secret=secret)
        if token is None:
            raise AuthenticationFailed("The token is not valid, has expired or was revoked.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Also what makes DRF answer 401 (not 403) to a request with no credentials.
        return 'Bearer realm="api"'


def required_scope(method: str, view: Any) -> str:
    if method in SAFE_METHODS:
        return str(getattr(view, "read_scope", TokenScope.READ))
    return str(getattr(view, "write_scope", TokenScope.INSTRUCTOR))


class TokenScopePermission(BasePermission):
    """A token request is allowed only within its token's scope; session requests pass."""

    message = "This token's scope does not allow this request."

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        needed = required_scope(request.method or "GET", view)
        if token.allows(needed):
            return True
        self.message = (
            f"This token's scope is {token.scope!r}; this request needs a token with "
            f"scope {needed!r} or wider."
        )
        return False


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the schema describes the token: HTTP bearer."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (skm_…), created on your profile page.",
        }
