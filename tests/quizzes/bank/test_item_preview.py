"""Previewing an item as a learner: the learner's own widget and review, scored by the
type's scoring, and nothing stored (no attempt, no answer, no event)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import signing
from django.test import Client

from quizzes.models import Attempt, AttemptEvent, AttemptItem, Submission
from tests.samples import (
    MATCHING,
    MULTIPLE,
    NUMERIC,
    OBJECTIVE,
    ORDERING,
    PYTHON,
    SINGLE,
    load_sample_items,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(instructor: Any) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


def nothing_recorded() -> bool:
    return not (
        Attempt.objects.exists()
        or AttemptItem.objects.exists()
        or AttemptEvent.objects.exists()
        or Submission.objects.exists()
    )


def layout_of(response: Any) -> dict[str, Any]:
    signed = re.search(r'name="layout" value="([^"]+)"', response.content.decode())
    assert signed is not None
    return signing.loads(signed[1], salt="skillmap.bank.preview")["layout"]  # type: ignore[no-any-return]


def right_post(kind: str, data: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
    """The form a learner's widget posts for the right answer (in this layout's tokens)."""
    token = {ident: tok for pairs in layout.values() for tok, ident in pairs}
    if kind == "single_choice":
        return {"choice": next(token[c["id"]] for c in data["choices"] if c["correct"])}
    if kind == "multiple_choice":
        return {"choices": [token[c["id"]] for c in data["choices"] if c["correct"]]}
    if kind == "true_false":
        return {"value": "true" if data["answer"] else "false"}
    if kind == "numeric":
        return {"value": f"{data['answer']:g}"}
    if kind == "short_text":
        return {"text": data["accepted"][0]}
    if kind == "ordering":
        return {"order": [token[s["id"]] for s in data["sequence"]]}
    rights = {ident: tok for tok, ident in layout["rights"]}
    return {"pair": [rights[ident] for _, ident in layout["lefts"]]}


@pytest.mark.parametrize("spec", OBJECTIVE, ids=lambda s: s["type"])
def test_the_preview_is_answerable_and_records_nothing(
    author: Client, topic: Any, spec: dict[str, Any]
) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [spec])
    page = author.get(f"/author/items/{item.slug}/try")
    assert page.status_code == 200
    html = page.content.decode()
    assert item.current_version.title in html
    assert (
        "correct"
        not in re.sub(r"(?s)<header.*?</header>", "", html)
        .split("question-body")[1]
        .split("</form>")[0]
        .lower()
        or spec is ORDERING
    )
    layout = layout_of(page)
    signed = re.search(r'name="layout" value="([^"]+)"', html)[1]  # type: ignore[index]
    answered = author.post(
        f"/author/items/{item.slug}/try",
        {"layout": signed, **right_post(item.type, item.current_version.data, layout)},
    )
    assert answered.status_code == 200
    text = answered.content.decode()
    assert "✔</span> Correct" in text
    points = f"{float(item.current_version.points):g}"
    assert f"{points} of {points} point" in text
    assert nothing_recorded()


def test_a_wrong_answer_gets_the_feedback_a_learner_would(author: Client, topic: Any) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [SINGLE])
    page = author.get(f"/author/items/{item.slug}/try")
    layout = layout_of(page)
    post_token = next(t for t, i in layout["choices"] if i == "c1")  # POST: wrong, with feedback
    signed = re.search(r'name="layout" value="([^"]+)"', page.content.decode())[1]  # type: ignore[index]
    answered = author.post(
        f"/author/items/{item.slug}/try", {"layout": signed, "choice": post_token}
    )
    text = answered.content.decode()
    assert "Not correct" in text and "POST changes state." in text and "Because it is so." in text
    assert nothing_recorded()


def test_partial_credit_shows_as_a_learner_sees_it(author: Client, topic: Any) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [MULTIPLE])
    page = author.get(f"/author/items/{item.slug}/try")
    layout = layout_of(page)
    one = next(t for t, i in layout["choices"] if i == "c1")
    signed = re.search(r'name="layout" value="([^"]+)"', page.content.decode())[1]  # type: ignore[index]
    text = author.post(
        f"/author/items/{item.slug}/try", {"layout": signed, "choices": [one]}
    ).content.decode()
    assert "Partly correct" in text and "0.50 of 1 point" in text


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"layout": "forged", "value": "200"}, "This preview expired"),
        ({"value": "200"}, "This preview expired"),
    ],
)
def test_a_tampered_preview_is_refused_and_records_nothing(
    author: Client, topic: Any, posted: dict[str, Any], message: str
) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [NUMERIC])
    response = author.post(f"/author/items/{item.slug}/try", posted)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert nothing_recorded()


def test_an_unreadable_answer_is_refused_in_plain_words(author: Client, topic: Any) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [NUMERIC])
    page = author.get(f"/author/items/{item.slug}/try")
    signed = re.search(r'name="layout" value="([^"]+)"', page.content.decode())[1]  # type: ignore[index]
    response = author.post(f"/author/items/{item.slug}/try", {"layout": signed, "value": "lots"})
    assert response.status_code == 400
    assert "That answer cannot be scored: Enter a number" in response.content.decode()
    assert nothing_recorded()


def test_a_preview_of_another_version_is_refused(author: Client, topic: Any) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [MATCHING])
    page = author.get(f"/author/items/{item.slug}/try")
    signed = re.search(r'name="layout" value="([^"]+)"', page.content.decode())[1]  # type: ignore[index]
    load_sample_items(topic.stage, topic.slug, [{**MATCHING, "title": "Status codes, again"}])
    response = author.post(f"/author/items/{item.slug}/try", {"layout": signed, "pair": []})
    assert response.status_code == 400
    assert "The item changed since this preview was opened" in response.content.decode()


def test_a_challenge_preview_shows_the_statement_and_editor_without_answers(
    author: Client, topic: Any
) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    page = author.get(f"/author/items/{item.slug}/try")
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-skillmap-editor" in html and "add(1, 2)" in html
    assert "return a + b" not in html  # the reference solution stays out
    assert "negative" not in html  # and so do the hidden tests
    assert nothing_recorded()
