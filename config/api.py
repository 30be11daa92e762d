"""What every API version shares: pagination, the schema's error responses and links, and
the deprecation headers of the unversioned aliases.

The API lives under ``/api/v1/``. The unversioned ``/api/…`` paths of before v1 stay as
aliases of their v1 routes until ``LEGACY_SUNSET``: they answer exactly as v1 does, with
``Deprecation``, ``Sunset`` and ``Link: <…/api/v1/…>; rel="successor-version"`` headers
(RFC 9745, RFC 8594). After the sunset they are removed. A future v2 would live beside
v1, and v1 would be announced the same way, at least six months ahead.

Nothing here imports ``quizzes`` (``accounts`` uses it, and ``accounts`` is below
``quizzes``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

# --- deprecation of the unversioned paths ---------------------------------------------------
LEGACY_DEPRECATED = datetime(2026, 12, 1, tzinfo=UTC)
LEGACY_SUNSET = datetime(2027, 6, 1, tzinfo=UTC)
LEGACY_PREFIX = "/api/"
V1_PREFIX = "/api/v1/"


def deprecated_alias(
    view: Callable[..., HttpResponseBase], *, renamed_to: str | None = None
) -> Callable[..., HttpResponseBase]:
    """``view`` served under its old unversioned path, announcing its v1 successor: the same
    path under /api/v1/, or ``renamed_to`` (a path under /api/v1/) where v1 renamed it."""

    @functools.wraps(view)  # keeps csrf_exempt and the DRF view's attributes
    def alias(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        successor = V1_PREFIX + (renamed_to or request.path.removeprefix(LEGACY_PREFIX))
        response["Deprecation"] = f"@{int(LEGACY_DEPRECATED.timestamp())}"
        response["Sunset"] = format_datetime(LEGACY_SUNSET, usegmt=True)
        response["Link"] = f'<{successor}>; rel="successor-version"'
        return response

    return alias


def v1_only(endpoints: list[tuple[str, str, str, Any]], **kwargs: Any) -> list[Any]:
    """drf-spectacular preprocessing hook: the schema describes v1; the aliases are v1's
    routes under their old paths, and would only repeat it."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(V1_PREFIX)]


# --- pagination ----------------------------------------------------------------------------
class ApiPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (up to 200); a page past the end is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# --- the error format in the schema -----------------------------------------------------------
class FieldErrorSerializer(serializers.Serializer[Any]):
    field = serializers.CharField(
        help_text="Dotted path into the JSON body (answer.choice); 'body' for the whole body."
    )
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer[Any]):
    """RFC 9457 problem details, the body of every 4xx answer."""

    type = serializers.CharField(help_text="A URI naming the kind of problem, or about:blank.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="For people: what went wrong this time.")
    errors = FieldErrorSerializer(  # type: ignore[assignment]
        many=True, required=False, help_text="Invalid input, by field."
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="Seconds to wait, on a 429 (also in Retry-After)."
    )


PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_ERRORS = {
    400: "Invalid input: the problem names each field at fault.",
    401: "No credentials, or a token that is not valid, has expired or was revoked.",
    403: "The account or the token's scope may not do this.",
    404: "No such object, or not yours.",
    405: "Method not allowed.",
    406: "Cannot answer in the media type the Accept header asks for.",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
    429: "Too many requests: wait for Retry-After seconds.",
}
_BODY_ERRORS = (413, 415)
_RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before trying again.",
    }
}


def add_problem_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation documents every 4xx it can
    answer, as problem details, and none keeps a ``default`` response."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problem", _problem_schema())
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            responses.pop("default", None)
            for code, description in _ERRORS.items():
                if code in _BODY_ERRORS and "requestBody" not in operation:
                    continue
                response = responses.setdefault(str(code), {"description": description})
                response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
                if code == 429:
                    response["headers"] = _RETRY_AFTER
    return result


def _problem_schema() -> dict[str, Any]:
    field_error = {
        "type": "object",
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
        "required": ["field", "message"],
    }
    return {
        "type": "object",
        "description": ProblemSerializer.__doc__,
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": field_error},
            "retry_after": {"type": "integer"},
        },
        "required": ["type", "title", "status", "detail"],
    }


# --- links between operations (the attempt flow) ----------------------------------------------
# (operationId, status) → {link name: (target operationId, parameters)}
LINKS: dict[tuple[str, str], dict[str, tuple[str, dict[str, str]]]] = {}


def link(source: str, status: str, name: str, target: str, **parameters: str) -> None:
    """Declare an OpenAPI link: ``target`` can follow ``source``'s ``status`` answer, its
    parameters taken from that answer (``$response.body#/id``)."""
    LINKS.setdefault((source, status), {})[name] = (target, parameters)


def add_links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the links declared with ``link``."""
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            for status, response in operation.get("responses", {}).items():
                declared = LINKS.get((operation.get("operationId", ""), status))
                if declared:
                    response["links"] = {
                        name: {"operationId": target, "parameters": parameters}
                        for name, (target, parameters) in declared.items()
                    }
    return result
