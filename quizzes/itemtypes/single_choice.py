"""Single choice: exactly one correct choice; the learner picks one."""

from __future__ import annotations

from typing import Any

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


# The key is "clearly the longest option" when it is longer than every distractor by more
# than both of these: a fifth of the longest distractor's length, and ten characters.
# Lengths count characters with whitespace runs collapsed. Test-wise learners pick such an
# option unread; the margins leave alone keys that are merely a few words longer.
LONGEST_KEY_MARGIN = 0.2
LONGEST_KEY_MIN_CHARS = 10


def option_length(text: str) -> int:
    return len(" ".join(text.split()))


class SingleChoice(ChoiceHandler):
    type = ItemType.SINGLE_CHOICE
    answer_serializer = SingleChoiceAnswer
    answer_example = {"choice": "kX3v9QpL2mZa"}
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

    def answer_cues(self, data: Data) -> list[str]:
        key = max(option_length(c["text"]) for c in data["choices"] if c["correct"])
        longest = max(
            (option_length(c["text"]) for c in data["choices"] if not c["correct"]), default=0
        )
        if key - longest > max(LONGEST_KEY_MARGIN * longest, LONGEST_KEY_MIN_CHARS):
            return [
                f"the key is clearly the longest option ({key} characters, the longest "
                f"distractor {longest}): shorten the key or lengthen a distractor"
            ]
        return []

    def picked_ids(self, given: Answer) -> set[str]:
        return {given["choice"]} if given.get("choice") else set()

    def answer_from_post(self, post: Any, layout: Layout) -> Any:
        return {"choice": post.get("choice") or None}
