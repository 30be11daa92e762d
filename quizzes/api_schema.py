"""The API's typed answer: one shape per item type, taken from the item-type registry.

An answer is a JSON object whose shape its item's type fixes (``answer_serializer`` of each
handler in quizzes/itemtypes/); the schema offers each type's shape (``anyOf``), names
each one after its serializer, and gives an example per type (``answer_example``). The
server checks the answer against its own item's type and refuses anything else with a
400 naming the field.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from quizzes.itemtypes import all_handlers, type_names

# Every item type's name, as the API's enum of types (``ENUM_NAME_OVERRIDES``).
ITEM_TYPE_CHOICES = [(name, name) for name in type_names()]


class TrueFalseFieldSchema(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    target_class = "quizzes.itemtypes.true_false.TrueFalseField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return {"type": "boolean", "nullable": True, "description": "true, false or null."}


class NumberTextFieldSchema(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    target_class = "quizzes.itemtypes.numeric.NumberTextField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        number = {
            "type": "string",
            "description": "The number as typed ('1500', '0.25', '1.5e3'; a unit may follow).",
        }
        if direction == "request":
            return {"anyOf": [number, {"type": "number"}], "nullable": True}
        return number


def _answer_serializers() -> list[type[serializers.Serializer[Any]]]:
    return list(dict.fromkeys(handler.answer_serializer for handler in all_handlers()))


ANSWER_SCHEMA = PolymorphicProxySerializer(
    component_name="Answer",
    serializers=_answer_serializers(),
    resource_type_field_name=None,
)


def answer_examples(*, revision: bool = True) -> list[OpenApiExample]:
    """One example request per item type."""
    return [
        OpenApiExample(
            handler.label,
            value={"answer": handler.answer_example, "revision": 1}
            if revision
            else handler.answer_example,
            request_only=True,
        )
        for handler in all_handlers()
    ]


@extend_schema_field(ANSWER_SCHEMA)
class AnswerField(serializers.JSONField):
    """An answer from a JSON body. DRF's JSONField would also ``json.loads`` a form field's
    text, past the bounds the JSON parser keeps (quizzes/parsers.py); here a form field
    stays the text it is (and an answer must be an object). The item's type checks it."""

    def get_value(self, dictionary: Any) -> Any:
        return dictionary.get(self.field_name, empty)


class PresenterOut(serializers.Serializer[Any]):
    """The output of a presenter's dict: a key the presenter left out (the review's fields
    before feedback is due, a submission's score before it is graded) stays out, instead of
    coming out as null."""

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        if isinstance(instance, dict):
            return {key: value for key, value in data.items() if key in instance}
        return data


def answers_closed(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook. An answer may fit more than one type's shape
    (``{"value": null}`` is a blank true/false and a blank numeric answer), so the answer is
    ``anyOf`` its types, not ``oneOf``; and each shape is closed: a field the type does not
    know is refused, not ignored."""
    schemas = result.get("components", {}).get("schemas", {})
    names = {s.__name__ for s in _answer_serializers()}
    for name, schema in schemas.items():
        if name in ("Answer", "AnswerRequest") and "oneOf" in schema:
            schema["anyOf"] = schema.pop("oneOf")
        elif name in names or name.removesuffix("Request") in names:
            schema["additionalProperties"] = False
    return result
