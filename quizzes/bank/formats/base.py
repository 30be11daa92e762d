"""What a format reader returns: every question of the file, mappable or not, in order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from quizzes.itemtypes.interchange import EXTRA_KEYS, Question

# Moodle's question types that Skillmap cannot hold, and why (the report says it per question).
SKIP_REASONS = {
    "essay": "essay questions are marked by hand; Skillmap has no hand-marked type",
    "cloze": "embedded answers (cloze) hold several questions in one text; Skillmap has no "
    "equivalent",
    "multianswer": "embedded answers (cloze) hold several questions in one text; Skillmap has "
    "no equivalent",
    "calculated": "calculated questions draw values from datasets; Skillmap has no equivalent",
    "calculatedsimple": "calculated questions draw values from datasets; Skillmap has no "
    "equivalent",
    "calculatedmulti": "calculated questions draw values from datasets; Skillmap has no equivalent",
    "ddwtos": "drag-and-drop into text has no Skillmap equivalent",
    "gapselect": "select missing words has no Skillmap equivalent",
    "ddimageortext": "drag-and-drop onto an image has no Skillmap equivalent",
    "ddmarker": "drag-and-drop markers have no Skillmap equivalent",
    "description": "a description is text, not a question",
    "random": "a random question is drawn from a Moodle category when the quiz starts; "
    "import the category's questions instead",
    "randomsamatch": "random short-answer matching is drawn when the quiz starts; Skillmap "
    "has no equivalent",
}

MAX_QUESTIONS = 2000


class FormatError(Exception):
    """The file cannot be read at all; nothing in it is imported. ``line`` where known."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line and self.column:
            return f"line {self.line}, column {self.column}: {self.message}"
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class Parsed:
    """One question of the file. ``question`` is None when it is skipped (``reason``)."""

    number: int
    line: int | None
    name: str
    source_type: str
    category: str
    question: Question | None
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParsedFile:
    format: str
    questions: list[Parsed] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add_category(self, path: str) -> None:
        if path not in self.categories:
            self.categories.append(path)


def read_extension(text: str, warnings: list[str]) -> dict[str, Any]:
    """Skillmap's own fields carried in a Moodle file (JSON); a bad one is a warning."""
    try:
        data = json.loads(text)
    except ValueError:
        warnings.append("Skillmap's extension data is not valid JSON: ignored")
        return {}
    if not isinstance(data, dict):
        warnings.append("Skillmap's extension data is not an object: ignored")
        return {}
    unknown = sorted(set(data) - EXTRA_KEYS)
    if unknown:
        warnings.append(f"unknown Skillmap extension field(s) ignored: {', '.join(unknown)}")
    return {k: v for k, v in data.items() if k in EXTRA_KEYS and v is not None}


def write_extension(extra: dict[str, Any]) -> str:
    return json.dumps(
        {k: v for k, v in extra.items() if v is not None},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
