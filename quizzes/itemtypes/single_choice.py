"""Single choice: exactly one correct choice; the learner picks one."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError

from quizzes.itemtypes.base import Answer, AnswerSerializer, Data, Layout, StrictCharField
from quizzes.itemtypes.choice import ChoiceHandler
from quizzes.models import ItemType


class SingleChoiceAnswer(AnswerSerializer):
    choice = StrictCharField(allow_null=True, required=False, default=None, max_length=64)

    def validate_choice(self, value: str | None) -> str | None:
        if value is not None and value not in self.tokens("choices"):
            raise ValidationError("That choice is not one of this question's options.")
        return value


class SingleChoice(ChoiceHandler):
    type = ItemType.SINGLE_CHOICE
    answer_serializer = SingleChoiceAnswer
    question_template = "quizzes/itemtypes/single_choice.html"

    def correct_count_problem(self, correct: int, total: int) -> str | None:
        if correct != 1:
            return f"a single_choice item needs exactly one correct choice, found {correct}"
        return None

    def to_item_ids(self, answer: Answer | None, layout: Layout) -> Answer:
        if not answer:
            return {}
        return {"choice": self.tokens_to_ids(layout).get(answer.get("choice") or "")}

    def score(self, data: Data, answer: Answer) -> float:
        return 1.0 if answer.get("choice") in set(self.correct_ids(data)) else 0.0

    def key_answer(self, data: Data) -> Answer:
        return {"choice": self.correct_ids(data)[0]}

    def picked_ids(self, given: Answer) -> set[str]:
        return {given["choice"]} if given.get("choice") else set()
