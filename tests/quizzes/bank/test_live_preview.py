"""The live preview of the item form: the form's unsaved content, as a learner sees it,
answerable and scored, with nothing saved (no item, no version, no attempt); the form's
problems in plain words instead when it has any."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from django.core import signing
from django.test import Client

from quizzes.bank.authoring import to_yaml
from quizzes.bank.forms import ItemAuthoring
from quizzes.itemtypes import handler_for
from quizzes.models import Item, ItemVersion
from tests.quizzes.bank.authoring_forms import form_post_data
from tests.quizzes.bank.sql_samples import TRANSACTION
from tests.quizzes.bank.test_item_preview import nothing_recorded, right_post
from tests.samples import (
    COMMON,
    MULTIPLE,
    NUMERIC,
    OBJECTIVE,
    ORDERING,
    PYTHON,
    SINGLE,
    SQL,
    load_sample_items,
)

pytestmark = pytest.mark.django_db
URL = "/author/items/preview"


@pytest.fixture
def author(instructor: Any) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


def entry_of(topic: Any, spec: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy({**COMMON, "topic": topic.slug, **spec})


def form_data(topic: Any, spec: dict[str, Any], **changes: Any) -> Any:
    """What the new item's form posts for ``spec``, as the preview gets it (hx-include)."""
    authoring = ItemAuthoring(
        handler=handler_for(spec["type"]), stage=topic.stage, item=None, entry=entry_of(topic, spec)
    )
    return form_post_data(
        authoring, mode="form", stage=topic.stage.number, type=spec["type"], **changes
    )


def preview(author: Client, data: Any, **answer: Any) -> Any:
    """Post the form and, as the preview's own form adds, an answer (a list: one value per
    ticked box); every value of a name is sent (the client sends a QueryDict's last)."""
    posted = {name: data.getlist(name) for name in data}
    posted.update({k: v if isinstance(v, list) else [v] for k, v in answer.items()})
    return author.post(URL, posted, HTTP_HX_REQUEST="true")


def signed_layout(response: Any) -> str:
    found = re.search(r'name="layout" value="([^"]+)"', response.content.decode())
    assert found is not None, response.content.decode()[:2000]
    return found[1]


def layout_of(response: Any) -> dict[str, Any]:
    return signing.loads(signed_layout(response), salt="skillmap.bank.live-preview")["layout"]  # type: ignore[no-any-return]


def nothing_saved() -> bool:
    return nothing_recorded() and not Item.objects.exists() and not ItemVersion.objects.exists()


@pytest.mark.parametrize("spec", OBJECTIVE, ids=lambda s: s["type"])
def test_the_forms_content_is_shown_as_a_learner_sees_it_and_scored_unsaved(
    author: Client, topic: Any, spec: dict[str, Any]
) -> None:
    data = form_data(topic, spec)
    shown = preview(author, data)
    assert shown.status_code == 200
    html = shown.content.decode()
    assert spec["title"] in html and 'class="answer-form preview-form"' in html
    widget = html.split("question-body")[1].split("</form>")[0].lower()
    assert "correct" not in widget or spec is ORDERING  # no key in the learner's view
    assert "Because it is so." not in html  # nor the explanation before answering
    built = handler_for(spec["type"]).build_data(entry_of(topic, spec))
    answered = preview(
        author,
        data,
        preview_op="answer",
        layout=signed_layout(shown),
        **right_post(spec["type"], built, layout_of(shown)),
    )
    assert answered.status_code == 200
    text = answered.content.decode()
    assert "✔</span> Correct" in text
    points = f"{float(spec.get('points', 1)):g}"
    assert f"{points} of {points} point" in text
    assert "Because it is so." in text  # the explanation, as at review
    assert nothing_saved()


def test_a_wrong_answer_gets_the_feedback_and_partial_credit_a_learner_would(
    author: Client, topic: Any
) -> None:
    data = form_data(topic, SINGLE)
    shown = preview(author, data)
    post_token = next(t for t, i in layout_of(shown)["choices"] if i == "c1")
    text = preview(
        author, data, preview_op="answer", layout=signed_layout(shown), choice=post_token
    ).content.decode()
    assert "Not correct" in text and "POST changes state." in text
    data = form_data(topic, MULTIPLE)
    shown = preview(author, data)
    one = next(t for t, i in layout_of(shown)["choices"] if i == "c1")
    text = preview(
        author, data, preview_op="answer", layout=signed_layout(shown), choices=[one]
    ).content.decode()
    assert "Partly correct" in text and "0.50 of 1 point" in text
    assert nothing_saved()


def test_the_preview_follows_unsaved_changes(author: Client, topic: Any) -> None:
    response = preview(
        author,
        form_data(topic, SINGLE, **{"c-title": "Safe verbs", "c-body": "Pick the `safe` one."}),
    )
    html = response.content.decode()
    assert "Safe verbs" in html and "<code>safe</code>" in html  # Markdown, as learners see
    assert nothing_saved()


def test_an_item_being_edited_is_previewed_as_typed_not_as_saved(
    author: Client, topic: Any
) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [NUMERIC])
    page = author.get(f"/author/items/{item.slug}/edit")
    assert 'id="live-preview"' in page.content.decode()
    assert f'name="item" value="{item.slug}"' in page.content.decode()
    data = form_post_data(page.context["authoring"], mode="form", item=item.slug)
    data["c-title"] = "Burst, reworded"
    response = author.post(URL, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Burst, reworded" in response.content.decode()
    assert ItemVersion.objects.filter(item=item).count() == 1
    item.refresh_from_db()
    assert item.current_version.title == NUMERIC["title"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("spec", "changes", "problem"),
    [
        (
            SINGLE,
            {"choices-1-correct": None},
            "Choices: Mark exactly one choice as correct (now 0).",
        ),
        (
            NUMERIC,
            {"t-answer": "two hundred"},
            "Correct answer: Enter a number, such as 42 or 0.25.",
        ),
        (SINGLE, {"c-title": ""}, "Title: Write a title."),
        (
            SQL,
            {"tests-0-weight": "-1"},
            "Tests (each a data set), row 1, Weight: The weight must be a positive number.",
        ),
        (
            TRANSACTION,
            {"t-reader_query": ""},
            "The concurrent reader's query (SQL): Write the reader's query: what a second "
            "connection reads after each statement.",
        ),
    ],
)
def test_a_form_with_problems_is_not_previewed_and_says_why_in_plain_words(
    author: Client, topic: Any, spec: dict[str, Any], changes: dict[str, Any], problem: str
) -> None:
    response = preview(author, form_data(topic, spec, **changes))
    assert response.status_code == 200
    html = response.content.decode().replace("&#x27;", "'")
    assert "Nothing to preview yet" in html
    assert problem in html
    assert "preview-form" not in html
    assert nothing_saved()


def test_a_draft_without_a_slug_yet_is_previewed(author: Client, topic: Any) -> None:
    response = preview(author, form_data(topic, SINGLE, **{"c-slug": ""}))
    assert "preview-form" in response.content.decode()


def test_an_answer_to_content_changed_since_it_was_shown_is_refused(
    author: Client, topic: Any
) -> None:
    data = form_data(topic, SINGLE)
    shown = preview(author, data)
    token = next(t for t, i in layout_of(shown)["choices"] if i == "c2")
    changed = form_data(topic, SINGLE, **{"choices-1-text": "HEAD"})
    response = preview(
        author, changed, preview_op="answer", layout=signed_layout(shown), choice=token
    )
    html = response.content.decode()
    assert "The item changed since this preview was shown" in html
    assert "HEAD" in html and "preview-form" in html  # shown again, as it now stands
    assert "Correct" not in html


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"layout": "forged", "value": "200"}, "This preview expired"),
        ({"value": "200"}, "This preview expired"),
        (None, "That answer cannot be scored: Enter a number"),
    ],
)
def test_a_tampered_or_unreadable_answer_is_refused_in_plain_words(
    author: Client, topic: Any, answer: dict[str, Any] | None, message: str
) -> None:
    data = form_data(topic, NUMERIC)
    if answer is None:
        answer = {"layout": signed_layout(preview(author, data)), "value": "lots"}
    response = preview(author, data, preview_op="answer", **answer)
    assert message in response.content.decode()
    assert "Correct" not in response.content.decode()
    assert nothing_saved()


def test_a_layout_of_the_saved_items_preview_is_not_taken(author: Client, topic: Any) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [NUMERIC])
    saved = author.get(f"/author/items/{item.slug}/try")
    response = preview(
        author, form_data(topic, NUMERIC), preview_op="answer", layout=signed_layout(saved)
    )
    assert "This preview expired" in response.content.decode()


def test_a_challenge_is_shown_with_its_examples_and_no_solution(author: Client, topic: Any) -> None:
    data = form_data(topic, SQL)
    response = preview(author, data)
    html = response.content.decode()
    assert "data-skillmap-editor" in html
    assert "INSERT INTO accounts VALUES (1,&#x27;ana&#x27;,10)" in html  # the visible test
    assert "zed" not in html  # the hidden test's data
    assert "ORDER BY total DESC, owner" not in html  # the reference solution
    assert "Check answer" not in html and "Verify" in html
    answered = preview(
        author, data, preview_op="answer", layout=signed_layout(response), code="SELECT 1"
    )
    assert "Code is graded by the workers" in answered.content.decode()
    assert nothing_saved()


def test_the_yaml_mode_is_previewed_too(author: Client, topic: Any) -> None:
    source = to_yaml(entry_of(topic, PYTHON))
    data = {"mode": "yaml", "source": source, "stage": topic.stage.number, "type": "code"}
    html = author.post(URL, data, HTTP_HX_REQUEST="true").content.decode()
    assert PYTHON["title"] in html and "add(1, 2)" in html
    assert "return a + b" not in html and "negative" not in html
    broken = {**data, "source": source.replace("title:", "titel:")}
    html = author.post(URL, broken, HTTP_HX_REQUEST="true").content.decode()
    assert "Nothing to preview yet" in html and "titel" in html
    assert nothing_saved()


@pytest.mark.parametrize(
    "data",
    [{}, {"type": "sql"}, {"stage": "1", "type": "no_such_type"}, {"stage": "x", "type": "sql"}],
)
def test_a_post_that_is_no_item_form_is_refused(
    author: Client, topic: Any, data: dict[str, Any]
) -> None:
    response = author.post(URL, data)
    assert response.status_code == 400
    assert "stage and type are missing" in response.content.decode()
    assert nothing_saved()


def test_only_instructors_preview_and_csrf_is_checked(
    learner: Any, instructor: Any, topic: Any
) -> None:
    data = form_data(topic, SINGLE)
    client = Client()
    assert client.post(URL, data).status_code == 302  # anonymous: to the login page
    client.force_login(learner)
    assert client.post(URL, data).status_code == 403
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(instructor)
    assert guarded.post(URL, data).status_code == 403  # no CSRF token
    assert guarded.get(URL).status_code == 405
    assert nothing_saved()
