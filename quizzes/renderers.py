"""The API's JSON renderers: whatever is stored, a response encodes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer, JSONRenderer

from quizzes.text import printable

PROBLEM_JSON = "application/problem+json"


class PrintableJSONRenderer(JSONRenderer):
    """DRF's JSON renderer, except that a lone surrogate stored in the data (UTF-8 cannot
    encode one) is sent as U+FFFD instead of failing the response with a 500."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return super().render(printable(data), accepted_media_type, renderer_context)


class ProblemJSONRenderer(PrintableJSONRenderer):
    """RFC 9457 problem details (see ``quizzes.problems``)."""

    media_type = PROBLEM_JSON


class PassthroughRenderer(BaseRenderer):
    """For views that answer with a body of their own (a CSV or YAML download): lets an
    ``Accept`` header naming its media type through content negotiation."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return data if isinstance(data, bytes) else str(data).encode()


class CSVRenderer(PassthroughRenderer):
    media_type = "text/csv"
    format = "csv"


class YAMLRenderer(PassthroughRenderer):
    media_type = "application/x-yaml"
    format = "yaml"
