"""Importing question banks (Skillmap YAML, Moodle XML, GIFT) with a dry run first, and
exporting stages or selections to Moodle XML and GIFT.

Every import is planned before anything is written: ``bank_import_plan`` reads the file,
maps each Moodle category to a roadmap stage and topic (the instructor's choice, or a
guess), turns each question into a bank entry and checks it with the same rules as
``load_bank``. The plan is the report the instructor reviews. ``bank_import_apply`` plans
again inside one transaction and writes exactly what the plan says, so a failure part way
writes nothing. YAML files keep their own rule: a file with any problem loads nothing.

Moodle and GIFT questions arrive as drafts (Moodle has no difficulty or cognitive level to
check before publishing); an item matched by its Moodle idnumber (its slug) gets a new
version and keeps its status. A question whose slug comes from its name never overwrites
an existing item: it gets a free slug instead.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch
from django.utils.text import slugify

from quizzes.bank.formats import (
    GIFT,
    MOODLE_XML,
    YAML,
    FormatError,
    read_questions,
    sniff_format,
    write_gift,
    write_moodle_xml,
)
from quizzes.bank.loader import (
    BankFileError,
    check_item,
    content_hash,
    item_create,
    item_version_create,
    item_version_values,
    read_bank_file,
    topics_by_stage,
)
from quizzes.itemtypes.interchange import (
    Question,
    Unmappable,
    entry_from_question,
    question_from_entry,
)
from quizzes.models import Item, ItemStatus, Stage, Topic

CREATE, UPDATE, UNCHANGED, SKIP = "create", "update", "unchanged", "skip"
DEFAULT_DIFFICULTY = 3
STAGED_SECONDS = 3600
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_VERSION_FIELDS = (
    "title", "body", "body_html", "explanation", "explanation_html", "difficulty",
    "cognitive", "points", "data",
)  # fmt: skip


class ImportRefused(Exception):
    """Nothing can be imported from this request; the message says why."""


# --- the report --------------------------------------------------------------------------------
@dataclass
class QuestionRow:
    number: int
    line: int | None
    name: str
    source_type: str
    category: str
    action: str
    slug: str = ""
    type: str = ""
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class CategoryRow:
    path: str
    questions: int
    target: str  # "N/topic-slug", or "" when its questions are not imported
    guessed: bool
    problem: str = ""

    @property
    def label(self) -> str:
        return self.path or "(no category)"


@dataclass
class ImportReport:
    file: str
    format: str
    sha256: str
    size: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    categories: list[CategoryRow] = field(default_factory=list)
    questions: list[QuestionRow] = field(default_factory=list)
    written: bool = False

    def count(self, action: str) -> int:
        return sum(1 for q in self.questions if q.action == action)

    @property
    def importable(self) -> int:
        return sum(1 for q in self.questions if q.action != SKIP)

    @property
    def to_write(self) -> int:
        return self.count(CREATE) + self.count(UPDATE)

    @property
    def category_map(self) -> dict[str, str]:
        return {c.path: c.target for c in self.categories}

    def summary(self) -> dict[str, int]:
        return {a: self.count(a) for a in (CREATE, UPDATE, UNCHANGED, SKIP)}

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = self.summary()
        return data


@dataclass
class _Planned:
    row: QuestionRow
    entry: dict[str, Any]
    stage: Stage
    topic: Topic
    item: Item | None


# --- categories ----------------------------------------------------------------------------------
def category_segments(path: str) -> list[str]:
    """A Moodle category path without its context ($course$, $system$…) and 'top'."""
    segments = [s.strip() for s in re.split(r"(?<!/)/(?!/)", path) if s.strip()]
    segments = [s.replace("//", "/") for s in segments]
    return [s for s in segments if not re.fullmatch(r"\$\w+\$", s) and s.lower() != "top"]


def _words(text: str) -> set[str]:
    return {w for w in slugify(text).split("-") if len(w) > 2}


def _names(segment: str, slug: str, title: str) -> bool:
    """Whether a category segment names a stage or topic: its slug or title, the start of
    its title ('CDN integration' for 'CDN integration for static assets'), or every word of
    its slug ('redis-caching' in 'Caching with Redis')."""
    titled = slugify(title)
    words = set(segment.split("-"))
    return (
        segment in (slug, titled)
        or (len(segment) > 3 and titled.startswith(segment + "-"))
        or set(slug.split("-")) <= words
    )


def guess_target(path: str, stages: list[Stage]) -> str:
    """The roadmap topic a category most likely means ("N/topic"), or "" for no good guess:
    a segment naming a topic counts most, one naming its stage next, shared words a little."""
    segments = [slugify(s) for s in category_segments(path)]
    words = _words(" ".join(category_segments(path)))
    best, best_score = "", 0.0
    for stage in stages:
        named = [stage.slug, f"stage-{stage.number}", f"stage-{stage.number:02d}"]
        stage_score = 0.0
        if any(_names(seg, stage.slug, stage.title) or seg in named for seg in segments):
            stage_score = 2.0
        for topic in stage.topics.all():
            score = stage_score
            hits = [i for i, seg in enumerate(segments) if _names(seg, topic.slug, topic.title)]
            if hits:
                score += 3 + (1 if hits[-1] == len(segments) - 1 else 0)
            score += 0.5 * len(words & _words(topic.title))
            if score > best_score:
                best, best_score = f"{stage.number}/{topic.slug}", score
    return best if best_score >= 3 else ""


def _stages() -> list[Stage]:
    topics = Prefetch("topics", queryset=Topic.objects.active().order_by("position", "slug"))
    return list(Stage.objects.active().order_by("number").prefetch_related(topics))


def parse_target(target: str, stages: list[Stage]) -> tuple[Stage, Topic] | None:
    number, _, slug = target.partition("/")
    for stage in stages:
        if str(stage.number) == number:
            for topic in stage.topics.all():
                if topic.slug == slug:
                    return stage, topic
    return None


# --- planning ------------------------------------------------------------------------------------
def _unchanged(item: Item, entry: dict[str, Any], stage: Stage, topic: Topic) -> bool:
    version = item.current_version
    if version is None or (item.stage_id, item.topic_id) != (stage.pk, topic.pk):
        return False
    if version.content_hash == content_hash(entry):
        return True
    values = item_version_values(entry)
    return all(getattr(version, name) == values[name] for name in _VERSION_FIELDS)


def _plan_questions(
    report: ImportReport, data: bytes, category_map: dict[str, str]
) -> list[_Planned]:
    try:
        parsed = read_questions(data, report.format)
    except FormatError as exc:
        report.problems.append(str(exc))
        return []
    report.notes += parsed.notes
    stages = _stages()
    known = topics_by_stage()
    targets: dict[str, tuple[Stage, Topic] | None] = {}
    for path in parsed.categories:
        count = sum(1 for q in parsed.questions if q.category == path)
        if count == 0:
            continue
        chosen = category_map.get(path)
        category = CategoryRow(path, count, chosen or "", guessed=chosen is None)
        if chosen is None:
            category.target = guess_target(path, stages)
        targets[path] = parse_target(category.target, stages) if category.target else None
        if category.target and targets[path] is None:
            category.problem = f"{category.target!r} is not a topic of the roadmap"
        report.categories.append(category)
    planned: list[_Planned] = []
    taken: set[str] = set()
    no_difficulty = 0
    for parsed_question in parsed.questions:
        row = QuestionRow(
            number=parsed_question.number,
            line=parsed_question.line,
            name=parsed_question.name,
            source_type=parsed_question.source_type,
            category=parsed_question.category,
            action=SKIP,
            warnings=parsed_question.warnings,
        )
        report.questions.append(row)
        question = parsed_question.question
        if question is None:
            row.reasons.append(parsed_question.reason)
            continue
        target = targets.get(parsed_question.category)
        if target is None:
            row.reasons.append(
                f"its category {parsed_question.category or '(none)'!r} is not mapped to a "
                "stage and topic"
            )
            continue
        stage, topic = target
        try:
            entry, mapping_warnings = entry_from_question(question)
        except Unmappable as exc:
            row.reasons.append(str(exc))
            continue
        row.warnings = [*row.warnings, *mapping_warnings]
        row.type = str(entry["type"])
        if "difficulty" not in question.extra:
            no_difficulty += 1
        entry = {
            **entry,
            "topic": topic.slug,
            "difficulty": question.extra.get("difficulty", DEFAULT_DIFFICULTY),
            "cognitive": question.extra.get("cognitive", "recall"),
        }
        if question.default_grade is not None and question.default_grade != 1:
            grade = question.default_grade
            entry["points"] = int(grade) if grade.is_integer() else grade
        # Checked before a slug is chosen: only a valid entry can be compared with an item.
        problems = check_item({"slug": "s", **entry}, topics=known.get(stage.number, set()))
        if problems:
            row.reasons += problems
            continue
        item, slug = _slug_for(question, entry, stage, topic, taken)
        taken.add(slug)
        row.slug = slug
        entry = {"slug": slug, **entry}
        if item is not None and item.type != entry["type"]:
            problems.append(
                f"the item {slug!r} exists as another type ({item.type}); give the question "
                "another idnumber"
            )
        if problems:
            row.reasons += problems
            continue
        if item is None:
            row.action = CREATE
        else:
            row.action = UNCHANGED if _unchanged(item, entry, stage, topic) else UPDATE
        planned.append(_Planned(row, entry, stage, topic, item))
    if no_difficulty and planned:
        report.notes.append(
            f"{no_difficulty} question(s) carry no difficulty or cognitive level (Moodle has "
            f"neither): they get difficulty {DEFAULT_DIFFICULTY} and 'recall'; adjust them "
            "before publishing"
        )
    return planned


def _slug_for(
    question: Question, entry: dict[str, Any], stage: Stage, topic: Topic, taken: set[str]
) -> tuple[Item | None, str]:
    """(the existing item this question updates or leaves unchanged, its slug). An idnumber
    that is a Skillmap slug names its item. A slug made from the name only matches an item
    that already holds exactly this question (importing a file twice changes nothing);
    otherwise it gets a free slug, so it never overwrites another item."""
    idnumber = question.idnumber.strip()
    if idnumber and _SLUG_RE.match(idnumber) and len(idnumber) <= 120 and idnumber not in taken:
        existing = Item.objects.select_related("current_version").filter(slug=idnumber).first()
        return existing, idnumber
    base = (slugify(idnumber) or slugify(question.name)[:80] or "moodle-question")[:100]
    base = base.strip("-") or "moodle-question"
    slug, n = base, 2
    while True:
        existing = Item.objects.select_related("current_version").filter(slug=slug).first()
        if existing is None and slug not in taken:
            return None, slug
        if (
            existing is not None
            and slug not in taken
            and existing.type == entry["type"]
            and _unchanged(existing, {"slug": slug, **entry}, stage, topic)
        ):
            return existing, slug
        slug, n = f"{base}-{n}", n + 1


def _plan_yaml(report: ImportReport, data: bytes) -> list[_Planned]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        report.problems.append(f"line {line}: the file is not valid UTF-8 text")
        return []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(report.file).name or "bank.yaml")
        path.write_text(text)
        try:
            bank = read_bank_file(path, topics_by_stage=topics_by_stage())
        except BankFileError as exc:
            report.problems += [str(p).replace(str(path), report.file, 1) for p in exc.problems]
            return []
    stage = Stage.objects.get(number=bank.stage)
    topics = {t.slug: t for t in Topic.objects.filter(stage=stage)}
    planned = []
    for number, entry in enumerate(bank.items, start=1):
        item = Item.objects.select_related("current_version").filter(slug=entry["slug"]).first()
        row = QuestionRow(number, None, entry["title"], "yaml", f"stage {bank.stage}", CREATE,
                          slug=entry["slug"], type=entry["type"])  # fmt: skip
        if item is not None:
            same = item.current_version and item.current_version.content_hash == content_hash(entry)
            row.action = UNCHANGED if same else UPDATE
        report.questions.append(row)
        planned.append(_Planned(row, entry, stage, topics[entry["topic"]], item))
    return planned


def _plan(
    *, name: str, data: bytes, fmt: str | None, category_map: dict[str, str] | None
) -> tuple[ImportReport, list[_Planned]]:
    fmt = fmt or sniff_format(name, data)
    report = ImportReport(
        file=Path(name).name or "upload",
        format=fmt,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
    limit = settings.BANK_IMPORT_MAX_BYTES
    if len(data) > limit:
        report.problems.append(
            f"the file is {len(data):,} bytes; the limit is {limit:,} (BANK_IMPORT_MAX_BYTES): "
            "split it and import the parts"
        )
        return report, []
    if not data.strip():
        report.problems.append("the file is empty")
        return report, []
    if fmt == YAML:
        return report, _plan_yaml(report, data)
    if fmt not in (MOODLE_XML, GIFT):
        report.problems.append(f"unknown format {fmt!r}: choose yaml, moodle-xml or gift")
        return report, []
    return report, _plan_questions(report, data, category_map or {})


def bank_import_plan(
    *, name: str, data: bytes, fmt: str | None = None, category_map: dict[str, str] | None = None
) -> ImportReport:
    """The dry run: what importing this file would do, question by question. Writes nothing."""
    return _plan(name=name, data=data, fmt=fmt, category_map=category_map)[0]


def bank_import_apply(
    *,
    name: str,
    data: bytes,
    fmt: str | None = None,
    category_map: dict[str, str] | None = None,
    author: Any = None,
) -> ImportReport:
    """Plan again and write what the plan says, in one transaction: all of it or nothing.
    Raises ImportRefused (writing nothing) when the file is refused or nothing in it can be
    imported."""
    with transaction.atomic():
        report, planned = _plan(name=name, data=data, fmt=fmt, category_map=category_map)
        if report.problems or not planned:
            raise ImportRefused(
                "; ".join(report.problems) or "no question in the file can be imported"
            )
        from_moodle = report.format != YAML
        for plan in planned:
            if plan.row.action == UNCHANGED:
                continue
            item = plan.item
            if item is None:
                status = ItemStatus.DRAFT if from_moodle else ItemStatus.PUBLISHED
                item = item_create(entry=plan.entry, stage=plan.stage, topic=plan.topic,
                                   status=status, author=author)  # fmt: skip
            else:
                item.stage, item.topic = plan.stage, plan.topic
                if not from_moodle:
                    item.status = ItemStatus.PUBLISHED
            item_version_create(item=item, entry=plan.entry, author=author)
        report.written = True
    return report


# --- holding an upload between the dry run and the confirmation ---------------------------------
def _staged_key(user_id: int, digest: str) -> str:
    return f"bank-import:{user_id}:{digest}"


def bank_import_stage(*, user_id: int, name: str, data: bytes) -> str:
    """Keep an upload server-side (in the cache, for an hour) under its SHA-256; the page
    carries only the digest, so the confirmation imports exactly the file that was
    reviewed, and only its uploader can confirm it."""
    digest = hashlib.sha256(data).hexdigest()
    cache.set(_staged_key(user_id, digest), {"name": name, "data": data}, STAGED_SECONDS)
    return digest


def bank_import_staged(*, user_id: int, digest: str) -> tuple[str, bytes]:
    """The staged upload (name, bytes); ImportRefused if it expired or does not match."""
    if not re.fullmatch(r"[0-9a-f]{64}", digest or ""):
        raise ImportRefused("the upload is unknown: upload the file again")
    staged = cache.get(_staged_key(user_id, digest))
    if not isinstance(staged, dict) or hashlib.sha256(staged["data"]).hexdigest() != digest:
        raise ImportRefused("the upload has expired (uploads are kept an hour): upload it again")
    return str(staged["name"]), bytes(staged["data"])


def bank_import_unstage(*, user_id: int, digest: str) -> None:
    cache.delete(_staged_key(user_id, digest))


# --- export --------------------------------------------------------------------------------------
def export_items(
    *, stage: Stage | None = None, topic: str = "", slugs: list[str] | None = None
) -> list[Item]:
    """The items an export holds: a stage's (or one topic's), or a selection by slug;
    retired items and items without content are left out."""
    items = Item.objects.filter(current_version__isnull=False).exclude(status=ItemStatus.RETIRED)
    if stage is not None:
        items = items.filter(stage=stage)
    if topic:
        items = items.filter(topic__slug=topic)
    if slugs is not None:
        items = items.filter(slug__in=slugs)
    return list(
        items.select_related("current_version", "stage", "topic").order_by(
            "stage__number", "topic__position", "topic__slug", "pk"
        )
    )


def category_path(stage: Stage, topic: Topic) -> str:
    return f"$course$/top/{stage.slug}/{topic.slug}"


def _groups(items: list[Item]) -> tuple[list[tuple[str, str, list[Question]]], list[str]]:
    groups: dict[str, tuple[str, str, list[Question]]] = {}
    left_out = []
    for item in items:
        path = category_path(item.stage, item.topic)
        question = question_from_entry(item.current_version.source, category=path)  # type: ignore[union-attr]
        if question is None:
            left_out.append(item.slug)
            continue
        info = f"Skillmap stage {item.stage.number}, {item.stage.title}: {item.topic.title}"
        groups.setdefault(path, (path, info, []))[2].append(question)
    return list(groups.values()), left_out


def export_moodle_xml(items: list[Item]) -> str:
    groups, left_out = _groups(items)
    text = write_moodle_xml(groups)
    if left_out:
        note = "<!-- Left out (no Moodle question type holds them): " + ", ".join(left_out)
        text = text.replace("<quiz>\n", f"<quiz>\n{note} -->\n", 1)
    return text


def export_gift(items: list[Item]) -> str:
    groups, left_out = _groups(items)
    text, gift_left_out = write_gift(groups)
    left_out += gift_left_out
    if left_out:
        text = f"// Left out (no GIFT question holds them): {', '.join(left_out)}\n" + text
    return text
