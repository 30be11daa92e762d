"""Per-learner rate limits: DRF throttles counted by account (never by address) in the cache.

One family. Each limit is a ``LearnerRateThrottle`` with a ``scope``, whose rate is
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]`` (read from the environment in
config/settings.py), and the words its message uses. A refused API request gets a 429 with
``Retry-After`` and ``{"detail": "Too many code runs: try again in 12 s."}``
(``LearnerAPIView`` in quizzes/access.py raises ``RateLimited``); a page shows the same
message (``page_refusal``). The cache is the project's shared one, so every web process
counts together.

An attempt's submit and the deadline's auto-submit are never throttled: they are always
accepted, and wait behind the learner's in-flight cap (quizzes/pipeline/grading.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from django.http import HttpRequest
from rest_framework.exceptions import Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from accounts.models import User
from quizzes.assessments.services import open_attempt
from quizzes.bank.quizzes import quiz_runs_code
from quizzes.models import Quiz, QuizStatus

if TYPE_CHECKING:
    # Imported only when used: DRF imports this module (DEFAULT_THROTTLE_CLASSES) while
    # it defines APIView.
    from rest_framework.views import APIView


class RateLimited(Throttled):
    """A 429 whose ``detail`` says what was limited and when to come back."""

    wait: int | None

    def __init__(self, *, what: str, wait: float | None) -> None:
        seconds = max(1, math.ceil(wait)) if wait is not None else None
        when = f"try again in {seconds} s." if seconds is not None else "try again later."
        super().__init__(detail=f"Too many {what}: {when}")
        self.wait = seconds  # DRF's exception handler turns it into Retry-After


class LearnerRateThrottle(SimpleRateThrottle):
    """Counts one account's requests. Subclasses set ``scope`` and ``what`` (plural noun)."""

    scope: str
    what = "requests"

    def get_rate(self) -> str | None:
        # Read when used, not when DRF was imported, so the current settings apply.
        rate = api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        return None if rate is None else str(rate)

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        user = request.user
        if not isinstance(user, User) or not self.applies(request.method or "GET"):
            return None
        if not self.counts(user, getattr(view, "kwargs", {})):
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}

    def applies(self, method: str) -> bool:
        """Whether the limit counts requests of this method (every one, unless a subclass
        says not)."""
        return True

    def counts(self, user: User, url_kwargs: Mapping[str, Any]) -> bool:
        """Whether the limit counts this request (every one, unless a subclass says not)."""
        return True

    def refusal(self) -> RateLimited:
        return RateLimited(what=self.what, wait=self.wait())


class RunExamplesThrottle(LearnerRateThrottle):
    """Running a challenge's examples (``RUN_EXAMPLES_RATE``)."""

    scope = "run_examples"
    what = "code runs"


class ChallengeStartThrottle(LearnerRateThrottle):
    """New attempts at quizzes with code (``CHALLENGE_START_RATE``).

    Only a start that creates an attempt counts: resuming the open one does not, nor does
    starting a quiz with no item graded in the sandbox. Needs the quiz's ``slug`` URL kwarg.
    """

    scope = "challenge_starts"
    what = "challenge starts"

    def counts(self, user: User, url_kwargs: Mapping[str, Any]) -> bool:
        quiz = Quiz.objects.filter(
            slug=url_kwargs.get("slug", ""), status=QuizStatus.PUBLISHED
        ).first()
        return (
            quiz is not None
            and open_attempt(learner=user, quiz=quiz) is None
            and quiz_runs_code(quiz)
        )


class ApiReadThrottle(LearnerRateThrottle):
    """Every API read (``API_READ_RATE``): the default of every API view."""

    scope = "api_reads"
    what = "API reads"

    def applies(self, method: str) -> bool:
        return method in SAFE_METHODS


class ApiWriteThrottle(LearnerRateThrottle):
    """Every API write (``API_WRITE_RATE``) but those with a limit of their own, and an
    attempt's submit, which is never limited."""

    scope = "api_writes"
    what = "API writes"

    def applies(self, method: str) -> bool:
        return method not in SAFE_METHODS


class AnswerSaveThrottle(LearnerRateThrottle):
    """Answer saves (``API_ANSWER_SAVE_RATE``): generous, since a page autosaves while the
    learner types."""

    scope = "answer_saves"
    what = "answer saves"


class BankImportThrottle(LearnerRateThrottle):
    """Bank imports, dry runs included, and item checks (``API_BANK_IMPORT_RATE``): each
    validates a whole bank file, or runs a challenge's solutions in the sandbox."""

    scope = "bank_imports"
    what = "bank imports and checks"


# The limits of an API view that names none of its own.
DEFAULT_API_THROTTLES: list[type[LearnerRateThrottle]] = [ApiReadThrottle, ApiWriteThrottle]


def refusal_for(throttle: BaseThrottle) -> RateLimited:
    if isinstance(throttle, LearnerRateThrottle):
        return throttle.refusal()
    return RateLimited(what="requests", wait=throttle.wait())


def page_refusal(
    request: HttpRequest, throttle_class: type[LearnerRateThrottle], **url_kwargs: Any
) -> RateLimited | None:
    """Apply a limit to a page's form post, counted with the API's: the refusal, or None."""
    from rest_framework.views import APIView

    throttle = throttle_class()
    view = APIView()
    view.kwargs = url_kwargs
    # A throttle reads only request.user and view.kwargs, which a page request has too.
    if throttle.allow_request(cast(Request, request), view):
        return None
    return throttle.refusal()
