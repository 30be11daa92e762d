"""True / false, with feedback for each answer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from quizzes.itemtypes.base import (
    Answer,
    AnswerSerializer,
    ChoiceOption,
    Data,
    ItemTypeHandler,
    Layout,
)
from quizzes.models import ItemType


class TrueFalseField(serializers.Field[bool | None, bool | None, Any, Any]):
    """JSON true, false or null; DRF's BooleanField would also take "yes" or 1."""

    default_error_messages = {"invalid": "Answer true or false."}

    def to_internal_value(self, data: Any) -> bool | None:
        if data is not None and not isinstance(data, bool):
            self.fail("invalid")
        return data if data is None else bool(data)

    def to_representation(self, value: bool | None) -> bool | None:
        return value


class TrueFalseAnswer(AnswerSerializer):
    value = TrueFalseField(allow_null=True, required=False, default=None)


class TrueFalse(ItemTypeHandler):
    type = ItemType.TRUE_FALSE
    bank_keys = frozenset({"answer", "feedback_true", "feedback_false"})
    has_choices = True
    answer_serializer = TrueFalseAnswer
    answer_example = {"value": True}
    question_template = "quizzes/itemtypes/true_false.html"
    review_template = "quizzes/itemtypes/true_false_review.html"

    def check_bank(self, item: dict[str, Any]) -> list[str]:
        return [] if isinstance(item.get("answer"), bool) else ["'answer' must be true or false"]

    def build_data(self, item: dict[str, Any]) -> Data:
        return {
            "answer": item["answer"],
            "feedback_true": item.get("feedback_true", ""),
            "feedback_false": item.get("feedback_false", ""),
        }

    def score(self, data: Data, answer: Answer) -> float:
        return 1.0 if answer.get("value") is data["answer"] else 0.0

    def key_answer(self, data: Data) -> Answer:
        return {"value": data["answer"]}

    def boolean_key(self, data: Data) -> bool | None:
        return bool(data["answer"])

    def review_view(
        self, data: Data, layout: Layout, answer: Answer, given: Answer
    ) -> dict[str, Any]:
        value = answer.get("value")
        return {"feedback": data.get("feedback_true" if value else "feedback_false", "")}

    def key_display(self, data: Data) -> dict[str, Any]:
        return {"value": data["answer"]}

    def choice_options(self, data: Data) -> list[ChoiceOption]:
        return [
            ChoiceOption("true", "True", data["answer"] is True),
            ChoiceOption("false", "False", data["answer"] is False),
        ]

    def choice_picks(self, data: Data, given: Answer) -> list[str]:
        value = given.get("value")
        if not isinstance(value, bool):
            return []
        return ["true" if value else "false"]
