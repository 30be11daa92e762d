"""An instructor writes new SQL challenges in Chromium through the form only (no YAML): a
query challenge (schema, data sets, visible and hidden tests, a reference and a wrong
solution), with a field error shown next to its field and fixed, the live preview followed
along, then saved, verified by a real worker in the sandbox and published; and a
transaction-script challenge, its mode chosen in the form, saved and verified the same way."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from quizzes.models import Item, ItemStatus
from tests.browser.helpers import log_in
from tests.browser.test_item_authoring import common, create, created, new_item
from tests.quizzes.bank.sql_samples import PAID_TOTALS, TRANSACTION

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
NO_RULE = "'paid-only' is not the id of one of the rules below."


def fill_test(page: Page, row: int, test: dict[str, Any]) -> None:
    page.fill(f"#id_tests-{row}-name", test["name"])
    if test.get("visible"):
        page.check(f"#id_tests-{row}-visible")
    if test.get("rule"):
        page.fill(f"#id_tests-{row}-rule", test["rule"])
    page.fill(f"#id_tests-{row}-rows_sql", test["data"])


def add_rule(page: Page, rule: dict[str, str]) -> None:
    page.get_by_role("button", name="Add a rule").click()
    expect(page.locator("#id_rules-0-id")).to_be_visible()  # the form came back with the row
    page.fill("#id_rules-0-id", rule["id"])
    page.fill("#id_rules-0-text", rule["text"])


def verify_and_publish(page: Page, slug: str, worker: Any) -> None:
    page.get_by_role("button", name="Verify version 1").click()
    verdict = page.locator("[data-verification]")
    expect(verdict).to_have_attribute("data-verification", "passed", timeout=120_000)
    assert "Verified" in verdict.inner_text(), worker.log_text()[-3000:]
    expect(page.locator("table.verification-run")).to_have_count(2)  # reference, one wrong
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text(f"{slug} is now published.")
    assert Item.objects.get(slug=slug).status == ItemStatus.PUBLISHED


def test_an_instructor_writes_verifies_and_publishes_a_query_challenge_through_the_form(
    page: Page, live_server: Any, topic: Any, instructor: Any, start_worker: Any
) -> None:
    worker = start_worker()
    spec, challenge = PAID_TOTALS, PAID_TOTALS["challenge"]
    slug = spec["slug"]
    log_in(page.context, live_server, instructor)
    new_item(page, live_server.url, topic.stage, "SQL challenge")
    preview = page.locator("#live-preview")
    expect(preview).to_contain_text("Nothing to preview yet")
    # The default mode is the query, and another mode's field is hidden.
    expect(page.get_by_role("radio", name=re.compile("^A query"))).to_be_checked()
    expect(page.locator("#id_t-reader_query")).to_be_hidden()

    common(page, topic, slug, spec["title"], spec["body"])
    page.fill("#id_t-schema", challenge["schema"])
    page.check("#id_t-ordered")
    page.fill("#id_t-starter", challenge["starter"])
    page.fill("#id_t-reference_solution", challenge["reference_solution"])
    for row, test in enumerate(challenge["tests"]):
        fill_test(page, row, test)
    wrong = challenge["wrong_solutions"][0]
    page.fill("#id_wrong_solutions-0-source", wrong["source"])
    page.fill("#id_wrong_solutions-0-breaks", wrong["breaks"])

    # The rule the wrong solution names is not written yet: the preview says so, and
    # saving puts the error next to the field.
    expect(preview).to_contain_text(NO_RULE)
    create(page)
    expect(page.locator("#id_wrong_solutions-0-breaks_error")).to_have_text(NO_RULE)
    assert not Item.objects.exists()
    add_rule(page, challenge["rules"][0])

    # The live preview now shows the challenge as a learner sees it: the statement with its
    # highlighted SQL, the visible example, the editor with the starter; no hidden data.
    question = preview.locator("section.question")
    expect(question).to_contain_text(spec["title"])
    expect(question.locator(".question-body pre code")).to_contain_text("CREATE TABLE orders")
    expect(question.locator(".examples")).to_contain_text("(2, 'bo', 'paid', 5)")
    expect(question).not_to_contain_text("cancelled")
    expect(question.locator(".cm-content")).to_contain_text("SELECT customer, ...")
    assert not Item.objects.exists()  # previewing saved nothing

    create(page)
    created(page, slug)
    item = Item.objects.get(slug=slug)
    assert item.status == ItemStatus.DRAFT
    assert item.current_version.source["challenge"] == challenge  # type: ignore[union-attr]
    verify_and_publish(page, slug, worker)


def test_an_instructor_writes_and_verifies_a_transaction_challenge_through_the_form(
    page: Page, live_server: Any, topic: Any, instructor: Any, start_worker: Any
) -> None:
    worker = start_worker()
    spec, challenge = TRANSACTION, TRANSACTION["challenge"]
    slug = spec["slug"]
    log_in(page.context, live_server, instructor)
    new_item(page, live_server.url, topic.stage, "SQL challenge")
    page.get_by_role("radio", name=re.compile("^A transaction script")).check()
    # The form comes back with the transaction mode's fields, and without the query's (a
    # round trip to the server: on a loaded machine it can take longer than 5 s).
    expect(page.locator("#id_t-reader_query")).to_be_visible(timeout=20000)
    expect(page.locator("#id_check_tables-0-table")).to_be_visible()
    expect(page.locator("#id_t-ordered")).to_be_hidden()

    common(page, topic, slug, spec["title"], spec["body"])
    page.fill("#id_t-schema", challenge["schema"])
    page.fill("#id_t-reader_query", challenge["reader_query"])
    page.fill("#id_check_tables-0-table", "accounts")
    page.fill("#id_t-starter", challenge["starter"])
    page.fill("#id_t-reference_solution", challenge["reference_solution"])
    for row, test in enumerate(challenge["tests"]):
        fill_test(page, row, test)
    wrong = challenge["wrong_solutions"][0]
    page.fill("#id_wrong_solutions-0-source", wrong["source"])
    page.fill("#id_wrong_solutions-0-breaks", wrong["breaks"])
    add_rule(page, challenge["rules"][0])
    expect(page.locator("#live-preview section.question")).to_contain_text(
        "Your transaction script (SQLite)"
    )

    create(page)
    created(page, slug)
    saved = Item.objects.get(slug=slug).current_version.source["challenge"]  # type: ignore[union-attr]
    assert saved == challenge
    verify_and_publish(page, slug, worker)
