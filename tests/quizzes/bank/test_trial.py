"""Running an author's solution to a challenge from "Preview as a learner": graded as a
learner's submission, shown with the learner's review, and counted nowhere."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from quizzes.analytics.itemstats import item_statistics
from quizzes.bank.authoring import AuthoringError, item_save, item_set_status
from quizzes.bank.trial import trial_request, trial_run
from quizzes.bank.verification import (
    latest_verification,
    verification_passed,
    verification_run,
)
from quizzes.itemtypes.challenge import MAX_CODE_BYTES
from quizzes.models import (
    Attempt,
    AttemptItem,
    ChallengeVerification,
    ItemStatus,
    Submission,
    VerificationPurpose,
    VerificationStatus,
)
from tests.factories import UserFactory
from tests.samples import COMMON, PYTHON, SQL, TRUE_FALSE, load_sample_items

pytestmark = pytest.mark.django_db

WRONG = "def add(a, b):\n    return a + b if a >= 0 else 0\n"  # fails the hidden "negative"
RIGHT_JS = "function add(a, b) {\n  return a + b;\n}\n\nmodule.exports = { add };\n"
RIGHT_SQL = SQL["challenge"]["reference_solution"]  # type: ignore[index]


@pytest.fixture
def author(instructor: Any) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


def draft(topic: Any, instructor: Any, spec: dict[str, Any]) -> Any:
    return item_save(
        entry={**COMMON, "topic": topic.slug, **spec}, stage=topic.stage, author=instructor
    )


def nothing_counted() -> None:
    assert not Submission.objects.exists()
    assert not Attempt.objects.exists()
    assert not AttemptItem.objects.exists()


def test_run_as_a_learner_queues_a_trial_sent_once_committed(
    author: Client, topic: Any, instructor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    item = draft(topic, instructor, PYTHON)
    page = author.get(f"/author/items/{item.slug}/try").content.decode()
    assert f'action="/author/items/{item.slug}/trial"' in page
    assert "Run as a learner" in page
    assert 'name="language"' in page  # the learner's language switch
    with django_capture_on_commit_callbacks() as sent:
        response = author.post(
            f"/author/items/{item.slug}/trial", {"code": RIGHT_JS, "language": "javascript"}
        )
    [trial] = ChallengeVerification.objects.all()
    assert response.status_code == 302
    assert response["Location"] == f"/author/items/{item.slug}/try?trial={trial.pk}"
    assert (trial.purpose, trial.status) == (VerificationPurpose.TRIAL, VerificationStatus.QUEUED)
    assert (trial.source, trial.language, trial.version) == (
        RIGHT_JS,
        "javascript",
        item.current_version,
    )
    assert len(sent) == 1
    shown = author.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in shown  # the page polls until it is graded
    assert f'hx-get="/author/items/{item.slug}/trial/{trial.pk}"' in shown
    assert "Being graded" in shown
    assert "module.exports = { add };" in shown  # the editor holds the solution run
    nothing_counted()


@pytest.mark.parametrize(
    ("post", "problem"),
    [
        ({}, "Write a solution first"),
        ({"code": "def add(a, b):\n    ...\n"}, "Write a solution first"),  # the starter
        ({"code": "x = 1\n", "language": "cobol"}, "Unknown language"),
        ({"code": "#" * (MAX_CODE_BYTES + 1)}, "at most 64 KiB"),
    ],
    ids=["no code", "starter only", "unknown language", "too long"],
)
def test_a_solution_that_cannot_run_is_refused_and_nothing_is_stored(
    author: Client, topic: Any, instructor: Any, post: dict[str, str], problem: str
) -> None:
    item = draft(topic, instructor, PYTHON)
    response = author.post(f"/author/items/{item.slug}/trial", post)
    assert response.status_code == 400
    assert re.search(f'role="alert">[^<]*{re.escape(problem)}', response.content.decode())
    assert not ChallengeVerification.objects.exists()


def test_an_sql_challenge_takes_no_language(author: Client, topic: Any, instructor: Any) -> None:
    item = draft(topic, instructor, SQL)
    response = author.post(
        f"/author/items/{item.slug}/trial", {"code": RIGHT_SQL, "language": "python"}
    )
    assert response.status_code == 400
    assert "has no field &#x27;language&#x27;" in response.content.decode()
    assert not ChallengeVerification.objects.exists()


def test_only_challenges_are_run(author: Client, topic: Any, learner: Any) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [TRUE_FALSE])
    assert author.post(f"/author/items/{item.slug}/trial", {"code": "x"}).status_code == 404
    learner_client = Client()
    learner_client.force_login(learner)
    [challenge] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    refused = learner_client.post(f"/author/items/{challenge.slug}/trial", {"code": "x = 1"})
    assert refused.status_code == 403
    assert not ChallengeVerification.objects.exists()


def test_runs_are_rate_limited_with_bank_checks(
    author: Client, topic: Any, instructor: Any, settings: Any, private_cache: Any
) -> None:
    framework = dict(settings.REST_FRAMEWORK)
    framework["DEFAULT_THROTTLE_RATES"] = {
        **framework["DEFAULT_THROTTLE_RATES"],
        "bank_imports": "2/hour",
    }
    settings.REST_FRAMEWORK = framework
    item = draft(topic, instructor, PYTHON)
    for _ in range(2):
        assert author.post(f"/author/items/{item.slug}/trial", {"code": WRONG}).status_code == 302
    limited = author.post(f"/author/items/{item.slug}/trial", {"code": WRONG})
    assert limited.status_code == 429
    assert "Too many bank imports and checks" in limited.content.decode()
    assert int(limited["Retry-After"]) > 60
    assert ChallengeVerification.objects.count() == 2


def test_a_trial_never_verifies_the_challenge(author: Client, topic: Any, instructor: Any) -> None:
    item = draft(topic, instructor, PYTHON)
    trial = trial_request(
        item=item, author=instructor, code=PYTHON["challenge"]["reference_solution"]
    )  # type: ignore[index]
    ChallengeVerification.objects.filter(pk=trial.pk).update(
        status=VerificationStatus.PASSED, score=1.0
    )
    assert not verification_passed(item)
    assert latest_verification(item.current_version) is None
    with pytest.raises(AuthoringError, match="has not passed verification"):
        item_set_status(item=item, status=ItemStatus.PUBLISHED)
    page = author.get(f"/author/items/{item.slug}/").content.decode()
    assert "Not verified yet" in page
    # Nor does the verification task take a trial for a verification.
    queued = trial_request(item=item, author=instructor, code=WRONG)
    assert verification_run(verification_id=queued.pk) == "skipped"


def test_a_run_is_shown_to_its_author_only_and_a_dead_one_as_stalled(
    author: Client, topic: Any, instructor: Any
) -> None:
    item = draft(topic, instructor, PYTHON)
    trial = trial_request(item=item, author=instructor, code=WRONG)
    other = Client()
    other.force_login(UserFactory(role="instructor"))
    assert other.get(f"/author/items/{item.slug}/trial/{trial.pk}").status_code == 404
    # Someone else's run id on the page: the page as first shown, no result.
    assert (
        "Your run"
        not in other.get(f"/author/items/{item.slug}/try?trial={trial.pk}").content.decode()
    )
    ChallengeVerification.objects.filter(pk=trial.pk).update(
        status=VerificationStatus.RUNNING, started_at=timezone.now() - timedelta(hours=2)
    )
    status = author.get(f"/author/items/{item.slug}/trial/{trial.pk}").content.decode()
    assert "has not finished: a worker may have stopped" in status
    assert "hx-trigger" not in status  # no more polling


@pytest.mark.sandbox
def test_a_trial_is_graded_as_a_learner_and_shown_with_the_learners_review(
    author: Client, topic: Any, instructor: Any
) -> None:
    item = draft(topic, instructor, PYTHON)
    statistics_before = item_statistics(item=item)[0]
    wrong = trial_request(item=item, author=instructor, code=WRONG)
    assert trial_run(trial_id=wrong.pk) == VerificationStatus.FAILED
    assert trial_run(trial_id=wrong.pk) == "skipped"  # a redelivery does nothing
    wrong.refresh_from_db()
    assert wrong.score is not None and 0 < wrong.score < 1
    page = author.get(f"/author/items/{item.slug}/trial/{wrong.pk}").content.decode()
    assert "Partly correct" in page
    assert "hx-trigger" not in page
    negative = re.search(
        r"<tr><td>negative <span class=\"tag\">hidden</span></td>(.*?)</tr>", page, re.S
    )
    assert negative is not None
    assert "✘" in negative.group(1)
    assert "<code>" not in negative.group(1)  # neither its input nor the expected value
    assert "[-5, 2]" not in page and "-3" not in page
    assert "<strong>Input</strong> <code>" in page  # the visible test shows its details
    right = trial_request(item=item, author=instructor, code=RIGHT_JS, language="javascript")
    assert trial_run(trial_id=right.pk) == VerificationStatus.PASSED
    full = author.get(f"/author/items/{item.slug}/try?trial={right.pk}").content.decode()
    assert "✔</span> Correct" in full
    assert "10 of 10 points" in full
    broken = trial_request(item=item, author=instructor, code="def add(a, b):\n    return (\n")
    trial_run(trial_id=broken.pk)
    shown = author.get(f"/author/items/{item.slug}/trial/{broken.pk}").content.decode()
    assert "SyntaxError on line 2" in shown  # the compile error, with its line
    nothing_counted()
    assert item_statistics(item=item)[0] == statistics_before
    assert not verification_passed(item)


@pytest.mark.sandbox
def test_an_sql_trial_is_graded(author: Client, topic: Any, instructor: Any) -> None:
    item = draft(topic, instructor, SQL)
    trial = trial_request(item=item, author=instructor, code=RIGHT_SQL)
    assert trial.language == ""
    assert trial_run(trial_id=trial.pk) == VerificationStatus.PASSED
    page = author.get(f"/author/items/{item.slug}/trial/{trial.pk}").content.decode()
    assert "10 of 10 points" in page
    nothing_counted()
