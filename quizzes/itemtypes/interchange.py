"""Between Skillmap's bank entries and the question model of Moodle's exchange formats.

Moodle XML and GIFT (``quizzes/bank/formats/``) read into and write from ``Question``: a
neutral record in Moodle's own vocabulary (question types, fractions in percent, answers
with feedback), with every text already in Markdown. This module is the one place that
knows which Skillmap type a Moodle question type becomes, and back, because only the item
types may branch on a type (docs/architecture.md).

What Moodle cannot hold (a regex, samples, a relative tolerance, difficulty and cognitive
level) travels in ``Question.extra``, which both formats write where Moodle ignores it, so
that an export imports back as the same items.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quizzes.models import ItemType

MULTICHOICE = "multichoice"
TRUEFALSE = "truefalse"
SHORTANSWER = "shortanswer"
NUMERICAL = "numerical"
MATCHING = "matching"
ORDERING = "ordering"
MAPPABLE_QTYPES = (MULTICHOICE, TRUEFALSE, SHORTANSWER, NUMERICAL, MATCHING, ORDERING)

# Fields of ``extra``: what Skillmap keeps and Moodle has no field for.
EXTRA_KEYS = frozenset(
    {"difficulty", "cognitive", "pattern", "samples", "relative_tolerance", "accepted", "unit"}
)


@dataclass
class Answer:
    """One answer. ``text`` is Markdown for choices and ordering entries and the literal
    answer for short answers and numbers; ``fraction`` is in percent (-100 to 100)."""

    text: str
    fraction: float
    feedback: str = ""
    tolerance: float | None = None


@dataclass
class Question:
    qtype: str
    name: str
    text: str
    general_feedback: str = ""
    category: str = ""
    idnumber: str = ""
    tags: list[str] = field(default_factory=list)
    default_grade: float | None = None
    single: bool = True
    answers: list[Answer] = field(default_factory=list)
    case_sensitive: bool = False
    units: list[tuple[str, float]] = field(default_factory=list)
    # Matching: (left in Markdown, right as text); an empty left is a distractor.
    subquestions: list[tuple[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    line: int | None = None
    warnings: list[str] = field(default_factory=list)


class Unmappable(ValueError):
    """The question has no Skillmap equivalent; the message says why, for the report."""


def number(value: float) -> int | float:
    """A number as the bank writes it: 250, not 250.0."""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def number_text(value: float) -> str:
    """A number as text for Moodle: no exponent for ordinary sizes, no trailing zeros."""
    value = number(value)
    if isinstance(value, int):
        return str(value)
    return repr(value)


# --- Moodle → Skillmap -----------------------------------------------------------------------
def entry_from_question(question: Question) -> tuple[dict[str, Any], list[str]]:
    """A bank entry (without slug, topic and difficulty: the importer adds them) for a
    mappable question, and a warning for each thing the mapping could not keep; raises
    Unmappable for a question Skillmap cannot hold."""
    warnings: list[str] = []
    convert = _FROM_MOODLE.get(question.qtype)
    if convert is None:
        raise Unmappable(f"Moodle question type {question.qtype!r} has no Skillmap equivalent")
    entry: dict[str, Any] = {
        "type": "",
        "title": " ".join(question.name.split()) or "Untitled question",
        "body": question.text,
    }
    if question.general_feedback.strip():
        entry["explanation"] = question.general_feedback
    entry.update(convert(question, warnings))
    if "explanation" not in entry:
        # Skillmap needs an explanation; Moodle's questions often have only per-answer
        # feedback. The right answers' feedback says why they are right: it stands in.
        feedback = [
            a.feedback.strip() for a in question.answers if a.fraction >= 100 and a.feedback.strip()
        ]
        if feedback:
            entry["explanation"] = "\n\n".join(dict.fromkeys(feedback))
            warnings.append(
                "there is no general feedback: the right answer's feedback is the explanation"
            )
    if question.tags:
        warnings.append(
            f"Moodle tags are not kept (Skillmap has topics instead): {', '.join(question.tags)}"
        )
    for key in ("pattern", "samples", "relative_tolerance"):
        if key in question.extra and key not in entry:
            warnings.append(f"Skillmap's {key!r} does not apply to this type: ignored")
    return entry, warnings


def _choices(question: Question, warnings: list[str]) -> dict[str, Any]:
    if not question.answers:
        raise Unmappable("the question has no answers")
    correct_count = sum(1 for a in question.answers if a.fraction > 0)
    single = question.single
    choices = []
    for n, answer in enumerate(question.answers, start=1):
        choice: dict[str, Any] = {"text": answer.text}
        if single:
            choice["correct"] = answer.fraction >= 100 - 1e-6
            if 0 < answer.fraction < 100 - 1e-6:
                warnings.append(
                    f"choice {n} gave {answer.fraction:g}% in Moodle; Skillmap's single "
                    "choice scores all or nothing, so it is now wrong"
                )
        else:
            choice["correct"] = answer.fraction > 0
        if answer.feedback.strip():
            choice["feedback"] = answer.feedback
        choices.append(choice)
    if not single and correct_count:
        share = 100 / correct_count
        uneven = any(
            (a.fraction > 0 and abs(a.fraction - share) > 0.01)
            or (a.fraction <= 0 and abs(a.fraction + share) > 0.01)
            for a in question.answers
        )
        if uneven:
            warnings.append(
                "Moodle's answer fractions ("
                + ", ".join(f"{a.fraction:g}%" for a in question.answers)
                + f") are not kept: Skillmap gives +1/{correct_count} for each correct pick and "
                f"-1/{correct_count} for each wrong one"
            )
    kind = ItemType.SINGLE_CHOICE if single else ItemType.MULTIPLE_CHOICE
    return {"type": str(kind), "choices": choices}


def _true_false(question: Question, warnings: list[str]) -> dict[str, Any]:
    by_value: dict[bool, Answer] = {}
    for answer in question.answers:
        word = answer.text.strip().lower()
        if word not in ("true", "false"):
            raise Unmappable(f"a true/false answer reads {answer.text!r}, not true or false")
        by_value[word == "true"] = answer
    if set(by_value) != {True, False}:
        raise Unmappable("a true/false question needs one 'true' and one 'false' answer")
    if (by_value[True].fraction >= 100) == (by_value[False].fraction >= 100):
        raise Unmappable("exactly one of 'true' and 'false' must give 100%")
    entry: dict[str, Any] = {
        "type": str(ItemType.TRUE_FALSE),
        "answer": by_value[True].fraction >= 100,
    }
    for value, key in ((True, "feedback_true"), (False, "feedback_false")):
        if by_value[value].feedback.strip():
            entry[key] = by_value[value].feedback
    return entry


def wildcard_pattern(answer: str) -> str:
    """Moodle's short-answer wildcard as a regex: ``*`` matches anything, ``\\*`` a star."""
    parts = re.split(r"(?<!\\)\*", answer)
    literal = [" ".join(p.replace("\\*", "*").split()) for p in parts]
    return ".*".join(re.escape(p) for p in literal)


def _short_text(question: Question, warnings: list[str]) -> dict[str, Any]:
    accepted: list[str] = []
    patterns: list[str] = []
    for n, answer in enumerate(question.answers, start=1):
        text = answer.text.strip()
        if answer.fraction < 100 - 1e-6:
            if answer.fraction > 0:
                warnings.append(
                    f"answer {n} ({text!r}) gave {answer.fraction:g}% in Moodle; Skillmap's "
                    "short answers score all or nothing, so it is not accepted"
                )
            elif text != "*" and answer.feedback.strip():
                warnings.append(f"answer {n} ({text!r}) only carried feedback in Moodle: not kept")
            continue
        if re.search(r"(?<!\\)\*", text):
            patterns.append(wildcard_pattern(text))
        else:
            accepted.append(text.replace("\\*", "*"))
        if answer.feedback.strip() and question.general_feedback.strip():
            warnings.append(
                f"feedback on answer {n} is not kept: Skillmap shows the explanation instead"
            )
    if question.case_sensitive:
        warnings.append("Moodle compared this answer case-sensitively; Skillmap ignores case")
    if patterns:
        warnings.append("Moodle's * wildcards became the regex pattern " + "|".join(patterns))
    entry: dict[str, Any] = {"type": str(ItemType.SHORT_TEXT)}
    extra = question.extra
    if "accepted" in extra:
        accepted = list(extra["accepted"] or [])
    if accepted:
        entry["accepted"] = accepted
    if "pattern" in extra:
        patterns = [str(extra["pattern"]), *patterns]
    if patterns:
        entry["pattern"] = (
            patterns[0] if len(patterns) == 1 else "|".join(f"(?:{p})" for p in patterns)
        )
    if "samples" in extra:
        entry["samples"] = extra["samples"]
    return entry


def _numeric(question: Question, warnings: list[str]) -> dict[str, Any]:
    full = [a for a in question.answers if a.fraction >= 100 - 1e-6 and a.text.strip() != "*"]
    if not full:
        raise Unmappable("no answer gives 100%")
    answer = full[0]
    try:
        value = float(answer.text)
    except ValueError:
        raise Unmappable(f"the answer {answer.text!r} is not a number") from None
    if not math.isfinite(value):
        raise Unmappable(f"the answer {answer.text!r} is not a finite number")
    if len(full) > 1:
        warnings.append(
            f"{len(full)} answers gave 100% in Moodle; Skillmap keeps the first ({answer.text})"
        )
    dropped = [a for a in question.answers if a not in full and a.fraction > 0]
    if dropped:
        warnings.append(
            "partially correct answers are not kept: "
            + ", ".join(f"{a.text} ({a.fraction:g}%)" for a in dropped)
        )
    entry: dict[str, Any] = {"type": str(ItemType.NUMERIC), "answer": number(value)}
    if "relative_tolerance" in question.extra:
        entry["relative_tolerance"] = question.extra["relative_tolerance"]
    else:
        entry["tolerance"] = number(answer.tolerance or 0)
    units = question.units or (
        [(str(question.extra["unit"]), 1.0)] if question.extra.get("unit") else []
    )
    base_units = [name for name, multiplier in units if multiplier == 1]
    if base_units:
        entry["unit"] = base_units[0]
    other = [name for name, _ in units if name not in base_units[:1]]
    if other:
        warnings.append("units other than the main one are not kept: " + ", ".join(other))
    if "samples" in question.extra:
        entry["samples"] = question.extra["samples"]
    return entry


def _matching(question: Question, warnings: list[str]) -> dict[str, Any]:
    pairs = []
    for left, right in question.subquestions:
        if not left.strip():
            warnings.append(
                f"the extra answer {right!r} (a distractor with no question) is not kept"
            )
            continue
        pairs.append({"left": left, "right": right})
    return {"type": str(ItemType.MATCHING), "pairs": pairs}


def _ordering(question: Question, warnings: list[str]) -> dict[str, Any]:
    return {"type": str(ItemType.ORDERING), "sequence": [a.text for a in question.answers]}


_FROM_MOODLE: dict[str, Callable[[Question, list[str]], dict[str, Any]]] = {
    MULTICHOICE: _choices,
    TRUEFALSE: _true_false,
    SHORTANSWER: _short_text,
    NUMERICAL: _numeric,
    MATCHING: _matching,
    ORDERING: _ordering,
}


# --- Skillmap → Moodle -----------------------------------------------------------------------
def question_from_entry(entry: dict[str, Any], *, category: str = "") -> Question | None:
    """The Moodle question for a validated bank entry; None for a type Moodle cannot hold
    (code and SQL challenges)."""
    convert = _TO_MOODLE.get(str(entry.get("type")))
    if convert is None:
        return None
    question = Question(
        qtype="",
        name=str(entry["title"]),
        text=str(entry["body"]),
        general_feedback=str(entry.get("explanation", "")),
        category=category,
        idnumber=str(entry["slug"]),
        default_grade=float(entry.get("points", 1)),
        extra={
            "difficulty": entry.get("difficulty"),
            "cognitive": entry.get("cognitive", "recall"),
        },
    )
    convert(entry, question)
    return question


def _share(count: int) -> float:
    return round(100 / count, 5)


def _choices_out(entry: dict[str, Any], q: Question) -> None:
    q.qtype = MULTICHOICE
    choices = entry["choices"]
    correct = sum(1 for c in choices if c.get("correct"))
    q.single = str(entry["type"]) == ItemType.SINGLE_CHOICE
    right, wrong = (100.0, 0.0) if q.single else (_share(correct), -_share(correct))
    q.answers = [
        Answer(
            text=str(c["text"]),
            fraction=right if c.get("correct") else wrong,
            feedback=str(c.get("feedback", "")),
        )
        for c in choices
    ]


def _true_false_out(entry: dict[str, Any], q: Question) -> None:
    q.qtype = TRUEFALSE
    q.answers = [
        Answer("true", 100.0 if entry["answer"] else 0.0, str(entry.get("feedback_true", ""))),
        Answer("false", 0.0 if entry["answer"] else 100.0, str(entry.get("feedback_false", ""))),
    ]


def _short_text_out(entry: dict[str, Any], q: Question) -> None:
    q.qtype = SHORTANSWER
    accepted = [str(a) for a in entry.get("accepted") or []]
    if not accepted:
        # Moodle needs an answer: what the pattern's samples accept (the pattern travels
        # in ``extra``, and so does the fact that there was no accepted list).
        samples = entry.get("samples") or {}
        accepted = [str(a) for a in samples.get("accept") or []][:5]
        q.extra["accepted"] = []
    q.answers = [Answer(a.replace("*", "\\*"), 100.0) for a in accepted]
    for key in ("pattern", "samples"):
        if entry.get(key) is not None:
            q.extra[key] = entry[key]


def _numeric_out(entry: dict[str, Any], q: Question) -> None:
    q.qtype = NUMERICAL
    value = float(entry["answer"])
    if entry.get("relative_tolerance") is not None:
        q.extra["relative_tolerance"] = entry["relative_tolerance"]
        tolerance = abs(value) * float(entry["relative_tolerance"])
    else:
        tolerance = float(entry.get("tolerance") or 0)
    q.answers = [Answer(number_text(value), 100.0, tolerance=tolerance)]
    if entry.get("unit"):
        q.units = [(str(entry["unit"]), 1.0)]
    if entry.get("samples") is not None:
        q.extra["samples"] = entry["samples"]


def _matching_out(entry: dict[str, Any], q: Question) -> None:
    q.qtype = MATCHING
    q.subquestions = [(str(p["left"]), str(p["right"])) for p in entry["pairs"]]


def _ordering_out(entry: dict[str, Any], q: Question) -> None:
    q.qtype = ORDERING
    q.answers = [Answer(str(s), 100.0) for s in entry["sequence"]]


_TO_MOODLE: dict[str, Callable[[dict[str, Any], Question], None]] = {
    ItemType.SINGLE_CHOICE: _choices_out,
    ItemType.MULTIPLE_CHOICE: _choices_out,
    ItemType.TRUE_FALSE: _true_false_out,
    ItemType.SHORT_TEXT: _short_text_out,
    ItemType.NUMERIC: _numeric_out,
    ItemType.MATCHING: _matching_out,
    ItemType.ORDERING: _ordering_out,
}
