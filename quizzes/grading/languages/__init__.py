"""The languages code challenges are graded in: the registry.

``LANGUAGES`` maps a key to its ``Language`` (base.py). A language whose runtime is not
written yet is not registered; one whose toolchain is missing on this host is registered
and reports it (``available()``, ``unavailable_reason()``): pages still offer it, and its
submissions wait for a worker that can grade it (docs/architecture.md, "Languages").

Adding a language: a module here with a ``Language`` subclass and its harness under
``quizzes/grading/harnesses/<key>/``, then ``register`` it below.
"""

from __future__ import annotations

from .base import Language, SandboxProgram
from .errors import ERRORS, ErrorKind, accepted_classes
from .go import GoLanguage
from .java import JavaLanguage
from .javascript import JavaScriptLanguage, TypeScriptLanguage
from .names import LANGUAGE_KEYS
from .python import PythonLanguage

__all__ = [
    "ERRORS",
    "LANGUAGES",
    "LANGUAGE_KEYS",
    "ErrorKind",
    "Language",
    "SandboxProgram",
    "UnknownLanguage",
    "accepted_classes",
    "available_languages",
    "language",
    "language_for_filename",
    "register",
]

LANGUAGES: dict[str, Language] = {}


class UnknownLanguage(KeyError):
    """No language is registered under this key."""

    def __str__(self) -> str:
        known = ", ".join(LANGUAGES)
        return f"unknown language {self.args[0]!r} (known: {known})"


def register(lang: Language) -> Language:
    """Add (or replace) a language; its key must be one of ``LANGUAGE_KEYS``."""
    if lang.key not in LANGUAGE_KEYS:
        raise ValueError(f"{lang.key!r} is not one of {', '.join(LANGUAGE_KEYS)}")
    LANGUAGES[lang.key] = lang
    # Keep the registry in the canonical order pages list languages in.
    ordered = sorted(LANGUAGES.items(), key=lambda item: LANGUAGE_KEYS.index(item[0]))
    LANGUAGES.clear()
    LANGUAGES.update(ordered)
    return lang


def unregister(key: str) -> None:
    LANGUAGES.pop(key, None)


def language(key: str) -> Language:
    try:
        return LANGUAGES[key]
    except KeyError:
        raise UnknownLanguage(key) from None


def available_languages() -> list[str]:
    """The keys of the registered languages this host can grade, in canonical order."""
    return [key for key, lang in LANGUAGES.items() if lang.available()]


def language_for_filename(filename: str) -> Language | None:
    """The language a file's extension names (``.go`` → Go), or None."""
    lowered = filename.lower()
    for lang in LANGUAGES.values():
        if any(lowered.endswith(ext) for ext in lang.extensions):
            return lang
    return None


register(PythonLanguage())
register(JavaScriptLanguage())
register(TypeScriptLanguage())
register(GoLanguage())
register(JavaLanguage())
