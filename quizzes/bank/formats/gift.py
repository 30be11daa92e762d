"""GIFT, Moodle's plain-text question format: reading and writing.

Questions are separated by blank lines; ``//`` starts a comment line; ``$CATEGORY: path``
switches category; ``::title::`` names a question; ``[html]``, ``[moodle]``, ``[plain]`` and
``[markdown]`` set a text's format; the answers sit in ``{…}``: ``=right ~wrong``,
``~%50%half``, ``#feedback``, ``####general feedback``, ``{T}``/``{FALSE}``, ``{#5:0.5}`` and
``{#5..7}`` for numbers, ``{=left -> right}`` for matching, ``{}`` for an essay. ``\\~``,
``\\=``, ``\\#``, ``\\{``, ``\\}``, ``\\:`` and ``\\\\`` escape, ``\\n`` is a line break. Text
after the answers makes a "missing word" question (the answers' place shows as _____).
Reference: https://docs.moodle.org/en/GIFT_format.

Comment lines written as ``// [id:…]`` and ``// [tag:…]`` carry Moodle's idnumber and tags;
``// skillmap: {…}`` carries what Moodle has no field for (ignored by Moodle).
"""

from __future__ import annotations

import math
import re

from quizzes.bank.formats.base import (
    MAX_QUESTIONS,
    SKIP_REASONS,
    FormatError,
    Parsed,
    ParsedFile,
    read_extension,
    write_extension,
)
from quizzes.bank.formats.text import FORMAT_ALIASES, to_markdown
from quizzes.itemtypes.interchange import (
    MATCHING,
    MULTICHOICE,
    NUMERICAL,
    SHORTANSWER,
    TRUEFALSE,
    Answer,
    Question,
    number_text,
)

FORMAT = "gift"
# Escapes and the private-use characters that stand in for them while parsing.
_ESCAPES = {"\\\\": "\ue000", "\\~": "\ue001", "\\=": "\ue002", "\\#": "\ue003",
            "\\{": "\ue004", "\\}": "\ue005", "\\:": "\ue006"}  # fmt: skip
_RESTORE = {v: k[1] for k, v in _ESCAPES.items()}
_FORMAT_RE = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_WEIGHT_RE = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_MISSING_WORD = "_____"


class _Skip(Exception):
    """This question cannot be imported; the message is the report's reason."""

    def __init__(self, message: str, *, source_type: str = "(broken)") -> None:
        super().__init__(message)
        self.source_type = source_type


def _protect(text: str) -> str:
    for escape, placeholder in _ESCAPES.items():
        text = text.replace(escape, placeholder)
    return text


def _restore(text: str) -> str:
    text = text.replace("\\n", "\n")
    for placeholder, char in _RESTORE.items():
        text = text.replace(placeholder, char)
    return text


def _split_format(text: str, default: str) -> tuple[str, str]:
    match = _FORMAT_RE.match(text)
    if match:
        return FORMAT_ALIASES[match.group(1).lower()], text[match.end() :]
    return default, text


def _formatted(text: str, default: str, warnings: list[str]) -> str:
    fmt, body = _split_format(text, default)
    return to_markdown(_restore(body.strip()), fmt, warnings=warnings)


def _literal(text: str) -> str:
    return _restore(text.strip())


def _weight(text: str, n: int) -> tuple[float | None, str]:
    match = _WEIGHT_RE.match(text)
    if match is None:
        if text.lstrip().startswith("%"):
            raise _Skip(f"answer {n}: the weight {text.strip()[:20]!r} is not %number%")
        return None, text
    value = float(match.group(1))
    if not -100 <= value <= 100:
        raise _Skip(f"answer {n}: the weight {value:g}% is outside -100% to 100%")
    return value, text[match.end() :]


def _feedback(text: str) -> tuple[str, str]:
    head, _, feedback = text.partition("#")
    return head, feedback


def _marked(answers: str) -> list[tuple[str, str]]:
    """``=a ~b`` as [('=', 'a'), ('~', 'b')]."""
    parts = re.split(r"([=~])", answers)
    if parts[0].strip():
        raise _Skip(f"the answers must start with = or ~, not {_restore(parts[0].strip())!r}")
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def _choices(answers: str, fmt: str, warnings: list[str]) -> tuple[bool, list[Answer]]:
    result = []
    single = False
    for n, (mark, raw) in enumerate(_marked(answers), start=1):
        weight, rest = _weight(raw, n)
        text, feedback = _feedback(rest)
        if mark == "=":
            single = True
        fraction = weight if weight is not None else (100.0 if mark == "=" else 0.0)
        result.append(
            Answer(
                _formatted(text, fmt, warnings),
                fraction,
                _formatted(feedback, fmt, warnings) if feedback else "",
            )
        )
    return single, result


def _number(text: str, n: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _Skip(f"answer {n}: {_restore(text)!r} is not a number") from None
    if not math.isfinite(value):
        raise _Skip(f"answer {n}: {_restore(text)!r} is not a finite number")
    return value


def _numeric_answer(text: str, n: int) -> tuple[str, float | None]:
    text = text.strip()
    if text in ("", "*"):
        return "*", None
    if ".." in text:
        low, _, high = text.partition("..")
        a, b = _number(low.strip(), n), _number(high.strip(), n)
        if b < a:
            raise _Skip(f"answer {n}: the range {text} runs backwards")
        return number_text((a + b) / 2), (b - a) / 2
    value, _, tolerance = text.partition(":")
    tol = _number(tolerance.strip(), n) if tolerance.strip() else 0.0
    if tol < 0:
        raise _Skip(f"answer {n}: the tolerance {tolerance.strip()} is negative")
    return number_text(_number(value.strip(), n)), tol


def _numerical(answers: str, fmt: str, warnings: list[str]) -> list[Answer]:
    body = answers[1:].strip()
    if ("=" in body or "~" in body) and body[:1] not in ("=", "~"):
        body = "=" + body  # the first answer of '{#3:2 ~#wrong}' is the right one
    pieces = _marked(body) if body[:1] in ("=", "~") else [("=", body)]
    result = []
    for n, (mark, raw) in enumerate(pieces, start=1):
        weight, rest = _weight(raw, n)
        value, feedback = _feedback(rest)
        text, tolerance = _numeric_answer(value, n)
        fraction = weight if weight is not None else (100.0 if mark == "=" else 0.0)
        result.append(
            Answer(text, fraction, _formatted(feedback, fmt, warnings), tolerance=tolerance)
        )
    return result


def _question(block: str, name: str, fmt_default: str, warnings: list[str]) -> Question:
    """One protected question block (title already taken off) as a Question."""
    start, end = block.find("{"), block.rfind("}")
    if start < 0:
        raise _Skip(
            SKIP_REASONS["description"] + " (it has no {…} answers)", source_type="description"
        )
    if end < start:
        raise _Skip("the answers opened with { are never closed with }")
    fmt, text = _split_format(block[:start], fmt_default)
    tail = block[end + 1 :].strip()
    answers, _, general = block[start + 1 : end].partition("####")
    answers = answers.strip()
    if tail:
        text = f"{text.rstrip()} {_MISSING_WORD} {tail}"
        warnings.append("a missing-word question: the answers' place shows as _____")
    question = Question(
        qtype="",
        name=name or " ".join(_restore(text).split())[:60],
        text=_formatted(text, fmt, warnings),
        general_feedback=_formatted(general, fmt, warnings) if general.strip() else "",
        warnings=warnings,
    )
    head = _feedback(answers)[0].strip().upper()
    if not answers:
        raise _Skip(SKIP_REASONS["essay"], source_type="essay")
    if answers.startswith("#"):
        question.qtype = NUMERICAL
        question.answers = _numerical(answers, fmt, warnings)
    elif "~" in answers:
        question.qtype = MULTICHOICE
        question.single, question.answers = _choices(answers, fmt, warnings)
    elif "=" in answers and "->" in answers:
        question.qtype = MATCHING
        for n, (_, raw) in enumerate(_marked(answers), start=1):
            left, arrow, right = raw.partition("->")
            if not arrow:
                raise _Skip(f"pair {n} has no '->' between its two sides")
            question.subquestions.append((_formatted(left, fmt, warnings), _literal(right)))
    elif head in ("T", "TRUE", "F", "FALSE"):
        question.qtype = TRUEFALSE
        _, wrong, right = [*answers.split("#", 2), "", ""][:3]
        value = head.startswith("T")
        right_fb, wrong_fb = _formatted(right, fmt, warnings), _formatted(wrong, fmt, warnings)
        question.answers = [
            Answer("true", 100.0 if value else 0.0, right_fb if value else wrong_fb),
            Answer("false", 0.0 if value else 100.0, wrong_fb if value else right_fb),
        ]
    else:
        question.qtype = SHORTANSWER
        for n, (mark, raw) in enumerate(_marked(answers), start=1):
            if mark != "=":
                raise _Skip(f"answer {n}: a short answer's answers each start with =")
            weight, rest = _weight(raw, n)
            accepted, feedback = _feedback(rest)
            question.answers.append(
                Answer(
                    _literal(accepted),
                    100.0 if weight is None else weight,
                    _formatted(feedback, fmt, warnings),
                )
            )
    return question


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FormatError(
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); GIFT files are "
            "UTF-8: save it as UTF-8 and try again",
            line=line,
        ) from exc


def _blocks(text: str) -> list[tuple[int, list[str], list[str]]]:
    """(first line, comment lines, question lines) for each blank-line separated block."""
    blocks: list[tuple[int, list[str], list[str]]] = []
    comments: list[str] = []
    body: list[str] = []
    first = 0
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if not line.strip():
            if body:
                blocks.append((first, comments, body))
            comments, body = [], []
            continue
        if line.lstrip().startswith("//"):
            comments.append(line.lstrip()[2:].strip())
            continue
        if not body:
            first = number
        body.append(line)
    if body:
        blocks.append((first, comments, body))
    return blocks


def read_gift(data: bytes) -> ParsedFile:
    """Every question of a GIFT file; FormatError if the file cannot be read."""
    text = _decode(data)
    parsed = ParsedFile(format=FORMAT)
    category = ""
    blocks = _blocks(text)
    if len(blocks) > MAX_QUESTIONS:
        raise FormatError(
            f"the file holds {len(blocks)} questions; import at most {MAX_QUESTIONS} at a time"
        )
    number = 0
    for line, comments, lines in blocks:
        block = _protect("\n".join(lines).strip())
        if block.startswith("$CATEGORY:"):
            category = _restore(block.removeprefix("$CATEGORY:").strip())
            parsed.add_category(category)
            continue
        number += 1
        parsed.add_category(category)
        warnings: list[str] = []
        title = re.match(r"^::(.*?)::", block, re.DOTALL)
        name = _restore(title.group(1)).strip() if title else ""
        entry = Parsed(number, line, name or f"question {number}", "", category, None,
                       warnings=warnings)  # fmt: skip
        parsed.questions.append(entry)
        try:
            question = _question(block[title.end() :] if title else block, name, "moodle",
                                 warnings)  # fmt: skip
        except _Skip as exc:
            entry.reason, entry.source_type = str(exc), exc.source_type
            continue
        entry.name, entry.source_type = question.name, question.qtype
        question.category = category
        for comment in comments:
            for key, value in re.findall(r"\[(id|tag):([^\]]*)\]", comment):
                if key == "id":
                    question.idnumber = value.strip()
                else:
                    question.tags.append(value.strip())
            if comment.startswith("skillmap:"):
                question.extra = read_extension(comment.removeprefix("skillmap:"), warnings)
        entry.question = question
    return parsed


# --- writing ---------------------------------------------------------------------------------
def escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\r\n", "\n").replace("\n", "\\n")


def _answer_weight(fraction: float) -> str:
    return f"%{fraction:.5f}".rstrip("0").rstrip(".") + "%"


def write_question(question: Question) -> str | None:
    """One question in GIFT, or None for a type GIFT cannot write (ordering)."""
    extra = dict(question.extra)
    if question.units:
        extra["unit"] = question.units[0][0]
    lines = [f"// [id:{question.idnumber}]"]
    lines += [f"// [tag:{tag}]" for tag in question.tags]
    if extra:
        lines.append(f"// skillmap: {write_extension(extra)}")
    head = f"::{escape(question.name)}::[markdown]{escape(question.text)}"
    if question.qtype == MULTICHOICE:
        answers = []
        for answer in question.answers:
            feedback = f"#{escape(answer.feedback)}" if answer.feedback else ""
            if question.single:
                mark = "=" if answer.fraction >= 100 else "~"
            else:
                mark = "~" + _answer_weight(answer.fraction)
            answers.append(f"\t{mark}{escape(answer.text)}{feedback}")
        body = "\n".join(answers)
    elif question.qtype == TRUEFALSE:
        right = next(a for a in question.answers if a.fraction >= 100)
        wrong = next(a for a in question.answers if a is not right)
        body = "TRUE" if right.text == "true" else "FALSE"
        if right.feedback or wrong.feedback:
            body += f"#{escape(wrong.feedback)}#{escape(right.feedback)}"
    elif question.qtype == SHORTANSWER:
        body = "\n".join(f"\t={escape(a.text)}" for a in question.answers)
    elif question.qtype == NUMERICAL:
        body = "#" + "\n".join(
            f"\t={a.text}:{number_text(a.tolerance or 0)}" for a in question.answers
        )
    elif question.qtype == MATCHING:
        body = "\n".join(
            f"\t={escape(left)} -> {escape(right)}" for left, right in question.subquestions
        )
    else:
        return None
    general = f"\n\t####{escape(question.general_feedback)}" if question.general_feedback else ""
    lines.append(f"{head}{{\n{body}{general}\n}}")
    return "\n".join(lines) + "\n"


def write_gift(groups: list[tuple[str, str, list[Question]]]) -> tuple[str, list[str]]:
    """A GIFT file, and the idnumbers of the questions GIFT cannot hold (left out)."""
    parts = ["// Skillmap question bank, GIFT format (Moodle)\n"]
    left_out: list[str] = []
    for path, _info, questions in groups:
        parts.append(f"\n$CATEGORY: {path}\n")
        for question in questions:
            written = write_question(question)
            if written is None:
                left_out.append(question.idnumber)
                continue
            parts.append("\n" + written)
    return "".join(parts), left_out
