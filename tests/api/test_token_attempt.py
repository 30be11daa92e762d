"""A script takes a whole attempt with a personal token alone, as README shows: start, save
answers, run the examples and submit code, poll until a real worker has graded it, then
read the skill estimate the grade produced."""

from __future__ import annotations

from typing import Any

import pytest

from quizzes.models import QuizPool
from tests.api.conftest import V1, token_client, token_for
from tests.conftest import wait_for
from tests.factories import QuizFactory, UserFactory
from tests.samples import PYTHON, SINGLE, TRUE_FALSE, load_sample_items

pytestmark = [pytest.mark.worker, pytest.mark.sandbox, pytest.mark.slow]

SOLUTION = "def add(a, b):\n    return a + b\n"


def test_a_script_takes_a_whole_attempt_with_a_token(start_worker: Any, topic: Any) -> None:
    load_sample_items(topic.stage, topic.slug, [SINGLE, TRUE_FALSE, PYTHON])
    quiz = QuizFactory(stage=topic.stage, slug="scripted", title="Scripted")
    QuizPool.objects.create(quiz=quiz, count=3, stage=topic.stage)
    worker = start_worker(concurrency=1)
    api = token_client(token_for(UserFactory(role="learner"), "learner"))

    # Before: the stage is not assessed.
    before = api.get(f"{V1}/dashboard/").json()
    stage = next(s for s in before["stages"] if s["number"] == topic.stage.number)
    assert stage["assessed"] is False and stage["score"] is None

    started = api.post(f"{V1}/quizzes/scripted/attempts")
    assert started.status_code == 201
    attempt = started.json()
    answers: dict[str, dict[str, Any]] = {
        "true_false": {"value": False},
        "code": {"code": SOLUTION},
    }
    for item in attempt["items"]:
        if item["type"] == "single_choice":
            get = next(c for c in item["choices"] if "GET" in c["html"])
            answers["single_choice"] = {"choice": get["token"]}
    for item in attempt["items"]:
        saved = api.put(
            f"{V1}/attempts/{attempt['id']}/answers/{item['position']}",
            {"answer": answers[item["type"]], "revision": 1},
            content_type="application/json",
        )
        assert saved.status_code == 200 and saved.json()["saved"], saved.content

    # Run the examples first: 202, then poll the status URL until the worker is done.
    code = next(i for i in attempt["items"] if i["type"] == "code")
    run = api.post(
        f"{V1}/attempts/{attempt['id']}/items/{code['position']}/run",
        {"code": SOLUTION},
        content_type="application/json",
    )
    assert run.status_code == 202

    def finished(url: str) -> Any:
        body = api.get(url).json()
        return body if not body["pending"] else None

    ran = wait_for(
        lambda: finished(run.json()["status_url"]),
        timeout=90,
        what=f"the examples run\n{worker.log_text()[-3000:]}",
    )
    assert ran["status"] == "graded" and ran["outcomes"][0]["passed"] is True

    submitted = api.post(f"{V1}/attempts/{attempt['id']}/submit")
    assert submitted.status_code == 202  # the code is graded by the worker

    def ready() -> Any:
        body = api.get(submitted["Location"]).json()
        return body if body["ready"] else None

    result = wait_for(ready, timeout=120, what=f"grading\n{worker.log_text()[-3000:]}")
    assert result["score"] == result["max_score"] == 12.0 and result["passed"] is True

    # The grade updates the skill estimate (a task on the same worker).
    def assessed() -> Any:
        stages = api.get(f"{V1}/dashboard/").json()["stages"]
        row = next(s for s in stages if s["number"] == topic.stage.number)
        return row if row["assessed"] else None

    row = wait_for(assessed, timeout=60, what=f"the skill update\n{worker.log_text()[-3000:]}")
    assert row["answers"] == 3 and row["score"] is not None and row["level"]
    history = api.get(f"{V1}/attempts/").json()["results"]
    assert history[0]["status"] == "graded" and history[0]["score"] == 12.0
