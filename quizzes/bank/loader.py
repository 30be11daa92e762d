"""The question bank: reading and validating YAML bank files, and loading them.

A bank file is all-or-nothing: if any item in it has a problem, nothing from that file
is loaded, and every problem is reported with file, item and line. Items are matched by
slug; an item whose content changed gets a new version (attempts keep the version they
were given), an unchanged one is left alone. The format is documented in
fixtures/questions/README.md.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from quizzes.bank.markdown import render_markdown
from quizzes.bank.quizzes import default_quizzes_sync
from quizzes.grading.spec import SpecError, spec_from_dict
from quizzes.models import (
    CHALLENGE_TYPES,
    Cognitive,
    Item,
    ItemStatus,
    ItemType,
    ItemVersion,
    Stage,
    Topic,
)

LINE_KEY = "__line__"

_COMMON_KEYS = {
    "slug", "type", "topic", "difficulty", "cognitive", "points", "title", "body", "explanation",
}  # fmt: skip
_TYPE_KEYS: dict[str, set[str]] = {
    ItemType.SINGLE_CHOICE: {"choices"},
    ItemType.MULTIPLE_CHOICE: {"choices"},
    ItemType.TRUE_FALSE: {"answer", "feedback_true", "feedback_false"},
    ItemType.NUMERIC: {"answer", "tolerance", "relative_tolerance", "unit"},
    ItemType.SHORT_TEXT: {"accepted", "pattern"},
    ItemType.ORDERING: {"sequence"},
    ItemType.MATCHING: {"pairs"},
    ItemType.PYTHON: {"challenge"},
    ItemType.SQL: {"challenge"},
}
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records the line of every mapping, for precise errors."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = loader.construct_mapping(node, deep=True)  # type: ignore[assignment]
    mapping[LINE_KEY] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    slug: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        item = f" [{self.slug}]" if self.slug else ""
        return f"{where}{item}: {self.message}"


class BankFileError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class BankFile:
    path: Path
    stage: int
    items: list[dict[str, Any]]


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def bank_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("stage-*.yaml"))


def read_bank_file(path: Path, *, topics_by_stage: dict[int, set[str]]) -> BankFile:
    """Parse and validate one bank file; raise BankFileError listing every problem."""
    name = str(path)
    try:
        raw = yaml.load(path.read_text(), Loader=_LineLoader)  # noqa: S506 (a SafeLoader)
    except OSError as exc:
        raise BankFileError([Problem(name, None, None, f"cannot read: {exc.strerror}")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        msg = f"invalid YAML: {getattr(exc, 'problem', None) or exc}"
        raise BankFileError([Problem(name, line, None, msg)]) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("items"), list):
        raise BankFileError([Problem(name, 1, None, "expected a mapping with 'stage' and 'items'")])
    stage = raw.get("stage")
    if stage not in topics_by_stage:
        raise BankFileError([Problem(name, raw.get(LINE_KEY), None, f"unknown stage {stage!r}")])
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, item in enumerate(raw["items"], start=1):
        if not isinstance(item, dict):
            problems.append(Problem(name, None, None, f"item #{index} is not a mapping"))
            continue
        slug = item.get("slug")
        line = item.get(LINE_KEY)
        if isinstance(slug, str) and slug in seen:
            problems.append(Problem(name, line, slug, "duplicate slug in this file"))
        seen.add(str(slug))
        for message in check_item(item, topics=topics_by_stage[stage]):
            problems.append(Problem(name, line, slug if isinstance(slug, str) else None, message))
    if problems:
        raise BankFileError(problems)
    return BankFile(path=path, stage=stage, items=[strip_lines(i) for i in raw["items"]])


def check_item(item: dict[str, Any], *, topics: set[str]) -> list[str]:
    """Every problem with one item's fields, as messages (empty when it is valid)."""
    errors: list[str] = []
    slug = item.get("slug")
    if not isinstance(slug, str) or not _SLUG_RE.match(slug) or len(slug) > 120:
        errors.append("'slug' must be kebab-case (a-z, 0-9, -), at most 120 characters")
    item_type = item.get("type")
    if item_type not in ItemType.values:
        return [*errors, f"'type' must be one of {', '.join(ItemType.values)}"]
    unknown = set(item) - _COMMON_KEYS - _TYPE_KEYS[item_type] - {LINE_KEY}
    if unknown:
        errors.append(f"unknown field(s): {', '.join(sorted(unknown))}")
    if item.get("topic") not in topics:
        errors.append(f"'topic' {item.get('topic')!r} is not a topic of this stage")
    difficulty = item.get("difficulty")
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 1 <= difficulty <= 5:
        errors.append("'difficulty' must be an integer from 1 to 5")
    if item.get("cognitive", "recall") not in Cognitive.values:
        errors.append("'cognitive' must be 'judgement' or 'recall'")
    points = item.get("points", 1)
    if not isinstance(points, int | float) or isinstance(points, bool) or points <= 0:
        errors.append("'points' must be a positive number")
    for key in ("title", "body"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            errors.append(f"'{key}' is required text")
    if not isinstance(item.get("explanation", ""), str):
        errors.append("'explanation' must be text")
    elif item_type not in CHALLENGE_TYPES and not str(item.get("explanation", "")).strip():
        errors.append("'explanation' is required: it is what the learner reads at review")
    errors.extend(_TYPE_CHECKS[item_type](item))
    return errors


def _check_choices(item: dict[str, Any]) -> list[str]:
    choices = item.get("choices")
    if not isinstance(choices, list) or not 2 <= len(choices) <= 6:
        return ["'choices' must be a list of 2 to 6 choices"]
    errors = []
    for n, choice in enumerate(choices, start=1):
        if not isinstance(choice, dict) or not isinstance(choice.get("text"), str):
            errors.append(f"choice #{n} needs 'text'")
            continue
        if not isinstance(choice.get("correct", False), bool):
            errors.append(f"choice #{n}: 'correct' must be true or false")
        extra = set(choice) - {"text", "correct", "feedback", LINE_KEY}
        if extra:
            errors.append(f"choice #{n}: unknown field(s) {', '.join(sorted(extra))}")
    texts = [str(c.get("text", "")).strip().lower() for c in choices if isinstance(c, dict)]
    if len(set(texts)) != len(texts):
        errors.append("two choices have the same text")
    correct = sum(1 for c in choices if isinstance(c, dict) and c.get("correct") is True)
    if item["type"] == ItemType.SINGLE_CHOICE and correct != 1:
        errors.append(f"a single_choice item needs exactly one correct choice, found {correct}")
    if item["type"] == ItemType.MULTIPLE_CHOICE and not 2 <= correct < len(choices):
        errors.append(
            f"a multiple_choice item needs at least two correct and one wrong choice, "
            f"found {correct} correct of {len(choices)}"
        )
    return errors


def _check_true_false(item: dict[str, Any]) -> list[str]:
    return [] if isinstance(item.get("answer"), bool) else ["'answer' must be true or false"]


def _check_numeric(item: dict[str, Any]) -> list[str]:
    answer = item.get("answer")
    if not isinstance(answer, int | float) or isinstance(answer, bool) or not math.isfinite(answer):
        return ["'answer' must be a finite number"]
    absolute, relative = item.get("tolerance"), item.get("relative_tolerance")
    if (absolute is None) == (relative is None):
        return ["give exactly one of 'tolerance' (absolute) or 'relative_tolerance'"]
    tol = absolute if absolute is not None else relative
    if not isinstance(tol, int | float) or isinstance(tol, bool) or tol < 0:
        return ["the tolerance must be a number ≥ 0"]
    if relative is not None and relative >= 0.5:
        return ["'relative_tolerance' must be below 0.5 (it is a fraction, e.g. 0.01)"]
    if absolute is not None and answer != 0 and absolute >= abs(answer):
        return ["'tolerance' is as large as the answer itself: any guess near 0 would pass"]
    return []


def _check_short_text(item: dict[str, Any]) -> list[str]:
    accepted, pattern = item.get("accepted"), item.get("pattern")
    if accepted is None and pattern is None:
        return ["give 'accepted' answers and/or a 'pattern'"]
    errors = []
    if accepted is not None and (
        not isinstance(accepted, list)
        or not accepted
        or not all(isinstance(a, str | int | float) and str(a).strip() for a in accepted)
    ):
        errors.append("'accepted' must be a non-empty list of non-empty strings")
    if pattern is not None:
        try:
            compiled = re.compile(str(pattern), re.IGNORECASE)
        except re.error as exc:
            errors.append(f"'pattern' does not compile: {exc}")
        else:
            if compiled.fullmatch(""):
                errors.append("'pattern' matches an empty answer")
            for answer in accepted or []:
                if not compiled.fullmatch(normalize_text(str(answer))):
                    errors.append(f"'pattern' does not match the accepted answer {answer!r}")
    return errors


def _check_ordering(item: dict[str, Any]) -> list[str]:
    seq = item.get("sequence")
    if not isinstance(seq, list) or not 3 <= len(seq) <= 8:
        return ["'sequence' must list 3 to 8 entries in the correct order"]
    if len({str(s).strip().lower() for s in seq}) != len(seq):
        return ["'sequence' has duplicate entries"]
    return []


def _check_matching(item: dict[str, Any]) -> list[str]:
    pairs = item.get("pairs")
    if not isinstance(pairs, list) or not 3 <= len(pairs) <= 8:
        return ["'pairs' must list 3 to 8 {left, right} pairs"]
    if not all(isinstance(p, dict) and p.get("left") and p.get("right") for p in pairs):
        return ["every pair needs 'left' and 'right'"]
    lefts = [str(p["left"]).strip().lower() for p in pairs]
    rights = [str(p["right"]).strip().lower() for p in pairs]
    if len(set(lefts)) != len(lefts) or len(set(rights)) != len(rights):
        return ["'pairs' repeat a left or a right entry"]
    return []


def _check_challenge(item: dict[str, Any]) -> list[str]:
    challenge = item.get("challenge")
    if not isinstance(challenge, dict):
        return ["'challenge' is required for a coding item"]
    errors = []
    try:
        spec_from_dict(item["type"], strip_lines(challenge))
    except SpecError as exc:
        errors.append(f"challenge: {exc}")
    if not str(challenge.get("reference_solution", "")).strip():
        errors.append("challenge: 'reference_solution' is required")
    wrong = challenge.get("wrong_solutions")
    if not isinstance(wrong, list) or not wrong or not all(isinstance(w, str) for w in wrong):
        errors.append("challenge: 'wrong_solutions' must list at least one plausible mistake")
    tests = challenge.get("tests") or []
    if isinstance(tests, list):
        hidden = [t for t in tests if isinstance(t, dict) and not t.get("visible", False)]
        visible = [t for t in tests if isinstance(t, dict) and t.get("visible", False)]
        if not visible:
            errors.append("challenge: at least one visible test is required")
        if not hidden:
            errors.append("challenge: at least one hidden test is required")
    return errors


_TYPE_CHECKS = {
    ItemType.SINGLE_CHOICE: _check_choices,
    ItemType.MULTIPLE_CHOICE: _check_choices,
    ItemType.TRUE_FALSE: _check_true_false,
    ItemType.NUMERIC: _check_numeric,
    ItemType.SHORT_TEXT: _check_short_text,
    ItemType.ORDERING: _check_ordering,
    ItemType.MATCHING: _check_matching,
    ItemType.PYTHON: _check_challenge,
    ItemType.SQL: _check_challenge,
}


def normalize_text(text: str) -> str:
    """How short-text answers compare: trimmed, inner whitespace collapsed, casefolded."""
    return " ".join(str(text).split()).casefold()


# --- turning a validated YAML item into version content ----------------------------------
def item_version_values(item: dict[str, Any]) -> dict[str, Any]:
    """The ItemVersion field values for a validated item (data holds the key)."""
    item_type = item["type"]
    data: dict[str, Any] = {}
    if item_type in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE):
        data["choices"] = [
            {
                "id": f"c{n}",
                "text": c["text"],
                "html": render_markdown(c["text"], inline=True),
                "correct": bool(c.get("correct", False)),
                "feedback": c.get("feedback", ""),
            }
            for n, c in enumerate(item["choices"], start=1)
        ]
    elif item_type == ItemType.TRUE_FALSE:
        data = {
            "answer": item["answer"],
            "feedback_true": item.get("feedback_true", ""),
            "feedback_false": item.get("feedback_false", ""),
        }
    elif item_type == ItemType.NUMERIC:
        data = {
            "answer": float(item["answer"]),
            "tolerance": item.get("tolerance"),
            "relative_tolerance": item.get("relative_tolerance"),
            "unit": item.get("unit", ""),
        }
    elif item_type == ItemType.SHORT_TEXT:
        data = {
            "accepted": [str(a) for a in item.get("accepted") or []],
            "pattern": item.get("pattern"),
        }
    elif item_type == ItemType.ORDERING:
        data["sequence"] = [
            {"id": f"s{n}", "text": str(s), "html": render_markdown(str(s), inline=True)}
            for n, s in enumerate(item["sequence"], start=1)
        ]
    elif item_type == ItemType.MATCHING:
        data["pairs"] = [
            {
                "id": f"p{n}",
                "left": str(p["left"]),
                "left_html": render_markdown(str(p["left"]), inline=True),
                "right": str(p["right"]),
                "right_html": render_markdown(str(p["right"]), inline=True),
            }
            for n, p in enumerate(item["pairs"], start=1)
        ]
    else:
        data["challenge"] = item["challenge"]
    default_points = 10 if item_type in CHALLENGE_TYPES else 1
    return {
        "title": item["title"].strip(),
        "body": item["body"],
        "body_html": render_markdown(item["body"]),
        "explanation": item.get("explanation", ""),
        "explanation_html": render_markdown(item.get("explanation", "")),
        "difficulty": item["difficulty"],
        "cognitive": item.get("cognitive", Cognitive.RECALL),
        "points": item.get("points", default_points),
        "data": data,
    }


def content_hash(item: dict[str, Any]) -> str:
    canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def topics_by_stage() -> dict[int, set[str]]:
    result: dict[int, set[str]] = {}
    for number, slug in Topic.objects.active().values_list("stage__number", "slug"):
        result.setdefault(number, set()).add(slug)
    return result


class ItemConflict(Exception):
    """The entry cannot update the existing item (e.g. a different type)."""


def item_create(
    *, entry: dict[str, Any], stage: Stage, topic: Topic, status: str, author: Any = None
) -> Item:
    """A new item (identity only); its content comes with ``item_version_create``."""
    return Item.objects.create(
        slug=entry["slug"],
        type=entry["type"],
        stage=stage,
        topic=topic,
        status=status,
        created_by=author,
    )


def item_version_create(*, item: Item, entry: dict[str, Any], author: Any = None) -> ItemVersion:
    """Add a version with ``entry``'s content and make it current. Caller holds a transaction."""
    if item.type != entry["type"]:
        raise ItemConflict(
            f"cannot change the type of an existing item ({item.type} → {entry['type']}); "
            "give the new item a new slug"
        )
    latest = item.versions.order_by("-number").first()
    version = ItemVersion.objects.create(
        item=item,
        number=(latest.number if latest else 0) + 1,
        content_hash=content_hash(entry),
        source=entry,
        created_by=author,
        **item_version_values(entry),
    )
    item.current_version = version
    item.save(update_fields=["current_version", "stage", "topic", "status", "updated_at"])
    return version


@transaction.atomic
def bank_file_load(*, bank: BankFile, report: LoadReport) -> None:
    """Load one validated file: create new items, version changed ones, skip unchanged."""
    stage = Stage.objects.get(number=bank.stage)
    topics = {t.slug: t for t in Topic.objects.filter(stage=stage)}
    for entry in bank.items:
        item = Item.objects.select_related("current_version").filter(slug=entry["slug"]).first()
        topic = topics[entry["topic"]]
        if item is None:
            item = item_create(entry=entry, stage=stage, topic=topic, status=ItemStatus.PUBLISHED)
            report.created.append(item.slug)
        elif item.current_version is not None and item.current_version.content_hash == content_hash(
            entry
        ):
            report.unchanged.append(item.slug)
            continue
        else:
            item.stage, item.topic, item.status = stage, topic, ItemStatus.PUBLISHED
            report.updated.append(item.slug)
        try:
            item_version_create(item=item, entry=entry)
        except ItemConflict as exc:
            raise BankFileError([Problem(str(bank.path), None, item.slug, str(exc))]) from exc


def bank_load(*, paths: list[Path]) -> tuple[LoadReport, list[BankFileError]]:
    """Load every file that is valid; return the report and the errors of the others."""
    report = LoadReport()
    failures: list[BankFileError] = []
    known_topics = topics_by_stage()
    for path in paths:
        file_report = LoadReport()
        try:
            bank = read_bank_file(path, topics_by_stage=known_topics)
            bank_file_load(bank=bank, report=file_report)
        except BankFileError as exc:
            failures.append(exc)
            continue
        report.created += file_report.created
        report.updated += file_report.updated
        report.unchanged += file_report.unchanged
    # Late import: quizzes depend on items, and the default quizzes on the loaded bank.

    default_quizzes_sync()
    return report, failures
