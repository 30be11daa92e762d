"""An instructor imports a Moodle XML export in Chromium: the dry-run report shows what
would be imported and skipped and why, nothing is written until they confirm, and then
the questions are in the bank as drafts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from quizzes.models import Item, ItemStatus
from tests.browser.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURE = Path(__file__).resolve().parents[1] / "quizzes/bank/fixtures/moodle4_export.xml"
SHOTS_DIR = os.environ.get("SKILLMAP_SCREENSHOTS", "")


def test_an_instructor_reviews_the_dry_run_then_imports(
    page: Page, live_server: Any, roadmap: Any, instructor: Any, axe_violations: Any
) -> None:
    log_in(page.context, live_server, instructor)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/author/items/")
    page.get_by_role("link", name="Import / export").click()
    page.get_by_label("Bank file").set_input_files(str(FIXTURE))
    page.get_by_role("button", name="Upload and review").click()

    expect(page.get_by_role("heading", name="Dry run: moodle4_export.xml")).to_be_visible()
    expect(page.locator("[data-summary]")).to_have_text(
        "7 to create, 0 to update, 0 unchanged, 5 skipped."
    )
    essay = page.get_by_role("row").filter(has_text="Explain sharding")
    expect(essay).to_contain_text("skipped")
    expect(essay).to_contain_text("essay questions are marked by hand")
    image = page.get_by_role("row").filter(has_text="Composite index column order")
    expect(image).to_contain_text("create single_choice")
    expect(image).to_contain_text("image 'index diagram.png' (embedded in the file)")
    indexing = page.get_by_label(
        "$course$/top/Default for Backend Engineering 101/Databases/Indexing"
    )
    expect(indexing).to_have_value("3/indexing")
    assert axe_violations(page) == []
    assert not Item.objects.exists()  # the dry run wrote nothing

    if SHOTS_DIR:
        folder = Path(SHOTS_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 1400})
        page.locator("#report-title").evaluate("(el) => el.scrollIntoView({block: 'start'})")
        page.evaluate("() => window.scrollBy(0, -16)")
        page.screenshot(path=folder / "import-report.png")
        page.set_viewport_size({"width": 1280, "height": 1000})

    # The instructor sends the Indexing category to another topic and reviews again.
    indexing.select_option("3/normalization")
    page.get_by_role("button", name="Update the report").click()
    expect(
        page.get_by_label("$course$/top/Default for Backend Engineering 101/Databases/Indexing")
    ).to_have_value("3/normalization")
    page.get_by_role("button", name="Import 7 questions").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Imported moodle4_export.xml: 7 created (as drafts), 0 updated, 0 unchanged, 5 skipped."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Question bank")
    row = page.locator("tr[data-item='index-only-scans']")
    expect(row).to_contain_text("Index-only scans")
    expect(row).to_contain_text("Draft")
    item = Item.objects.get(slug="index-only-scans")
    assert (item.topic.slug, item.status) == ("normalization", ItemStatus.DRAFT)
    assert Item.objects.count() == 7
