"""Authoring forms: the typed fields of one item type, as a Django form and formsets.

Each type's module supplies a ``TypeForm`` subclass (the handler's ``authoring_form``):
its own fields (``fields``), its lists of rows (``row_sets``: choices, pairs, accepted
answers, tests…), how a bank entry fills them (``initial_from_entry``) and how they make
one again (``entry_fields``). The common fields (slug, title, body, topic…) belong to the
bank (quizzes/bank/forms.py), which combines both into a bank entry and validates it with
the bank's own rules (``check_item``). Those rules report problems as messages; each type
lists which field a message is about, and says it in plain words (``error_rules``).

Rows are added, removed and moved by buttons that post the form back (``apply_row_op``):
htmx swaps the re-rendered form in place, and without JavaScript the page reloads. Blank
rows are ignored, so a form may show spare rows to fill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms import BaseFormSet, formset_factory
from django.http import QueryDict

# The most rows a list may have: more than any type allows, so the bank check refuses them
# with its own words rather than the formset silently dropping some.
MAX_ROWS = 20
# A row op posted by a button: "add:choices", "remove:choices:2", "up:pairs:0", "down:…".
# "redraw" changes no row: the form comes back as posted (a choice that shows other fields).
REDRAW = "redraw"
_ROW_OP = re.compile(r"(?P<op>add|remove|up|down):(?P<set>[a-z_]+)(?::(?P<row>\d{1,2}))?")


def text_field(
    label: str, *, required: bool = False, rows: int = 0, **kwargs: Any
) -> forms.CharField:
    """Text kept as typed (no stripping: a trailing newline of Markdown is content), with
    the browser's CRLF line ends made LF by ``normalise_text``."""
    widget: forms.Widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(label=label, required=required, strip=False, widget=widget, **kwargs)


def normalise_text(value: Any) -> str:
    return str(value or "").replace("\r\n", "\n").replace("\r", "\n")


def lines(value: Any) -> list[str]:
    """A textarea of one entry per line, as a list: blank lines dropped, the others kept as
    typed (a sample with spaces around it tests that spaces are forgiven)."""
    return [line for line in normalise_text(value).split("\n") if line.strip()]


class RowForm(forms.Form):
    """One row of a list; every field optional, so a blank row is simply left out (a
    hidden field is bookkeeping, not something the author filled in)."""

    def is_blank(self) -> bool:
        return not any(
            value not in (None, "", False)
            for name, value in self.cleaned_data.items()
            if not self.fields[name].widget.is_hidden
        )


@dataclass(frozen=True)
class RowSet:
    """A list of rows of the type's form (``name`` is also the formset's prefix)."""

    name: str
    form: type[RowForm]
    label: str
    add_label: str
    spare: int = 0  # blank rows shown when the list is empty (a new item)


@dataclass(frozen=True)
class ErrorRule:
    """Where a bank message goes: ``target`` is a field of the type's form, a row set
    (``choices``: about the list as a whole) or a row field (``choices.text``: the row is
    the message's ``row`` group, counted from 1, as the bank counts). ``message`` says it
    in plain words (``str.format`` with the match's groups); None keeps the bank's."""

    pattern: str
    target: str
    message: str | None = None
    first_row: int = 1  # the number the message gives the first row (0 for the spec's)


class TypeForm:
    """The fields of one item type. Bound to posted data, or filled from a bank entry."""

    fields: ClassVar[dict[str, forms.Field]] = {}
    row_sets: ClassVar[tuple[RowSet, ...]] = ()
    error_rules: ClassVar[tuple[ErrorRule, ...]] = ()
    # The template that lays the fields out (it gets ``tf``: this object).
    template: ClassVar[str] = "quizzes/staff/itemforms/fields.html"
    # Shown in place of the form when an entry uses what the form cannot edit.
    unsupported: str | None = None

    def __init__(
        self, *, data: QueryDict | None = None, entry: dict[str, Any] | None = None
    ) -> None:
        form_class = type("Fields", (forms.Form,), dict(self.fields))
        self.formsets: dict[str, BaseFormSet[Any]] = {}
        if data is not None:
            self.form: forms.Form = form_class(data, prefix="t")
            for row_set in self.row_sets:
                self.formsets[row_set.name] = self._formset(row_set)(data, prefix=row_set.name)
            return
        initial: dict[str, Any] = self.initial_from_entry(entry) if entry else {}
        self.form = form_class(initial=initial, prefix="t")
        for row_set in self.row_sets:
            # Blank rows to fill when the list is empty (a new item): blank rows are ignored.
            rows = list(initial.get(row_set.name) or []) or [{}] * row_set.spare
            self.formsets[row_set.name] = self._formset(row_set)(initial=rows, prefix=row_set.name)

    @staticmethod
    def _formset(row_set: RowSet) -> type[BaseFormSet[Any]]:
        return formset_factory(
            row_set.form, extra=0, max_num=MAX_ROWS, absolute_max=MAX_ROWS, validate_max=True
        )

    # --- to override -------------------------------------------------------------------
    def initial_from_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The form's initial values, and each row set's rows (a list of dicts)."""
        return {}

    def entry_fields(self) -> dict[str, Any]:
        """The type's bank fields from the cleaned form (called once ``is_valid``)."""
        return {}

    # --- used by the page ----------------------------------------------------------------
    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        for formset in self.formsets.values():
            valid = formset.is_valid() and valid
        return valid

    def rows(self, name: str) -> list[dict[str, Any]]:
        """The filled rows of a row set, in order (call after ``is_valid``)."""
        return [
            f.cleaned_data
            for f in self.formsets[name].forms
            if not isinstance(f, RowForm) or not f.is_blank()
        ]

    def _row_forms(self, name: str) -> list[RowForm]:
        return [
            f
            for f in self.formsets[name].forms
            if isinstance(f, RowForm) and f.is_valid() and not f.is_blank()
        ]

    def row_sets_view(self) -> list[tuple[RowSet, BaseFormSet[Any]]]:
        return [(row_set, self.formsets[row_set.name]) for row_set in self.row_sets]

    def add_bank_errors(self, messages: list[str]) -> list[str]:
        """Put each bank message next to its field; return those about no field of ours."""
        left = []
        for message in messages:
            for rule in self.error_rules:
                match = re.search(rule.pattern, message)
                if match:
                    plain = rule.message.format(**match.groupdict()) if rule.message else message
                    self._add_error(rule, plain, match)
                    break
            else:
                left.append(message)
        return left

    def _add_error(self, rule: ErrorRule, message: str, match: re.Match[str]) -> None:
        # Two bank messages may say the same thing about one field: it is shown once.
        name, _, field = rule.target.partition(".")
        if name in self.formsets:
            formset = self.formsets[name]
            row = match.groupdict().get("row")
            index = int(row) - rule.first_row if row else -1
            filled = self._row_forms(name)
            if field and 0 <= index < len(filled):
                target = field if field != "*" else None
                if message not in filled[index].errors.get(target or NON_FIELD_ERRORS, []):
                    filled[index].add_error(target, message)
            elif message not in formset.non_form_errors():
                formset._non_form_errors = forms.utils.ErrorList(  # type: ignore[attr-defined]
                    [*formset.non_form_errors(), message], error_class="nonform"
                )
            return
        target = name if name in self.form.fields else None
        if message not in self.form.errors.get(target or NON_FIELD_ERRORS, []):
            self.form.add_error(target, message)

    def has_errors(self) -> bool:
        return bool(
            self.form.errors
            or any(
                fs.non_form_errors() or any(f.errors for f in fs.forms)
                for fs in self.formsets.values()
            )
        )

    @classmethod
    def apply_row_op(cls, op: str, data: QueryDict) -> TypeForm | None:
        """A new, unbound form holding what was posted with a row added, removed or moved
        (or none, for ``redraw``); None when ``op`` is no row op of this form."""
        match = _ROW_OP.fullmatch(op)
        names = {row_set.name for row_set in cls.row_sets}
        if op != REDRAW and (not match or match["set"] not in names):
            return None
        posted = cls(data=data)
        form = cls()
        form.form = type(posted.form)(initial=_raw(posted.form), prefix="t")
        for row_set in cls.row_sets:
            formset = posted.formsets[row_set.name]
            rows = [_raw(f) for f in formset.forms[:MAX_ROWS]] if formset.is_bound else []
            if match and row_set.name == match["set"]:
                rows = _moved(rows, match["op"], int(match["row"] or 0))
            form.formsets[row_set.name] = cls._formset(row_set)(initial=rows, prefix=row_set.name)
        return form


def _raw(form: forms.Form) -> dict[str, Any]:
    """What was posted in a form, field by field, validated or not."""
    if not form.is_bound or "TOTAL_FORMS" in form.fields:
        return {}
    return {name: form[name].value() for name in form.fields}


def _moved(rows: list[dict[str, Any]], op: str, row: int) -> list[dict[str, Any]]:
    if op == "add":
        return [*rows, {}] if len(rows) < MAX_ROWS else rows
    if not 0 <= row < len(rows):
        return rows
    if op == "remove":
        return rows[:row] + rows[row + 1 :]
    other = row - 1 if op == "up" else row + 1
    if 0 <= other < len(rows):
        rows[row], rows[other] = rows[other], rows[row]
    return rows


class NumberField(forms.CharField):
    """A number as written: an int when written without a point or exponent, else a float
    (so ``250`` stays 250 in the bank entry, and ``0.5`` 0.5)."""

    default_error_messages = {"invalid": "Enter a number, such as 42 or 0.25."}

    def to_python(self, value: Any) -> int | float | None:  # type: ignore[override]
        text = str(super().to_python(value)).strip().replace("_", "")
        if not text:
            return None
        try:
            number = float(text) if re.search(r"[.eE]", text) else int(text)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if (isinstance(number, float) and number != number) or number in (
            float("inf"),
            float("-inf"),
        ):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number

    def prepare_value(self, value: Any) -> Any:
        return repr(value) if isinstance(value, float) else value


def samples_fields() -> dict[str, forms.Field]:
    return {
        "samples_accept": text_field(
            "Answers that must be accepted (one per line)",
            rows=3,
            help_text="What a learner who knows the answer may type; each must score full marks.",
        ),
        "samples_reject": text_field(
            "Near misses that must be refused (one per line)",
            rows=3,
            help_text="Each must score nothing.",
        ),
    }


SAMPLE_RULES = (
    ErrorRule(r"'samples\.accept' must be", "samples_accept", "List at least one answer."),
    ErrorRule(r"'samples\.reject' must be", "samples_reject", "List at least one near miss."),
    ErrorRule(
        r"sample (?P<s>.+) is not accepted \(scores (?P<n>[^)]+)\)",
        "samples_accept",
        "{s} is not accepted (it scores {n}).",
    ),
    ErrorRule(
        r"sample (?P<s>.+) is accepted \(scores (?P<n>[^)]+)\)",
        "samples_reject",
        "{s} is accepted (it scores {n}).",
    ),
)


def samples_initial(entry: dict[str, Any]) -> dict[str, str]:
    samples = entry.get("samples") if isinstance(entry.get("samples"), dict) else {}
    return {
        f"samples_{key}": "\n".join(str(v) for v in samples.get(key) or [])  # type: ignore[union-attr]
        for key in ("accept", "reject")
    }


def samples_entry(data: dict[str, Any]) -> dict[str, Any]:
    accept, reject = lines(data["samples_accept"]), lines(data["samples_reject"])
    return {"samples": {"accept": accept, "reject": reject}} if accept or reject else {}
