"""Every API error is RFC 9457 problem details, served as ``application/problem+json``.

A body has ``type`` (a URI naming the kind of problem; ``about:blank`` when the HTTP
status says it all, and then ``title`` is the status phrase), ``title`` (the same for
every problem of that type), ``status`` and ``detail`` (for people, about this
occurrence). Invalid input adds ``errors``, a list of ``{"field", "message"}`` where
``field`` is a dotted path into the JSON body (``answer.choice``, ``answer.order.1``;
``body`` for the body as a whole). A throttled request adds ``retry_after`` (seconds).

``exception_handler`` is DRF's ``EXCEPTION_HANDLER``: it shapes every exception DRF knows
(validation, parse errors, 401, 403, 404, 405, 415, 429, …) and the few Django ones named
below. Anything else is a bug and stays a 500. ``problem_response`` is for the refusals
views return themselves (``AttemptError``), and ``bad_request`` and ``not_found`` are
Django's 400 and 404 handlers, so that errors raised before DRF runs are shaped too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from quizzes.parsers import BODY, MAX_ERRORS, PayloadTooLarge
from quizzes.renderers import PROBLEM_JSON, ProblemJSONRenderer
from quizzes.text import printable

INVALID_INPUT_DETAIL = "Invalid input."


class ProblemType(NamedTuple):
    uri: str
    title: str


def _problem(name: str, title: str) -> ProblemType:
    # ``tag:`` URIs (RFC 4151) name a problem type without pretending to be a web page.
    return ProblemType(f"tag:skillmap,2026:problem:{name}", title)


INVALID_INPUT = _problem("invalid-input", "Invalid input")
MALFORMED_BODY = _problem("malformed-body", "Malformed request body")
JSON_TOO_DEEP = _problem("json-too-deep", "JSON nested too deeply")
PAYLOAD_TOO_LARGE = _problem("payload-too-large", "Request body too large")
ATTEMPT_REFUSED = _problem("attempt-refused", "Request refused")
ATTEMPT_CLOSED = _problem("attempt-closed", "Attempt closed")
# The parser's exceptions name their problem by code (quizzes/parsers.py cannot import
# this module: DRF imports the parser while defining APIView, which this module imports).
_BY_CODE = {
    "invalid-input": INVALID_INPUT,
    "json-too-deep": JSON_TOO_DEEP,
    "payload-too-large": PAYLOAD_TOO_LARGE,
}


def status_problem(status: int) -> ProblemType:
    """The problem type of a plain HTTP status: nothing more to say than the status."""
    return ProblemType("about:blank", HTTPStatus(status).phrase)


# --- the body ---------------------------------------------------------------------------
def field_errors(data: Any, path: str = "") -> list[dict[str, str]]:
    """DRF's nested error structure as a flat list of ``{"field", "message"}``."""
    if isinstance(data, Mapping):
        found = []
        for key, value in data.items():
            name = path if key == api_settings.NON_FIELD_ERRORS_KEY else _join(path, str(key))
            found += field_errors(value, name)
        return found
    if isinstance(data, list):
        found = []
        for index, value in enumerate(data):
            if isinstance(value, Mapping | list):
                # A list of nested errors (one per entry of a list of objects).
                found += field_errors(value, _join(path, str(index)))
            else:
                found.append({"field": path or BODY, "message": str(value)})
        return found
    return [{"field": path or BODY, "message": str(data)}]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def problem_body(
    problem: ProblemType,
    status: int,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem.uri,
        "title": problem.title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors[:MAX_ERRORS]
    body.update(extensions)
    return printable(body)  # type: ignore[no-any-return]


class ProblemResponse(Response):
    """A DRF response always rendered as problem+json, whatever the request accepts."""

    @property
    def rendered_content(self) -> Any:
        self.accepted_renderer = ProblemJSONRenderer()
        self.accepted_media_type = PROBLEM_JSON
        if getattr(self, "renderer_context", None) is None:
            self.renderer_context: dict[str, Any] = {}
        return super().rendered_content


def problem_response(
    problem: ProblemType,
    status: int,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    body = problem_body(problem, status, detail, errors=errors, **extensions)
    return ProblemResponse(body, status=status, headers=dict(headers or {}))


# --- DRF's exception handler ----------------------------------------------------------
def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    status = response.status_code
    problem = _BY_CODE.get(getattr(exc, "problem", ""))
    errors: list[dict[str, str]] = []
    extensions: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        problem = problem or INVALID_INPUT
        detail, errors = _validation_detail(exc)
    else:
        if isinstance(exc, exceptions.ParseError):
            problem = problem or MALFORMED_BODY
        detail = " ".join(m["message"] for m in field_errors(exc.detail))
    wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    if wait is not None:
        extensions["retry_after"] = math.ceil(wait)
    headers = {k: v for k, v in response.items() if k.lower() != "content-type"}
    return problem_response(
        problem or status_problem(status),
        status,
        detail or HTTPStatus(status).phrase,
        errors=errors,
        headers=headers,
        **extensions,
    )


def _as_api_exception(exc: Exception) -> Exception:
    """The Django exceptions a request can cause, as the DRF exceptions they mean."""
    if isinstance(exc, Http404):
        return exceptions.NotFound(*exc.args)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return exceptions.ParseError(str(exc))
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    return exc


def _validation_detail(exc: exceptions.ValidationError) -> tuple[str, list[dict[str, str]]]:
    """``detail`` and ``errors`` of a refusal: a ``detail`` key is the message itself."""
    data = exc.detail
    summary = getattr(exc, "summary", None)
    if isinstance(data, Mapping) and "detail" in data:
        rest = {k: v for k, v in data.items() if k != "detail"}
        detail = " ".join(m["message"] for m in field_errors(data["detail"]))
        return detail, field_errors(rest)
    if isinstance(data, list):
        return " ".join(m["message"] for m in field_errors(data)), []
    return summary or INVALID_INPUT_DETAIL, field_errors(data)


# --- Django's handlers, for errors raised before DRF runs -----------------------------
def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _plain_problem(problem: ProblemType, status: int, detail: str) -> HttpResponse:
    content = ProblemJSONRenderer().render(problem_body(problem, status, detail))
    return HttpResponse(content, status=status, content_type=PROBLEM_JSON)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 handler. Unlike the default one, it never reads the body again (the
    default's CSRF check re-reads a body it could not decode, and fails with a 500)."""
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            too_large = PayloadTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
            return _plain_problem(PAYLOAD_TOO_LARGE, 413, str(too_large.detail))
        return _plain_problem(status_problem(400), 400, "The request could not be read.")
    return render(request, "400.html", status=400)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 handler: problem details under /api/, the site's page elsewhere."""
    if _is_api(request):
        return _plain_problem(status_problem(404), 404, "Not found.")
    return defaults.page_not_found(request, exception)
