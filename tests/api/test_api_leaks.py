"""No answer leaks through the API: every body a learner's token receives during an
attempt at items of every type (the real stage 3 bank), before grading, is scanned for
anything that would reveal a key, with the same markers and secrets as the page scan."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.management import call_command

from quizzes.itemtypes import type_names
from quizzes.models import Attempt, Quiz, QuizPool, Stage
from tests.api.conftest import V1
from tests.browser.test_answer_leaks import JSON_MARKERS, STRUCTURAL_MARKERS, secrets_of

pytestmark = pytest.mark.django_db

# What a learner might answer without knowing the key, per item type (in the API's shape).
GUESSES = {
    "true_false": {"value": True},
    "numeric": {"value": "3"},
    "short_text": {"text": "no idea"},
    "code": {"code": "def solve(*args):\n    return None  # thinking\n"},
    "sql": {"code": "SELECT 1;"},
}


def escaped(text: str) -> str:
    return json.dumps(text)[1:-1]


TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")


def guess(item: dict[str, Any]) -> dict[str, Any]:
    if item["type"] in GUESSES:
        return GUESSES[item["type"]]
    if item["type"] == "single_choice":
        return {"choice": item["choices"][0]["token"]}
    if item["type"] == "multiple_choice":
        return {"choices": [item["choices"][0]["token"]]}
    if item["type"] == "ordering":
        order = [entry["token"] for entry in item["sequence"]]
        return {"order": order[1:] + order[:1]}
    return {"pairs": {item["lefts"][0]["token"]: item["rights"][0]["token"]}}


def test_nothing_a_token_receives_before_grading_reveals_the_key(
    roadmap: Any, client_for: Any
) -> None:
    call_command("load_bank", "fixtures/questions/stage-03.yaml", verbosity=0)
    stage = Stage.objects.get(number=3)
    quiz = Quiz.objects.create(
        slug="api-leak-scan", title="Every type", stage=stage, status="published"
    )
    by_kind: dict[tuple[str, str], list[Any]] = {}
    for item in stage.items.select_related("current_version").order_by("slug"):
        mode = (item.current_version.data.get("challenge") or {}).get("mode", "")
        by_kind.setdefault((item.type, mode), []).append(item)
    position = 0
    for group in by_kind.values():
        for item in group[:2]:
            QuizPool.objects.create(quiz=quiz, position=position, count=1, item=item)
            position += 1
    assert {t for t, _ in by_kind} == set(type_names())  # every type is in the scan

    client = client_for("learner", scope="learner")
    bodies: list[tuple[str, str]] = []

    def call(method: str, url: str, body: Any = None) -> Any:
        args = (url, body, "application/json") if body is not None else (url,)
        response = getattr(client, method)(*args)
        bodies.append((url, response.content.decode()))
        return response

    call("get", f"{V1}/quizzes/")
    call("get", f"{V1}/quizzes/{quiz.slug}/")
    started = call("post", f"{V1}/quizzes/{quiz.slug}/attempts").json()
    attempt_id = started["id"]
    assert len(started["items"]) == position
    typed = {"3", "no idea"}
    for item in started["items"]:
        saved = call(
            "put",
            f"{V1}/attempts/{attempt_id}/answers/{item['position']}",
            {"answer": guess(item), "revision": 1},
        )
        assert saved.status_code == 200, saved.content
        if item["type"] in ("code", "sql"):
            run = call(
                "post",
                f"{V1}/attempts/{attempt_id}/items/{item['position']}/run",
                {"code": guess(item)["code"]},
            )
            assert run.status_code == 202
            call("get", run.json()["status_url"])
    call("post", f"{V1}/attempts/{attempt_id}/flags/1", {"flagged": True})
    call("get", f"{V1}/attempts/{attempt_id}")
    call("get", f"{V1}/attempts/{attempt_id}/result")
    call("get", f"{V1}/attempts/")
    call("get", f"{V1}/dashboard/")

    # Timestamps' digits (microseconds) are no answer: they are masked before the scan.
    bodies = [(url, TIMESTAMP.sub("<time>", body)) for url, body in bodies]
    sent = "\n".join(body for _, body in bodies)
    for marker in STRUCTURAL_MARKERS:
        found = re.search(marker, sent)
        context = sent[max(0, found.start() - 80) : found.end() + 80] if found else ""
        assert found is None, f"{marker!r} sent before grading: …{context}…"
    for url, body in bodies:
        for marker in JSON_MARKERS:
            assert re.search(marker, body) is None, f"{marker!r} in {url}: {body[:300]}"
    secrets, allowed = secrets_of(stage, typed)
    assert len(secrets) > 50  # the scan has teeth
    # Bodies are JSON: look for each secret as it is and as JSON escapes it (a newline as
    # \n), unless it is part of what may be shown (a visible example holding the same rows).
    shown = allowed + escaped(allowed)
    leaked = [s for s in secrets if s in sent or (escaped(s) in sent and escaped(s) not in shown)]
    where = [
        (url, body[max(0, body.find(escaped(s)) - 200) : body.find(escaped(s)) + 100])
        for s in leaked
        for url, body in bodies
        if escaped(s) in body
    ]
    assert leaked == [], where

    # The positive control: once submitted, the review carries the keys, and the same scan
    # finds them, so an empty result above means something.
    call("post", f"{V1}/attempts/{attempt_id}/submit")
    review = call("get", f"{V1}/attempts/{attempt_id}").content.decode()
    assert re.search(r'"correct"\s*:', review) and '"explanation_html"' in review
    assert any(s in review or escaped(s) in review for s in secrets)
    assert Attempt.objects.get(pk=attempt_id).status in ("submitted", "graded")
