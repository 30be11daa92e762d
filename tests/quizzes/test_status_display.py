"""Pages show statuses from the enums' booleans: links, buttons and grading notes."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client

from quizzes.assessments.presenters import submission_for_learner
from quizzes.assessments.services import attempt_start, attempt_submit
from quizzes.bank.quizzes import PLACEMENT_SLUG
from quizzes.models import (
    GRADING_UNAVAILABLE,
    Item,
    ItemStatus,
    QuizPool,
    QuizStatus,
    Submission,
    SubmissionStatus,
)
from quizzes.pipeline.submissions import submission_create
from tests.factories import QuizFactory
from tests.samples import PYTHON, TRUE_FALSE, load_sample_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(topic: Any) -> list[Item]:
    return load_sample_items(topic.stage, topic.slug, [TRUE_FALSE, PYTHON])


@pytest.fixture
def quiz(topic: Any, items: list[Item]) -> Any:
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=1, item=items[0])
    return quiz


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return unescape(response.content.decode())


def test_open_attempts_resume_and_finished_ones_show_their_result(
    quiz: Any, learner: Any, instructor: Any
) -> None:
    done = attempt_submit(attempt=attempt_start(learner=learner, quiz=quiz))
    open_ = attempt_start(learner=learner, quiz=quiz)
    client = logged_in(learner)
    detail = page(client, f"/quizzes/{quiz.slug}/")
    assert f'href="/attempts/{open_.pk}/">Resume' in detail
    assert f'href="/attempts/{done.pk}/result">Result' in detail
    dashboard = page(client, "/dashboard/")
    assert f'href="/attempts/{open_.pk}/"' in dashboard
    assert f'href="/attempts/{done.pk}/result"' in dashboard
    staff = page(logged_in(instructor), "/author/attempts/")
    assert f'href="/attempts/{done.pk}/result"' in staff
    assert f'href="/attempts/{open_.pk}/result"' not in staff


def test_the_placement_quiz_is_offered_once_published(learner: Any) -> None:
    placement = QuizFactory(slug=PLACEMENT_SLUG, status=QuizStatus.DRAFT)
    client = logged_in(learner)
    assert "placement quiz" not in page(client, "/dashboard/")
    assert "placement quiz" not in page(client, "/")
    placement.status = QuizStatus.PUBLISHED
    placement.save()
    assert f'href="/quizzes/{PLACEMENT_SLUG}/">placement quiz' in page(client, "/dashboard/")
    assert "Take the placement quiz" in page(client, "/")


def test_an_item_offers_publish_or_retire_by_its_status(instructor: Any, items: Any) -> None:
    item = items[0]
    client = logged_in(instructor)
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.DRAFT)
    preview = page(client, f"/author/items/{item.slug}/")
    assert 'name="status" value="published"><button type="submit" class="btn">Publish' in preview
    assert ">Retire<" not in preview
    client.post(f"/author/items/{item.slug}/status", {"status": ItemStatus.PUBLISHED})
    item.refresh_from_db()
    assert item.status == ItemStatus.PUBLISHED
    preview = page(client, f"/author/items/{item.slug}/")
    assert 'name="status" value="retired"><button type="submit" class="btn-secondary">Retire' in (
        preview
    )
    assert ">Publish<" not in preview


def test_only_unfinished_submissions_can_be_requeued(
    admin_user: Any, learner: Any, items: Any
) -> None:
    version = items[1].current_version
    graded = submission_create(learner=learner, item_version=version, source="a")
    failed = submission_create(learner=learner, item_version=version, source="b")
    Submission.objects.filter(pk=graded.pk).update(status=SubmissionStatus.GRADED)
    Submission.objects.filter(pk=failed.pk).update(status=SubmissionStatus.ERROR)
    html = page(logged_in(admin_user), "/ops/grading/")
    assert f"/ops/grading/{failed.pk}/requeue" in html
    assert f"/ops/grading/{graded.pk}/requeue" not in html


def test_submission_outcomes_show_pending_failed_and_graded(learner: Any, items: Any) -> None:
    submission = submission_create(
        learner=learner, item_version=items[1].current_version, source="x"
    )

    def shown(**fields: Any) -> str:
        Submission.objects.filter(pk=submission.pk).update(**fields)
        submission.refresh_from_db()
        view = submission_for_learner(submission, feedback=True)
        return render_to_string("quizzes/_submission_outcomes.html", {"submission": view})

    assert "Grading: queued…" in shown(error_reason=f"{GRADING_UNAVAILABLE}: no bwrap")
    assert submission_for_learner(submission, feedback=True)["grading_unavailable"] is True
    assert "Grading: running…" in shown(status=SubmissionStatus.RUNNING, error_reason="")
    failed = shown(status=SubmissionStatus.ERROR, error_reason="Gave up.")
    assert "Grading failed: Gave up." in failed
    outcomes = [
        {"name": "t1", "visible": True, "passed": False, "category": "timeout"},
        # Stored by an older grader: a hidden test's category and exception type.
        {"name": "t2", "visible": False, "passed": False, "category": "exception",
         "exception_type": "KeyError"},
    ]  # fmt: skip
    graded = shown(status=SubmissionStatus.GRADED, score=0.0, results={"outcomes": outcomes})
    assert "✘ time limit" in graded and "Grading" not in graded
    assert "✘ failed" in graded and "KeyError" not in graded and "✘ exception" not in graded
    view = submission_for_learner(submission, feedback=True)
    assert (view["pending"], view["failed"], view["outcomes"][0]["category_label"]) == (
        False,
        False,
        "time limit",
    )
    assert view["outcomes"][1] == {
        "name": "t2", "visible": False, "passed": False,
        "category": "failed", "category_label": "failed",
    }  # fmt: skip
