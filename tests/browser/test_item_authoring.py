"""An instructor authors in Chromium through the item forms, never typing YAML or JSON: one
item of every objective type, with errors shown next to their fields, rows added and moved,
a typed answer tested; previews and answers each as a learner, publishes it; a learner
takes them; the instructor corrects a key through the form and regrades with the dry run."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from quizzes.models import Attempt, AttemptItem, Item, ItemStatus, QuizPool
from tests.browser.helpers import answer_in_page, log_in, right_answer
from tests.factories import QuizFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def new_item(page: Page, url: str, stage: Any, type_label: str) -> None:
    page.goto(f"{url}/author/items/new?stage={stage.number}")
    page.get_by_label(type_label, exact=True).check()
    page.get_by_role("button", name="Write the item").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("New")


def common(page: Page, topic: Any, slug: str, title: str, body: str) -> None:
    page.fill("#id_c-slug", slug)
    page.fill("#id_c-title", title)
    page.fill("#id_c-body", body)
    page.select_option("#id_c-topic", topic.slug)
    page.select_option("#id_c-difficulty", "2")
    page.select_option("#id_c-cognitive", "judgement")
    page.fill("#id_c-explanation", f"Why: {title.lower()}.")


def rows(page: Page, name: str, field: str, values: list[str]) -> None:
    for n, value in enumerate(values):
        page.fill(f"#id_{name}-{n}-{field}", value)


def create(page: Page) -> None:
    page.get_by_role("button", name="Create draft").click()


def created(page: Page, slug: str) -> None:
    expect(page).to_have_url(re.compile(rf"/author/items/{slug}/$"))
    expect(page.get_by_role("status")).to_contain_text("Draft created")


# What each type's form gets, and how the preview is answered right (by its key).
def write_single(page: Page, topic: Any) -> None:
    common(page, topic, "form-single", "Safe method", "Which HTTP method is **safe**?")
    rows(page, "choices", "text", ["POST", "GET", "DELETE"])
    page.fill("#id_choices-0-feedback", "POST changes state.")
    create(page)  # no correct choice yet: the error is next to the choices
    expect(page.locator("#rows-choices-errors")).to_have_text(
        "Mark exactly one choice as correct (now 0)."
    )
    assert not Item.objects.filter(slug="form-single").exists()
    page.check("#id_choices-1-correct")
    create(page)


def write_multiple(page: Page, topic: Any) -> None:
    common(page, topic, "form-multiple", "Idempotent methods", "Which methods are idempotent?")
    rows(page, "choices", "text", ["PUT", "DELETE", "POST", "PATCH (as JSON merge)"])
    page.check("#id_choices-0-correct")
    create(page)
    expect(page.locator("#rows-choices-errors")).to_contain_text(
        "Mark at least two choices as correct"
    )
    page.check("#id_choices-1-correct")
    create(page)


def write_true_false(page: Page, topic: Any) -> None:
    common(page, topic, "form-tf", "Index always helps", "An index always speeds up a query.")
    create(page)
    expect(page.locator("#id_t-answer_error")).to_have_text(
        "Say whether the statement is true or false."
    )
    page.check("#id_t-answer_0")  # True: a wrong key, corrected after the learner answers
    create(page)


def write_numeric(page: Page, topic: Any) -> None:
    common(page, topic, "form-numeric", "Window burst", "How many requests pass in 2 s at 100/s?")
    page.fill("#id_t-answer", "200")
    page.fill("#id_t-tolerance", "-1")
    page.fill("#id_t-unit", "requests")
    create(page)
    expect(page.locator("#id_t-tolerance_error")).to_have_text("The tolerance cannot be negative.")
    page.fill("#id_t-tolerance", "0.5")
    page.fill("#test-answer", "200 requests")
    page.get_by_role("button", name="Test", exact=True).click()
    expect(page.locator("#answer-test-result")).to_contain_text(
        "“200 requests” is accepted: full marks."
    )
    page.fill("#test-answer", "2000")
    page.get_by_role("button", name="Test", exact=True).click()
    expect(page.locator("#answer-test-result")).to_contain_text("“2000” is not accepted")
    create(page)


def write_short(page: Page, topic: Any) -> None:
    common(page, topic, "form-short", "Header name", "Which header says when to come back?")
    page.fill("#id_accepted-0-text", "Retry-After")
    page.fill("#id_t-pattern", "(retry")
    create(page)
    expect(page.locator("#id_t-pattern_error")).to_contain_text(
        "This is not a valid regular expression"
    )
    page.fill("#id_t-pattern", "(the )?retry-after( header)?")
    create(page)


def write_ordering(page: Page, topic: Any) -> None:
    common(page, topic, "form-ordering", "TLS handshake order", "Order these.")
    # The form shows four rows; a fifth is added (htmx posts the form back), then removed.
    page.get_by_role("button", name="Add an entry").click()
    expect(page.locator("#id_sequence-4-text")).to_be_visible()
    rows(page, "sequence", "text", ["ClientHello", "Finished", "ServerHello"])
    # Move "ServerHello" (row 3) up above "Finished": the form comes back with the rows moved.
    page.get_by_role("button", name=re.compile("move up row 3 of entries")).click()
    expect(page.locator("#id_sequence-1-text")).to_have_value("ServerHello")
    expect(page.locator("#id_sequence-2-text")).to_have_value("Finished")
    expect(page.locator("#id_c-title")).to_have_value("TLS handshake order")  # kept
    page.get_by_role("button", name=re.compile("remove row 5 of entries")).click()
    expect(page.locator("#id_sequence-4-text")).to_have_count(0)
    create(page)


def write_matching(page: Page, topic: Any) -> None:
    common(page, topic, "form-matching", "Status codes", "Match each code with its meaning.")
    rows(page, "pairs", "left", ["401", "403", "429"])
    rows(page, "pairs", "right", ["Unauthenticated", "Forbidden", "unauthenticated"])
    create(page)
    expect(page.locator("#rows-pairs-errors")).to_have_text(
        "Two pairs share a left or a right entry."
    )
    page.fill("#id_pairs-2-right", "Too many requests")
    create(page)


ITEMS: list[tuple[str, str, Callable[[Page, Any], None]]] = [
    ("form-single", "Single choice", write_single),
    ("form-multiple", "Multiple choice", write_multiple),
    ("form-tf", "True / false", write_true_false),
    ("form-numeric", "Numeric", write_numeric),
    ("form-short", "Short text", write_short),
    ("form-ordering", "Ordering", write_ordering),
    ("form-matching", "Matching", write_matching),
]


def answer_preview(page: Page, item: Item) -> None:
    """Answer the preview with the item's key, through the learner's widgets."""
    data = item.current_version.data  # type: ignore[union-attr]
    section = page.locator("section.question")
    kind = item.type
    if kind in ("single_choice", "multiple_choice"):
        for choice in data["choices"]:
            if choice["correct"]:
                section.get_by_label(choice["text"], exact=True).check()
    elif kind == "true_false":
        section.get_by_label("True" if data["answer"] else "False", exact=True).check()
    elif kind == "numeric":
        section.get_by_label(re.compile("Your answer")).fill("200 requests")
    elif kind == "short_text":
        section.get_by_label("Your answer").fill("the retry-after header")
    elif kind == "ordering":
        want = [s["text"] for s in data["sequence"]]
        for index, text in enumerate(want):
            shown = section.locator("ol.ordering > li .entry-text").all_inner_texts()
            for _ in range(shown.index(text) - index):
                section.locator("ol.ordering > li").filter(has_text=text).locator(
                    "[data-move='up']"
                ).click()
    else:
        for pair in data["pairs"]:
            section.get_by_label(pair["left"], exact=True).select_option(label=pair["right"])
    section.get_by_role("button", name="Check answer").click()


@pytest.mark.slow  # seven items written, previewed and published, a quiz taken, a regrade
def test_an_instructor_authors_every_objective_type_through_the_forms(
    page: Page,
    browser: Browser,
    live_server: Any,
    topic: Any,
    instructor: Any,
    learner: Any,
    axe_violations: Any,
) -> None:
    url = live_server.url
    log_in(page.context, live_server, instructor)
    for slug, label, write in ITEMS:
        new_item(page, url, topic.stage, label)
        write(page, topic)
        created(page, slug)
        item = Item.objects.get(slug=slug)
        assert item.status == ItemStatus.DRAFT

        # Preview as a learner: answer it, see the score and feedback; nothing recorded.
        page.get_by_role("link", name="Preview as a learner").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Preview as a learner")
        if slug == "form-single":
            assert axe_violations(page) == []
        answer_preview(page, item)
        expect(page.locator(".verdict")).to_contain_text("Correct — 1 of 1 point")
        expect(page.locator(".explanation")).to_contain_text("Why:")
        assert not Attempt.objects.exists() and not AttemptItem.objects.exists()

        page.get_by_role("link", name="Back to the item").click()
        page.get_by_role("button", name="Publish").click()
        expect(page.get_by_role("status")).to_contain_text(f"{slug} is now published.")
        assert Item.objects.get(slug=slug).status == ItemStatus.PUBLISHED

    # The ordering item kept the order the rows were moved into.
    ordering = Item.objects.get(slug="form-ordering").current_version
    assert [s["text"] for s in ordering.data["sequence"]] == [  # type: ignore[union-attr]
        "ClientHello",
        "ServerHello",
        "Finished",
    ]

    # A learner takes them for real.
    quiz = QuizFactory(stage=topic.stage, title="Forms quiz")
    QuizPool.objects.create(quiz=quiz, count=7, stage=topic.stage)
    context = browser.new_context()
    learner_page = context.new_page()
    log_in(context, live_server, learner)
    learner_page.goto(f"{url}/quizzes/{quiz.slug}/")
    learner_page.click("[data-start]")
    learner_page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    attempt = Attempt.objects.get(learner=learner)
    items = list(attempt.items.select_related("item_version__item").order_by("position"))
    assert len(items) == 7
    for attempt_item in items:
        answer = right_answer(attempt_item)
        if attempt_item.item_version.item.slug == "form-tf":
            answer = {"value": False}  # the truth; the key says True
        answer_in_page(learner_page, attempt_item, answer)
    expect(learner_page.locator("[data-global-state]")).to_have_text(
        "All answers saved.", timeout=15000
    )
    learner_page.click("[data-submit]")
    learner_page.locator("[data-confirm-submit]").click()
    learner_page.wait_for_url(re.compile(r"/result$"))
    expect(learner_page.locator(".summary")).to_contain_text("6 / 7")
    attempt.refresh_from_db()
    assert attempt.score == 6

    # The instructor corrects the key through the form, and regrades with the dry run.
    page.goto(f"{url}/author/items/form-tf/edit")
    expect(page.locator("#id_t-answer_0")).to_be_checked()
    page.check("#id_t-answer_1")
    page.get_by_role("button", name="Save new version").click()
    expect(page.get_by_role("status")).to_contain_text("Saved as a new version")
    page.get_by_role("link", name="Regrade past answers with v2…").click()
    expect(page.get_by_text("A dry run: nothing has changed yet.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=learner.email)).to_contain_text("0 → 1 of 1")
    attempt.refresh_from_db()
    assert attempt.score == 6  # the dry run changed nothing
    page.get_by_role("button", name="Apply the regrade with v2").click()
    expect(page.get_by_role("status")).to_contain_text("Regraded with version 2")
    attempt.refresh_from_db()
    assert attempt.score == 7
    learner_page.goto(f"{url}/attempts/{attempt.pk}/result")
    expect(learner_page.locator(".summary")).to_contain_text("7 / 7")
    context.close()


def test_the_yaml_mode_round_trips_with_the_form_in_the_browser(
    page: Page, live_server: Any, topic: Any, instructor: Any
) -> None:
    log_in(page.context, live_server, instructor)
    new_item(page, live_server.url, topic.stage, "Matching")
    common(page, topic, "form-yaml", "Status codes", "Match.")
    rows(page, "pairs", "left", ["401", "403", "429"])
    rows(page, "pairs", "right", ["Unauthenticated", "Forbidden", "Too many requests"])
    page.get_by_role("button", name="Advanced: edit as YAML").click()
    source = page.get_by_label("Item (YAML)")
    expect(source).to_contain_text("right: Too many requests")
    source.fill(source.input_value().replace("Forbidden", "Not allowed"))
    page.get_by_role("button", name="Back to the form").click()
    expect(page.locator("#id_pairs-1-right")).to_have_value("Not allowed")
    create(page)
    created(page, "form-yaml")


def test_the_live_preview_of_an_unsaved_item_is_answerable_and_saves_nothing(
    page: Page, live_server: Any, topic: Any, instructor: Any, axe_violations: Any
) -> None:
    log_in(page.context, live_server, instructor)
    new_item(page, live_server.url, topic.stage, "Single choice")
    preview = page.locator("#live-preview")
    expect(preview).to_contain_text("Nothing to preview yet")
    common(page, topic, "live-single", "Safe method", "Which HTTP method is **safe**?")
    rows(page, "choices", "text", ["POST", "GET", "DELETE"])
    page.fill("#id_choices-0-feedback", "POST changes state.")
    # It follows the form: no correct choice yet, said in plain words; then the item.
    expect(preview).to_contain_text("Choices: Mark exactly one choice as correct (now 0).")
    page.check("#id_choices-1-correct")
    question = preview.locator("section.question")
    expect(question.locator(".question-body strong")).to_have_text("safe")  # Markdown
    assert axe_violations(page) == []
    question.get_by_label("POST", exact=True).check()
    question.get_by_role("button", name="Check answer").click()
    expect(preview.locator(".verdict")).to_contain_text("Not correct — 0 of 1 point")
    expect(preview).to_contain_text("POST changes state.")
    preview.get_by_role("button", name="Try again").click()
    question.get_by_label("GET", exact=True).check()
    question.get_by_role("button", name="Check answer").click()
    expect(preview.locator(".verdict")).to_contain_text("Correct — 1 of 1 point")
    expect(preview.locator(".explanation")).to_contain_text("Why: safe method.")
    assert not Item.objects.exists() and not Attempt.objects.exists()
    # The Preview button shows it afresh, and the item is saved only by its own button.
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(question.get_by_role("button", name="Check answer")).to_be_visible()
    create(page)
    created(page, "live-single")


SHOTS_DIR = os.environ.get("SKILLMAP_SCREENSHOTS", "")


@pytest.mark.skipif(not SHOTS_DIR, reason="SKILLMAP_SCREENSHOTS=<folder> refreshes the README's")
def test_readme_item_form_screenshot(
    browser: Browser, live_server: Any, topic: Any, instructor: Any
) -> None:
    """docs/screenshots/item-form.png: a single-choice form with an error on its choices."""
    context = browser.new_context(viewport={"width": 1280, "height": 1500})
    log_in(context, live_server, instructor)
    page = context.new_page()
    new_item(page, live_server.url, topic.stage, "Single choice")
    common(page, topic, "http-safe-method", "Safe method", "Which HTTP method is **safe**?")
    rows(page, "choices", "text", ["POST", "GET", "DELETE", "get"])
    rows(page, "choices", "feedback", ["POST changes state.", "", "DELETE removes a resource."])
    page.check("#id_choices-1-correct")
    create(page)
    expect(page.locator("#rows-choices-errors")).to_have_text("Two choices have the same text.")
    page.locator("h1").evaluate("(el) => el.scrollIntoView({block: 'start'})")
    folder = Path(SHOTS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / "item-form.png")
    context.close()
