"""JSON logs with a request id: honoured from X-Request-ID when sane, returned in the
response, and carried into the worker's log lines for the submission the request made."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from config.logs import HTTP_HEADER, RequestContextFilter
from quizzes.assessments.services import attempt_start
from quizzes.models import QuizPool, Submission, SubmissionStatus
from tests.conftest import wait_for
from tests.factories import QuizFactory
from tests.samples import PYTHON, load_sample_items

GENERATED = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the configured console handler (settings.LOGGING) writes, for the test's span."""
    [handler] = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RequestContextFilter) for f in h.filters)
    ]
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.django_db
def test_a_sane_incoming_request_id_is_kept_and_logged_as_json(
    client: Client, console: io.StringIO
) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42:edge")
    assert response[HTTP_HEADER] == "lb-7f3a.42:edge"
    missing = client.get("/no/such/page", HTTP_X_REQUEST_ID="lb-7f3a.43")
    assert missing.status_code == 404
    lines = json_lines(console.getvalue())
    assert lines, console.getvalue()
    access = [line for line in lines if line["logger"] == "skillmap.request"]
    assert {(a["request_id"], a["status"], a["view"]) for a in access} == {
        ("lb-7f3a.42:edge", 200, "healthz"),
        ("lb-7f3a.43", 404, None),
    }
    assert {"time", "level", "message", "method", "path", "duration_ms"} <= access[0].keys()
    # Django's own warning about the 404, logged after the middleware returned, has it too.
    [warning] = [line for line in lines if line["logger"] == "django.request"]
    assert warning["request_id"] == "lb-7f3a.43"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming",
    ["", "has spaces", "x" * 129, "line\nbreak", '{"forged": "json"}', "-starts-with-dash"],
)
def test_an_insane_request_id_is_replaced_by_a_fresh_one(
    client: Client, console: io.StringIO, incoming: str
) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    returned = response[HTTP_HEADER]
    assert GENERATED.match(returned) and returned != incoming
    [access] = [x for x in json_lines(console.getvalue()) if x["logger"] == "skillmap.request"]
    assert access["request_id"] == returned


@pytest.mark.django_db
def test_each_request_without_an_id_gets_its_own(client: Client) -> None:
    first = client.get("/healthz")[HTTP_HEADER]
    second = client.get("/healthz")[HTTP_HEADER]
    assert GENERATED.match(first) and GENERATED.match(second) and first != second


def test_a_bad_log_format_is_one_clear_line() -> None:
    from tests.config.test_settings import run_manage

    result = run_manage("check", DEBUG="true", LOG_FORMAT="xml")
    assert result.returncode == 2
    assert "LOG_FORMAT must be json or plain, got 'xml'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.worker
@pytest.mark.sandbox
@pytest.mark.slow
def test_one_request_id_finds_the_submission_from_submit_to_graded(
    start_worker: Any, topic: Any, learner: Any, console: io.StringIO
) -> None:
    [challenge] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge)
    attempt = attempt_start(learner=learner, quiz=quiz)
    client = Client()
    client.force_login(learner)
    saved = client.put(
        f"/api/attempts/{attempt.pk}/answers/1",
        {"answer": {"code": "def add(a, b):\n    return a + b\n"}, "revision": 1},
        content_type="application/json",
    )
    assert saved.status_code == 200
    worker = start_worker()
    request_id = "submit-e2e-0001"
    submitted = client.post(f"/api/attempts/{attempt.pk}/submit", HTTP_X_REQUEST_ID=request_id)
    assert submitted.status_code == 202 and submitted[HTTP_HEADER] == request_id
    submission = Submission.objects.get(attempt_item__attempt=attempt)
    wait_for(
        lambda: Submission.objects.get(pk=submission.pk).status == SubmissionStatus.GRADED,
        timeout=60,
        what=f"grading\n{worker.log_text()[-3000:]}",
    )

    def lines_with_the_id() -> list[dict[str, Any]]:
        # The worker logs after its commit; a grep over both logs for the id:
        found = json_lines(console.getvalue()) + json_lines(worker.log_text())
        return [line for line in found if line.get("request_id") == request_id]

    def graded_line_logged() -> list[dict[str, Any]]:
        lines = lines_with_the_id()
        return lines if any(line.get("outcome") == "graded" for line in lines) else []

    lines = wait_for(graded_line_logged, timeout=15, what="the worker's log line")
    web = [line for line in lines if line.get("submission_id") == submission.pk]
    assert any("stored for grading" in line["message"] for line in web)
    [graded] = [line for line in lines if line.get("outcome") == "graded"]
    assert graded["submission_id"] == submission.pk
    assert graded["task_name"] == "skillmap.grading.grade_submission" and graded["task_id"]
    assert graded["message"] == f"grading submission {submission.pk}: graded"
    assert any(line["logger"] == "skillmap.request" for line in lines)  # the submit itself
