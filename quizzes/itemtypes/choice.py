"""Single and multiple choice: shared choice data, layout and review."""

from __future__ import annotations

import random
from typing import Any

from django import forms

from quizzes.itemtypes.base import (
    LINE_KEY,
    Answer,
    ChoiceOption,
    Data,
    ItemTypeHandler,
    Layout,
    shuffled_tokens,
    token_map,
)
from quizzes.itemtypes.forms import (
    ErrorRule,
    RowForm,
    RowSet,
    TypeForm,
    normalise_text,
    text_field,
)
from quizzes.markdown import render_markdown


class ChoiceRow(RowForm):
    text = text_field("Choice (Markdown)", max_length=2000)
    correct = forms.BooleanField(label="Correct", required=False)
    feedback = text_field("Feedback shown with this choice at review", max_length=2000)


class ChoiceForm(TypeForm):
    """Choices: their text, which are correct, and feedback for each."""

    row_sets = (RowSet("choices", ChoiceRow, "Choices", "Add a choice", spare=4),)
    error_rules = (
        ErrorRule(r"'choices' must be a list", "choices", "Give 2 to 6 choices."),
        ErrorRule(r"choice #(?P<row>\d+) needs 'text'", "choices.text", "Write the choice."),
        ErrorRule(r"two choices have the same text", "choices", "Two choices have the same text."),
        ErrorRule(
            r"exactly one correct choice, found (?P<n>\d+)",
            "choices",
            "Mark exactly one choice as correct (now {n}).",
        ),
        ErrorRule(
            r"at least two correct and one wrong choice, found (?P<n>\d+) correct of (?P<m>\d+)",
            "choices",
            "Mark at least two choices as correct and leave at least one wrong "
            "(now {n} correct of {m}).",
        ),
        ErrorRule(r"the key is clearly the longest option", "choices"),
        ErrorRule(r"correct answer", "choices", "The correct choices cannot score full marks."),
    )

    def initial_from_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {
            "choices": [
                {
                    "text": c.get("text", ""),
                    "correct": c.get("correct", False) is True,
                    "feedback": c.get("feedback", ""),
                }
                for c in entry.get("choices") or []
                if isinstance(c, dict)
            ]
        }

    def entry_fields(self) -> dict[str, Any]:
        choices = []
        for row in self.rows("choices"):
            choice: dict[str, Any] = {
                "text": normalise_text(row["text"]),
                "correct": row["correct"],
            }
            if row["feedback"]:
                choice["feedback"] = normalise_text(row["feedback"])
            choices.append(choice)
        return {"choices": choices}


class ChoiceHandler(ItemTypeHandler):
    """Choices with per-choice correctness and feedback; subclasses decide how many."""

    bank_keys = frozenset({"choices"})
    has_choices = True
    review_template = "quizzes/itemtypes/choice_review.html"
    answer_among_options = True
    authoring_form = ChoiceForm

    def correct_count_problem(self, correct: int, total: int) -> str | None:
        raise NotImplementedError

    def check_bank(self, item: dict[str, Any]) -> list[str]:
        choices = item.get("choices")
        if not isinstance(choices, list) or not 2 <= len(choices) <= 6:
            return ["'choices' must be a list of 2 to 6 choices"]
        errors = []
        for n, choice in enumerate(choices, start=1):
            if not isinstance(choice, dict) or not isinstance(choice.get("text"), str):
                errors.append(f"choice #{n} needs 'text'")
                continue
            if not isinstance(choice.get("correct", False), bool):
                errors.append(f"choice #{n}: 'correct' must be true or false")
            extra = set(choice) - {"text", "correct", "feedback", LINE_KEY}
            if extra:
                errors.append(f"choice #{n}: unknown field(s) {', '.join(sorted(extra))}")
        texts = [str(c.get("text", "")).strip().lower() for c in choices if isinstance(c, dict)]
        if len(set(texts)) != len(texts):
            errors.append("two choices have the same text")
        correct = sum(1 for c in choices if isinstance(c, dict) and c.get("correct") is True)
        problem = self.correct_count_problem(correct, len(choices))
        if problem:
            errors.append(problem)
        return errors

    def build_data(self, item: dict[str, Any]) -> Data:
        return {
            "choices": [
                {
                    "id": f"c{n}",
                    "text": c["text"],
                    "html": render_markdown(c["text"], inline=True),
                    "correct": bool(c.get("correct", False)),
                    "feedback": c.get("feedback", ""),
                }
                for n, c in enumerate(item["choices"], start=1)
            ]
        }

    def layout(self, data: Data, rng: random.Random, *, shuffle: bool) -> Layout:
        return {
            "choices": shuffled_tokens([c["id"] for c in data["choices"]], rng, shuffle=shuffle)
        }

    def correct_ids(self, data: Data) -> list[str]:
        return [c["id"] for c in data["choices"] if c["correct"]]

    def picked_ids(self, given: Answer) -> set[str]:
        raise NotImplementedError

    def learner_view(self, data: Data, layout: Layout, answer: Answer) -> dict[str, Any]:
        html = {c["id"]: c["html"] for c in data["choices"]}
        return {"choices": [{"token": t, "html": html[i]} for t, i in layout["choices"]]}

    def review_view(
        self, data: Data, layout: Layout, answer: Answer, given: Answer
    ) -> dict[str, Any]:
        picked = self.picked_ids(given)
        by_id = {c["id"]: c for c in data["choices"]}
        return {
            "choices": [
                {
                    "token": t,
                    "html": by_id[i]["html"],
                    "picked": i in picked,
                    "correct": by_id[i]["correct"],
                    "feedback": by_id[i].get("feedback", ""),
                }
                for t, i in layout["choices"]
            ]
        }

    def shown_texts(self, data: Data) -> list[str]:
        return [str(c["text"]) for c in data["choices"]]

    def choice_options(self, data: Data) -> list[ChoiceOption]:
        return [ChoiceOption(c["id"], str(c["text"]), bool(c["correct"])) for c in data["choices"]]

    def choice_picks(self, data: Data, given: Answer) -> list[str]:
        known = {c["id"] for c in data["choices"]}
        return sorted(i for i in self.picked_ids(given) if i in known)

    def answer_phrases(self, data: Data) -> list[str]:
        # As prose: without code marks and the full stop that ends an option.
        return [
            " ".join(str(c["text"]).replace("`", "").split()).rstrip(".")
            for c in data["choices"]
            if c["correct"]
        ]

    def key_display(self, data: Data) -> dict[str, Any]:
        return {"choices": self.correct_ids(data)}

    @staticmethod
    def tokens_to_ids(layout: Layout) -> dict[str, str]:
        return token_map(layout, "choices")
