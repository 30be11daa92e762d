"""The words of the harness protocol, shared by the runner and every language.

A harness writes one JSON object per line on its result channel; ``RecordKind`` is its
``"t"`` and ``Reported`` the ``status`` of a test or call, or a ``load_error``'s
``category`` (quizzes/grading/harness.py, languages/base.py)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RecordKind", "Reported"]


class RecordKind(StrEnum):
    """The kinds ("t") of the harness's result lines."""

    HELLO = "hello"
    COMPILE_ERROR = "compile_error"
    LOAD_ERROR = "load_error"
    SETUP_ERROR = "setup_error"
    LOADED = "loaded"
    TEST = "test"
    DONE = "done"


class Reported(StrEnum):
    """The status the harness reports for a test or call (or a load_error's category)."""

    OK = "ok"
    EXCEPTION = "exception"
    INIT_EXCEPTION = "init_exception"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
