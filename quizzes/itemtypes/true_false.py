"""True / false, with feedback for each answer."""

from __future__ import annotations

from typing import Any

from django import forms
from rest_framework import serializers

from quizzes.itemtypes.base import (
    Answer,
    AnswerSerializer,
    ChoiceOption,
    Data,
    ItemTypeHandler,
    Layout,
)
from quizzes.itemtypes.forms import ErrorRule, TypeForm, normalise_text, text_field
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


class TrueFalseForm(TypeForm):
    """Which of true and false is right, and feedback for a learner who answers each."""

    fields = {
        "answer": forms.TypedChoiceField(
            label="The statement is",
            choices=[("true", "True"), ("false", "False")],
            coerce=lambda v: v == "true",
            widget=forms.RadioSelect,
            required=False,
        ),
        "feedback_true": text_field("Feedback for a learner who answers True", rows=2),
        "feedback_false": text_field("Feedback for a learner who answers False", rows=2),
    }
    error_rules = (ErrorRule(r"'answer'", "answer", "Say whether the statement is true or false."),)

    def initial_from_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        answer = entry.get("answer")
        return {
            "answer": "true" if answer is True else "false" if answer is False else "",
            "feedback_true": entry.get("feedback_true", ""),
            "feedback_false": entry.get("feedback_false", ""),
        }

    def entry_fields(self) -> dict[str, Any]:
        data = self.form.cleaned_data
        fields: dict[str, Any] = {"answer": data["answer"] if data["answer"] != "" else None}
        for key in ("feedback_true", "feedback_false"):
            if data[key]:
                fields[key] = normalise_text(data[key])
        return fields


class TrueFalse(ItemTypeHandler):
    type = ItemType.TRUE_FALSE
    bank_keys = frozenset({"answer", "feedback_true", "feedback_false"})
    has_choices = True
    answer_serializer = TrueFalseAnswer
    answer_example = {"value": True}
    question_template = "quizzes/itemtypes/true_false.html"
    review_template = "quizzes/itemtypes/true_false_review.html"
    authoring_form = TrueFalseForm

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

    def answer_from_post(self, post: Any, layout: Layout) -> Any:
        value = post.get("value")
        return {"value": {"true": True, "false": False}.get(value or "")}

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
