"""Short text answers: accepted answers and/or a pattern, compared normalised."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from quizzes.itemtypes.base import (
    Answer,
    AnswerSerializer,
    Data,
    ItemTypeHandler,
    StrictCharField,
)
from quizzes.itemtypes.forms import (
    SAMPLE_RULES,
    ErrorRule,
    RowForm,
    RowSet,
    TypeForm,
    normalise_text,
    samples_entry,
    samples_fields,
    samples_initial,
    text_field,
)
from quizzes.models import ItemType

MAX_TEXT_CHARS = 1000


# What a person may wrap an answer in, or end it with, without changing it.
_TRAILING = ".,;:!"
# Opening → closing character of the pairs that may wrap a whole answer.
_PAIRS = {
    "`": "`",
    '"': '"',
    "'": "'",
    "\u201c": "\u201d",
    "\u2018": "\u2019",
    "\u00ab": "\u00bb",
}


def normalize_text(text: str) -> str:
    """How short-text answers compare, and what ``pattern`` is matched against: casefolded,
    whitespace trimmed and collapsed, without a surrounding pair of backticks or quotes and without
    trailing ``.,;:!`` (so '`Retry-After`.' and '"retry-after"' read as 'retry-after')."""
    text = " ".join(str(text).split())
    while True:
        stripped = text.rstrip(_TRAILING).strip()
        if len(stripped) >= 2 and _PAIRS.get(stripped[0]) == stripped[-1]:
            # A matched pair only: the quote closing `after: "abc"` is part of the answer.
            stripped = stripped[1:-1].strip()
        if stripped == text:
            return text.casefold()
        text = stripped


class ShortTextAnswer(AnswerSerializer):
    text = StrictCharField(
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_TEXT_CHARS,
        error_messages={
            "invalid": f"Answer in at most {MAX_TEXT_CHARS} characters.",
            "max_length": f"Answer in at most {MAX_TEXT_CHARS} characters.",
        },
    )


class AcceptedRow(RowForm):
    text = text_field("Accepted answer", max_length=MAX_TEXT_CHARS)


class ShortTextForm(TypeForm):
    """Accepted answers and/or a pattern, and typed samples."""

    fields = {
        "pattern": forms.CharField(
            label="Pattern (regular expression)",
            required=False,
            strip=False,
            max_length=1000,
            help_text="Optional. Matched against the whole answer, ignoring case, after the "
            "answer is normalised (quotes, backticks and a final full stop dropped).",
        ),
        **samples_fields(),
    }
    row_sets = (RowSet("accepted", AcceptedRow, "Accepted answers", "Add an answer", spare=2),)
    error_rules = (
        ErrorRule(
            r"give 'accepted' answers and/or a 'pattern'",
            "accepted",
            "Give at least one accepted answer, or a pattern.",
        ),
        ErrorRule(r"'accepted' must be", "accepted", "Write every accepted answer as text."),
        ErrorRule(
            r"the accepted answer (?P<a>.+) is empty once normalised",
            "accepted",
            "The accepted answer {a} is empty once quotes, backticks and punctuation are dropped.",
        ),
        ErrorRule(
            r"'pattern' does not compile: (?P<why>.+)",
            "pattern",
            "This is not a valid regular expression: {why}.",
        ),
        ErrorRule(
            r"'pattern' matches an empty answer", "pattern", "The pattern accepts an empty answer."
        ),
        ErrorRule(
            r"'pattern' does not match the accepted answer (?P<a>.+)",
            "pattern",
            "The pattern does not match the accepted answer {a}.",
        ),
        *SAMPLE_RULES,
        ErrorRule(
            r"correct answer", "accepted", "The first accepted answer cannot score full marks."
        ),
    )

    def initial_from_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {
            "pattern": entry.get("pattern") or "",
            "accepted": [{"text": str(a)} for a in entry.get("accepted") or []],
            **samples_initial(entry),
        }

    def entry_fields(self) -> dict[str, Any]:
        data = self.form.cleaned_data
        fields: dict[str, Any] = {}
        accepted = [normalise_text(row["text"]) for row in self.rows("accepted")]
        if accepted:
            fields["accepted"] = accepted
        if data["pattern"]:
            fields["pattern"] = data["pattern"]
        return {**fields, **samples_entry(data)}


class ShortText(ItemTypeHandler):
    type = ItemType.SHORT_TEXT
    bank_keys = frozenset({"accepted", "pattern", "samples"})
    typed_answer_field = "text"
    answer_serializer = ShortTextAnswer
    answer_example = {"text": "idempotent"}
    question_template = "quizzes/itemtypes/short_text.html"
    review_template = "quizzes/itemtypes/short_text_review.html"
    authoring_form = ShortTextForm

    def check_bank(self, item: dict[str, Any]) -> list[str]:
        accepted, pattern = item.get("accepted"), item.get("pattern")
        if accepted is None and pattern is None:
            return ["give 'accepted' answers and/or a 'pattern'"]
        errors = []
        if accepted is not None and (
            not isinstance(accepted, list)
            or not accepted
            or not all(isinstance(a, str | int | float) and str(a).strip() for a in accepted)
        ):
            errors.append("'accepted' must be a non-empty list of non-empty strings")
        else:
            for answer in accepted or []:
                if not normalize_text(str(answer)):
                    errors.append(
                        f"the accepted answer {answer!r} is empty once normalised (quotes, "
                        "backticks and trailing punctuation are ignored)"
                    )
        if pattern is not None:
            try:
                compiled = re.compile(str(pattern), re.IGNORECASE)
            except re.error as exc:
                errors.append(f"'pattern' does not compile: {exc}")
            else:
                if compiled.fullmatch(""):
                    errors.append("'pattern' matches an empty answer")
                for answer in accepted or []:
                    if not compiled.fullmatch(normalize_text(str(answer))):
                        errors.append(f"'pattern' does not match the accepted answer {answer!r}")
        if errors:
            return errors
        return self.check_samples(item)

    def build_data(self, item: dict[str, Any]) -> Data:
        return {
            "accepted": [str(a) for a in item.get("accepted") or []],
            "pattern": item.get("pattern"),
        }

    def score(self, data: Data, answer: Answer) -> float:
        given = normalize_text(str(answer.get("text", "")))
        if not given:
            return 0.0
        if any(given == normalize_text(a) for a in data.get("accepted") or []):
            return 1.0
        pattern = data.get("pattern")
        if pattern and re.fullmatch(pattern, given, flags=re.IGNORECASE):
            return 1.0
        return 0.0

    def key_answer(self, data: Data) -> Answer:
        accepted = data.get("accepted") or []
        return {"text": accepted[0]} if accepted else {}

    def answer_phrases(self, data: Data) -> list[str]:
        return [str(a) for a in data.get("accepted") or []]

    def bank_answer_phrases(self, item: dict[str, Any], data: Data | None = None) -> list[str]:
        # A pattern-only item has no accepted list: what its samples accept is its answer.
        samples = item.get("samples")
        accept = samples.get("accept") if isinstance(samples, dict) else None
        typed = [normalize_text(str(a)) for a in accept or [] if isinstance(a, str | int | float)]
        phrases = super().bank_answer_phrases(item, data)
        known = {normalize_text(p) for p in phrases}
        return phrases + sorted({t for t in typed if t and t not in known})

    def key_display(self, data: Data) -> dict[str, Any]:
        return {"accepted": data.get("accepted") or [], "pattern": data.get("pattern")}
