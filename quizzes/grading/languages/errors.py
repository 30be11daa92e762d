"""The errors a challenge's tests may expect, and what each one is in every language.

Tests name errors by Python's names (``raises: ValueError``), as the bank always did.
Each name stands for a neutral kind, and each language accepts its own idiomatic classes
for it. A test passes only when the harness reports one of those classes as *trusted*:
recognised by identity (the class object, or Go's ``errors.Is`` against the sentinel the
starter declares), never by a name the learner's code can choose. Python keeps its
historical rule (the exception's type name anywhere along the MRO) unchanged.

Language helpers may refine their column; docs/architecture.md ("Languages") mirrors it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ERRORS", "ErrorKind", "accepted_classes", "error_kind"]


@dataclass(frozen=True)
class ErrorKind:
    raises: str  # the name tests use (Python's)
    kind: str  # the neutral kind, given to harnesses in the signature
    # language -> the class names (as the harness reports them, trusted) that satisfy it
    classes: Mapping[str, tuple[str, ...]]
    go_sentinel: str  # the sentinel error a Go starter declares for it


ERRORS: dict[str, ErrorKind] = {
    "ValueError": ErrorKind(
        raises="ValueError",
        kind="invalid_argument",
        classes={
            "python": ("ValueError",),
            "javascript": ("RangeError", "TypeError"),
            "typescript": ("RangeError", "TypeError"),
            "go": ("ErrInvalidArgument",),
            "java": ("IllegalArgumentException",),
        },
        go_sentinel="ErrInvalidArgument",
    ),
    "KeyError": ErrorKind(
        raises="KeyError",
        kind="not_found",
        classes={
            "python": ("KeyError",),
            "javascript": ("RangeError",),
            "typescript": ("RangeError",),
            "go": ("ErrNotFound",),
            "java": ("NoSuchElementException",),
        },
        go_sentinel="ErrNotFound",
    ),
}


def error_kind(raises: str) -> ErrorKind | None:
    return ERRORS.get(raises)


def accepted_classes(language: str, raises: str) -> tuple[str, ...]:
    """The trusted class names that satisfy ``raises`` in ``language`` (empty if none)."""
    kind = ERRORS.get(raises)
    return kind.classes.get(language, ()) if kind is not None else ()
