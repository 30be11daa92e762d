"""Verifying a challenge through the real grading, and publishing only a verified version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from django.test import Client

from quizzes.bank.authoring import AuthoringError, item_save, item_set_status
from quizzes.bank.verification import verification_request, verification_run
from quizzes.models import ChallengeVerification, ItemStatus, VerificationStatus
from tests.conftest import languages_only, wait_for
from tests.samples import COMMON, PYTHON, SQL, TRUE_FALSE, load_sample_items


@pytest.fixture(autouse=True)
def _python_only() -> Iterator[None]:
    """The sample challenge has solutions in Python only."""
    with languages_only("python"):
        yield


pytestmark = pytest.mark.django_db


@pytest.fixture
def author(instructor: Any) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


def draft(topic: Any, instructor: Any, spec: dict[str, Any]) -> Any:
    entry = {**COMMON, "topic": topic.slug, **spec}
    return item_save(entry=entry, stage=topic.stage, author=instructor)


def test_an_unverified_challenge_cannot_be_published(topic: Any, instructor: Any) -> None:
    item = draft(topic, instructor, PYTHON)
    with pytest.raises(AuthoringError, match="has not passed verification"):
        item_set_status(item=item, status=ItemStatus.PUBLISHED)
    item.refresh_from_db()
    assert item.status == ItemStatus.DRAFT


def test_a_failed_or_older_verification_does_not_publish(topic: Any, instructor: Any) -> None:
    item = draft(topic, instructor, PYTHON)
    ChallengeVerification.objects.create(
        version=item.current_version, status=VerificationStatus.FAILED
    )
    with pytest.raises(AuthoringError):
        item_set_status(item=item, status=ItemStatus.PUBLISHED)
    ChallengeVerification.objects.create(
        version=item.current_version, status=VerificationStatus.PASSED
    )
    item_set_status(item=item, status=ItemStatus.PUBLISHED)
    assert item.status == ItemStatus.PUBLISHED
    # A new version needs a verification of its own, and takes the item back to draft.
    changed = {**COMMON, "topic": topic.slug, **PYTHON, "title": "Add two integers"}
    item = item_save(entry=changed, stage=topic.stage, author=instructor, item=item)
    assert item.status == ItemStatus.DRAFT
    with pytest.raises(AuthoringError, match="version 2 of this challenge"):
        item_set_status(item=item, status=ItemStatus.PUBLISHED)


def test_objective_items_publish_without_verification(topic: Any, instructor: Any) -> None:
    item = draft(topic, instructor, TRUE_FALSE)
    item_set_status(item=item, status=ItemStatus.PUBLISHED)
    assert item.status == ItemStatus.PUBLISHED
    with pytest.raises(Exception, match="Only code and SQL challenges"):
        verification_request(item=item, author=instructor)


def test_verify_is_not_offered_for_objective_items(author: Client, topic: Any) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [TRUE_FALSE])
    assert author.post(f"/author/items/{item.slug}/verify").status_code == 404
    assert not ChallengeVerification.objects.exists()


def test_the_verify_button_queues_a_verification_of_the_current_version(
    author: Client, topic: Any, instructor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    item = draft(topic, instructor, PYTHON)
    with django_capture_on_commit_callbacks() as sent:
        response = author.post(f"/author/items/{item.slug}/verify", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Verification queued" in response.content.decode()
    assert 'hx-trigger="every 2s"' in response.content.decode()  # the page polls
    [verification] = ChallengeVerification.objects.all()
    assert (verification.version, verification.status) == (item.current_version, "queued")
    assert len(sent) == 1  # sent once the row is committed


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("spec", "status", "problem"),
    [
        (PYTHON, "passed", None),
        (SQL, "passed", None),
        (
            {
                **PYTHON,
                "challenge": {
                    **PYTHON["challenge"],
                    "reference_solution": "def add(a, b):\n    return a - b\n",
                },
            },
            "failed",
            "reference solution does not pass",
        ),
        (
            {
                **PYTHON,
                "challenge": {
                    **PYTHON["challenge"],
                    "wrong_solutions": [PYTHON["challenge"]["reference_solution"]],
                },
            },
            "failed",
            "passes every hidden test: the tests miss its mistake",
        ),
    ],
    ids=["python passes", "sql passes", "reference fails", "wrong solution passes"],
)
def test_verification_runs_every_solution_and_reports_each_test(
    topic: Any, instructor: Any, spec: dict[str, Any], status: str, problem: str | None
) -> None:
    item = draft(topic, instructor, spec)
    verification = verification_request(item=item, author=instructor)
    assert verification_run(verification_id=verification.pk) == status
    verification.refresh_from_db()
    assert verification.status == status
    reference = verification.runs[0]
    assert reference["role"] == "reference"
    assert {o["name"] for o in reference["outcomes"]} == {
        t["name"] for t in spec["challenge"]["tests"]
    }
    assert len(verification.runs) == 1 + len(spec["challenge"]["wrong_solutions"])
    if problem is None:
        assert verification.problems == []
        item_set_status(item=item, status=ItemStatus.PUBLISHED)
    else:
        assert any(problem in p for p in verification.problems)
        with pytest.raises(AuthoringError):
            item_set_status(item=item, status=ItemStatus.PUBLISHED)
    # A second delivery of the same message does nothing.
    assert verification_run(verification_id=verification.pk) == "skipped"


@pytest.mark.worker
@pytest.mark.sandbox
@pytest.mark.slow
def test_verify_runs_on_a_real_worker_and_the_page_shows_each_test(
    author: Client, topic: Any, instructor: Any, start_worker: Any
) -> None:
    weak = {
        **PYTHON,
        "challenge": {
            **PYTHON["challenge"],
            "wrong_solutions": [PYTHON["challenge"]["reference_solution"]],
        },
    }
    text = yaml.safe_dump({**COMMON, "topic": topic.slug, **weak})
    author.post("/author/items/new", {"stage": topic.stage.number, "source": text})
    worker = start_worker()
    author.post(f"/author/items/{PYTHON['slug']}/verify")
    wait_for(
        lambda: not ChallengeVerification.objects.get().is_pending,
        timeout=90,
        what=f"the verification\n{worker.log_text()}",
    )
    page = author.get(f"/author/items/{PYTHON['slug']}/verify").content.decode()
    assert "Verification failed: this version cannot be published." in page
    assert "passes every hidden test" in page
    assert page.count('<tr><th scope="row">negative</th>') == 2  # reference and wrong solution
    refused = author.post(
        f"/author/items/{PYTHON['slug']}/status", {"status": "published"}, follow=True
    )
    assert "has not passed verification" in refused.content.decode()
