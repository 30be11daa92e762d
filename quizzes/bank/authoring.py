"""Authoring in the browser: items edited through their type's form or as YAML (the bank's
own format), both checked by the same rules as `load_bank`; draft → published (a challenge
only once a verification of its current version passed, see verification.py); the YAML
export of a stage. Imports (YAML, Moodle XML, GIFT) and the Moodle exports are in
``transfer.py``."""

from __future__ import annotations

from typing import Any

import yaml
from django.db import transaction

from accounts.models import User
from quizzes.bank.loader import (
    BankFileError,
    ItemConflict,
    Problem,
    _LineLoader,
    check_item,
    content_hash,
    item_create,
    item_version_create,
    topics_by_stage,
)
from quizzes.bank.verification import verification_passed, verification_run_now
from quizzes.itemtypes import canonical_type, handler_for, is_registered
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


def parse_item_yaml(text: str) -> dict[str, Any]:
    try:
        raw = yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise AuthoringError([f"{where}invalid YAML: {getattr(exc, 'problem', exc)}"]) from exc
    if not isinstance(raw, dict):
        raise AuthoringError(["expected one item: a mapping with slug, type, topic, …"])
    entry: dict[str, Any] = strip_lines(raw)
    if is_registered(entry.get("type")):
        entry["type"] = canonical_type(entry["type"])  # an old alias, stored by its name
    return entry


def item_save_from_yaml(*, text: str, stage: Stage, author: User, item: Item | None = None) -> Item:
    """Create an item (as a draft) or add a version to ``item`` from YAML text."""
    return item_save(entry=parse_item_yaml(text), stage=stage, author=author, item=item)


def item_entry_problems(
    *, entry: dict[str, Any], stage: Stage, item: Item | None = None
) -> list[str]:
    """Every problem that stops ``entry`` being saved (empty when it can be)."""
    topics = topics_by_stage().get(stage.number, set())
    problems = check_item(entry, topics=topics)
    if item is not None and entry.get("slug") != item.slug:
        problems.append(f"the slug must stay {item.slug!r}; create a new item for a new slug")
    if item is None and Item.objects.filter(slug=entry.get("slug")).exists():
        problems.append(f"an item with slug {entry.get('slug')!r} already exists")
    return problems


def item_save(
    *, entry: dict[str, Any], stage: Stage, author: User, item: Item | None = None
) -> Item:
    """Create an item (as a draft) or add a version to ``item`` from a bank entry.

    Nothing is saved unless every check passes; the problems are listed otherwise. A new
    version of a published challenge makes it a draft again: learners keep getting
    verified code only, so it is published again once the new version is verified.
    """
    problems = item_entry_problems(entry=entry, stage=stage, item=item)
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
        if handler_for(item.type).needs_sandbox and item.status == ItemStatus.PUBLISHED:
            item.status = ItemStatus.DRAFT
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
    if (
        status == ItemStatus.PUBLISHED
        and handler_for(item.type).needs_sandbox
        and not verification_passed(item)
    ):
        raise AuthoringError(
            [
                f"version {item.current_version.number} of this challenge has not passed "  # type: ignore[union-attr]
                "verification: press Verify, and publish once its reference solution passes "
                "every test and each wrong solution fails a hidden one"
            ]
        )
    item.status = status
    item.save(update_fields=["status", "updated_at"])


def item_verify(*, item: Item, author: User | None = None) -> list[str]:
    """Check the item's current version again by every rule an edit must pass; a challenge
    is verified as the Verify button does (its reference and wrong solutions run in the
    sandbox, the verification recorded, so a passing one lets it be published). The
    problems; empty when fine."""
    version = item.current_version
    if version is None:
        return ["the item has no content yet"]
    entry: dict[str, Any] = strip_lines(version.source)
    problems = check_item(entry, topics=topics_by_stage().get(item.stage.number, set()))
    if not problems and handler_for(item.type).needs_sandbox:
        problems += list(verification_run_now(item=item, author=author).problems)
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


__all__ = [
    "NEW_ITEM_TEMPLATE",
    "AuthoringError",
    "BankFileError",
    "Problem",
    "bank_export",
    "item_delete",
    "item_entry_problems",
    "item_save",
    "item_save_from_yaml",
    "item_set_status",
    "item_verify",
    "item_yaml",
    "parse_item_yaml",
    "to_yaml",
]
