"""Malformed input is refused cleanly: a 4xx problem-details body, and nothing changes.

Found by hostile probes: each class here used to answer a 500 (or an HTML error page).
Every refusal is RFC 9457 problem details (``application/problem+json``) naming the
field at fault, and leaves the attempt, its answers, events and submissions untouched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError, connection, transaction
from django.test import Client

from quizzes.assessments.services import attempt_start, attempt_submit
from quizzes.models import (
    Attempt,
    AttemptEvent,
    AttemptItem,
    QuizPool,
    Submission,
)
from tests.factories import QuizFactory, UserFactory
from tests.samples import OBJECTIVE, PYTHON, load_sample_items

pytestmark = pytest.mark.django_db

PROBLEM_JSON = "application/problem+json"
INVALID_INPUT = "tag:skillmap,2026:problem:invalid-input"
MALFORMED_BODY = "tag:skillmap,2026:problem:malformed-body"
TOO_DEEP = "tag:skillmap,2026:problem:json-too-deep"
TOO_LARGE = "tag:skillmap,2026:problem:payload-too-large"
ATTEMPT_REFUSED = "tag:skillmap,2026:problem:attempt-refused"
ATTEMPT_CLOSED = "tag:skillmap,2026:problem:attempt-closed"


# --- fixtures and helpers ------------------------------------------------------------
@pytest.fixture
def quiz(topic: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [*OBJECTIVE, PYTHON])
    quiz = QuizFactory(stage=topic.stage, feedback_mode="immediate")
    QuizPool.objects.create(quiz=quiz, count=8, stage=topic.stage)
    return quiz


@pytest.fixture
def attempt(quiz: Any, learner: Any) -> Attempt:
    return attempt_start(learner=learner, quiz=quiz)


def csrf_client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(user)
    client.get("/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


@pytest.fixture
def api(learner: Any) -> Client:
    return csrf_client(learner)


def position(attempt: Attempt, item_type: str) -> int:
    return int(attempt.items.get(item_version__item__type=item_type).position)


def send(client: Client, method: str, url: str, body: Any, content_type: str = "") -> Any:
    """Send ``body`` as is (str or bytes) or as JSON; the client never re-encodes it."""
    if not isinstance(body, str | bytes):
        body = json.dumps(body)
    return client.generic(
        method.upper(), url, body, content_type=content_type or "application/json"
    )


def state(attempt: Attempt) -> Any:
    """Everything a refused request must leave as it was."""
    return (
        list(
            AttemptItem.objects.filter(attempt=attempt)
            .order_by("position")
            .values_list("answer", "answer_revision", "saved_at", "flagged", "locked")
        ),
        Attempt.objects.get(pk=attempt.pk).status,
        list(AttemptEvent.objects.filter(attempt=attempt).values_list("kind", flat=True)),
        Submission.objects.count(),
        Attempt.objects.count(),
    )


def problem(response: Any, status: int, problem_type: str | None = None) -> dict[str, Any]:
    """The response is RFC 9457 problem details with ``status``; its body."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == PROBLEM_JSON
    body: dict[str, Any] = json.loads(response.content)
    assert body["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str) and body[member], member
    if problem_type is not None:
        assert body["type"] == problem_type
    return body


def field_errors(body: dict[str, Any]) -> dict[str, str]:
    errors = body["errors"]
    assert isinstance(errors, list) and errors
    for error in errors:
        assert set(error) == {"field", "message"}
        assert isinstance(error["field"], str) and isinstance(error["message"], str)
        assert error["message"]
    return {e["field"]: e["message"] for e in errors}


# --- 1. every answer is validated against its type's schema ---------------------------
@pytest.mark.parametrize(
    ("item_type", "answer", "field", "message"),
    [
        ("single_choice", {"choice": ["x"]}, "answer.choice", "Not a valid string."),
        ("single_choice", {"choice": {"token": "x"}}, "answer.choice", "Not a valid string."),
        ("single_choice", {"choice": 7}, "answer.choice", "Not a valid string."),
        ("multiple_choice", {"choices": [["x"]]}, "answer.choices.0", "Not a valid string."),
        ("multiple_choice", {"choices": {"a": 1}}, "answer.choices", "Expected a list"),
        ("ordering", {"order": ["a", 1, None]}, "answer.order.1", "Not a valid string."),
        ("ordering", {"order": [["a"], {"b": 1}]}, "answer.order.0", "Not a valid string."),
        ("ordering", {"order": "abc"}, "answer.order", "Put every entry in order"),
        ("matching", {"pairs": {"a": ["x"]}}, "answer.pairs.a", "Not a valid string."),
        ("matching", {"pairs": [["a", "b"]]}, "answer.pairs", "do not belong"),
        ("true_false", {"value": [True]}, "answer.value", "Answer true or false."),
        ("numeric", {"value": {"n": 1}}, "answer.value", "Enter a number"),
        ("short_text", {"text": ["a"]}, "answer.text", "characters"),
        ("code", {"code": {"src": "x"}}, "answer.code", "Code must be text"),
        ("short_text", ["not", "an", "object"], "answer", "JSON object"),
        ("numeric", "42", "answer", "JSON object"),
    ],
)
def test_an_answer_of_the_wrong_shape_is_refused_naming_the_field(
    api: Client, attempt: Attempt, item_type: str, answer: Any, field: str, message: str
) -> None:
    before = state(attempt)
    url = f"/api/attempts/{attempt.pk}/answers/{position(attempt, item_type)}"
    body = problem(send(api, "put", url, {"answer": answer, "revision": 1}), 400, INVALID_INPUT)
    errors = field_errors(body)
    assert list(errors) == [field]
    assert message in errors[field]
    assert body["detail"] == errors[field]
    assert state(attempt) == before


@pytest.mark.parametrize(
    ("item_type", "body", "field", "message"),
    [
        ("numeric", {"answer": {"value": 10**400}, "revision": 1}, "answer.value", "Enter a"),
        ("numeric", {"answer": {"value": -(10**300)}, "revision": 1}, "answer.value", "Enter a"),
        ("numeric", {"answer": {"value": "9" * 400}, "revision": 1}, "answer.value", "Enter a"),
        ("numeric", {"answer": {"value": "1e999"}, "revision": 1}, "answer.value", "Enter a"),
        ("numeric", {"answer": {"value": "-1e400"}, "revision": 1}, "answer.value", "Enter a"),
        ("numeric", {"answer": {"value": "1" * 150}, "revision": 1}, "answer.value", "Enter a"),
        ("true_false", {"answer": {"value": True}, "revision": 2**63}, "revision", "less than"),
        ("true_false", {"answer": {"value": True}, "revision": 2**64}, "revision", "less than"),
        ("true_false", {"answer": {"value": True}, "revision": 2**31}, "revision", "less than"),
        ("true_false", {"answer": {"value": True}, "revision": 10**400}, "revision", "less than"),
        ("true_false", {"answer": {"value": True}, "revision": 1e300}, "revision", "integer"),
    ],
)
def test_numbers_and_revisions_out_of_range_are_refused_not_overflowed(
    api: Client, attempt: Attempt, item_type: str, body: Any, field: str, message: str
) -> None:
    before = state(attempt)
    url = f"/api/attempts/{attempt.pk}/answers/{position(attempt, item_type)}"
    errors = field_errors(problem(send(api, "put", url, body), 400, INVALID_INPUT))
    assert message in errors[field]
    assert state(attempt) == before
    # The largest revision the column holds is still accepted.
    fine = {"value": "1"} if item_type == "numeric" else {"value": True}
    saved = send(api, "put", url, {"answer": fine, "revision": 2**31 - 1})
    assert saved.status_code == 200 and saved.json()["revision"] == 2**31 - 1


# --- 2. every API error is RFC 9457 problem details ----------------------------------
def _anonymous(api: Client, attempt: Attempt) -> Any:
    return Client().post(f"/api/quizzes/{attempt.quiz.slug}/attempts")


def _not_a_learner(api: Client, attempt: Attempt) -> Any:
    user = UserFactory()
    user.groups.clear()  # no role: cannot take quizzes
    return csrf_client(user).post(f"/api/quizzes/{attempt.quiz.slug}/attempts")


def _someone_elses(api: Client, attempt: Attempt) -> Any:
    other = attempt_start(learner=UserFactory(), quiz=attempt.quiz)
    return send(api, "put", f"/api/attempts/{other.pk}/answers/1", {"answer": {}, "revision": 1})


def _no_such_route(api: Client, attempt: Attempt) -> Any:
    return api.get(f"/api/attempts/{attempt.pk}/nothing-here")


def _wrong_method(api: Client, attempt: Attempt) -> Any:
    return api.get(f"/api/attempts/{attempt.pk}/submit")


def _closed(api: Client, attempt: Attempt) -> Any:
    attempt_submit(attempt=attempt)
    url = f"/api/attempts/{attempt.pk}/answers/{position(attempt, 'true_false')}"
    return send(api, "put", url, {"answer": {"value": True}, "revision": 1})


def _refused(api: Client, attempt: Attempt) -> Any:
    url = f"/api/attempts/{attempt.pk}/items/{position(attempt, 'true_false')}/run"
    return send(api, "post", url, {"code": "x = 1"})


def _unsupported(api: Client, attempt: Attempt) -> Any:
    url = f"/api/attempts/{attempt.pk}/answers/1"
    return send(api, "put", url, "answer=1&revision=1", "text/plain")


def _not_json(api: Client, attempt: Attempt) -> Any:
    return send(api, "put", f"/api/attempts/{attempt.pk}/answers/1", '{"answer": {')


def _nan(api: Client, attempt: Attempt) -> Any:
    url = f"/api/attempts/{attempt.pk}/answers/{position(attempt, 'numeric')}"
    return send(api, "put", url, '{"answer": {"value": NaN}, "revision": 1}')


def _missing_revision(api: Client, attempt: Attempt) -> Any:
    return send(api, "put", f"/api/attempts/{attempt.pk}/answers/1", {"answer": {}})


def _not_an_object(api: Client, attempt: Attempt) -> Any:
    return send(api, "post", f"/api/attempts/{attempt.pk}/flags/1", [True])


@pytest.mark.parametrize(
    ("make", "status", "problem_type", "errors"),
    [
        (_anonymous, 401, "about:blank", None),
        (_not_a_learner, 403, "about:blank", None),
        (_someone_elses, 404, "about:blank", None),
        (_no_such_route, 404, "about:blank", None),
        (_wrong_method, 405, "about:blank", None),
        (_closed, 409, ATTEMPT_CLOSED, None),
        (_refused, 400, ATTEMPT_REFUSED, None),
        (_unsupported, 415, "about:blank", None),
        (_not_json, 400, MALFORMED_BODY, None),
        (_nan, 400, MALFORMED_BODY, None),
        (_missing_revision, 400, INVALID_INPUT, {"revision": "This field is required."}),
        (_not_an_object, 400, INVALID_INPUT, {"body": "Invalid data. Expected a dictionary"}),
    ],
)
def test_every_api_error_is_problem_details(
    api: Client,
    attempt: Attempt,
    make: Callable[[Client, Attempt], Any],
    status: int,
    problem_type: str,
    errors: dict[str, str] | None,
) -> None:
    body = problem(make(api, attempt), status, problem_type)
    if problem_type == "about:blank":
        from http import HTTPStatus

        assert body["title"] == HTTPStatus(status).phrase
    if errors is None:
        assert "errors" not in body
    else:
        found = field_errors(body)
        for field, message in errors.items():
            assert message in found[field]


def test_throttling_is_problem_details_with_retry_after(
    api: Client, attempt: Attempt, monkeypatch: pytest.MonkeyPatch, private_cache: Any
) -> None:
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "run_examples", "1/min")
    url = f"/api/attempts/{attempt.pk}/items/{position(attempt, 'code')}/run"
    assert send(api, "post", url, {"code": "x = 1"}).status_code == 202
    limited = send(api, "post", url, {"code": "x = 2"})
    body = problem(limited, 429, "about:blank")
    assert body["title"] == "Too Many Requests"
    assert "too many code runs" in body["detail"].lower()
    assert int(limited["Retry-After"]) == body["retry_after"] > 0
    assert Submission.objects.count() == 1


# --- 3. JSON depth and size are bounded at the parser ---------------------------------
def _endpoints(attempt: Attempt) -> dict[str, tuple[str, str]]:
    code = position(attempt, "code")
    return {
        "answer": ("put", f"/api/attempts/{attempt.pk}/answers/{code}"),
        "flag": ("post", f"/api/attempts/{attempt.pk}/flags/{code}"),
        "run": ("post", f"/api/attempts/{attempt.pk}/items/{code}/run"),
        "submit": ("post", f"/api/attempts/{attempt.pk}/submit"),
        "start": ("post", f"/api/quizzes/{attempt.quiz.slug}/attempts"),
    }


DEEP = 5000


@pytest.mark.parametrize("endpoint", ["answer", "flag", "run", "submit", "start"])
@pytest.mark.parametrize(
    "body",
    [
        "[" * DEEP + "]" * DEEP,
        '{"a":' * DEEP + "1" + "}" * DEEP,
        '{"answer": {"code": ' + "[" * DEEP + "]" * DEEP + '}, "revision": 1, "flagged": true}',
        '{"answer": {"code": ' + "[" * 40 + "]" * 40 + '}, "revision": 1, "code": "x"}',
    ],
    ids=["array", "object", "inside-answer", "depth-40"],
)
def test_deeply_nested_json_is_refused_on_every_endpoint(
    api: Client, attempt: Attempt, endpoint: str, body: str
) -> None:
    before = state(attempt)
    method, url = _endpoints(attempt)[endpoint]
    problem(send(api, method, url, body), 400, TOO_DEEP)
    assert state(attempt) == before


def test_form_encoded_json_cannot_slip_past_the_parser(api: Client, attempt: Attempt) -> None:
    before = state(attempt)
    url = f"/api/attempts/{attempt.pk}/answers/1"
    deep = "answer=" + "[" * DEEP + "&revision=1"
    body = problem(send(api, "put", url, deep, "application/x-www-form-urlencoded"), 400)
    assert field_errors(body) == {"answer": "The answer must be a JSON object."}
    assert state(attempt) == before


@pytest.mark.parametrize("endpoint", ["answer", "run", "submit", "start"])
@pytest.mark.parametrize("size", ["over-api-limit", "over-django-limit"])
def test_an_oversized_api_body_is_a_json_413(
    api: Client, attempt: Attempt, endpoint: str, size: str
) -> None:
    before = state(attempt)
    method, url = _endpoints(attempt)[endpoint]
    limit = (
        django_settings.API_MAX_BODY_BYTES
        if size == "over-api-limit"
        else django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )
    code = "x" * (limit + 10)
    body = problem(
        send(api, method, url, {"answer": {"code": code}, "code": code, "revision": 1}),
        413,
        TOO_LARGE,
    )
    assert "KiB" in body["detail"]
    assert state(attempt) == before


def test_a_body_at_the_size_limit_is_still_parsed(api: Client, attempt: Attempt) -> None:
    url = f"/api/attempts/{attempt.pk}/answers/{position(attempt, 'code')}"
    response = send(api, "put", url, {"answer": {"code": "x" * 60_000}, "revision": 1})
    assert response.status_code == 200


# --- 4. invalid Unicode: refused on input, harmless on output -------------------------
@pytest.mark.parametrize(
    ("endpoint", "item_type", "body", "field"),
    [
        ("answer", "short_text", {"answer": {"text": "\ud800"}, "revision": 1}, "answer.text"),
        ("answer", "short_text", {"answer": {"text": "a\x00b"}, "revision": 1}, "answer.text"),
        ("answer", "short_text", {"answer": {"text": "x\udfffy"}, "revision": 1}, "answer.text"),
        ("answer", "code", {"answer": {"code": "print('\ud800')"}, "revision": 1}, "answer.code"),
        ("answer", "code", {"answer": {"code": "\x00"}, "revision": 1}, "answer.code"),
        ("answer", "numeric", {"answer": {"value": "1\x00"}, "revision": 1}, "answer.value"),
        ("answer", "short_text", {"answer": {"text": "ok", "\ud800": 1}, "revision": 1}, "answer"),
        ("answer", "short_text", {"answer": {"text": "ok"}, "revision": 1, "\x00": 1}, "body"),
        ("run", "code", {"code": "print('\ud800')"}, "code"),
        ("run", "code", {"code": "x = 1", "request_id": "a\x00"}, "request_id"),
        ("flag", "code", {"flagged": "\ud800"}, "flagged"),
        ("flag", "code", {"flagged": True, "note": ["\x00"]}, "note.0"),
    ],
)
def test_lone_surrogates_and_nul_are_refused_and_nothing_is_stored(
    api: Client, attempt: Attempt, endpoint: str, item_type: str, body: Any, field: str
) -> None:
    before = state(attempt)
    pos = position(attempt, item_type)
    method, url = {
        "answer": ("put", f"/api/attempts/{attempt.pk}/answers/{pos}"),
        "run": ("post", f"/api/attempts/{attempt.pk}/items/{pos}/run"),
        "flag": ("post", f"/api/attempts/{attempt.pk}/flags/{pos}"),
    }[endpoint]
    errors = field_errors(problem(send(api, method, url, body), 400, INVALID_INPUT))
    assert any(f == field or f.startswith(f"{field}.") for f in errors), errors
    message = " ".join(errors.values()).lower()
    assert "surrogate" in message or "null character" in message
    assert state(attempt) == before


@pytest.mark.parametrize("charset", ["unicode_escape", "raw_unicode_escape"])
def test_a_surrogate_cannot_hide_behind_a_charset(
    api: Client, attempt: Attempt, charset: str
) -> None:
    """Decoded with these charsets, "\\ud800" is a raw lone surrogate, not a JSON escape."""
    before = state(attempt)
    url = f"/api/attempts/{attempt.pk}/flags/{position(attempt, 'code')}"
    body = b'{"flagged": true, "note": "\\ud800"}'
    response = send(api, "post", url, body, f"application/json; charset={charset}")
    assert field_errors(problem(response, 400, INVALID_INPUT)) == {
        "note": "Text must not contain lone surrogate code points (U+D800)."
    }
    assert state(attempt) == before


def _store_raw(item: AttemptItem, answer: dict[str, Any], *, required: bool = True) -> None:
    """Write an answer straight to the database, as if stored before validation existed."""
    try:
        with transaction.atomic():
            AttemptItem.objects.filter(pk=item.pk).update(answer=answer, answer_revision=1)
    except (DatabaseError, UnicodeEncodeError) as exc:  # PostgreSQL's jsonb refuses them
        if required:
            pytest.skip(f"{connection.vendor} cannot store a lone surrogate: {exc}")


def test_a_stored_lone_surrogate_renders_everywhere(
    api: Client, attempt: Attempt, learner: Any
) -> None:
    short = attempt.items.get(item_version__item__type="short_text")
    code = attempt.items.get(item_version__item__type="code")
    _store_raw(short, {"text": "bad \ud800 text"})
    _store_raw(code, {"code": "print('\udfff')"})

    page = api.get(f"/attempts/{attempt.pk}/")
    assert page.status_code == 200
    assert "bad \ufffd text" in page.content.decode()
    detail = api.get(f"/api/attempts/{attempt.pk}")
    assert detail.status_code == 200
    answers = {i["position"]: i["answer"] for i in detail.json()["items"]}
    assert answers[short.position] == {"text": "bad \ufffd text"}

    # "Check answer" (immediate feedback) renders the stored answer's review.
    check = api.post(f"/attempts/{attempt.pk}/check/{short.position}")
    assert check.status_code == 200
    assert "bad \ufffd text" in check.content.decode()

    # Submitting sends the stored code to grading; then the result pages, pending and graded.
    assert api.post(f"/attempts/{attempt.pk}/submit").status_code == 302
    assert Submission.objects.get().source == "print('\ufffd')"
    results = (f"/attempts/{attempt.pk}/result", f"/attempts/{attempt.pk}/result/status")
    for url in results:
        assert api.get(url).status_code == 200, url
    Attempt.objects.filter(pk=attempt.pk).update(status="graded")
    for url in results:
        response = api.get(url)
        assert response.status_code == 200, url
        assert "bad \ufffd text" in response.content.decode()
    assert api.get(f"/api/attempts/{attempt.pk}").status_code == 200

    staff = csrf_client(UserFactory(role="instructor"))
    for url in (f"/attempts/{attempt.pk}/result", f"/attempts/{attempt.pk}/log"):
        assert staff.get(url).status_code == 200, url
    assert "\ufffd" in staff.get(f"/attempts/{attempt.pk}/result").content.decode()


# --- 5. the learner's page forms never fail on garbage --------------------------------
GARBAGE_FORMS = [
    (b"--x\r\nnot a part", "multipart/form-data; boundary=x"),
    (b"--x\r\nnot a part", "multipart/form-data"),
    (b"a=" + b"x" * 3_000_000, "application/x-www-form-urlencoded"),
    (b"&".join(b"f%d=1" % n for n in range(2000)), "application/x-www-form-urlencoded"),
    (b"a=%00%ff%fe&csrfmiddlewaretoken=%ed%a0%80", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded; charset=utf-16"),
    (b"[" * DEEP, "application/json"),
    (b"\x00" * 100, "text/plain; charset=bogus"),
]


@pytest.mark.parametrize(("body", "content_type"), GARBAGE_FORMS)
def test_page_forms_never_fail_on_garbage(
    api: Client, attempt: Attempt, body: bytes, content_type: str
) -> None:
    short = attempt.items.get(item_version__item__type="short_text")
    _store_raw(short, {"text": "\ud800"}, required=False)
    before = state(attempt)
    urls = [
        f"/quizzes/{attempt.quiz.slug}/start",
        f"/attempts/{attempt.pk}/check/{short.position}",
        f"/attempts/{attempt.pk}/check/{10**30}",
        f"/attempts/{10**30}/check/1",
        f"/attempts/{attempt.pk}/submit",
    ]
    for url in urls:
        response = send(api, "post", url, body, content_type)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code >= 400:
            assert state(attempt) == before, url
        before = state(attempt)
    result = api.get(f"/attempts/{attempt.pk}/result?x=%00%ff&y=" + "[" * 100)
    assert result.status_code < 500


def test_the_parser_loads_before_the_views() -> None:
    """DRF imports the parser and renderer classes while defining APIView: importing them
    first must not need APIView (an import cycle would break the first request)."""
    import subprocess
    import sys

    code = (
        "import django; django.setup(); import quizzes.parsers, quizzes.renderers; "
        "from rest_framework.views import APIView; print(APIView.parser_classes[0].__name__)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.stdout.strip() == "BoundedJSONParser", done.stderr[-2000:]
