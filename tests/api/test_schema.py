"""The OpenAPI schema of v1 describes every body and every status code: no ``default``
responses, no untyped objects, problem details for every 4xx, an answer shape and an
example per item type, and links along the attempt flow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from quizzes.itemtypes import all_handlers

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in METHODS:
                yield path, method, operation


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def untyped(schema: dict[str, Any], node: Any, where: str, seen: set[str]) -> list[str]:
    """Every place under ``node`` that is an object (or anything) with no shape given."""
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return []
        seen.add(name)
        return untyped(schema, schema["components"]["schemas"][name], name, seen)
    found = []
    for combinator in ("anyOf", "oneOf", "allOf"):
        for index, option in enumerate(node.get(combinator, [])):
            found += untyped(schema, option, f"{where}.{combinator}[{index}]", seen)
    if any(k in node for k in ("anyOf", "oneOf", "allOf")):
        return found
    kind = node.get("type")
    if kind is None and "enum" not in node:
        found.append(f"{where}: no type")
    if kind == "object":
        extra = node.get("additionalProperties")
        if not node.get("properties") and not isinstance(extra, dict):
            found.append(f"{where}: an object without properties")
        if extra is True or extra == {}:
            found.append(f"{where}: free-form additional properties")
        for name, prop in node.get("properties", {}).items():
            found += untyped(schema, prop, f"{where}.{name}", seen)
        if isinstance(extra, dict):
            found += untyped(schema, extra, f"{where}.*", seen)
    if kind == "array":
        found += untyped(schema, node.get("items"), f"{where}[]", seen)
    return found


def test_the_schema_covers_the_v1_routes_only(schema: dict[str, Any]) -> None:
    paths = list(schema["paths"])
    assert len(paths) >= 35
    assert all(p.startswith("/api/v1/") for p in paths)
    assert "/api/v1/attempts/{attempt_id}/answers/{position}" in paths


def test_no_operation_has_a_default_response(schema: dict[str, Any]) -> None:
    offenders = [
        f"{m.upper()} {p}" for p, m, op in operations(schema) if "default" in op["responses"]
    ]
    assert offenders == []


def test_every_operation_is_named_tagged_and_secured(schema: dict[str, Any]) -> None:
    ids = []
    for path, method, operation in operations(schema):
        ids.append(operation["operationId"])
        assert operation.get("tags"), (method, path)
        assert {"tokenAuth": []} in operation["security"], (method, path)
        assert {"cookieAuth": []} in operation["security"], (method, path)
    assert len(ids) == len(set(ids))
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"


def test_every_body_is_typed(schema: dict[str, Any]) -> None:
    problems = []
    for path, method, operation in operations(schema):
        request = operation.get("requestBody", {}).get("content", {})
        for media, body in request.items():
            problems += untyped(schema, body["schema"], f"{method} {path} request {media}", set())
        for status, response in operation["responses"].items():
            for media, body in response.get("content", {}).items():
                if media == "text/csv":
                    assert resolve(schema, body["schema"])["type"] == "string"
                    continue
                where = f"{method} {path} {status} {media}"
                problems += untyped(schema, body["schema"], where, set())
    assert problems == []


def test_every_success_has_a_body_or_is_a_204(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        assert successes, (method, path)
        for status, response in successes.items():
            assert status == "204" or response.get("content"), (method, path, status)


def test_every_refusal_is_documented_as_problem_details(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        for status in ("400", "401", "403", "404", "429"):
            content = responses[status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
        assert "Retry-After" in responses["429"]["headers"]
        if "requestBody" in operation:
            assert "415" in responses and "413" in responses
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert problem["properties"]["errors"]["items"]["required"] == ["field", "message"]


def test_the_answer_has_the_shape_of_every_item_type_and_an_example_each(
    schema: dict[str, Any],
) -> None:
    components = schema["components"]["schemas"]
    answer = components["Answer"]
    shapes = {ref["$ref"].rsplit("/", 1)[1] for ref in answer["anyOf"]}
    assert shapes == {h.answer_serializer.__name__ for h in all_handlers()}
    for name in shapes:
        assert components[name]["additionalProperties"] is False
        assert components[name]["properties"]
    save = schema["paths"]["/api/v1/attempts/{attempt_id}/answers/{position}"]["put"]
    examples = save["requestBody"]["content"]["application/json"]["examples"]
    given = [e["value"]["answer"] for e in examples.values()]
    assert len(given) == len(list(all_handlers()))
    for handler in all_handlers():
        assert handler.answer_example in given
        assert set(handler.answer_example) <= set(handler.answer_serializer().fields)


def test_links_follow_the_attempt_flow(schema: dict[str, Any]) -> None:
    start = schema["paths"]["/api/v1/quizzes/{slug}/attempts"]["post"]
    links = start["responses"]["201"]["links"]
    assert links["answer_save"]["operationId"] == "answer_save"
    assert links["answer_save"]["parameters"] == {
        "attempt_id": "$response.body#/id",
        "position": "$response.body#/items/0/position",
    }
    ids = {op["operationId"] for _, _, op in operations(schema)}
    for _, _, operation in operations(schema):
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in ids


def test_lists_are_paginated_filtered_and_ordered(schema: dict[str, Any]) -> None:
    lists = [
        (p, op)
        for p, m, op in operations(schema)
        if m == "get" and "results" in resolve(schema, _ok(schema, op)).get("properties", {})
    ]
    assert len(lists) >= 10
    for path, operation in lists:
        names = {p["name"] for p in operation.get("parameters", [])}
        assert {"page", "page_size"} <= names, path
        if path.endswith(("/attempts/", "/quizzes/", "/items/", "/users/")):
            assert "ordering" in names, path


def _ok(schema: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    content = operation["responses"].get("200", {}).get("content", {})
    return content.get("application/json", {}).get("schema", {})


def test_the_docs_pages_are_served(db: None) -> None:
    client = Client()
    swagger = client.get("/api/v1/docs/")
    assert swagger.status_code == 200 and b"swagger" in swagger.content.lower()
    redoc = client.get("/api/v1/redoc/")
    assert redoc.status_code == 200 and b"redoc" in redoc.content.lower()
    assert "'unsafe-inline'" in redoc["Content-Security-Policy"]
    assert "'unsafe-inline'" not in swagger.get("Content-Security-Policy", "")
