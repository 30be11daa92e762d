"""Fuzz every learner endpoint with random and adversarial input: never a 5xx.

Bodies are JSON values from ``st.recursive`` (deep, wide, huge and non-finite numbers,
lone surrogates, NUL, every key given a value of the wrong type) and raw bytes (nesting
thousands deep, bare NaN, broken encodings, forms and multipart). Each example runs in a
savepoint rolled back afterwards, so every request meets the same open attempt. A
request that fails must say so with a 4xx: no 5xx and nothing logged at ERROR by
``django.request``. Derandomized and bounded, so CI sees the same examples every run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizzes.assessments.services import attempt_examples_run, attempt_start
from quizzes.models import Attempt, QuizPool
from tests.factories import QuizFactory
from tests.samples import OBJECTIVE, PYTHON, SQL, load_sample_items

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- the endpoints -------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    attempt: Attempt
    positions: list[int]
    submission_id: int
    client: Client


@pytest.fixture
def target(topic: Any, learner: Any, private_cache: Any, monkeypatch: Any) -> Target:
    from rest_framework.throttling import ScopedRateThrottle

    # Throttling answers 429, which is fine, but it would hide the endpoint behind it.
    for scope in list(ScopedRateThrottle.THROTTLE_RATES):
        monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, scope, "100000/min")
    load_sample_items(topic.stage, topic.slug, [*OBJECTIVE, PYTHON, SQL])
    quiz = QuizFactory(stage=topic.stage, feedback_mode="immediate")
    QuizPool.objects.create(quiz=quiz, count=9, stage=topic.stage)
    attempt = attempt_start(learner=learner, quiz=quiz)
    if connection.vendor == "sqlite":  # PostgreSQL's jsonb cannot hold a lone surrogate
        # As if stored before input was checked: every page must still render it.
        attempt.items.filter(item_version__item__type="short_text").update(
            answer={"text": "\ud800"}, answer_revision=1
        )
    code = attempt.items.get(item_version__item__type="code")
    run = attempt_examples_run(attempt=attempt, position=code.position, code="x = 1")
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    client.get("/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    positions = sorted(attempt.items.values_list("position", flat=True))
    return Target(attempt, positions, run.pk, client)


@contextmanager
def rolled_back() -> Iterator[None]:
    """Whatever the example changed is undone, so the next one meets the same attempt."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def check(response: Any, caplog: pytest.LogCaptureFixture, what: str) -> None:
    errors = [
        r for r in caplog.records if r.name == "django.request" and r.levelno >= logging.ERROR
    ]
    caplog.clear()
    assert response.status_code < 500, (what, response.status_code, response.content[:300])
    assert not errors, (what, [r.getMessage() for r in errors])


# --- strategies ------------------------------------------------------------------------
ANSWER_KEYS = ["choice", "choices", "order", "pairs", "value", "text", "code"]
surrogate = st.integers(0xD800, 0xDFFF).map(chr)
nasty_text = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(st.characters(), surrogate, st.just("\x00")), max_size=10).map("".join),
    st.sampled_from(
        ["", " ", "NaN", "Infinity", "-inf", "1e999", "-1e400", "9" * 400, "1,000.5", "0x10"]
    ),
)
nasty_number = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 2**31 - 1, 2**31, 2**63, 2**64, 10**100, -(10**300), 10**400]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, 1.5]),
)
leaf = st.one_of(st.none(), st.booleans(), nasty_number, nasty_text)
json_value = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(ANSWER_KEYS), nasty_text), children, max_size=4),
    ),
    max_leaves=12,
)
answer = st.one_of(
    json_value,
    st.dictionaries(st.sampled_from(ANSWER_KEYS), json_value, max_size=3),
)
answer_body = st.fixed_dictionaries(
    {}, optional={"answer": answer, "revision": st.one_of(nasty_number, json_value)}
)
flag_body = st.fixed_dictionaries({}, optional={"flagged": json_value, "note": json_value})
run_body = st.fixed_dictionaries({}, optional={"code": json_value, "request_id": json_value})
any_body = st.one_of(json_value, answer_body, flag_body, run_body)


def _deep(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"answer": ' + "[" * depth + "]" * depth + ', "revision": 1, "code": "x"}'


raw_body = st.one_of(
    st.builds(_deep, st.integers(1, 6000), st.sampled_from(["array", "object", "answer"])),
    st.sampled_from(
        [
            '{"answer": {"value": NaN}, "revision": 1}',
            '{"answer": {"value": Infinity}, "revision": -Infinity}',
            '{"answer": {"value": 1e99999}, "revision": 1e99999}',
            '{"answer": {"value": ' + "9" * 5000 + '}, "revision": 1}',
            '{"answer": {"text": "\\ud800"}, "revision": 1}',
            '{"answer": {"text": "\\u0000"}, "revision": 1}',
            '{"code": "\\udfff", "flagged": "\\ud800"}',
            '{"answer": {"text": "unterminated',
            '{"answer": {"text": "\\"\\"\\"\\"\\"\\"\\"',
            "",
            "null",
            "[]",
            '"just a string"',
        ]
    ),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)
content_type = st.sampled_from(
    [
        "application/json",
        "application/json",
        "application/json; charset=utf-16",
        "application/json; charset=bz2_codec",
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=utf-16",
        "multipart/form-data; boundary=x",
        "multipart/form-data",
        "text/plain",
    ]
)


def encode(value: Any) -> bytes:
    """JSON text as a client might send it; surrogates travel as \\u escapes."""
    return json.dumps(value).encode()


# --- the API ---------------------------------------------------------------------------
API_WRITES = {
    "answer": ("PUT", "/api/attempts/{a}/answers/{p}", answer_body),
    "flag": ("POST", "/api/attempts/{a}/flags/{p}", flag_body),
    "run": ("POST", "/api/attempts/{a}/items/{p}/run", run_body),
    "submit": ("POST", "/api/attempts/{a}/submit", any_body),
    "start": ("POST", "/api/quizzes/{slug}/attempts", any_body),
}


@FUZZ
@given(data=st.data())
def test_api_writes_never_fail_on_any_json(
    target: Target, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(API_WRITES)), label="endpoint")
    method, path, body_strategy = API_WRITES[name]
    position = data.draw(
        st.one_of(st.sampled_from(target.positions), st.integers(0, 2**70)), label="position"
    )
    body = data.draw(st.one_of(body_strategy, any_body), label="body")
    url = path.format(a=target.attempt.pk, p=position, slug=target.attempt.quiz.slug)
    with rolled_back():
        response = target.client.generic(method, url, encode(body), content_type="application/json")
    check(response, caplog, f"{method} {url}")
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"


@FUZZ
@given(data=st.data())
def test_api_writes_never_fail_on_raw_bodies(
    target: Target, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(API_WRITES)), label="endpoint")
    method, path, _ = API_WRITES[name]
    position = data.draw(st.sampled_from(target.positions), label="position")
    body = data.draw(raw_body, label="body")
    kind = data.draw(content_type, label="content type")
    url = path.format(a=target.attempt.pk, p=position, slug=target.attempt.quiz.slug)
    with rolled_back():
        response = target.client.generic(
            method, url, body.encode("utf-8", "surrogatepass"), content_type=kind
        )
    check(response, caplog, f"{method} {url} {kind}")
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"


query = st.dictionaries(
    st.text(st.characters(codec="utf-8"), max_size=8),
    st.text(st.characters(codec="utf-8"), max_size=20),
    max_size=3,
)


@FUZZ
@given(data=st.data())
def test_api_reads_never_fail(
    target: Target, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    some_id = st.one_of(st.just(target.attempt.pk), st.integers(0, 2**70))
    url = data.draw(
        st.sampled_from(
            [
                "/api/attempts/{a}",
                "/api/submissions/{s}",
                "/api/dashboard/",
                "/api/stages/",
            ]
        ),
        label="url",
    ).format(
        a=data.draw(some_id, label="attempt"),
        s=data.draw(st.one_of(st.just(target.submission_id), some_id), label="submission"),
    )
    params = data.draw(query, label="query")
    accept = data.draw(
        st.sampled_from(["application/json", "*/*", "text/html", "application/xml"]),
        label="accept",
    )
    response = target.client.get(url, params, HTTP_ACCEPT=accept)
    check(response, caplog, f"GET {url}")


# --- the learner's page forms ------------------------------------------------------------
PAGE_FORMS = {
    "start": "/quizzes/{slug}/start",
    "check": "/attempts/{a}/check/{p}",
    "submit": "/attempts/{a}/submit",
}
form_fields = st.dictionaries(
    st.text(st.characters(codec="utf-8"), max_size=10),
    st.text(st.characters(codec="utf-8"), max_size=50),
    max_size=5,
)


@FUZZ
@given(data=st.data())
def test_page_forms_never_fail(
    target: Target, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(PAGE_FORMS)), label="form")
    position = data.draw(
        st.one_of(st.sampled_from(target.positions), st.integers(0, 2**70)), label="position"
    )
    url = PAGE_FORMS[name].format(a=target.attempt.pk, p=position, slug=target.attempt.quiz.slug)
    how = data.draw(st.sampled_from(["form", "raw", "json"]), label="how")
    with rolled_back():
        if how == "form":
            fields = data.draw(form_fields, label="fields")
            response = target.client.post(url, fields, HTTP_HX_REQUEST="true")
        elif how == "raw":
            body = data.draw(raw_body, label="body")
            kind = data.draw(content_type, label="content type")
            response = target.client.generic(
                "POST", url, body.encode("utf-8", "surrogatepass"), content_type=kind
            )
        else:
            body = data.draw(any_body, label="body")
            response = target.client.generic(
                "POST", url, encode(body), content_type="application/json"
            )
    check(response, caplog, f"POST {url} {how}")


@FUZZ
@given(data=st.data())
def test_result_pages_never_fail(
    target: Target, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    attempt_id = data.draw(
        st.one_of(st.just(target.attempt.pk), st.integers(0, 2**70)), label="attempt"
    )
    url = data.draw(
        st.sampled_from(["/attempts/{a}/result", "/attempts/{a}/result/status"]), label="url"
    ).format(a=attempt_id)
    with rolled_back():
        if data.draw(st.booleans(), label="submitted"):
            target.client.post(f"/attempts/{target.attempt.pk}/submit")
        response = target.client.get(url, data.draw(query, label="query"))
    check(response, caplog, f"GET {url}")
