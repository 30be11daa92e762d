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
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from quizzes.bank.quizzes import default_quizzes_sync
from quizzes.itemtypes import (
    AnswerError,
    ItemTypeHandler,
    canonical_type,
    handler_for,
    is_registered,
    type_names,
)
from quizzes.itemtypes.base import LINE_KEY, strip_lines
from quizzes.markdown import render_markdown
from quizzes.models import (
    Cognitive,
    Item,
    ItemStatus,
    ItemVersion,
    Stage,
    Topic,
)

_COMMON_KEYS = {
    "slug", "type", "topic", "difficulty", "cognitive", "points", "title", "body", "explanation",
}  # fmt: skip
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records the line of every mapping, for precise errors."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = loader.construct_mapping(node, deep=True)  # type: ignore[assignment]
    mapping[LINE_KEY] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _FastLineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """``_LineLoader`` on libyaml (about 9 times faster on the bank's files)."""


_FastLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml_with_lines(text: str) -> Any:
    """YAML (safe) whose every mapping holds its line under ``LINE_KEY``.

    Parsed with libyaml; a file it refuses is parsed again by the pure-Python loader, whose
    error messages (and marks) are the ones authors are shown."""
    try:
        return yaml.load(text, Loader=_FastLineLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader)


def item_lines(path: Path) -> dict[str, int]:
    """The line of each item of a bank file, by slug (empty if the file does not parse)."""
    try:
        raw = load_yaml_with_lines(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    items = raw.get("items") if isinstance(raw, dict) else None
    return {
        item["slug"]: item[LINE_KEY]
        for item in items or []
        if isinstance(item, dict) and isinstance(item.get("slug"), str)
    }


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


# Beside the stage files: languages/<slug>/<language>.yaml, one file per challenge and
# language, holding that language's reference and wrong solutions (fixtures/questions/
# README.md, "Code challenges in every language").
LANGUAGES_DIR = "languages"


def language_files(bank_dir: Path, slug: str) -> list[Path]:
    return sorted((bank_dir / LANGUAGES_DIR / slug).glob("*.yaml"))


def _merge_language_files(item: dict[str, Any], bank_dir: Path) -> list[Problem]:
    """Merge ``languages/<slug>/*.yaml`` into ``item["challenge"]["languages"]``. The
    material itself is validated with the challenge's spec (``check_item``)."""
    slug = item.get("slug")
    if not isinstance(slug, str) or not _SLUG_RE.match(slug):
        return []
    paths = language_files(bank_dir, slug)
    if not paths:
        return []
    item_type = item.get("type")
    handler = handler_for(str(item_type)) if is_registered(item_type) else None
    if handler is None or not handler.language_files:
        return [
            Problem(str(paths[0].parent), None, slug, "language files for an item that is not "
                    "a code challenge")
        ]  # fmt: skip
    challenge = item.get("challenge")
    if not isinstance(challenge, dict):
        return []  # check_item reports the missing challenge
    languages = challenge.setdefault("languages", {LINE_KEY: challenge.get(LINE_KEY)})
    if not isinstance(languages, dict):
        return []  # the spec reports it
    problems = []
    for path in paths:
        language = path.stem
        try:
            material = load_yaml_with_lines(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            problems.append(Problem(str(path), None, slug, f"cannot read: {exc}"))
            continue
        if language in languages:
            problems.append(
                Problem(str(path), None, slug, f"{language} is also given in the stage file")
            )
            continue
        if not isinstance(material, dict):
            problems.append(Problem(str(path), 1, slug, "expected a mapping"))
            continue
        languages[language] = material
    return problems


def read_bank_file(path: Path, *, topics_by_stage: dict[int, set[str]]) -> BankFile:
    """Parse and validate one bank file; raise BankFileError listing every problem."""
    name = str(path)
    try:
        raw = load_yaml_with_lines(path.read_text())
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
        if is_registered(item.get("type")):
            item["type"] = canonical_type(item["type"])  # an old alias, stored by its name
        problems.extend(_merge_language_files(item, path.parent))
        for message in check_item(item, topics=topics_by_stage[stage]):
            problems.append(Problem(name, line, slug if isinstance(slug, str) else None, message))
    if problems:
        raise BankFileError(problems)
    return BankFile(path=path, stage=stage, items=[strip_lines(i) for i in raw["items"]])


def _is_storable(value: Any) -> bool:
    """Whether ``value`` is plain JSON: versions are stored in JSON columns, and
    PostgreSQL's rejects ``Infinity`` and ``NaN`` (YAML's ``.inf`` and ``.nan``)."""
    try:
        json.dumps(strip_lines(value), allow_nan=False, default=str)
    except ValueError:
        return False
    return True


def check_item(item: dict[str, Any], *, topics: set[str]) -> list[str]:
    """Every problem with one item's fields, as messages (empty when it is valid)."""
    errors: list[str] = []
    slug = item.get("slug")
    if not isinstance(slug, str) or not _SLUG_RE.match(slug) or len(slug) > 120:
        errors.append("'slug' must be kebab-case (a-z, 0-9, -), at most 120 characters")
    item_type = item.get("type")
    if not is_registered(item_type):
        return [*errors, f"'type' must be one of {', '.join(type_names())}"]
    handler = handler_for(str(item_type))
    unknown = set(item) - _COMMON_KEYS - handler.bank_keys - {LINE_KEY}
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
    if not _is_storable(item):
        errors.append(
            "a number is infinite or NaN: JSON (and so the database) cannot store it; "
            "write it another way (e.g. as the text the learner's code must return)"
        )
    if not isinstance(item.get("explanation", ""), str):
        errors.append("'explanation' must be text")
    elif handler.explanation_required and not str(item.get("explanation", "")).strip():
        errors.append("'explanation' is required: it is what the learner reads at review")
    type_errors = handler.check_bank(item)
    errors.extend(type_errors)
    if not type_errors:
        errors.extend(_check_key_scores(handler, item))
    return errors


def _check_key_scores(handler: ItemTypeHandler, item: dict[str, Any]) -> list[str]:
    """The key, written as a learner's answer, must fit the answer schema and score full
    marks: an item whose right answer cannot be given, or is scored wrong, is refused."""
    if not handler.scored_at_submit:
        return []
    data = handler.build_data(strip_lines(item))
    key = handler.key_answer(data)
    if not key:
        return []
    try:
        layout = handler.layout(data, random.Random(0), shuffle=False)  # noqa: S311
        tokens = handler.to_item_ids(
            handler.clean_answer(handler.to_tokens(key, layout), layout), layout
        )
    except AnswerError as exc:
        return [f"the correct answer does not fit the answer form: {exc}"]
    if handler.score(data, tokens) < 1.0:
        return ["the correct answer does not score full marks: check the key"]
    return []


# --- turning a validated YAML item into version content ----------------------------------
def item_version_values(item: dict[str, Any]) -> dict[str, Any]:
    """The ItemVersion field values for a validated item (data holds the key)."""
    handler = handler_for(item["type"])
    data = handler.build_data(item)
    default_points = handler.default_points
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
