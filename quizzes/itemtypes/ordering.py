"""Ordering: put 3 to 8 entries in their correct order."""

from __future__ import annotations

import random
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from quizzes.itemtypes.base import (
    Answer,
    AnswerSerializer,
    Data,
    ItemTypeHandler,
    Layout,
    StrictCharField,
    shuffled_tokens,
    token_map,
)
from quizzes.itemtypes.forms import ErrorRule, RowForm, RowSet, TypeForm, normalise_text, text_field
from quizzes.markdown import render_markdown
from quizzes.models import ItemType


class OrderingAnswer(AnswerSerializer):
    order = serializers.ListField(
        child=StrictCharField(max_length=64),
        required=False,
        default=list,
        max_length=8,
        error_messages={"not_a_list": "Put every entry in order, each once."},
    )

    def validate_order(self, value: list[str]) -> list[str]:
        if sorted(value) != sorted(self.tokens("sequence")):
            raise ValidationError("Put every entry in order, each once.")
        return value


class EntryRow(RowForm):
    text = text_field("Entry (Markdown)", max_length=2000)


class OrderingForm(TypeForm):
    """The entries, in their correct order (learners see them shuffled)."""

    row_sets = (
        RowSet("sequence", EntryRow, "Entries, in the correct order", "Add an entry", spare=4),
    )
    error_rules = (
        ErrorRule(r"'sequence' must list", "sequence", "Give 3 to 8 entries."),
        ErrorRule(r"duplicate entries", "sequence", "Two entries have the same text."),
    )

    def initial_from_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {"sequence": [{"text": str(s)} for s in entry.get("sequence") or []]}

    def entry_fields(self) -> dict[str, Any]:
        return {"sequence": [normalise_text(row["text"]) for row in self.rows("sequence")]}


class Ordering(ItemTypeHandler):
    type = ItemType.ORDERING
    bank_keys = frozenset({"sequence"})
    answer_serializer = OrderingAnswer
    answer_example = {"order": ["Tq8wYc1nB4dE", "kX3v9QpL2mZa", "Hn5rUs7gJ0fK"]}
    question_template = "quizzes/itemtypes/ordering.html"
    review_template = "quizzes/itemtypes/ordering_review.html"
    authoring_form = OrderingForm

    def check_bank(self, item: dict[str, Any]) -> list[str]:
        seq = item.get("sequence")
        if not isinstance(seq, list) or not 3 <= len(seq) <= 8:
            return ["'sequence' must list 3 to 8 entries in the correct order"]
        if len({str(s).strip().lower() for s in seq}) != len(seq):
            return ["'sequence' has duplicate entries"]
        return []

    def build_data(self, item: dict[str, Any]) -> Data:
        return {
            "sequence": [
                {"id": f"s{n}", "text": str(s), "html": render_markdown(str(s), inline=True)}
                for n, s in enumerate(item["sequence"], start=1)
            ]
        }

    def layout(self, data: Data, rng: random.Random, *, shuffle: bool) -> Layout:
        ids = [s["id"] for s in data["sequence"]]
        return {"sequence": shuffled_tokens(ids, rng, shuffle=shuffle, must_shuffle=True)}

    def to_item_ids(self, answer: Answer | None, layout: Layout) -> Answer:
        if not answer:
            return {}
        mapping = token_map(layout, "sequence")
        return {"order": [mapping.get(t) for t in answer.get("order") or []]}

    def answer_from_post(self, post: Any, layout: Layout) -> Any:
        return {"order": post.getlist("order")}

    def score(self, data: Data, answer: Answer) -> float:
        expected = [s["id"] for s in data["sequence"]]
        return 1.0 if list(answer.get("order") or []) == expected else 0.0

    def key_answer(self, data: Data) -> Answer:
        return {"order": [s["id"] for s in data["sequence"]]}

    def learner_view(self, data: Data, layout: Layout, answer: Answer) -> dict[str, Any]:
        html = {s["id"]: s["html"] for s in data["sequence"]}
        tokens = [t for t, _ in layout["sequence"]]
        saved = answer.get("order")
        if saved and sorted(saved) == sorted(tokens):
            tokens = saved
        by_token = dict(layout["sequence"])
        return {"sequence": [{"token": t, "html": html[by_token[t]]} for t in tokens]}

    def shown_texts(self, data: Data) -> list[str]:
        return [str(s["text"]) for s in data["sequence"]]

    def key_display(self, data: Data) -> dict[str, Any]:
        return {"order": [s["html"] for s in data["sequence"]]}
