"""Bulk actions on a selection of items (publish, retire, move to a topic), audited, and the
instructors' side of learners' problem reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from quizzes.bank.authoring import AuthoringError, item_set_status
from quizzes.models import (
    BankAction,
    BankEvent,
    Item,
    ItemReport,
    ItemReportStatus,
    ItemStatus,
    Topic,
)

MAX_SELECTION = 500


class BulkError(Exception):
    """The request itself is wrong (no items, an unknown action, a missing topic)."""


@dataclass
class BulkReport:
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # slug -> why


_STATUS_OF = {BankAction.PUBLISH: ItemStatus.PUBLISHED, BankAction.RETIRE: ItemStatus.RETIRED}


def items_bulk_update(
    *, actor: User, slugs: list[str], action: str, topic: Topic | None = None
) -> BulkReport:
    """Apply ``action`` to each selected item; every change is recorded as a BankEvent.

    An item the action cannot apply to (publishing an item without content, or one the
    publishing rules refuse) is refused with its reason; the others are changed. Moving to a
    topic requires ``topic`` and keeps an item only within its stage.
    """
    if action not in BankAction.values:
        raise BulkError(f"Unknown action {action!r}.")
    unique = list(dict.fromkeys(s for s in slugs if s))
    if not unique:
        raise BulkError("Select at least one item.")
    if len(unique) > MAX_SELECTION:
        raise BulkError(f"Select at most {MAX_SELECTION} items at a time.")
    if action == BankAction.MOVE_TOPIC and topic is None:
        raise BulkError("Choose the topic to move the items to.")
    items = {i.slug: i for i in Item.objects.select_related("topic").filter(slug__in=unique)}
    missing = [s for s in unique if s not in items]
    if missing:
        raise BulkError(f"No such item: {', '.join(missing[:5])}.")
    report = BulkReport()
    with transaction.atomic():
        for slug in unique:
            item = Item.objects.select_for_update().select_related("topic").get(pk=items[slug].pk)
            if action == BankAction.MOVE_TOPIC:
                assert topic is not None
                _move(item, topic, actor, report)
            else:
                _set_status(item, _STATUS_OF[BankAction(action)], action, actor, report)
    return report


def _set_status(item: Item, status: str, action: str, actor: User, report: BulkReport) -> None:
    if item.status == status:
        report.unchanged.append(item.slug)
        return
    before = item.status
    try:
        item_set_status(item=item, status=status)
    except AuthoringError as exc:
        report.refused[item.slug] = str(exc)
        return
    BankEvent.objects.create(
        item=item, actor=actor, action=action, detail={"from": before, "to": status}
    )
    report.changed.append(item.slug)


def _move(item: Item, topic: Topic, actor: User, report: BulkReport) -> None:
    if topic.stage_id != item.stage_id:
        report.refused[item.slug] = "the topic belongs to another stage"
        return
    if item.topic_id == topic.pk:
        report.unchanged.append(item.slug)
        return
    before = item.topic.slug
    item.topic = topic
    item.save(update_fields=["topic", "updated_at"])
    BankEvent.objects.create(
        item=item,
        actor=actor,
        action=BankAction.MOVE_TOPIC,
        detail={"from": before, "to": topic.slug},
    )
    report.changed.append(item.slug)


def item_report_close(
    *, report: ItemReport, actor: User, status: str, note: str = ""
) -> ItemReport:
    """Resolve or dismiss a learner's report, with an optional note."""
    if status not in (ItemReportStatus.RESOLVED, ItemReportStatus.DISMISSED):
        raise BulkError("A report is closed as resolved or dismissed.")
    if len(note) > 2000:
        raise BulkError("The note is longer than 2,000 characters.")
    report.status = status
    report.note = note
    report.resolved_by = actor
    report.resolved_at = timezone.now()
    report.save(update_fields=["status", "note", "resolved_by", "resolved_at"])
    return report
