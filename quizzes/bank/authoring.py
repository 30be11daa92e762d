"""Authoring in the browser: items edited as YAML (the bank's own format, checked by the
same rules as `load_bank`), draft → published, import/export of bank files, and regrading."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from accounts.models import User
from quizzes.bank.check import check_challenge
from quizzes.bank.loader import (
    BankFile,
    BankFileError,
    ItemConflict,
    LoadReport,
    Problem,
    _LineLoader,
    bank_file_load,
    check_item,
    content_hash,
    item_create,
    item_version_create,
    read_bank_file,
    topics_by_stage,
)
from quizzes.itemtypes import handler_for
from quizzes.itemtypes.base import strip_lines
from quizzes.models import (
    AttemptItem,
    Item,
    ItemStatus,
    QuizPool,
    Stage,
    Submission,
)


class AuthoringError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


NEW_ITEM_TEMPLATE = """\
slug: {prefix}-new-item
type: single_choice
topic: {topic}
difficulty: 3
cognitive: judgement
title: A short title
body: |
  The problem, stated so it could almost be answered without the options.
explanation: |
  Why the key is right, and why each tempting distractor is wrong.
choices:
  - {{text: "First option", correct: true}}
  - {{text: "Second option", correct: false, feedback: "The misconception behind it."}}
  - {{text: "Third option", correct: false}}
"""


class _ReadableDumper(yaml.SafeDumper):
    """Multi-line text as literal blocks (as authors write it), everything else plain."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReadableDumper.add_representer(str, _represent_str)


def to_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_ReadableDumper, sort_keys=False, allow_unicode=True, width=100)


def item_yaml(item: Item) -> str:
    version = item.current_version
    return to_yaml(version.source if version else {})


def _parse_item(text: str) -> dict[str, Any]:
    try:
        raw = yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise AuthoringError([f"{where}invalid YAML: {getattr(exc, 'problem', exc)}"]) from exc
    if not isinstance(raw, dict):
        raise AuthoringError(["expected one item: a mapping with slug, type, topic, …"])
    entry: dict[str, Any] = strip_lines(raw)
    return entry


def check_challenge_solutions(entry: dict[str, Any]) -> list[str]:
    """Run the reference and wrong solutions in the sandbox, as check_bank does."""

    return [p.message for p in check_challenge(Path("editor"), entry, slot=0)]


def item_save_from_yaml(*, text: str, stage: Stage, author: User, item: Item | None = None) -> Item:
    """Create an item (as a draft) or add a version to ``item`` from YAML text.

    Nothing is saved unless every check passes; the problems are listed otherwise.
    """
    entry = _parse_item(text)
    topics = topics_by_stage().get(stage.number, set())
    problems = check_item(entry, topics=topics)
    if item is not None and entry.get("slug") != item.slug:
        problems.append(f"the slug must stay {item.slug!r}; create a new item for a new slug")
    if item is None and Item.objects.filter(slug=entry.get("slug")).exists():
        problems.append(f"an item with slug {entry.get('slug')!r} already exists")
    if not problems and handler_for(entry["type"]).needs_sandbox:
        problems += check_challenge_solutions(entry)
    if problems:
        raise AuthoringError(problems)
    with transaction.atomic():
        topic = stage.topics.get(slug=entry["topic"])
        if item is None:
            item = item_create(
                entry=entry, stage=stage, topic=topic, status=ItemStatus.DRAFT, author=author
            )
        elif item.current_version and item.current_version.content_hash == content_hash(entry):
            return item
        item.topic = topic
        try:
            item_version_create(item=item, entry=entry, author=author)
        except ItemConflict as exc:
            raise AuthoringError([str(exc)]) from exc
    return item


def item_set_status(*, item: Item, status: str) -> None:
    if status not in ItemStatus.values:
        raise AuthoringError([f"unknown status {status!r}"])
    if status == ItemStatus.PUBLISHED and item.current_version is None:
        raise AuthoringError(["an item needs content before it is published"])
    item.status = status
    item.save(update_fields=["status", "updated_at"])


def bank_import(*, name: str, text: str, dry_run: bool = False) -> LoadReport:
    """Load an uploaded bank file with the same all-or-nothing rules as `load_bank`.

    ``dry_run`` checks and loads it the same way, reports what would be created, updated
    and left unchanged, and rolls everything back."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_text(text)
        bank: BankFile = read_bank_file(path, topics_by_stage=topics_by_stage())
        report = LoadReport()
        with transaction.atomic():
            bank_file_load(bank=bank, report=report)
            if dry_run:
                transaction.set_rollback(True)
    return report


def item_verify(*, item: Item) -> list[str]:
    """Check the item's current version again by every rule an edit must pass (challenges:
    the reference and wrong solutions run in the sandbox). The problems; empty when fine."""
    version = item.current_version
    if version is None:
        return ["the item has no content yet"]
    entry: dict[str, Any] = strip_lines(version.source)
    problems = check_item(entry, topics=topics_by_stage().get(item.stage.number, set()))
    if not problems and handler_for(item.type).needs_sandbox:
        problems += check_challenge_solutions(entry)
    return problems


def item_delete(*, item: Item) -> None:
    """Delete an item no attempt was ever given (a draft tried out and dropped); an item
    with answers is retired instead, so past attempts keep their questions."""
    answered = AttemptItem.objects.filter(item_version__item=item).exists()
    if answered or Submission.objects.filter(item_version__item=item).exists():
        raise AuthoringError(["learners have answered this item: retire it instead"])
    if QuizPool.objects.filter(item=item).exists():
        raise AuthoringError(["a quiz draws this item by name: change that quiz first"])
    with transaction.atomic():
        Item.objects.filter(pk=item.pk).update(current_version=None)
        item.delete()


def bank_export(*, stage: Stage) -> str:
    items = (
        Item.objects.filter(stage=stage, current_version__isnull=False)
        .exclude(status=ItemStatus.RETIRED)
        .select_related("current_version")
        .order_by("pk")
    )
    data = {"stage": stage.number, "items": [i.current_version.source for i in items]}  # type: ignore[union-attr]
    header = f"# Skillmap question bank: stage {stage.number}, {stage.title}\n"
    return header + to_yaml(data)


def bank_import_errors(exc: BankFileError) -> list[str]:
    return [str(p) for p in exc.problems]


__all__ = [
    "NEW_ITEM_TEMPLATE",
    "AuthoringError",
    "BankFileError",
    "Problem",
    "bank_export",
    "bank_import",
    "bank_import_errors",
    "item_delete",
    "item_save_from_yaml",
    "item_set_status",
    "item_verify",
    "item_yaml",
]
