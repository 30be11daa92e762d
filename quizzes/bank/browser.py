"""The bank browser: finding items, where each is used, and how its versions differ."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db.models import Count, Q, QuerySet

from quizzes.bank.authoring import to_yaml
from quizzes.bank.quizzes import pool_candidates
from quizzes.models import (
    AttemptItem,
    Item,
    ItemReport,
    ItemReportStatus,
    ItemStatus,
    ItemType,
    ItemVersion,
    Quiz,
    QuizPool,
    Stage,
    Topic,
)

MAX_QUERY_CHARS = 200


class ItemFilterForm(forms.Form):
    """The browser's filters; every field optional, an invalid value is a field error."""

    q = forms.CharField(
        label="Text", required=False, max_length=MAX_QUERY_CHARS, strip=True,
        help_text="Words in the slug, title or statement.",
    )  # fmt: skip
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.all(), required=False, empty_label="All stages",
        to_field_name="number",
    )  # fmt: skip
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.select_related("stage").order_by("stage__number", "slug"),
        required=False, empty_label="All topics", to_field_name="slug",
    )  # fmt: skip
    type = forms.ChoiceField(choices=[("", "All types"), *ItemType.choices], required=False)
    difficulty = forms.TypedChoiceField(
        choices=[("", "Any difficulty")] + [(str(n), str(n)) for n in range(1, 6)],
        coerce=int, required=False, empty_value=None,
    )  # fmt: skip
    status = forms.ChoiceField(choices=[("", "Any status"), *ItemStatus.choices], required=False)
    reported = forms.BooleanField(label="With open reports", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        stage, topic = data.get("stage"), data.get("topic")
        if stage is not None and topic is not None and topic.stage_id != stage.pk:
            self.add_error("topic", "That topic belongs to another stage.")
        return data


def items_filtered(filters: dict[str, Any]) -> QuerySet[Item]:
    """Items matching the browser's cleaned filters, with what the list shows."""
    items = Item.objects.select_related("current_version", "stage", "topic").annotate(
        open_reports=Count("reports", filter=Q(reports__status=ItemReportStatus.OPEN))
    )
    if filters.get("stage") is not None:
        items = items.filter(stage=filters["stage"])
    if filters.get("topic") is not None:
        items = items.filter(topic=filters["topic"])
    if filters.get("type"):
        items = items.filter(type=filters["type"])
    if filters.get("difficulty") is not None:
        items = items.filter(current_version__difficulty=filters["difficulty"])
    if filters.get("status"):
        items = items.filter(status=filters["status"])
    if filters.get("reported"):
        items = items.filter(open_reports__gt=0)
    for word in (filters.get("q") or "").split()[:8]:
        items = items.filter(
            Q(slug__icontains=word)
            | Q(current_version__title__icontains=word)
            | Q(current_version__body__icontains=word)
        )
    return items.order_by("stage__number", "slug")


# --- where an item is used ---------------------------------------------------------------------
@dataclass(frozen=True)
class QuizUse:
    quiz: Quiz
    hand_picked: bool  # a pool names this item; otherwise a pool's filters can draw it


@dataclass(frozen=True)
class ItemUsage:
    quizzes: list[QuizUse]
    attempts: int  # attempts that were given this item (any version)
    learners: int


def item_usage(item: Item) -> ItemUsage:
    """The quizzes that hand-pick ``item`` or can draw it, and how often it was taken."""
    uses: dict[int, QuizUse] = {}
    pools = QuizPool.objects.select_related("quiz").filter(
        Q(item=item)
        | Q(item__isnull=True, stage__isnull=True)
        | Q(item__isnull=True, stage=item.stage)
    )
    for pool in pools.order_by("quiz__title", "position"):
        picked = pool.item_id == item.pk
        drawable = picked or pool_candidates(pool).filter(pk=item.pk).exists()
        if not drawable and item.status != ItemStatus.PUBLISHED:
            # A draft is drawn by no pool yet; say which pools would draw it once published.
            drawable = _would_draw(pool, item)
        if drawable:
            known = uses.get(pool.quiz_id)
            uses[pool.quiz_id] = QuizUse(pool.quiz, picked or bool(known and known.hand_picked))
    taken = AttemptItem.objects.filter(item_version__item=item).aggregate(
        attempts=Count("attempt", distinct=True), learners=Count("attempt__learner", distinct=True)
    )
    return ItemUsage(list(uses.values()), taken["attempts"], taken["learners"])


def _would_draw(pool: QuizPool, item: Item) -> bool:
    version = item.current_version
    if version is None or pool.item_id:
        return False
    return (
        (pool.topic_id is None or pool.topic_id == item.topic_id)
        and (not pool.item_types or item.type in pool.item_types)
        and pool.difficulty_min <= version.difficulty <= pool.difficulty_max
    )


# --- version history and differences -------------------------------------------------------
@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "remove", "context" or "hunk"
    text: str


@dataclass(frozen=True)
class SectionDiff:
    name: str
    lines: list[DiffLine] = field(default_factory=list)


_TEXT_KEYS = frozenset({"slug", "title", "body", "explanation"})


def _canonical(value: Any) -> Any:
    """``value`` with every mapping's keys in one order whatever the database kept: shorter
    keys first, then alphabetical (PostgreSQL's jsonb order; SQLite keeps the author's).
    So two versions differ only where their content does, on either database."""
    if isinstance(value, dict):
        return {k: _canonical(value[k]) for k in sorted(value, key=lambda k: (len(k), k))}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _version_sections(version: ItemVersion) -> dict[str, list[str]]:
    """The parts of a version compared by ``version_diff``: its texts, then everything else
    as authored (choices and which are correct, accepted answers, tests, settings)."""
    rest = {k: v for k, v in (version.source or {}).items() if k not in _TEXT_KEYS}
    return {
        "Title": [version.title],
        "Statement": version.body.splitlines(),
        "Key, answers and settings": to_yaml(_canonical(rest)).splitlines() if rest else [],
        "Explanation": version.explanation.splitlines(),
    }


def version_diff(old: ItemVersion, new: ItemVersion) -> list[SectionDiff]:
    """What changed from ``old`` to ``new``, section by section (unchanged ones left out)."""
    before, after = _version_sections(old), _version_sections(new)
    sections = []
    for name, lines in after.items():
        diff = list(
            difflib.unified_diff(
                before[name], lines, f"v{old.number}", f"v{new.number}", n=2, lineterm=""
            )
        )[2:]  # drop the ---/+++ file headers
        if not diff:
            continue
        shown = []
        for line in diff:
            if line.startswith("@@"):
                shown.append(DiffLine("hunk", line))
            elif line.startswith("+"):
                shown.append(DiffLine("add", line[1:]))
            elif line.startswith("-"):
                shown.append(DiffLine("remove", line[1:]))
            else:
                shown.append(DiffLine("context", line[1:]))
        sections.append(SectionDiff(name, shown))
    return sections


def open_reports(item: Item | None = None) -> QuerySet[ItemReport]:
    reports = ItemReport.objects.select_related("item", "version", "reporter").filter(
        status=ItemReportStatus.OPEN
    )
    return reports.filter(item=item) if item is not None else reports
