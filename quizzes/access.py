"""Who may use the learner's pages and API: one guard for each, shared by every domain."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import NotAuthenticated
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request

from accounts.authentication import TokenScopePermission
from accounts.models import TokenScope, User
from quizzes.throttles import DEFAULT_API_THROTTLES, refusal_for


class AuthenticatedRequest(HttpRequest):
    """A page request behind ``login_required``: its ``user`` is an account."""

    user: User


def account_of(request: Request) -> User:
    """The account behind an API request that passed ``IsAuthenticated``."""
    if not isinstance(request.user, User):
        raise NotAuthenticated()
    return request.user


def learner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous → login page; logged in without the permission → 403."""
    return login_required(permission_required("quizzes.take_quiz", raise_exception=True)(view))


class CanTakeQuizzes(BasePermission):
    message = "Your account cannot take quizzes."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm("quizzes.take_quiz"))


def needs_perm(perm: str, text: str) -> type[BasePermission]:
    """A permission class: the account holds the model permission ``perm``."""

    class HasPerm(BasePermission):
        message = text

        def has_permission(self, request: Request, view: Any) -> bool:
            return bool(request.user and request.user.has_perm(perm))

    HasPerm.__name__ = HasPerm.__qualname__ = f"Has_{perm.replace('.', '_')}"
    return HasPerm


class ApiView(GenericAPIView[Any]):
    """Base of every quizzes API view: authenticated (token or session), within the
    token's scope, rate-limited per account (``throttle_classes``; reads and writes by
    default, see quizzes/throttles.py). Lists add filters, ordering and pagination."""

    permission_classes = [IsAuthenticated, TokenScopePermission]
    throttle_classes = list(DEFAULT_API_THROTTLES)
    filter_backends: list[Any] = []

    def check_throttles(self, request: Request) -> None:
        """As DRF does, but the 429 says which limit was hit and when to come back."""
        refusals = [
            refusal_for(throttle)
            for throttle in self.get_throttles()
            if not throttle.allow_request(request, self)
        ]
        if refusals:
            raise max(refusals, key=lambda refusal: refusal.wait or 0)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # A JSON body is parsed (bounded: quizzes/parsers.py) before the view runs, even
        # where the view reads none, so a malformed one is refused before anything changes.
        media_type = request.content_type.split(";", 1)[0].strip().lower()
        if request.method not in SAFE_METHODS and media_type == "application/json":
            _ = request.data


class LearnerAPIView(ApiView):
    """A learner's own work: accounts that may take quizzes; writes need a token of scope
    ``learner`` or wider."""

    permission_classes = [IsAuthenticated, TokenScopePermission, CanTakeQuizzes]
    write_scope = TokenScope.LEARNER


class StaffAPIView(ApiView):
    """Instructors' endpoints: subclasses add the permission they need; writes need a token
    of scope ``instructor``."""

    write_scope = TokenScope.INSTRUCTOR


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
