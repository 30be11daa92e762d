"""The contract every item type implements, and the helpers they share.

An item type is one module in this package with one handler class. The handler owns
everything about its type: validating its bank data, the version data built from it,
the per-attempt layout (shuffled, opaque tokens), the learner's answer schema, scoring,
the learner-safe view, the review view and its templates. The rest of Skillmap asks the
registry (``quizzes.itemtypes.registry``) for a handler or a capability and never
branches on a type. See docs/architecture.md, "Adding an item type".
"""

from __future__ import annotations

import builtins
import random
import secrets
from dataclasses import dataclass
from typing import Any, ClassVar

from rest_framework import serializers

from quizzes.itemtypes.forms import TypeForm
from quizzes.models import ItemType

# The loader records the line of every YAML mapping under this key, for precise errors.
LINE_KEY = "__line__"


def strip_lines(value: Any) -> Any:
    """``value`` without the loader's line numbers, at any depth."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


Data = dict[str, Any]
Layout = dict[str, Any]
Answer = dict[str, Any]


class AnswerError(ValueError):
    """The answer does not have the shape its item type needs; the message is for people."""

    def __init__(self, message: str, *, field: str = "answer") -> None:
        super().__init__(message)
        self.field = field


class StrictCharField(serializers.CharField):
    """Text only: DRF's CharField would turn 5 or True into "5" or "True"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class AnswerSerializer(serializers.Serializer[Answer]):
    """Base of every type's answer schema; ``context["layout"]`` holds the attempt's tokens."""

    def layout(self) -> Layout:
        return dict(self.context.get("layout") or {})

    def tokens(self, key: str) -> dict[str, str]:
        return token_map(self.layout(), key)


def token_map(layout: Layout, key: str) -> dict[str, str]:
    """Token → item id for one of the layout's lists (``choices``, ``sequence``, …)."""
    return {str(token): str(item_id) for token, item_id in layout.get(key, [])}


def shuffled_tokens(
    ids: list[str],
    rng: random.Random,
    *,
    shuffle: bool,
    must_shuffle: bool = False,
    avoid: list[str] | None = None,
) -> list[list[str]]:
    """``[[token, id], …]`` in display order. Tokens are fresh per attempt and opaque.
    With ``must_shuffle`` the order is never ``avoid`` (by default ``ids``): the order that
    would be the answer itself."""
    order = list(ids)
    if shuffle or must_shuffle:
        rng.shuffle(order)
        # A given order must never be the answer itself (ordering: the key's order;
        # matching: the right side in the order of the left side as shown).
        if must_shuffle and len(order) > 1 and order == (ids if avoid is None else avoid):
            order = order[1:] + order[:1]
    return [[secrets.token_urlsafe(9), i] for i in order]


def first_error(errors: Any) -> tuple[str, str]:
    """(field, message) of the first error DRF reported, for a one-line refusal."""
    if isinstance(errors, dict):
        for field, value in errors.items():
            inner_field, message = first_error(value)
            name = str(field) if field != "non_field_errors" else "answer"
            return (name if inner_field == "answer" else f"{name}.{inner_field}"), message
    if isinstance(errors, list) and errors:
        return first_error(errors[0])
    return "answer", str(errors)


@dataclass(frozen=True)
class ChoiceOption:
    """One option a learner picks from (a choice, or true and false), for pick counts."""

    id: str
    text: str
    correct: bool


class ItemTypeHandler:
    """One item type. Subclasses set the class attributes and implement the methods."""

    type: ClassVar[ItemType]
    # Capabilities the rest of the code asks about instead of naming types.
    needs_sandbox: ClassVar[bool] = False
    scored_at_submit: ClassVar[bool] = True  # scored in-process (submit, "Check answer")
    explanation_required: ClassVar[bool] = True
    # Its answers pick among options (``choice_options``), whose picks item statistics count.
    has_choices: ClassVar[bool] = False
    default_points: ClassVar[int] = 1
    # The answer field a learner types into (a number, a phrase). Bank entries of such a
    # type list ``samples`` of what learners type, scored by ``check_samples``.
    typed_answer_field: ClassVar[str | None] = None
    # The key is one of the options the question shows, so another item showing the same
    # option gives nothing away; only another item *stating* it (title, body) does.
    answer_among_options: ClassVar[bool] = False
    # Its bank entries take per-language files beside the stage file
    # (languages/<slug>/<language>.yaml, merged by the loader into the entry).
    language_files: ClassVar[bool] = False
    # Its items are taken in the learner's own programming language, so a quiz drawing
    # only one language's topics still draws them (code challenges).
    in_any_language: ClassVar[bool] = False
    # The bank fields this type adds to the common ones (slug, title, body, …).
    bank_keys: ClassVar[frozenset[str]] = frozenset()
    answer_serializer: ClassVar[builtins.type[AnswerSerializer]]
    # An answer of this type as the API takes it, for its documentation (made-up tokens).
    answer_example: ClassVar[Answer]
    # The widget inside the attempt page's answer form, and the review of an answer.
    question_template: ClassVar[str]
    review_template: ClassVar[str]
    # The authoring form of the type's own fields (quizzes/itemtypes/forms.py); None: the
    # type is authored in YAML only.
    authoring_form: ClassVar[builtins.type[TypeForm] | None] = None

    @property
    def label(self) -> str:
        return str(self.type.label)

    # --- the bank ---------------------------------------------------------------------
    def check_bank(self, item: dict[str, Any]) -> list[str]:
        """Every problem with this type's fields of a bank entry (empty when valid)."""
        raise NotImplementedError

    def build_data(self, item: dict[str, Any]) -> Data:
        """The version's ``data`` (the key included) from a validated bank entry."""
        raise NotImplementedError

    def check_samples(self, item: dict[str, Any], field: str | None = None) -> list[str]:
        """Run an entry's ``samples`` (typed answers a correct learner would give, and near
        misses) through this type's scoring: each ``accept`` must score full marks and each
        ``reject`` none. ``field`` is the answer field a typed sample fills (by default the
        type's ``typed_answer_field``)."""
        samples = strip_lines(item.get("samples"))
        field = field or self.typed_answer_field
        if samples is None or field is None:
            return []
        if not isinstance(samples, dict) or set(samples) - {"accept", "reject", LINE_KEY}:
            return ["'samples' must be a mapping with 'accept' and 'reject' lists"]
        errors = []
        data = self.build_data(item)
        for key, want in (("accept", 1.0), ("reject", 0.0)):
            values = samples.get(key)
            if not isinstance(values, list) or not values:
                errors.append(f"'samples.{key}' must be a non-empty list")
                continue
            for value in values:
                if not isinstance(value, str | int | float) or isinstance(value, bool):
                    errors.append(f"'samples.{key}' holds {value!r}: write each as text")
                    continue
                got = self.score(data, {field: str(value)})
                if got != want:
                    verdict = "is not accepted" if want else "is accepted"
                    errors.append(f"sample {str(value)!r} {verdict} (scores {got:g})")
        return errors

    def bank_answer_phrases(self, item: dict[str, Any], data: Data | None = None) -> list[str]:
        """``answer_phrases`` of a validated bank entry (a type may add what only the entry
        holds, such as samples of accepted answers); ``data`` is its ``build_data``, if
        already built."""
        return self.answer_phrases(self.build_data(item) if data is None else data)

    def boolean_key(self, data: Data) -> bool | None:
        """The key, for a type whose key is a single true or false; None for any other."""
        return None

    def answer_cues(self, data: Data) -> list[str]:
        """Surface cues that point to the key without knowing the subject (such as a key
        that is the only long option), as problems for the bank check."""
        return []

    # --- an attempt -------------------------------------------------------------------
    def layout(self, data: Data, rng: random.Random, *, shuffle: bool) -> Layout:
        """The per-attempt display order, as opaque tokens (empty when nothing to order)."""
        return {}

    def clean_answer(self, answer: Any, layout: Layout) -> Answer:
        """Validate a learner's answer against the schema; return it normalised (tokens)."""
        if not isinstance(answer, dict):
            raise AnswerError("The answer must be a JSON object.")
        serializer = self.answer_serializer(data=answer, context={"layout": layout})
        unknown = sorted(str(key) for key in answer if key not in serializer.fields)
        if unknown:
            expected = ", ".join(serializer.fields)
            raise AnswerError(
                f"A {self.label.lower()} answer has no field {unknown[0]!r}; its fields: "
                f"{expected}.",
                field=unknown[0],
            )
        if not serializer.is_valid():
            field, message = first_error(serializer.errors)
            raise AnswerError(message, field=field)
        return self.normalise(dict(serializer.validated_data))

    def normalise(self, answer: Answer) -> Answer:
        return answer

    def answer_from_post(self, post: Any, layout: Layout) -> Any:
        """The answer a learner's widget (``question_template``) posts as a plain form, in
        the shape ``clean_answer`` takes: the item preview posts it so, while the attempt
        page sends JSON. By default the widget's one text field."""
        field = self.typed_answer_field
        return {field: post.get(field, "")} if field else {}

    def to_item_ids(self, answer: Answer | None, layout: Layout) -> Answer:
        """The answer with per-attempt tokens translated to the item's own ids."""
        return dict(answer or {})

    def is_blank(self, data: Data, answer: Answer | None) -> bool:
        """Nothing was answered."""
        return not answer

    def to_tokens(self, answer: Answer, layout: Layout) -> Answer:
        """The inverse of ``to_item_ids``: an answer in item ids, as a browser would send it."""
        token_of: dict[str, str] = {}
        for pairs in layout.values():
            for token, item_id in pairs:
                token_of.setdefault(item_id, token)
        lefts = {i: t for t, i in layout.get("lefts", [])}
        rights = {i: t for t, i in layout.get("rights", [])}

        def convert(value: Any) -> Any:
            if isinstance(value, str):
                return token_of.get(value, value)
            if isinstance(value, list):
                return [convert(v) for v in value]
            if isinstance(value, dict):
                return {lefts.get(k, k): rights.get(v, v) for k, v in value.items()}
            return value

        return {k: convert(v) for k, v in answer.items()}

    def score(self, data: Data, answer: Answer) -> float:
        """Fraction of the points in [0, 1] for an answer in item ids."""
        raise NotImplementedError

    def key_answer(self, data: Data) -> Answer:
        """A full-marks answer in item ids (the bank checks it scores 1)."""
        raise NotImplementedError

    # --- what people see ----------------------------------------------------------------
    def answer_phrases(self, data: Data) -> list[str]:
        """Text that, seen elsewhere in a quiz, would give this item's answer away."""
        return []

    def shown_texts(self, data: Data) -> list[str]:
        """Text shown with the question while it is answered (besides title and body)."""
        return []

    def learner_view(self, data: Data, layout: Layout, answer: Answer) -> dict[str, Any]:
        """Fields the question widget needs; never a key, a correct flag or a hidden test."""
        return {}

    def language_view(self, data: Data, answer: Answer, preferred: str | None) -> dict[str, Any]:
        """Fields of the learner view that depend on the learner's programming language
        (``preferred``: theirs, or None), for a type written in a language they choose."""
        return {}

    def written_in(self, answer: Answer | None) -> str:
        """The programming language a stored answer names ("" for a type with one fixed
        language), without checking it against the item (see ``submission_language``)."""
        return ""

    def submission_language(self, data: Data, answer: Answer | None) -> str:
        """The language a submission of this answer is graded in ("" when the type has
        one fixed language)."""
        return ""

    def review_view(
        self, data: Data, layout: Layout, answer: Answer, given: Answer
    ) -> dict[str, Any]:
        """Fields the review needs once feedback is due (``given`` is in item ids)."""
        return {}

    def key_display(self, data: Data) -> dict[str, Any]:
        """The key as the review shows it."""
        return {}

    # --- item statistics ----------------------------------------------------------------
    def choice_options(self, data: Data) -> list[ChoiceOption]:
        """The options a learner picks from, in the version's own order (empty for a type
        without options: nothing to count)."""
        return []

    def choice_picks(self, data: Data, given: Answer) -> list[str]:
        """The ids of the options picked in an answer given in item ids (``to_item_ids``);
        empty for a blank answer and for a type without options."""
        return []

    def key_lines(self, data: Data) -> list[tuple[str, str]]:
        """The key as labelled lines of plain text (``key_display``), for authors' pages."""
        lines = []
        for name, value in self.key_display(data).items():
            if value is None or value == "" or value == []:
                continue
            lines.append((KEY_LABELS.get(name, name.replace("_", " ").capitalize()), _text(value)))
        return lines


# Labels for key_display's fields where the field name alone would not read well.
KEY_LABELS = {"value": "Correct answer"}


def _text(value: Any) -> str:
    """A key value as text: never a Python repr of a list, tuple or bool."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list | tuple):
        return ", ".join(
            " → ".join(map(_text, v)) if isinstance(v, list | tuple) else _text(v) for v in value
        )
    return str(value)
