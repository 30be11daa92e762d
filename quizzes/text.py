"""Text that cannot be stored or sent: refused on the way in, replaced on the way out.

JSON can carry code points that are not Unicode scalar values: a lone surrogate such as
``"\\ud800"`` decodes to a Python string that UTF-8 cannot encode, so a page or a JSON body
holding it fails to render. NUL is valid Unicode, but PostgreSQL's ``text`` and ``jsonb``
refuse it. Input is checked with ``text_problem``; anything stored before those checks
existed is made printable with ``printable`` before it is rendered.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_BAD = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def text_problem(text: str, *, subject: str = "Text") -> str | None:
    """Why ``text`` cannot be accepted (a lone surrogate or a NUL), or None."""
    found = _BAD.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return f"{subject} must not contain null characters (U+0000)."
    return f"{subject} must not contain lone surrogate code points (U+{ord(found.group()):04X})."


def printable(value: Any) -> Any:
    """``value`` with every surrogate code point in its strings (keys included) replaced
    by U+FFFD, so that it encodes as UTF-8. Other values are returned as they are."""
    if isinstance(value, str):
        return _SURROGATE.sub(REPLACEMENT, value) if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [printable(v) for v in value]
    if isinstance(value, tuple):
        return tuple(printable(v) for v in value)
    return value
