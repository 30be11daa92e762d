"""Matching: pair each left entry with its right entry (credit per correct pair)."""

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

_WRONG_PAIRS = "Those pairs do not belong to this question."


class MatchingAnswer(AnswerSerializer):
    pairs = serializers.DictField(
        child=StrictCharField(max_length=64, allow_blank=True, allow_null=True),
        required=False,
        default=dict,
        error_messages={"not_a_dict": _WRONG_PAIRS},
    )

    def validate_pairs(self, value: dict[str, str | None]) -> dict[str, str | None]:
        lefts, rights = self.tokens("lefts"), self.tokens("rights")
        if any(
            k not in lefts or (v not in rights and v not in ("", None)) for k, v in value.items()
        ):
            raise ValidationError(_WRONG_PAIRS)
        return value


class PairRow(RowForm):
    left = text_field("Left (Markdown)", max_length=2000)
    right = text_field("Its match (Markdown)", max_length=2000)


class MatchingForm(TypeForm):
    """Pairs of a left entry and its match (learners see the right side shuffled)."""

    row_sets = (RowSet("pairs", PairRow, "Pairs", "Add a pair", spare=4),)
    error_rules = (
        ErrorRule(r"'pairs' must list", "pairs", "Give 3 to 8 pairs."),
        ErrorRule(r"every pair needs", "pairs", "Fill in both sides of every pair."),
        ErrorRule(r"repeat a left or a right", "pairs", "Two pairs share a left or a right entry."),
    )

    def initial_from_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {
            "pairs": [
                {"left": str(p.get("left", "")), "right": str(p.get("right", ""))}
                for p in entry.get("pairs") or []
                if isinstance(p, dict)
            ]
        }

    def entry_fields(self) -> dict[str, Any]:
        return {
            "pairs": [
                {"left": normalise_text(row["left"]), "right": normalise_text(row["right"])}
                for row in self.rows("pairs")
            ]
        }


class Matching(ItemTypeHandler):
    type = ItemType.MATCHING
    bank_keys = frozenset({"pairs"})
    answer_serializer = MatchingAnswer
    answer_example = {"pairs": {"Lf2pQ9sX1vTa": "Rg7kM3wZ8nYb"}}
    question_template = "quizzes/itemtypes/matching.html"
    review_template = "quizzes/itemtypes/matching_review.html"
    authoring_form = MatchingForm

    def check_bank(self, item: dict[str, Any]) -> list[str]:
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

    def build_data(self, item: dict[str, Any]) -> Data:
        return {
            "pairs": [
                {
                    "id": f"p{n}",
                    "left": str(p["left"]),
                    "left_html": render_markdown(str(p["left"]), inline=True),
                    "right": str(p["right"]),
                    "right_html": render_markdown(str(p["right"]), inline=True),
                }
                for n, p in enumerate(item["pairs"], start=1)
            ]
        }

    def layout(self, data: Data, rng: random.Random, *, shuffle: bool) -> Layout:
        ids = [p["id"] for p in data["pairs"]]
        lefts = shuffled_tokens(ids, rng, shuffle=shuffle)
        # The right side is never shown in the left side's order: row by row, that would
        # be the key.
        shown = [pair_id for _, pair_id in lefts]
        return {
            "lefts": lefts,
            "rights": shuffled_tokens(ids, rng, shuffle=shuffle, must_shuffle=True, avoid=shown),
        }

    def normalise(self, answer: Answer) -> Answer:
        return {"pairs": {k: v for k, v in (answer.get("pairs") or {}).items() if v}}

    def answer_from_post(self, post: Any, layout: Layout) -> Any:
        # One select per left entry, in the layout's order of lefts (``question_template``).
        picks = post.getlist("pair")
        return {"pairs": {t: v for (t, _), v in zip(layout.get("lefts", []), picks, strict=False)}}

    def to_item_ids(self, answer: Answer | None, layout: Layout) -> Answer:
        if not answer:
            return {}
        lefts, rights = token_map(layout, "lefts"), token_map(layout, "rights")
        pairs = answer.get("pairs") or {}
        return {"pairs": {lefts.get(k): rights.get(v) for k, v in pairs.items()}}

    def score(self, data: Data, answer: Answer) -> float:
        """Fraction of left entries matched to their own right entry."""
        pairs = answer.get("pairs") or {}
        if not isinstance(pairs, dict):
            return 0.0
        own = {p["id"] for p in data["pairs"]}
        hits = sum(1 for left, right in pairs.items() if left in own and left == right)
        return hits / len(data["pairs"])

    def key_answer(self, data: Data) -> Answer:
        return {"pairs": {p["id"]: p["id"] for p in data["pairs"]}}

    def learner_view(self, data: Data, layout: Layout, answer: Answer) -> dict[str, Any]:
        lefts = {p["id"]: p["left_html"] for p in data["pairs"]}
        rights = {p["id"]: p["right_html"] for p in data["pairs"]}
        chosen = answer.get("pairs", {})
        return {
            "rights": [{"token": t, "html": rights[i]} for t, i in layout["rights"]],
            "lefts": [
                {"token": t, "html": lefts[i], "chosen": chosen.get(t, "")}
                for t, i in layout["lefts"]
            ],
        }

    def review_view(
        self, data: Data, layout: Layout, answer: Answer, given: Answer
    ) -> dict[str, Any]:
        rights = {p["id"]: p["right_html"] for p in data["pairs"]}
        pairs = given.get("pairs", {})
        return {
            "matches": [
                {
                    "left": p["left_html"],
                    "given": rights.get(pairs.get(p["id"]) or "", "—"),
                    "right": p["right_html"],
                    "ok": pairs.get(p["id"]) == p["id"],
                }
                for p in data["pairs"]
            ]
        }

    def shown_texts(self, data: Data) -> list[str]:
        return [str(p[side]) for p in data["pairs"] for side in ("left", "right")]

    def key_display(self, data: Data) -> dict[str, Any]:
        return {"pairs": [(p["left_html"], p["right_html"]) for p in data["pairs"]]}
