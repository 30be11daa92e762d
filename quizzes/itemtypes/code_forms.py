"""The authoring form of a code challenge (quizzes/itemtypes/code.py): the whole
language-neutral spec (quizzes/grading/spec.py and signature.py) in typed fields.

What the learner writes (a function or a class, and its name); the signature as rows
(parameters with their types, the return type, the errors it may raise; for a class, the
constructor's parameters and errors, and one row per method whose parameters are written
as a typed list, ``key: string, ttl: int = 60``); the records (``id: int, sku: string``);
the rules; the tests (arguments and expected results as JSON on one line; for a class, the
constructor's arguments and one call per line, ``put ["a", 1] -> null`` or ``get ["b"]
raises KeyError``, see ``CALLS_HELP``); and the starter, reference and wrong solutions of
Python and of every other registered language (quizzes.grading.languages). A blank starter
is generated from the signature, and the form shows the generated one.

A bank entry shown in the form and posted back unchanged is the same entry (so the same
version): keys the entry leaves out stay out, and a test that says ``visible: false``
keeps saying it (a hidden field remembers it). The spec validates what the form builds;
``error_rules`` put each of its messages next to the field or row it is about.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict

from quizzes.grading.languages import ERRORS, LANGUAGES
from quizzes.grading.languages.names import LANGUAGE_KEYS
from quizzes.grading.spec import CodeChallengeSpec, SpecError, code_spec_from_dict
from quizzes.itemtypes.challenge_forms import (
    CHALLENGE_RULES,
    JSONTextField,
    RuleRow,
    TestRow,
    WrongRow,
)
from quizzes.itemtypes.forms import (
    ErrorRule,
    NumberField,
    RowForm,
    RowSet,
    TypeForm,
    normalise_text,
    text_field,
)

# The most tests a challenge may have in the form (the bank's largest has about 50).
MAX_TESTS = 100
KINDS = (("function", "A function"), ("class", "A class (a constructor and methods)"))
ERROR_CHOICES = [(name, name) for name in ERRORS]
TYPES_HELP = (
    "Types: int, float, string, bool, any, list<T>, map<T> (a JSON object), a record's "
    "name; T? also allows null."
)
CALLS_HELP = (
    "One call per line: the method, its arguments as a JSON list (left out when it takes "
    "none), keyword arguments as a JSON object if any, then -> and the expected result as "
    'JSON (with "within 0.001" for a tolerance), or "raises" and the error. For example: '
    'put ["a", 1] -> null, then get ["b"] raises KeyError.'
)
PARAMS_HELP = (
    "name: type, separated by commas, with = and a JSON default where there is one "
    "(key: string, ttl: int = 60)"
)
FIELDS_HELP = "name: type, separated by commas (id: int, sku: string; note?: string may be absent)"


# --- one-line JSON, typed lists and calls -----------------------------------------------------
def to_json(value: Any) -> str:
    """A value as one line of JSON: Unicode as itself, except the two line separators a
    browser could take for line breaks."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def split_top(text: str) -> list[str]:
    """``text`` split at the commas outside brackets (``<>``, ``[]``, ``{}``, ``()``) and
    JSON strings: ``a: map<int>, b: list<int> = [1, 2]`` is two parts."""
    parts: list[str] = []
    depth, start, quoted, escaped = 0, 0, False, False
    for index, char in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "<[{(":
            depth += 1
        elif char in ">]})":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def parse_params(text: str) -> list[dict[str, Any]]:
    """``key: string, ttl: int = 60`` as the signature's parameters."""
    params: list[dict[str, Any]] = []
    for number, part in enumerate(split_top(text), start=1):
        name, colon, rest = part.partition(":")
        type_text, equals, default = rest.partition("=")
        if not colon or not name.strip() or not type_text.strip():
            raise forms.ValidationError(f"Parameter {number}: write each one as {PARAMS_HELP}.")
        param: dict[str, Any] = {"name": name.strip(), "type": type_text.strip()}
        if equals:
            try:
                param["default"] = json.loads(default)
            except ValueError as exc:
                raise forms.ValidationError(
                    f"Parameter {number} ({name.strip()}): the default is not JSON: {exc}."
                ) from None
        params.append(param)
    return params


def show_params(params: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{p['name']}: {p['type']}" + (f" = {to_json(p['default'])}" if "default" in p else "")
        for p in params
    )


def parse_record_fields(text: str) -> dict[str, str]:
    """``id: int, note?: string`` as a record's fields (``?`` after a key: may be absent)."""
    fields: dict[str, str] = {}
    for number, part in enumerate(split_top(text), start=1):
        key, colon, type_text = part.partition(":")
        key, type_text = key.strip(), type_text.strip()
        if not colon or not key or not type_text:
            raise forms.ValidationError(f"Field {number}: write the fields as {FIELDS_HELP}.")
        if key in fields:
            raise forms.ValidationError(f"The field {key} is given twice.")
        fields[key] = type_text
    return fields


def show_record_fields(fields: dict[str, str]) -> str:
    return ", ".join(f"{key}: {type_text}" for key, type_text in fields.items())


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RAISES = re.compile(r"raises\s+([A-Za-z_][A-Za-z0-9_.]*)")
_WITHIN = re.compile(r"within\b")
_DECODER = json.JSONDecoder()


def parse_calls(text: str) -> list[dict[str, Any]]:
    """The calls of a class test, one per line (``CALLS_HELP``); a ValidationError names
    the line at fault."""
    return [
        parse_call(line, number)
        for number, line in enumerate(normalise_text(text).split("\n"), start=1)
        if line.strip()
    ]


def parse_call(line: str, number: int) -> dict[str, Any]:
    def fail(why: str) -> forms.ValidationError:
        return forms.ValidationError(f"Line {number}: {why}")

    def value_at(pos: int, what: str) -> tuple[Any, int]:
        try:
            return _DECODER.raw_decode(line, pos)
        except ValueError as exc:
            reason = getattr(exc, "msg", str(exc))
            raise fail(f"{what} not valid JSON ({reason}, column {pos + 1}).") from None

    def skip(pos: int) -> int:
        while pos < len(line) and line[pos] in " \t":
            pos += 1
        return pos

    name = _NAME.match(line, skip(0))
    if name is None:
        raise fail('start with the method\'s name, such as get ["a"] -> 1.')
    call: dict[str, Any] = {"method": name.group()}
    pos = skip(name.end())
    if line.startswith("[", pos):
        call["args"], pos = value_at(pos, "the arguments are")
        pos = skip(pos)
    if line.startswith("{", pos):
        call["kwargs"], pos = value_at(pos, "the keyword arguments are")
        pos = skip(pos)
    if line.startswith("->", pos):
        call["expect"], pos = value_at(skip(pos + 2), "the expected result is")
        pos = skip(pos)
        within = _WITHIN.match(line, pos)
        if within is not None:
            tolerance, pos = value_at(skip(within.end()), "the tolerance is")
            if not isinstance(tolerance, int | float) or isinstance(tolerance, bool):
                raise fail("after within, write the tolerance as a number, such as 1e-9.")
            call["tolerance"] = tolerance
            pos = skip(pos)
    else:
        raised = _RAISES.match(line, pos)
        if raised is None:
            raise fail(
                "after the method and its arguments, write -> and the expected result, "
                "or raises and the error."
            )
        call["raises"] = raised.group(1)
        pos = skip(raised.end())
    if pos < len(line):
        raise fail(f"{line[pos:].strip()!r} is left over at the end of the line.")
    return call


def show_call(call: dict[str, Any]) -> str:
    parts = [str(call.get("method", ""))]
    for key in ("args", "kwargs"):
        if key in call:
            parts.append(to_json(call[key]))
    if "raises" in call:
        parts.append(f"raises {call['raises']}")
    else:
        parts.append(f"-> {to_json(call.get('expect'))}")
        if "tolerance" in call:
            parts.append(f"within {to_json(call['tolerance'])}")
    return " ".join(parts)


def show_calls(calls: list[dict[str, Any]]) -> str:
    return "\n".join(show_call(call) for call in calls)


# --- fields -------------------------------------------------------------------------------
class JSONValueField(JSONTextField):
    """A JSON value on one line (``JSONTextField``), of the ``shape`` asked for if any."""

    shapes = {
        "list": (list, 'Write a JSON list, such as [1, "a"] ([] for none).'),
        "object": (dict, 'Write a JSON object, such as {"limit": 10}.'),
    }

    def __init__(self, *, shape: str | None = None, **kwargs: Any) -> None:
        self.shape = shape
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        parsed = super().to_python(value)
        if parsed is not None and self.shape is not None:
            kind, message = self.shapes[self.shape]
            if not isinstance(parsed["value"], kind):
                raise forms.ValidationError(message)
        return parsed

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"value"}:
            return to_json(value["value"])
        return value


class WrittenField(forms.CharField):
    """Text in a small syntax of its own (typed parameters, record fields, calls): parsed
    into what the spec holds, and shown again in the same syntax. Blank is None."""

    def __init__(
        self, *, parse: Callable[[str], Any], show: Callable[[Any], str], **kwargs: Any
    ) -> None:
        self.parse, self.show = parse, show
        super().__init__(strip=False, **kwargs)

    def to_python(self, value: Any) -> Any:
        text = normalise_text(super().to_python(value))
        return self.parse(text) if text.strip() else None

    def prepare_value(self, value: Any) -> Any:
        return value if value is None or isinstance(value, str) else self.show(value)


def code_field(label: str, *, rows: int = 10, help_text: str = "") -> forms.CharField:
    field = text_field(label, rows=rows, max_length=64 * 1024, help_text=help_text)
    field.widget.attrs.update({"class": "code-textarea", "spellcheck": "false"})
    return field


def language_label(key: str) -> str:
    return LANGUAGES[key].label if key in LANGUAGES else key


# --- rows -----------------------------------------------------------------------------------
class CodeWrongRow(WrongRow):
    source = code_field("Wrong solution", rows=8)


class ParamRow(RowForm):
    name = forms.CharField(label="Name", required=False, max_length=100)
    type = forms.CharField(label="Type", required=False, max_length=200)
    default = JSONValueField(label="Default (JSON; blank for none)", required=False)


class MethodRow(RowForm):
    name = forms.CharField(label="Method", required=False, max_length=100)
    params = WrittenField(
        label="Parameters",
        parse=parse_params,
        show=show_params,
        required=False,
        max_length=2000,
        help_text="Such as key: string, ttl: int = 60 (with = and a JSON default where there "
        "is one); blank for none.",
    )
    returns = forms.CharField(label="Returns", required=False, max_length=200)
    raises = forms.MultipleChoiceField(
        label="Errors it may raise",
        choices=ERROR_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class RecordRow(RowForm):
    name = forms.CharField(label="Record", required=False, max_length=100)
    record_fields = WrittenField(
        label="Fields",
        parse=parse_record_fields,
        show=show_record_fields,
        required=False,
        max_length=4000,
        help_text=f"{FIELDS_HELP[0].upper()}{FIELDS_HELP[1:]}.",
    )


class CodeTestRow(TestRow):
    # A function's test.
    args = JSONValueField(label="Arguments (a JSON list)", shape="list", required=False)
    kwargs = JSONValueField(
        label="Keyword arguments (a JSON object; blank for none)", shape="object", required=False
    )
    expect = JSONValueField(label="Expected result (JSON)", required=False)
    raises = forms.ChoiceField(label="…or the error it raises", required=False)
    tolerance = NumberField(label="Tolerance (for floats)", required=False)
    # A class's test.
    init_args = JSONValueField(
        label="Constructor arguments (a JSON list)", shape="list", required=False
    )
    init_kwargs = JSONValueField(
        label="Constructor keyword arguments (a JSON object; blank for none)",
        shape="object",
        required=False,
    )
    calls = WrittenField(
        label="Calls, in order",
        parse=parse_calls,
        show=show_calls,
        required=False,
        max_length=64 * 1024,
        widget=forms.Textarea(attrs={"rows": 4, "class": "code-textarea", "spellcheck": "false"}),
    )
    languages = forms.MultipleChoiceField(
        label="Only in (a hidden test; none ticked: every language)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # The entry wrote ``visible: false`` (the default): kept, so an unchanged test stays
    # the same entry.
    explicitly_hidden = forms.BooleanField(required=False, widget=forms.HiddenInput)

    FUNCTION_FIELDS = ("args", "kwargs", "expect", "raises", "tolerance")
    CLASS_FIELDS = ("init_args", "init_kwargs", "calls")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        given = self._given("languages")
        languages = self.fields["languages"]
        assert isinstance(languages, forms.ChoiceField)
        languages.choices = [
            (key, language_label(key)) for key in LANGUAGE_KEYS if key in LANGUAGES or key in given
        ]
        raises = self.fields["raises"]
        assert isinstance(raises, forms.ChoiceField)
        named = [str(v) for v in self._given("raises") if v and v not in ERRORS]
        raises.choices = [("", "—"), *ERROR_CHOICES, *((n, n) for n in named[:1])]

    def _given(self, name: str) -> list[Any]:
        """What this row holds for ``name``, posted or initial, as a list."""
        if self.is_bound:
            getlist = getattr(self.data, "getlist", None)
            return list(getlist(self.add_prefix(name))) if getlist else []
        value = self.initial.get(name)
        return list(value) if isinstance(value, list | tuple) else [value] if value else []


# --- the form -------------------------------------------------------------------------------
def _test_rule(place: str, target: str, message: Any = None) -> ErrorRule:
    """A rule for a message about one test (``challenge.tests[3] ('name')…``)."""
    return ErrorRule(
        rf"challenge\.tests\[(?P<row>\d+)\](?: \(.*?\))?{place}", target, message, first_row=0
    )


def _inside(rest: str) -> str:
    """Where inside a value a message points (``[2].sku``), in words, or nothing."""
    return f" (at {rest.lstrip('.')})" if rest else ""


def _call_message(groups: dict[str, str]) -> str:
    line = int(groups["call"]) + 1
    place = groups["place"]
    match = re.fullmatch(r"\.args\[\d+\] \((?P<param>[^)]*)\)(?P<rest>.*)", place)
    if match:
        what = f"the argument for {match['param']}{_inside(match['rest'])}"
    elif place.startswith(".kwargs"):
        what = "the keyword arguments" + _inside(place[len(".kwargs") :])
    elif place.startswith(".expect"):
        what = "the expected result" + _inside(place[len(".expect") :])
    elif place.startswith(".method"):
        what = "the method"
    else:
        what = ""
    why = groups["why"]
    declared = re.fullmatch(
        r"'(?P<error>[^']*)' is not in the signature's 'raises' \(declared: (?P<d>[^)]*)\)", why
    )
    if declared:
        return (
            f"Line {line}: the method does not declare {declared['error']} (it may raise: "
            f"{declared['d']}); tick it among the method's errors, or expect another."
        )
    return f"Line {line}: {what + ': ' if what else ''}{why}."


def _sentence(groups: dict[str, str]) -> str:
    """The spec's reason (the ``why`` group) as a sentence."""
    why = groups["why"]
    return f"{why[:1].upper()}{why[1:]}."


def _kwargs_message(groups: dict[str, str]) -> str:
    """A message about the keyword arguments, or about one of them (``.kwargs.ttl``)."""
    match = re.fullmatch(r"\.(?P<param>\w+)(?P<rest>.*)", groups["place"])
    if match:
        return f"The keyword argument {match['param']}{_inside(match['rest'])}: {groups['why']}."
    return _sentence(groups)


def _argument_message(groups: dict[str, str]) -> str:
    place = groups["place"]
    match = re.fullmatch(r"\[\d+\] \((?P<param>[^)]*)\)(?P<rest>.*)", place)
    if match:
        return f"The argument for {match['param']}{_inside(match['rest'])}: {groups['why']}."
    return _sentence(groups)


_UNKNOWN_TYPE = (
    "Unknown type {t!r}: use int, float, string, bool, any, list<T>, map<T> or a record's "
    "name (T? also allows null)."
)


def _type_message(groups: dict[str, str]) -> str:
    unknown = re.match(r"unknown type '(?P<t>[^']*)'", groups["why"])
    if unknown:
        return _UNKNOWN_TYPE.format(t=unknown["t"])
    return _sentence(groups)


def _method_param_message(groups: dict[str, str]) -> str:
    number = int(groups["p"]) + 1
    why = groups["why"]
    if groups["place"] == ".type":
        return f"Parameter {number}: {_type_message(groups)}"
    if why.startswith("duplicate parameter"):
        return f"Parameter {number}: another parameter already has this name."
    return f"Parameter {number}: {why}."


SIGNATURE = r"challenge\.signature"
METHOD = SIGNATURE + r"\.methods\.(?P<key>[^.:\s]+)"
PARAM = SIGNATURE + r"\.(?:params|init)\[(?P<row>\d+)\]"
RECORD = r"challenge\.records"

CODE_RULES = (
    # What the learner writes.
    ErrorRule(
        r"challenge\.entry_point: a function's neutral name is snake_case",
        "entry_point",
        "A function's name is snake_case, such as batch_lines.",
    ),
    ErrorRule(
        r"challenge\.entry_point: a class's neutral name is PascalCase",
        "entry_point",
        "A class's name is PascalCase, such as TTLCache.",
    ),
    ErrorRule(
        r"challenge\.entry_point: (?P<name>.*) is a reserved word",
        "entry_point",
        "{name} is a reserved word in one of the languages: choose another name.",
    ),
    ErrorRule(
        r"entry_point",
        "entry_point",
        "Name the function or class: letters, digits and underscores.",
    ),
    ErrorRule(r"challenge\.kind", "kind", "Choose a function or a class."),
    # The signature's parameters (a function's, or a class's constructor's).
    ErrorRule(
        PARAM + r"\.name: duplicate parameter",
        "params.name",
        "Another parameter already has this name.",
        first_row=0,
    ),
    ErrorRule(
        PARAM + r"\.name: expected a snake_case",
        "params.name",
        "Name the parameter in snake_case: lower-case letters, digits and underscores.",
        first_row=0,
    ),
    ErrorRule(PARAM + r"\.name", "params.name", first_row=0),
    ErrorRule(PARAM + r"\.type: (?P<why>.*)", "params.type", _type_message, first_row=0),
    ErrorRule(
        PARAM + r"\.default(?P<rest>[^:]*): (?P<why>.*)",
        "params.default",
        "The default{rest}: {why}.",
        first_row=0,
    ),
    ErrorRule(
        PARAM + r": .* has no default but follows",
        "params.default",
        "Give this parameter a default too: it follows one that has a default.",
        first_row=0,
    ),
    ErrorRule(PARAM, "params.*", first_row=0),
    # The methods of a class.
    ErrorRule(
        METHOD + r"\.params\[(?P<p>\d+)\](?P<place>\.\w+)?: (?P<why>.*)",
        "methods.params",
        _method_param_message,
        row_key="name",
    ),
    ErrorRule(METHOD + r"\.returns: (?P<why>.*)", "methods.returns", _type_message, row_key="name"),
    ErrorRule(
        METHOD + r": missing 'returns'",
        "methods.returns",
        "Give the return type (void when it returns nothing).",
        row_key="name",
    ),
    ErrorRule(METHOD + r"\.raises", "methods.raises", row_key="name"),
    ErrorRule(
        METHOD + r": expected a snake_case",
        "methods.name",
        "Name the method in snake_case, such as add_node.",
        row_key="name",
    ),
    ErrorRule(METHOD + r": (?P<why>.*)", "methods.name", "{why}.", row_key="name"),
    ErrorRule(SIGNATURE + r"\.methods: expected", "methods", "Give the class at least one method."),
    # The rest of the signature.
    ErrorRule(
        SIGNATURE + r": missing 'returns'",
        "returns",
        "Give the return type (void when it returns nothing).",
    ),
    ErrorRule(SIGNATURE + r"\.returns: (?P<why>.*)", "returns", _type_message),
    ErrorRule(SIGNATURE + r"\.raises", "raises"),
    ErrorRule(SIGNATURE + r"\.init_raises", "init_raises"),
    ErrorRule(
        r"challenge\.languages: a challenge offered in other languages needs a 'signature'",
        "returns",
        "Other languages need the signature: give the return type and the parameters.",
    ),
    # Records.
    ErrorRule(
        RECORD + r": records are only used by a 'signature'",
        "records",
        "Records are used by the signature: write the signature, or remove the records.",
    ),
    ErrorRule(
        RECORD + r": '(?P<key>[^']*)' is not a PascalCase",
        "records.name",
        "Name the record in PascalCase, such as Delivery.",
        row_key="name",
    ),
    ErrorRule(
        RECORD + r": '(?P<key>[^']*)' is a built-in type's name",
        "records.name",
        "This is the name of a built-in type: choose another.",
        row_key="name",
    ),
    ErrorRule(
        RECORD + r"\.(?P<key>[^.:\s]+): no parameter or result uses it",
        "records.name",
        "No parameter or result uses this record: use it, or remove it.",
        row_key="name",
    ),
    ErrorRule(
        RECORD + r"\.(?P<key>[^.:\s]+): expected a non-empty mapping",
        "records.record_fields",
        f"Give the record its fields: {FIELDS_HELP}.",
        row_key="name",
    ),
    ErrorRule(
        RECORD + r"\.(?P<key>[^.:\s]+)\.(?P<field>[^:]+): (?P<why>.*)",
        "records.record_fields",
        lambda g: f"The field {g['field']}: {_type_message(g)}",
        row_key="name",
    ),
    ErrorRule(
        RECORD + r"\.(?P<key>[^.:\s]+): (?P<why>.*)",
        "records.record_fields",
        "{why}.",
        row_key="name",
    ),
    # Rules.
    ErrorRule(
        r"challenge\.rules\[(?P<row>\d+)\]\.id: duplicate",
        "rules.id",
        "Another rule already has this id.",
        first_row=0,
    ),
    ErrorRule(
        r"challenge\.rules\[(?P<row>\d+)\]\.id",
        "rules.id",
        "Write the id in kebab-case, such as close-final-line.",
        first_row=0,
    ),
    ErrorRule(
        r"challenge\.rules\[(?P<row>\d+)\]\.text",
        "rules.text",
        "State the rule as the statement states it.",
        first_row=0,
    ),
    # Tests, field by field.
    ErrorRule(
        r"challenge\.tests: expected a non-empty list",
        "tests",
        "Write the tests: at least one visible and one hidden.",
    ),
    ErrorRule(
        r"challenge\.tests \((?P<key>.*?)\)\.rule: '(?P<rule>[^']*)' is not one of",
        "tests.rule",
        "{rule} is not one of the rules: add it to the rules, or correct the id.",
        row_key="name",
    ),
    ErrorRule(
        r"challenge\.tests: duplicate test name (?P<key>.*)",
        "tests.name",
        "Another test already has this name.",
        row_key="name",
    ),
    _test_rule(r": missing or empty 'name'", "tests.name", "Name the test."),
    _test_rule(
        r"\.calls\[(?P<call>\d+)\](?: \([^)]*\))?(?P<place>[^:]*): (?P<why>.*)",
        "tests.calls",
        _call_message,
    ),
    _test_rule(r"\.calls", "tests.calls", "Write at least one call, one per line."),
    _test_rule(
        r"\.init\.kwargs(?P<place>[^:]*): (?P<why>.*)", "tests.init_kwargs", _kwargs_message
    ),
    _test_rule(
        r"\.init(?:\.args)?(?P<place>[^:]*): (?P<why>.*)", "tests.init_args", _argument_message
    ),
    _test_rule(
        r"\.raises: '(?P<error>[^']*)' is not in the signature's 'raises' "
        r"\(declared: (?P<declared>[^)]*)\)",
        "tests.raises",
        "{error} is not among the errors the signature may raise ({declared}): tick it "
        "there, or choose another.",
    ),
    _test_rule(r"\.raises", "tests.raises"),
    _test_rule(
        r"\.expect(?P<place>[^:]*): (?P<why>.*)",
        "tests.expect",
        lambda g: f"The expected result{_inside(g['place'])}: {g['why']}.",
    ),
    _test_rule(r": needs exactly one of 'expect' or 'raises'", "tests.expect"),
    _test_rule(r"\.tolerance", "tests.tolerance"),
    _test_rule(r"\.kwargs(?P<place>[^:]*): (?P<why>.*)", "tests.kwargs", _kwargs_message),
    _test_rule(r"\.args(?P<place>[^:]*): (?P<why>.*)", "tests.args", _argument_message),
    _test_rule(
        r": (?P<place>)(?P<why>\d+ positional arguments.*|missing argument.*)",
        "tests.args",
        _argument_message,
    ),
    _test_rule(
        r"\.languages: a visible test",
        "tests.languages",
        "A visible test is an example in every language: untick the languages, or hide it.",
    ),
    _test_rule(r"\.languages", "tests.languages"),
    _test_rule(r"\.weight", "tests.weight", "The weight must be a positive number."),
    _test_rule(r"\.visible", "tests.visible"),
    # Python's wrong solutions.
    ErrorRule(
        r"challenge\.wrong_solutions\[(?P<row>\d+)\]\.breaks: '(?P<rule>[^']*)' is not one of",
        "wrong_solutions.breaks",
        "{rule} is not one of the rules: add it to the rules, or correct the id.",
        first_row=0,
    ),
    ErrorRule(
        r"challenge\.wrong_solutions\[(?P<row>\d+)\]\.source",
        "wrong_solutions.source",
        "Write the wrong solution's code.",
        first_row=0,
    ),
    ErrorRule(
        r"challenge\.wrong_solutions\[(?P<row>\d+)\]\.author",
        "wrong_solutions.author",
        "Name who wrote it.",
        first_row=0,
    ),
    ErrorRule(r"challenge\.starter", "starter"),
)


def _language_rules(key: str) -> tuple[ErrorRule, ...]:
    where = rf"challenge\.languages\.{key}"
    label = language_label(key)
    return (
        ErrorRule(
            where + r"\.reference_solution",
            f"{key}_reference_solution",
            f"Write the {label} reference solution, or remove its wrong solutions and starter.",
        ),
        ErrorRule(
            where + r"\.wrong_solutions\[(?P<row>\d+)\]\.breaks: '(?P<rule>[^']*)' is not one of",
            f"{key}_wrong.breaks",
            "{rule} is not one of the rules: add it to the rules, or correct the id.",
            first_row=0,
        ),
        ErrorRule(
            where + r"\.wrong_solutions\[(?P<row>\d+)\]\.source",
            f"{key}_wrong.source",
            "Write the wrong solution's code.",
            first_row=0,
        ),
        ErrorRule(where + r"\.wrong_solutions\[(?P<row>\d+)\]", f"{key}_wrong.*", first_row=0),
        ErrorRule(where + r"\.starter", f"{key}_starter"),
    )


class CodeChallengeForm(TypeForm):
    """A code challenge's spec, whole: see the module's docstring."""

    template = "quizzes/staff/itemforms/code.html"

    def __init__(
        self, *, data: QueryDict | None = None, entry: dict[str, Any] | None = None
    ) -> None:
        challenge = (entry or {}).get("challenge")
        self.unsupported = _unrepresentable(challenge) if entry and "challenge" in entry else None
        if self.unsupported:
            entry = None  # shown in YAML; the form's own fields stay blank
            challenge = None
        self._data, self._challenge = data, challenge if isinstance(challenge, dict) else {}
        if data is not None:
            self.kind = "class" if data.get("t-kind") == "class" else "function"
        else:
            self.kind = "class" if self._challenge.get("kind") == "class" else "function"
        self.languages = _other_languages(data, self._challenge)
        self.fields = self._fields()
        self.row_sets = self._row_sets()
        self.error_rules = (
            *CODE_RULES,
            *(rule for key in self.languages for rule in _language_rules(key)),
            *CHALLENGE_RULES,
        )
        super().__init__(data=data, entry=entry)

    @property
    def is_class(self) -> bool:
        return self.kind == "class"

    def _fields(self) -> dict[str, forms.Field]:
        fields: dict[str, forms.Field] = {
            "kind": forms.ChoiceField(label="The learner writes", choices=KINDS, required=False),
            "entry_point": forms.CharField(
                label="Its name",
                required=False,
                max_length=100,
                help_text="A function in snake_case (batch_lines), a class in PascalCase "
                "(TTLCache); each language sees it in its own convention.",
            ),
            "returns": forms.CharField(
                label="Return type",
                required=False,
                max_length=200,
                help_text="void when it returns nothing.",
            ),
            "raises": forms.MultipleChoiceField(
                label="Errors it may raise",
                choices=ERROR_CHOICES,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            ),
            "init_raises": forms.MultipleChoiceField(
                label="Errors the constructor may raise",
                choices=ERROR_CHOICES,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            ),
        }
        for key in ("python", *self.languages):
            prefix = "" if key == "python" else f"{key}_"
            label = language_label(key)
            fields[f"{prefix}starter"] = code_field(
                f"{label} starter",
                rows=6,
                help_text="What the editor opens with. Blank: generated from the signature "
                "(shown greyed here once the signature is valid).",
            )
            fields[f"{prefix}reference_solution"] = code_field(f"{label} reference solution")
        fields["time_limit"] = NumberField(
            label="Time limit (seconds of CPU)", required=False, help_text="Blank: 2."
        )
        fields["memory_limit_mb"] = NumberField(
            label="Memory limit (MiB)", required=False, help_text="Blank: 256."
        )
        fields["tests_author"] = forms.CharField(
            label="Tests written by", required=False, max_length=100
        )
        return fields

    def _row_sets(self) -> tuple[RowSet, ...]:
        params = "Constructor parameters" if self.is_class else "Parameters"
        sets = [
            RowSet("params", ParamRow, params, "Add a parameter", spare=1),
            RowSet("methods", MethodRow, "Methods", "Add a method", spare=1),
            RowSet("records", RecordRow, "Records (JSON objects of a fixed shape)", "Add a record"),
            RowSet("rules", RuleRow, "Rules the statement states", "Add a rule"),
            RowSet("tests", CodeTestRow, "Tests", "Add a test", spare=2, max_rows=MAX_TESTS),
            RowSet(
                "wrong_solutions",
                CodeWrongRow,
                f"{language_label('python')} wrong solutions",
                "Add a wrong solution",
                spare=1,
            ),
        ]
        for key in self.languages:
            label = language_label(key)
            sets.append(
                RowSet(
                    f"{key}_wrong",
                    CodeWrongRow,
                    f"{label} wrong solutions",
                    f"Add a {label} wrong solution",
                )
            )
        return tuple(sets)

    # --- the page --------------------------------------------------------------------------
    types_help = TYPES_HELP
    calls_help = CALLS_HELP

    @property
    def sets(self) -> dict[str, tuple[RowSet, Any]]:
        """Each row set and its formset, by name (the template lays them out one by one)."""
        return {rs.name: (rs, self.formsets[rs.name]) for rs in self.row_sets}

    def row_set(self, name: str) -> tuple[RowSet, Any]:
        return self.sets[name]

    def hidden_test_fields(self) -> tuple[str, ...]:
        """The fields of a test row not shown: the other kind's, and the keyword arguments
        while no parameter has a default and no test passes any."""
        hidden = CodeTestRow.FUNCTION_FIELDS if self.is_class else CodeTestRow.CLASS_FIELDS
        if not self._uses_kwargs():
            hidden = (*hidden, "kwargs", "init_kwargs")
        return hidden

    def _uses_kwargs(self) -> bool:
        def given(form: forms.Form, name: str) -> bool:
            return str(form[name].value() or "").strip() != ""

        return (
            any(given(f, "kwargs") or given(f, "init_kwargs") for f in self.formsets["tests"])
            or any(given(f, "default") for f in self.formsets["params"])
            or any("=" in str(f["params"].value() or "") for f in self.formsets["methods"])
        )

    def language_sections(self) -> list[dict[str, Any]]:
        """Python's and each other language's starter, reference and wrong solutions; a
        blank starter shows the one generated from the signature as its placeholder."""
        spec = self._spec()
        sections = []
        for key in ("python", *self.languages):
            prefix = "" if key == "python" else f"{key}_"
            starter = self.form[f"{prefix}starter"]
            if spec is not None and spec.signature is not None and key in LANGUAGES:
                starter.field.widget.attrs["placeholder"] = LANGUAGES[key].generate_starter(spec)
            sections.append(
                {
                    "key": key,
                    "label": language_label(key),
                    "starter": starter,
                    "reference": self.form[f"{prefix}reference_solution"],
                    "wrong": self.row_set("wrong_solutions" if key == "python" else f"{key}_wrong"),
                }
            )
        return sections

    def _spec(self) -> CodeChallengeSpec | None:
        """The spec as the form holds it, when it is valid (for the generated starters)."""
        challenge: Any = self._challenge
        if self._data is not None:
            posted = type(self)(data=self._data)
            if not posted.is_valid():
                return None
            challenge = posted.entry_fields()["challenge"]
        try:
            return code_spec_from_dict(challenge)
        except SpecError:
            return None

    # --- validation --------------------------------------------------------------------------
    def is_valid(self) -> bool:
        valid = super().is_valid()
        if getattr(self, "_checked", None) is None:
            self._checked = self._check_rows()
        return valid and self._checked

    def _check_rows(self) -> bool:
        """What the entry cannot say, checked before the spec sees it: two methods or two
        records of one name (a mapping keeps one), a test with both or neither of an
        expected result and an error."""
        fine = True
        for name in ("methods", "records"):
            seen: set[str] = set()
            for row in self._row_forms(name):
                named = row.cleaned_data["name"]
                if named in seen:
                    row.add_error("name", "Another row already has this name.")
                    fine = False
                seen.add(named)
        if not self.is_class:
            for row in self._row_forms("tests"):
                data = dict(row.cleaned_data)
                if data["raises"] and data["expect"] is not None:
                    row.add_error("raises", "Give the expected result or the error, not both.")
                    fine = False
                elif not data["raises"] and data["expect"] is None:
                    row.add_error(
                        "expect",
                        "Write the expected result as JSON (null for none), or choose the "
                        "error it raises.",
                    )
                    fine = False
        return fine

    # --- entry → form ----------------------------------------------------------------------
    def initial_from_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        challenge = self._challenge
        signature = challenge.get("signature") or {}
        initial: dict[str, Any] = {
            "kind": self.kind,
            "entry_point": challenge.get("entry_point", ""),
            "returns": signature.get("returns", ""),
            "raises": list(signature.get("raises") or []),
            "init_raises": list(signature.get("init_raises") or []),
            "starter": challenge.get("starter", ""),
            "reference_solution": challenge.get("reference_solution", ""),
            "time_limit": challenge.get("time_limit"),
            "memory_limit_mb": challenge.get("memory_limit_mb"),
            "tests_author": challenge.get("tests_author", ""),
        }
        params = signature.get("init" if self.is_class else "params") or []
        initial["params"] = [_param_initial(p) for p in params]
        initial["methods"] = [
            {
                "name": name,
                "params": method.get("params") or None,
                "returns": method.get("returns", ""),
                "raises": list(method.get("raises") or []),
            }
            for name, method in (signature.get("methods") or {}).items()
        ]
        initial["records"] = [
            {"name": name, "record_fields": fields}
            for name, fields in (challenge.get("records") or {}).items()
        ]
        initial["rules"] = [dict(r) for r in challenge.get("rules") or []]
        initial["tests"] = [_test_initial(t) for t in challenge.get("tests") or []]
        initial["wrong_solutions"] = _wrong_initial(challenge.get("wrong_solutions"))
        languages = challenge.get("languages") or {}
        for key in self.languages:
            material = languages.get(key) or {}
            initial[f"{key}_starter"] = material.get("starter", "")
            initial[f"{key}_reference_solution"] = material.get("reference_solution", "")
            initial[f"{key}_wrong"] = _wrong_initial(material.get("wrong_solutions"))
        return initial

    # --- form → entry ----------------------------------------------------------------------
    def entry_fields(self) -> dict[str, Any]:
        data = self.form.cleaned_data
        challenge: dict[str, Any] = {
            "entry_point": data["entry_point"],
            "kind": "class" if self.is_class else "function",
        }
        signature = self._signature(data)
        if signature is not None:
            challenge["signature"] = signature
        records = {row["name"]: row["record_fields"] or {} for row in self.rows("records")}
        if records:
            challenge["records"] = records
        for key in ("time_limit", "memory_limit_mb", "tests_author"):
            if data[key] not in (None, ""):
                challenge[key] = data[key]
        rules = [{"id": r["id"], "text": r["text"]} for r in self.rows("rules")]
        if rules:
            challenge["rules"] = rules
        if data["starter"].strip():
            challenge["starter"] = normalise_text(data["starter"])
        if data["reference_solution"].strip():
            challenge["reference_solution"] = normalise_text(data["reference_solution"])
        challenge["wrong_solutions"] = _wrong_entry(self.rows("wrong_solutions"))
        languages: dict[str, Any] = {}
        for key in self.languages:
            material: dict[str, Any] = {}
            if data[f"{key}_starter"].strip():
                material["starter"] = normalise_text(data[f"{key}_starter"])
            wrong = _wrong_entry(self.rows(f"{key}_wrong"))
            reference = normalise_text(data[f"{key}_reference_solution"])
            if material or wrong or reference.strip():
                # A blank reference is kept, for the spec to say it is missing.
                material["reference_solution"] = reference
            if wrong:
                material["wrong_solutions"] = wrong
            if material:
                languages[key] = material
        if languages:
            challenge["languages"] = languages
        challenge["tests"] = [self._test_entry(row) for row in self.rows("tests")]
        return {"challenge": challenge}

    def _signature(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """The signature the rows describe; None when they describe none (a Python-only
        challenge, as written before signatures)."""
        params = [_param_entry(row) for row in self.rows("params")]
        if not self.is_class:
            if not (params or data["returns"] or data["raises"]):
                return None
            signature: dict[str, Any] = {"params": params}
            if data["returns"]:
                signature["returns"] = data["returns"]
            if data["raises"]:
                signature["raises"] = data["raises"]
            return signature
        methods = {}
        for row in self.rows("methods"):
            method: dict[str, Any] = {}
            if row["params"]:
                method["params"] = row["params"]
            if row["returns"]:
                method["returns"] = row["returns"]
            if row["raises"]:
                method["raises"] = row["raises"]
            methods[row["name"]] = method
        if not (params or methods or data["init_raises"]):
            return None
        signature = {}
        if params:
            signature["init"] = params
        signature["methods"] = methods
        if data["init_raises"]:
            signature["init_raises"] = data["init_raises"]
        return signature

    def _test_entry(self, row: dict[str, Any]) -> dict[str, Any]:
        test: dict[str, Any] = {"name": row["name"]}
        if row["visible"]:
            test["visible"] = True
        elif row["explicitly_hidden"]:
            test["visible"] = False
        for key in ("weight", "rule"):
            if row[key] not in (None, ""):
                test[key] = row[key]
        if row["languages"]:
            test["languages"] = row["languages"]
        if self.is_class:
            init = {
                key: row[f"init_{key}"]["value"]
                for key in ("args", "kwargs")
                if row[f"init_{key}"] is not None
            }
            if init:
                test["init"] = init
            if row["calls"] is not None:
                test["calls"] = row["calls"]
            return test
        for key in ("args", "kwargs"):
            if row[key] is not None:
                test[key] = row[key]["value"]
        if row["raises"]:
            test["raises"] = row["raises"]
        elif row["expect"] is not None:
            test["expect"] = row["expect"]["value"]
        if row["tolerance"] is not None:
            test["tolerance"] = row["tolerance"]
        return test


def _other_languages(data: QueryDict | None, challenge: dict[str, Any]) -> list[str]:
    """The languages besides Python the form offers: the registered ones, and any other
    known language the entry (or what was posted) already holds material in."""
    held: Iterable[str]
    if data is not None:
        held = [k for k in LANGUAGE_KEYS if f"t-{k}_reference_solution" in data]
    else:
        held = list(challenge.get("languages") or {})
    return [k for k in LANGUAGE_KEYS if k != "python" and (k in LANGUAGES or k in held)]


def _param_initial(param: dict[str, Any]) -> dict[str, Any]:
    row = {"name": param.get("name", ""), "type": param.get("type", "")}
    if "default" in param:
        row["default"] = {"value": param["default"]}
    return row


def _param_entry(row: dict[str, Any]) -> dict[str, Any]:
    param = {"name": row["name"], "type": row["type"]}
    if row["default"] is not None:
        param["default"] = row["default"]["value"]
    return param


def _test_initial(test: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": test.get("name", ""),
        "visible": test.get("visible") is True,
        "explicitly_hidden": test.get("visible") is False,
        "weight": test.get("weight"),
        "rule": test.get("rule", ""),
        "languages": list(test.get("languages") or []),
        "raises": test.get("raises", ""),
        "tolerance": test.get("tolerance"),
        "calls": test.get("calls"),
    }
    for key in ("args", "kwargs", "expect"):
        if key in test:
            row[key] = {"value": test[key]}
    init = test.get("init") or {}
    for key in ("args", "kwargs"):
        if key in init:
            row[f"init_{key}"] = {"value": init[key]}
    return row


def _wrong_initial(wrong: Any) -> list[dict[str, Any]]:
    return [{"source": w} if isinstance(w, str) else dict(w) for w in wrong or []]


def _wrong_entry(rows: list[dict[str, Any]]) -> list[Any]:
    wrong: list[Any] = []
    for row in rows:
        source = normalise_text(row["source"])
        extra = {k: row[k] for k in ("breaks", "author") if row[k]}
        wrong.append({"source": source, **extra} if extra else source)
    return wrong


# --- what the form can show ------------------------------------------------------------------
@dataclass(frozen=True)
class _Scalar:
    """A value the form shows in one field: ``test`` says whether ``value`` is one."""

    test: Callable[[Any], bool]
    what: str


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TEXT = _Scalar(lambda v: isinstance(v, str), "text")
_NUMBER = _Scalar(_is_number, "a number")
_JSON = _Scalar(_jsonable, "a JSON value")
_JSON_LIST = _Scalar(lambda v: isinstance(v, list) and _jsonable(v), "a JSON list")
_JSON_MAP = _Scalar(lambda v: isinstance(v, dict) and _jsonable(v), "a JSON object")
_ERRORS = ("list", _Scalar(lambda v: v in ERRORS, f"one of {', '.join(ERRORS)}"))
_PARAMS = ("list", {"name": _TEXT, "type": _TEXT, "default": _JSON})
_WRONG = ("list", ("one of", [_TEXT, {"source": _TEXT, "breaks": _TEXT, "author": _TEXT}]))
_OTHER_LANGUAGES = tuple(k for k in LANGUAGE_KEYS if k != "python")
_CHALLENGE: dict[str, Any] = {
    "entry_point": _TEXT,
    "kind": _Scalar(lambda v: v in ("function", "class"), "function or class"),
    "signature": {
        "params": _PARAMS,
        "returns": _TEXT,
        "raises": _ERRORS,
        "init": _PARAMS,
        "methods": ("map", {"params": _PARAMS, "returns": _TEXT, "raises": _ERRORS}),
        "init_raises": _ERRORS,
    },
    "records": ("map", ("map", _TEXT)),
    "starter": _TEXT,
    "reference_solution": _TEXT,
    "wrong_solutions": _WRONG,
    "rules": ("list", {"id": _TEXT, "text": _TEXT}),
    "time_limit": _NUMBER,
    "memory_limit_mb": _NUMBER,
    "tests_author": _TEXT,
    "languages": (
        "keyed",
        _OTHER_LANGUAGES,
        {"starter": _TEXT, "reference_solution": _TEXT, "wrong_solutions": _WRONG},
    ),
    "tests": (
        "list",
        {
            "name": _TEXT,
            "visible": _Scalar(lambda v: isinstance(v, bool), "true or false"),
            "weight": _NUMBER,
            "rule": _TEXT,
            "languages": ("list", _Scalar(lambda v: v in LANGUAGE_KEYS, "a known language")),
            "args": _JSON_LIST,
            "kwargs": _JSON_MAP,
            "expect": _JSON,
            "raises": _TEXT,
            "tolerance": _NUMBER,
            "init": {"args": _JSON_LIST, "kwargs": _JSON_MAP},
            "calls": (
                "list",
                {
                    "method": _TEXT,
                    "args": _JSON_LIST,
                    "kwargs": _JSON_MAP,
                    "expect": _JSON,
                    "raises": _TEXT,
                    "tolerance": _NUMBER,
                },
            ),
        },
    ),
}


def _unrepresentable(challenge: Any) -> str | None:
    """Why the form cannot show ``challenge`` without losing part of it (a key the bank
    does not know, a value of the wrong kind), or None. Such an entry stays in YAML,
    where saving says what the bank expects."""
    problems: list[str] = []
    _walk(challenge, _CHALLENGE, "challenge", problems)
    if not problems:
        return None
    return (
        f"This challenge holds what the form cannot show ({problems[0]}): edit it in YAML, "
        "where saving says what the bank expects."
    )


def _walk(value: Any, shape: Any, where: str, problems: list[str]) -> None:
    """Check ``value`` against ``shape``: a ``_Scalar``; a dict of the keys a mapping may
    hold, each with its shape; ``("list", item)``; ``("map", value)`` (any text keys, each
    value of one shape); ``("keyed", keys, value)`` (the same, these keys only);
    ``("one of", [shapes])``."""
    if isinstance(shape, _Scalar):
        if not shape.test(value):
            problems.append(f"{where} is not {shape.what}")
        return
    if isinstance(shape, dict):  # these keys, each of its own shape
        if not isinstance(value, dict):
            problems.append(f"{where} is not a mapping")
            return
        for key, item in value.items():
            if key not in shape:
                problems.append(f"{where} has the unknown key {key!r}")
            else:
                _walk(item, shape[key], f"{where}.{key}", problems)
        return
    kind = shape[0]
    if kind == "list":
        if not isinstance(value, list):
            problems.append(f"{where} is not a list")
            return
        for index, item in enumerate(value):
            _walk(item, shape[1], f"{where}[{index}]", problems)
    elif kind == "one of":
        for option in shape[1]:
            found: list[str] = []
            _walk(value, option, where, found)
            if not found:
                return
        problems.append(f"{where} has an unexpected form")
    else:  # "map" (any text keys) or "keyed" (these keys only), every value of one shape
        if not isinstance(value, dict):
            problems.append(f"{where} is not a mapping")
            return
        for key, item in value.items():
            if not isinstance(key, str) or (kind == "keyed" and key not in shape[1]):
                problems.append(f"{where} has the unknown key {key!r}")
            else:
                _walk(item, shape[-1], f"{where}.{key}", problems)
