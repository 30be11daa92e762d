"""The API's only parser: JSON, bounded in size and depth, with text that can be stored.

DRF's own JSON parser hands any body Django accepts (``DATA_UPLOAD_MAX_MEMORY_SIZE``) to
``json.load``, whose recursion on deep nesting ends in ``RecursionError``. This one
refuses, before parsing, a body over ``API_MAX_BODY_BYTES`` (413) or nested deeper than
``MAX_JSON_DEPTH`` (400), and after parsing any string or key holding a lone surrogate or
a NUL (400, naming the field). Every refusal is problem details (``quizzes.problems``).
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import JSONParser

from quizzes.text import printable, text_problem

# The deepest learner payload is {"answer": {"pairs": {…}}}: 3 levels. 32 leaves room.
MAX_JSON_DEPTH = 32
BODY = "body"  # the field of an error about the JSON body as a whole
# At most this many field errors are listed; the rest would only repeat the lesson.
MAX_ERRORS = 20
_SIGNIFICANT = re.compile(r'["\\\[\]{}]')


# Each names its problem type by code; quizzes.problems maps the code to the type.
class PayloadTooLarge(APIException):
    status_code = 413
    default_code = "payload_too_large"
    problem = "payload-too-large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit // 1024} KiB.")


class JSONTooDeep(ParseError):
    default_code = "json_too_deep"
    problem = "json-too-deep"

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested more than {limit} levels deep is not accepted.")


class InvalidText(ValidationError):
    """Strings the parser refuses (lone surrogates, NUL), with the fields they are in."""

    problem = "invalid-input"

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__({field: [message] for field, message in errors})
        self.summary = errors[0][1]


def nesting_exceeds(text: str, limit: int) -> bool:
    """Whether the JSON ``text`` nests arrays and objects more than ``limit`` deep.

    One linear pass over the quotes, backslashes and brackets, skipping those inside
    strings. Exact for valid JSON; invalid JSON is refused by the parser either way.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = False
    escaped = -1  # the position of a character escaped by a backslash
    for match in _SIGNIFICANT.finditer(text):
        position, char = match.start(), match.group()
        if position == escaped:
            continue
        if in_string:
            if char == "\\":
                escaped = position + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def text_errors(data: Any) -> list[tuple[str, str]]:
    """(field, message) for each string or key of ``data`` that cannot be stored."""
    errors: list[tuple[str, str]] = []
    queue: deque[tuple[str, Any]] = deque([("", data)])
    while queue and len(errors) < MAX_ERRORS:
        path, value = queue.popleft()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                errors.append((path or BODY, problem))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                problem = text_problem(key, subject="Field names")
                if problem:
                    errors.append((path or BODY, problem))
                name = printable(key)
                queue.append((f"{path}.{name}" if path else name, item))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                queue.append((f"{path}.{index}" if path else str(index), item))
    return errors


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class BoundedJSONParser(JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = int(settings.API_MAX_BODY_BYTES)
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(limit)
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            # Text encodings only: a bytes-to-bytes codec (bz2_codec) would decompress.
            "".encode(encoding)
            text = raw.decode(encoding)
        except (LookupError, ValueError) as exc:
            raise ParseError(f"JSON parse error - the body is not {encoding} text.") from exc
        if nesting_exceeds(text, MAX_JSON_DEPTH):
            raise JSONTooDeep(MAX_JSON_DEPTH)
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:  # JSONDecodeError, or an integer of over 4300 digits
            raise ParseError(f"JSON parse error - {exc}") from exc
        # A NUL or a surrogate reaches a string through a \u escape, or as itself (a
        # charset such as unicode_escape); with neither in the text, there is none.
        suspect = "\\u" in text or text_problem(text) is not None
        errors = text_errors(data) if suspect else []
        if errors:
            raise InvalidText(errors)
        return data
