"""Multiple choice: two or more correct choices; partial credit with a penalty."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from quizzes.itemtypes.base import Answer, AnswerSerializer, Data, Layout, StrictCharField
from quizzes.itemtypes.choice import ChoiceHandler
from quizzes.models import ItemType


class MultipleChoiceAnswer(AnswerSerializer):
    choices = serializers.ListField(
        child=StrictCharField(max_length=64), required=False, default=list, max_length=6
    )

    def validate_choices(self, value: list[str]) -> list[str]:
        valid = self.tokens("choices")
        if any(token not in valid for token in value):
            raise ValidationError("Those choices are not this question's options.")
        return value


class MultipleChoice(ChoiceHandler):
    type = ItemType.MULTIPLE_CHOICE
    answer_serializer = MultipleChoiceAnswer
    answer_example = {"choices": ["kX3v9QpL2mZa", "Tq8wYc1nB4dE"]}
    question_template = "quizzes/itemtypes/multiple_choice.html"

    def correct_count_problem(self, correct: int, total: int) -> str | None:
        if not 2 <= correct < total:
            return (
                f"a multiple_choice item needs at least two correct and one wrong choice, "
                f"found {correct} correct of {total}"
            )
        return None

    def normalise(self, answer: Answer) -> Answer:
        return {"choices": sorted(set(answer.get("choices") or []))}

    def to_item_ids(self, answer: Answer | None, layout: Layout) -> Answer:
        if not answer:
            return {}
        mapping = self.tokens_to_ids(layout)
        return {"choices": [mapping[t] for t in answer.get("choices") or [] if t in mapping]}

    def score(self, data: Data, answer: Answer) -> float:
        """+1/k per correct pick, -1/k per wrong pick (k = number of correct), never below 0."""
        correct = set(self.correct_ids(data))
        picked = set(answer.get("choices") or [])
        raw = (len(picked & correct) - len(picked - correct)) / len(correct)
        return max(0.0, min(1.0, raw))

    def key_answer(self, data: Data) -> Answer:
        return {"choices": self.correct_ids(data)}

    def picked_ids(self, given: Answer) -> set[str]:
        return set(given.get("choices") or [])

    def answer_from_post(self, post: Any, layout: Layout) -> Any:
        return {"choices": post.getlist("choices")}
