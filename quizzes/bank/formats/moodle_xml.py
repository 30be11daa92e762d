"""Moodle XML: reading (with defusedxml) and writing question files.

Reading refuses any DTD outright (``forbid_dtd``): entity declarations are how an XML bomb
(billion laughs) expands and how an external entity reads local files, and Moodle's own
exports never declare one. Element text arrives with CDATA and entities resolved by the
parser. A question that cannot be mapped is skipped with its reason; the file is refused
only when it cannot be read at all (``FormatError``).

The format: https://docs.moodle.org/en/Moodle_XML_format. Skillmap writes what Moodle
reads, plus one ``<skillmap>`` element per question (JSON of what Moodle has no field for),
which Moodle ignores and Skillmap reads back.
"""

from __future__ import annotations

import html
import math
import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml import ElementTree as SafeTree

from quizzes.bank.formats.base import (
    MAX_QUESTIONS,
    SKIP_REASONS,
    FormatError,
    Parsed,
    ParsedFile,
    read_extension,
    write_extension,
)
from quizzes.bank.formats.text import to_markdown
from quizzes.itemtypes.interchange import (
    MAPPABLE_QTYPES,
    MATCHING,
    MULTICHOICE,
    NUMERICAL,
    ORDERING,
    SHORTANSWER,
    TRUEFALSE,
    Answer,
    Question,
    number_text,
)

FORMAT = "moodle-xml"

# The grades Moodle accepts for an answer, in percent (question_bank::fraction_options_full),
# and their negatives; any other fraction is refused by Moodle's own import.
_GRADES = (
    100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667,
    14.28571, 12.5, 11.11111, 10, 5, 0,
)  # fmt: skip
VALID_GRADES = sorted({g for grade in _GRADES for g in (grade, -grade)}, reverse=True)
# Moodle's default combined feedback, which its exports always carry.
_DEFAULT_FEEDBACK = {
    "",
    "Your answer is correct.",
    "Your answer is partially correct.",
    "Your answer is incorrect.",
}
_CLOZE_TYPES = {
    "SHORTANSWER", "SA", "MW", "SHORTANSWER_C", "SAC", "MWC", "NUMERICAL", "NM",
    "MULTICHOICE", "MC", "MULTICHOICE_V", "MCV", "MULTICHOICE_H", "MCH", "MULTICHOICE_S",
    "MCS", "MULTICHOICE_VS", "MCVS", "MULTICHOICE_HS", "MCHS", "MULTIRESPONSE", "MR",
    "MULTIRESPONSE_H", "MRH", "MULTIRESPONSE_S", "MRS", "MULTIRESPONSE_HS", "MRHS",
}  # fmt: skip
_CLOZE_RE = re.compile(r"\{(\d*):([A-Za-z_]+)(?::((?:\\.|[^}\\])*))?\}")


class _Skip(Exception):
    """This question cannot be imported; the message is the report's reason."""


# --- reading ---------------------------------------------------------------------------------
def _question_lines(text: str) -> list[int]:
    """The line of each <question> tag, outside comments and CDATA (the parser keeps none)."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    cleaned = re.sub(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>", blank, text, flags=re.DOTALL)
    return [cleaned.count("\n", 0, m.start()) + 1 for m in re.finditer(r"<question[\s>]", cleaned)]


def _encoding_problem(data: bytes, position: tuple[int, int] | None) -> str | None:
    declared = re.match(rb"<\?xml[^>]*encoding=[\"']([\w.-]+)", data.lstrip(b"\xef\xbb\xbf"))
    encoding = declared.group(1).decode().lower() if declared else "utf-8"
    if encoding.replace("_", "-") not in ("utf-8", "utf8"):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return (
            f"line {line}: the file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); "
            "it says it is UTF-8, as Moodle writes it: save it as UTF-8 and try again"
        )
    return None


def parse_root(data: bytes) -> Element:
    """The <quiz> element, or FormatError saying precisely what is wrong with the file."""
    try:
        root = SafeTree.fromstring(data, forbid_dtd=True)
    except DTDForbidden as exc:
        raise FormatError(
            "the file declares a DTD (<!DOCTYPE …>); it is refused, as its entities could "
            "expand without bound (an XML bomb) or read files on the server. Moodle's "
            "exports have none.",
        ) from exc
    except EntitiesForbidden as exc:
        raise FormatError(
            f"the file declares the entity {exc.name!r}; entities are refused (XML bomb, "
            "external files)"
        ) from exc
    except DefusedXmlException as exc:
        raise FormatError(f"the file is refused: {exc}") from exc
    except ParseError as exc:
        problem = _encoding_problem(data, exc.position)
        if problem:
            raise FormatError(problem) from exc
        line, column = exc.position
        message = str(exc).split(":")[0]
        raise FormatError(f"the XML is broken ({message})", line=line, column=column + 1) from exc
    except (LookupError, ValueError) as exc:  # an encoding Python does not know
        raise FormatError(f"the file's declared encoding cannot be read: {exc}") from exc
    if root.tag != "quiz":
        raise FormatError(
            f"the root element is <{root.tag}>, not <quiz>: this is not a Moodle XML question file"
        )
    return root


def _child_text(element: Element | None, *path: str) -> str:
    node = element
    for name in path:
        if node is None:
            return ""
        node = node.find(name)
    return (node.text or "") if node is not None else ""


def _formatted(element: Element | None, warnings: list[str]) -> str:
    """A Moodle text element (format attribute, <text>, <file>s) as Markdown."""
    if element is None:
        return ""
    files = {str(f.get("name", "")) for f in element.findall("file")}
    return to_markdown(
        _child_text(element, "text"),
        element.get("format", "html"),
        files=files,
        warnings=warnings,
    )


def _number(text: str, what: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise _Skip(f"{what} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise _Skip(f"{what} {text.strip()!r} is not a finite number")
    return value


def _fraction(answer: Element, n: int) -> float:
    value = _number(answer.get("fraction", "0"), f"answer {n}: the fraction")
    if not any(abs(value - grade) < 0.01 for grade in VALID_GRADES):
        raise _Skip(
            f"answer {n}: the grade {value:g}% is not one Moodle allows "
            f"({', '.join(f'{g:g}' for g in VALID_GRADES if g >= 0)}, or their negatives)"
        )
    return value


def check_cloze(text: str) -> list[str]:
    """What is broken in a cloze (embedded answers) text, as Moodle would refuse it."""
    found = list(_CLOZE_RE.finditer(text))
    if not found:
        return ["it holds no embedded answer such as {1:SHORTANSWER:=answer}"]
    problems = []
    for n, match in enumerate(found, start=1):
        kind, body = match.group(2).upper(), match.group(3)
        where = f"embedded answer {n} {match.group(0)[:60]!r}"
        if kind not in _CLOZE_TYPES:
            problems.append(f"{where}: unknown type {kind}")
            continue
        if not body:
            problems.append(f"{where}: it has no answers")
            continue
        answers = re.split(r"(?<!\\)~", body)
        full = 0
        for answer in answers:
            weight = re.match(r"\s*(=|%(-?\d+(?:\.\d+)?)%)?(.*)", answer, re.DOTALL)
            if weight is None:  # the pattern matches any text
                continue
            if weight.group(1) == "=" or (weight.group(2) and float(weight.group(2)) >= 100):
                full += 1
            value = re.split(r"(?<!\\)#", weight.group(3))[0].strip()
            if kind in ("NUMERICAL", "NM") and value != "*":
                try:
                    float(value.split(":")[0])
                except ValueError:
                    problems.append(f"{where}: the answer {value!r} is not a number")
        if kind.startswith(("MULTICHOICE", "MC", "MULTIRESPONSE", "MR")) and len(answers) < 2:
            problems.append(f"{where}: a choice needs at least two answers")
        if full == 0:
            problems.append(f"{where}: no answer is completely correct")
    return problems


def _answers(question: Element, *, markdown: bool, warnings: list[str]) -> list[Answer]:
    answers = []
    for n, element in enumerate(question.findall("answer"), start=1):
        text = _formatted(element, warnings) if markdown else _child_text(element, "text").strip()
        tolerance = element.find("tolerance")
        answers.append(
            Answer(
                text=text,
                fraction=_fraction(element, n),
                feedback=_formatted(element.find("feedback"), warnings),
                tolerance=_number(tolerance.text or "0", f"answer {n}: the tolerance")
                if tolerance is not None
                else None,
            )
        )
    return answers


def _read_question(element: Element, qtype: str, category: str, warnings: list[str]) -> Question:
    question = Question(
        qtype=qtype,
        name=_child_text(element, "name", "text").strip(),
        text=_formatted(element.find("questiontext"), warnings),
        general_feedback=_formatted(element.find("generalfeedback"), warnings),
        category=category,
        idnumber=_child_text(element, "idnumber").strip(),
        tags=[t.strip() for t in (x.text or "" for x in element.findall("tags/tag/text")) if t],
        warnings=warnings,
    )
    grade = element.find("defaultgrade")
    if grade is not None and (grade.text or "").strip():
        question.default_grade = _number(grade.text or "", "the default grade")
    if _child_text(element, "hidden").strip() in ("1", "true"):
        warnings.append("it was hidden in Moodle's bank; it is imported as a draft all the same")
    extension = element.find("skillmap")
    if extension is not None:
        question.extra = read_extension(extension.text or "", warnings)
    for name in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
        text = _child_text(element, name, "text").strip()
        if html.unescape(re.sub(r"<[^>]+>", "", text)).strip() not in _DEFAULT_FEEDBACK:
            warnings.append(f"Moodle's {name} is not kept: Skillmap shows the explanation")
    for hint in element.findall("hint"):
        if _child_text(hint, "text").strip():
            warnings.append("hints for multiple tries are not kept")
            break
    if qtype == MULTICHOICE:
        question.single = _child_text(element, "single").strip().lower() in ("true", "1")
        question.answers = _answers(element, markdown=True, warnings=warnings)
    elif qtype in (TRUEFALSE, SHORTANSWER, NUMERICAL):
        question.answers = _answers(element, markdown=False, warnings=warnings)
        question.case_sensitive = _child_text(element, "usecase").strip() == "1"
        for unit in element.findall("units/unit"):
            multiplier = _number(_child_text(unit, "multiplier") or "1", "a unit's multiplier")
            question.units.append((_child_text(unit, "unit_name").strip(), multiplier))
    elif qtype == MATCHING:
        for sub in element.findall("subquestion"):
            left = _formatted(sub, warnings)
            question.subquestions.append((left, _child_text(sub, "answer", "text").strip()))
    elif qtype == ORDERING:
        # qtype_ordering writes each answer's place in the order as its "fraction".
        def place(item: tuple[int, Element]) -> tuple[float, int]:
            try:
                return float(item[1].get("fraction", "")), item[0]
            except ValueError:
                return float(item[0]), item[0]

        ordered = sorted(enumerate(element.findall("answer")), key=place)
        question.answers = [
            Answer(text=_formatted(a, warnings), fraction=100.0) for _, a in ordered
        ]
        select = _child_text(element, "selecttype").strip().upper()
        if select not in ("", "ALL", "0", "SELECT_ALL"):
            warnings.append("Moodle showed a subset of the items; Skillmap shows all of them")
        grading = _child_text(element, "gradingtype").strip().upper()
        if grading not in ("", "ALL_OR_NOTHING", "-1"):
            warnings.append(
                f"Moodle's partial grading ({grading}) is not kept: Skillmap scores an "
                "ordering all or nothing"
            )
    return question


def read_moodle_xml(data: bytes) -> ParsedFile:
    """Every question of a Moodle XML file; FormatError if the file cannot be read."""
    root = parse_root(data)
    lines = _question_lines(data.decode("utf-8", errors="replace"))
    parsed = ParsedFile(format=FORMAT)
    category = ""
    elements = list(root)
    if len(elements) > MAX_QUESTIONS:
        raise FormatError(
            f"the file holds {len(elements)} questions; import at most {MAX_QUESTIONS} at a time"
        )
    number = 0
    seen = 0
    penalties = False
    for element in elements:
        if element.tag != "question":
            parsed.notes.append(f"an unexpected <{element.tag}> element was ignored")
            continue
        line = lines[seen] if seen < len(lines) else None
        seen += 1
        qtype = element.get("type", "").strip().lower()
        if qtype == "category":
            category = _child_text(element, "category", "text").strip()
            parsed.add_category(category)
            continue
        number += 1
        parsed.add_category(category)
        warnings: list[str] = []
        name = _child_text(element, "name", "text").strip() or f"question {number}"
        entry = Parsed(number, line, name, qtype or "(none)", category, None, warnings=warnings)
        parsed.questions.append(entry)
        penalties = penalties or element.find("penalty") is not None
        if qtype not in MAPPABLE_QTYPES:
            entry.reason = SKIP_REASONS.get(qtype) or (
                f"unknown question type {qtype!r}" if qtype else "the question has no type"
            )
            if qtype in ("cloze", "multianswer"):
                broken = check_cloze(_child_text(element, "questiontext", "text"))
                if broken:
                    entry.reason += "; besides, its syntax is broken: " + "; ".join(broken)
            continue
        try:
            entry.question = _read_question(element, qtype, category, warnings)
        except _Skip as exc:
            entry.reason = str(exc)
    if penalties:
        parsed.notes.append(
            "Moodle's penalty (marks lost per extra try in interactive mode) has no Skillmap "
            "equivalent and is not imported"
        )
    return parsed


# --- writing ---------------------------------------------------------------------------------
def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _text_block(tag: str, text: str, fmt: str = "markdown", indent: str = "    ") -> str:
    return (
        f'{indent}<{tag} format="{fmt}">\n{indent}  <text>{_esc(text)}</text>\n{indent}</{tag}>\n'
    )


def _grade(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))


def write_question(question: Question) -> str:
    parts = [f'  <question type="{question.qtype}">\n']
    parts.append(f"    <name>\n      <text>{_esc(question.name)}</text>\n    </name>\n")
    parts.append(_text_block("questiontext", question.text))
    parts.append(_text_block("generalfeedback", question.general_feedback))
    parts.append(f"    <defaultgrade>{_grade(question.default_grade or 1)}</defaultgrade>\n")
    penalty = "1" if question.qtype == TRUEFALSE else "0.3333333"
    parts.append(f"    <penalty>{penalty}</penalty>\n    <hidden>0</hidden>\n")
    parts.append(f"    <idnumber>{_esc(question.idnumber)}</idnumber>\n")
    if question.qtype == MULTICHOICE:
        parts.append(f"    <single>{'true' if question.single else 'false'}</single>\n")
        parts.append("    <shuffleanswers>true</shuffleanswers>\n")
        parts.append("    <answernumbering>abc</answernumbering>\n")
    if question.qtype == SHORTANSWER:
        parts.append(f"    <usecase>{1 if question.case_sensitive else 0}</usecase>\n")
    if question.qtype == ORDERING:
        parts.append("    <layouttype>VERTICAL</layouttype>\n    <selecttype>ALL</selecttype>\n")
        parts.append(
            "    <selectcount>0</selectcount>\n    <gradingtype>ALL_OR_NOTHING</gradingtype>\n"
        )
    markdown_answers = question.qtype in (MULTICHOICE, ORDERING)
    for answer in question.answers:
        fmt = "markdown" if markdown_answers else "moodle_auto_format"
        parts.append(f'    <answer fraction="{_grade(answer.fraction)}" format="{fmt}">\n')
        parts.append(f"      <text>{_esc(answer.text)}</text>\n")
        if question.qtype != ORDERING:
            parts.append(_text_block("feedback", answer.feedback, indent="      "))
        if answer.tolerance is not None:
            parts.append(f"      <tolerance>{number_text(answer.tolerance)}</tolerance>\n")
        parts.append("    </answer>\n")
    if question.units:
        parts.append("    <units>\n")
        for name, multiplier in question.units:
            parts.append(
                f"      <unit>\n        <multiplier>{number_text(multiplier)}</multiplier>\n"
                f"        <unit_name>{_esc(name)}</unit_name>\n      </unit>\n"
            )
        parts.append("    </units>\n    <unitgradingtype>0</unitgradingtype>\n")
        parts.append("    <showunits>3</showunits>\n    <unitsleft>0</unitsleft>\n")
    for left, right in question.subquestions:
        parts.append('    <subquestion format="markdown">\n')
        parts.append(f"      <text>{_esc(left)}</text>\n")
        parts.append(f"      <answer>\n        <text>{_esc(right)}</text>\n      </answer>\n")
        parts.append("    </subquestion>\n")
    if question.extra:
        parts.append(f"    <skillmap>{_esc(write_extension(question.extra))}</skillmap>\n")
    parts.append("  </question>\n")
    return "".join(parts)


def write_moodle_xml(groups: list[tuple[str, str, list[Question]]]) -> str:
    """A Moodle XML file: per (category path, description, questions), a category then its
    questions."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
    for path, info, questions in groups:
        parts.append('  <question type="category">\n')
        parts.append(f"    <category>\n      <text>{_esc(path)}</text>\n    </category>\n")
        parts.append(_text_block("info", info, fmt="markdown"))
        parts.append("  </question>\n")
        parts.extend(write_question(q) for q in questions)
    parts.append("</quiz>\n")
    return "".join(parts)
