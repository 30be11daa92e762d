"""The adaptive placement: the server picks each next item from the answers so far, the
page only holds the current item, "next" is idempotent, and it ends with a start stage."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from quizzes.assessments.placement import placement_result
from quizzes.assessments.services import (
    AttemptError,
    attempt_answer_save,
    attempt_placement_next,
    attempt_start,
)
from quizzes.bank.quizzes import PLACEMENT_SLUG, default_quizzes_sync
from quizzes.models import Attempt, AttemptStatus, Item, Quiz
from tests.samples import load_true_false_bank

pytestmark = pytest.mark.django_db


@pytest.fixture
def placement(roadmap: Any) -> Quiz:
    load_true_false_bank(roadmap, per_stage=6)
    default_quizzes_sync()
    return Quiz.objects.get(slug=PLACEMENT_SLUG)


def answer_current(attempt: Attempt, *, right: bool) -> int:
    current = attempt.items.select_related("item_version").order_by("-position").first()
    assert current is not None
    key = current.item_version.data["answer"]
    attempt_answer_save(
        attempt=attempt,
        position=current.position,
        answer={"value": key if right else not key},
        revision=1,
    )
    return current.position


def run_placement(attempt: Attempt, *, right: bool) -> Attempt:
    while True:
        attempt.refresh_from_db()
        if attempt.status != AttemptStatus.IN_PROGRESS:
            return attempt
        position = answer_current(attempt, right=right)
        attempt = attempt_placement_next(attempt=attempt, position=position)


def test_placement_starts_with_one_item_and_adds_one_per_answer(
    placement: Quiz, learner: Any
) -> None:
    attempt = attempt_start(learner=learner, quiz=placement)
    assert attempt.items.count() == 1
    position = answer_current(attempt, right=True)
    attempt_placement_next(attempt=attempt, position=position)
    assert attempt.items.count() == 2
    assert attempt.items.get(position=1).locked


def test_next_is_idempotent(placement: Quiz, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=placement)
    position = answer_current(attempt, right=True)
    attempt_placement_next(attempt=attempt, position=position)
    second = attempt.items.get(position=2).item_version_id
    # A double click sends the same position again: nothing more happens.
    attempt_placement_next(attempt=attempt, position=position)
    assert attempt.items.count() == 2
    assert attempt.items.get(position=2).item_version_id == second
    with pytest.raises(AttemptError):
        attempt_placement_next(attempt=attempt, position=5)


def test_placement_never_repeats_and_stops_at_the_maximum(
    placement: Quiz, learner: Any, settings: Any
) -> None:
    settings.PLACEMENT_MAX_ITEMS = 15
    attempt = run_placement(attempt_start(learner=learner, quiz=placement), right=True)
    items = list(attempt.items.values_list("item_version__item_id", flat=True))
    assert attempt.status == AttemptStatus.GRADED
    assert len(items) == 15
    assert len(set(items)) == len(items)
    # Content balancing: the first eleven questions visit every stage.
    stages = list(
        attempt.items.order_by("position").values_list(
            "item_version__item__stage__number", flat=True
        )
    )
    assert set(stages[:11]) == set(range(1, 12))


def test_the_result_recommends_a_start_that_follows_the_answers(
    placement: Quiz, learner: Any, settings: Any
) -> None:
    settings.PLACEMENT_MAX_ITEMS = 22
    strong = run_placement(attempt_start(learner=learner, quiz=placement), right=True)
    weak_learner = type(learner).objects.create_user(email="weak@example.com", password="x")
    weak = run_placement(attempt_start(learner=weak_learner, quiz=placement), right=False)
    strong_result = placement_result(list(strong.items.select_related("item_version__item__stage")))
    weak_result = placement_result(list(weak.items.select_related("item_version__item__stage")))
    assert weak_result.start is not None and weak_result.start.number == 1
    assert strong_result.start is not None and strong_result.start.number > 1
    for strong_row, weak_row in zip(strong_result.stages, weak_result.stages, strict=True):
        if strong_row.estimate.n and weak_row.estimate.n:
            assert strong_row.score > weak_row.score


def test_the_page_holds_only_the_current_item(
    placement: Quiz, learner: Any, client: Client
) -> None:
    client.force_login(learner)
    attempt = attempt_start(learner=learner, quiz=placement)
    position = answer_current(attempt, right=True)
    response = client.post(f"/attempts/{attempt.pk}/next/{position}")
    assert response.status_code == 302
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert page.count('<section class="question') == 1
    shown = attempt.items.get(position=2).item_version
    assert shown.body in page
    first = attempt.items.get(position=1).item_version
    assert first.body not in page
    # Nothing about the items not chosen reaches the page.
    for item in Item.objects.exclude(pk=shown.item_id).select_related("current_version")[:30]:
        assert item.current_version.body not in page


def test_the_result_page_shows_the_recommended_start(
    placement: Quiz, learner: Any, client: Client, settings: Any
) -> None:
    settings.PLACEMENT_MAX_ITEMS = 12
    client.force_login(learner)
    attempt = run_placement(attempt_start(learner=learner, quiz=placement), right=False)
    page = client.get(f"/attempts/{attempt.pk}/result").content.decode()
    assert 'data-recommended-start="1"' in page
    assert "Where you stand" in page


def test_a_script_takes_the_placement_through_the_api(
    placement: Quiz, learner: Any, client: Client, settings: Any
) -> None:
    settings.PLACEMENT_MAX_ITEMS = 11
    client.force_login(learner)
    # The placement asks for the learner's language first (stage 1 is estimated in it).
    asked = client.post(f"/api/quizzes/{placement.slug}/attempts")
    assert asked.status_code == 409 and not Attempt.objects.filter(learner=learner).exists()
    chosen = client.put(
        "/api/v1/me/language", {"language": "python"}, content_type="application/json"
    )
    assert chosen.status_code == 200
    started = client.post(f"/api/quizzes/{placement.slug}/attempts")
    assert started.status_code in (200, 201), started.content
    body = started.json()
    assert body["adaptive"] is True and len(body["items"]) == 1
    attempt = Attempt.objects.get(pk=body["id"])
    # A position that does not exist is a clear 4xx problem, not a 500, and changes nothing.
    refused = client.post(f"/api/attempts/{attempt.pk}/next/99")
    assert refused.status_code == 400
    assert refused["Content-Type"].startswith("application/problem+json")
    assert attempt.items.count() == 1
    for position in range(1, 12):
        answer_current(attempt, right=True)
        response = client.post(f"/api/attempts/{attempt.pk}/next/{position}")
        assert response.status_code == 200, response.content
    assert response.json()["status"] == AttemptStatus.GRADED
