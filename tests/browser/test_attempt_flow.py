"""A learner's journey in Chromium: take a quiz end to end with a coding challenge graded
by a real worker, survive a network drop and an expired session, resume in a new browser,
and see an expired attempt submitted automatically."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from quizzes.assessments.services import attempts_autosubmit_expired
from quizzes.models import Attempt, AttemptItem, AttemptStatus, QuizPool
from tests.browser.helpers import answer_in_page, log_in, right_answer
from tests.factories import QuizFactory
from tests.samples import OBJECTIVE, PYTHON, load_sample_items

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def quiz(topic: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [*OBJECTIVE, PYTHON])
    quiz = QuizFactory(stage=topic.stage, title="Sample stage quiz", time_limit_seconds=1800)
    QuizPool.objects.create(
        quiz=quiz, position=0, count=7, stage=topic.stage, item_types=[s["type"] for s in OBJECTIVE]
    )
    QuizPool.objects.create(quiz=quiz, position=1, count=1, stage=topic.stage, item_types=["code"])
    return quiz


def start(page: Page, live_server: Any, quiz: Any) -> Attempt:
    page.goto(f"{live_server.url}/quizzes/{quiz.slug}/")
    page.click("[data-start]")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    return Attempt.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))


def items_of(attempt: Attempt) -> list[AttemptItem]:
    return list(attempt.items.select_related("item_version__item").order_by("position"))


def test_take_a_quiz_end_to_end_with_a_graded_challenge(
    page: Page, live_server: Any, quiz: Any, learner: Any, start_worker: Any
) -> None:
    worker = start_worker()
    log_in(page.context, live_server, learner)
    attempt = start(page, live_server, quiz)
    expect(page.locator("section.question")).to_have_count(8)
    expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"^(29|30):\d\d$"))
    for item in items_of(attempt):
        answer = right_answer(item)
        if item.item_version.item.type == "code":
            answer = {"code": "def add(a, b): return a + b"}
        answer_in_page(page, item, answer)
    page.locator("#q1 [data-flag-url]").check()
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    expect(page.locator("[data-answered]")).to_have_text("8")
    expect(page.locator("[data-nav='1']")).to_contain_text("flagged")
    saved = {i.position: i.answer for i in items_of(attempt)}
    assert all(saved.values()), saved
    page.click("[data-submit]")
    # Submitting asks first, listing what is flagged (everything is answered).
    dialog = page.locator("[data-submit-confirm]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-confirm-summary]")).to_have_text(
        "0 questions are not answered and 1 is flagged for review:"
    )
    expect(dialog.locator("[data-confirm-list] li")).to_have_count(1)
    expect(dialog.locator("[data-confirm-list] li")).to_contain_text("flagged")
    dialog.locator("[data-confirm-submit]").click()
    page.wait_for_url(re.compile(r"/result$"))
    # The page updates itself as the worker's grade arrives.
    expect(page.locator(".summary")).to_contain_text("passed", timeout=60000)
    expect(page.locator(".summary")).to_contain_text("17 / 17")
    expect(page.locator(".verdict")).to_have_count(8)
    expect(page.locator(".explanation").first).to_contain_text("Because it is so.")
    expect(page.locator("table.outcomes")).to_contain_text("hidden")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.GRADED and attempt.passed, worker.log_text()[-2000:]


def type_while_offline(page: Page, live_server: Any, quiz: Any, learner: Any, text: str) -> Any:
    """Start an attempt, go offline, and type a short-text answer that cannot be saved."""
    log_in(page.context, live_server, learner)
    attempt = start(page, live_server, quiz)
    item = next(i for i in items_of(attempt) if i.item_version.item.type == "short_text")
    page.context.set_offline(True)
    page.fill(f"#q{item.position}-text", text)
    expect(page.locator(f"#q{item.position} [data-save-state]")).to_have_text(
        "Not saved — retrying", timeout=10000
    )
    return item


def test_an_answer_typed_while_offline_is_saved_after_reconnecting(
    page: Page, live_server: Any, quiz: Any, learner: Any
) -> None:
    item = type_while_offline(page, live_server, quiz, learner, "Retry-After")
    expect(page.locator("[data-global-state]")).to_contain_text("Not saved")
    item.refresh_from_db()
    assert item.answer is None
    page.context.set_offline(False)
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=30000)
    item.refresh_from_db()
    assert item.answer == {"text": "Retry-After"}


def test_a_busy_server_is_retried_after_its_retry_after_and_the_answer_saved(
    page: Page, live_server: Any, quiz: Any, learner: Any
) -> None:
    """A shed save (503 + Retry-After, as config/shedding.py answers) keeps the answer in
    the page and sends it again no sooner than the server asked."""
    log_in(page.context, live_server, learner)
    attempt = start(page, live_server, quiz)
    item = next(i for i in items_of(attempt) if i.item_version.item.type == "short_text")
    sent: list[float] = []
    refusals: list[str | None] = []

    def busy_twice(route: Any) -> None:
        sent.append(time.monotonic())
        refusals.append(route.request.headers.get("x-shed-retries"))
        if len(sent) <= 2:
            route.fulfill(
                status=503,
                headers={"Retry-After": "1", "Content-Type": "application/problem+json"},
                body='{"type": "about:blank", "title": "Service Unavailable", "status": 503}',
            )
        else:
            route.continue_()

    page.route(re.compile(r"/api/v1/attempts/\d+/answers/\d+$"), busy_twice)
    page.fill(f"#q{item.position}-text", "kept while busy")
    expect(page.locator(f"#q{item.position} [data-save-state]")).to_contain_text(
        "Server busy — saving again in", timeout=10000
    )
    expect(page.locator("[data-global-state]")).to_contain_text("The server is busy")
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=20000)
    item.refresh_from_db()
    assert item.answer == {"text": "kept while busy"}
    assert len(sent) == 3
    # Each resend says how many refusals came before it (the server lets it wait longer).
    assert refusals == [None, "1", "2"]
    # Each retry waited at least the second the server asked for.
    assert sent[1] - sent[0] >= 1.0 and sent[2] - sent[1] >= 1.0, sent


def test_an_expired_session_says_log_in_again_and_saves_after_login(
    page: Page, live_server: Any, quiz: Any, learner: Any
) -> None:
    log_in(page.context, live_server, learner)
    attempt = start(page, live_server, quiz)
    item = next(i for i in items_of(attempt) if i.item_version.item.type == "numeric")
    page.context.clear_cookies()
    page.fill(f"#q{item.position}-value", "200")
    expect(page.locator(f"#q{item.position} [data-save-state]")).to_have_text(
        "Not saved — log in again", timeout=10000
    )
    expect(page.locator("[data-global-state] a")).to_have_text(re.compile("Log in again"))
    log_in(page.context, live_server, learner)  # as if logged in again in another tab
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=20000)
    item.refresh_from_db()
    assert item.answer == {"value": "200"}


def test_resume_in_a_new_browser_where_the_attempt_was(
    browser: Browser, live_server: Any, quiz: Any, learner: Any
) -> None:
    first = browser.new_context()
    page = first.new_page()
    log_in(first, live_server, learner)
    attempt = start(page, live_server, quiz)
    items = items_of(attempt)
    ordering = next(i for i in items if i.item_version.item.type == "ordering")
    matching = next(i for i in items if i.item_version.item.type == "matching")
    answer_in_page(page, ordering, right_answer(ordering))
    answer_in_page(page, matching, right_answer(matching))
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    code = items[-1]  # the challenge, last in the attempt: answered last
    answer_in_page(page, code, {"code": "def add(a, b): return a + b"})
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    page.evaluate("window.scrollTo(0, 0)")
    first.close()

    second = browser.new_context()
    page = second.new_page()
    log_in(second, live_server, learner)
    page.goto(f"{live_server.url}/quizzes/{quiz.slug}/")
    expect(page.locator("[data-start]")).to_have_text("Resume your attempt")
    page.click("[data-start]")
    page.wait_for_url(f"{live_server.url}/attempts/{attempt.pk}/")
    order = page.locator(f"#q{ordering.position} ol.ordering > li").evaluate_all(
        "(lis) => lis.map((li) => li.dataset.token)"
    )
    assert order == right_answer(ordering)["order"]
    for left, right in right_answer(matching)["pairs"].items():
        expect(page.locator(f"select[data-map-key='{left}']")).to_have_value(right)
    expect(page.locator("[data-answered]")).to_have_text("3")
    # It opens where the learner left off: the question answered last is in view.
    code = items[-1]
    expect(page.locator(f"#q{code.position} .question-head")).to_be_in_viewport()
    expect(page.locator("#q1 .question-head")).not_to_be_in_viewport()
    second.close()


def test_an_expired_attempt_is_submitted_automatically(
    page: Page, live_server: Any, quiz: Any, learner: Any, settings: Any
) -> None:
    settings.ATTEMPT_GRACE_SECONDS = 0
    log_in(page.context, live_server, learner)
    attempt = start(page, live_server, quiz)
    item = next(i for i in items_of(attempt) if i.item_version.item.type == "true_false")
    answer_in_page(page, item, right_answer(item))
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    page.close()  # the learner walks away
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    assert attempts_autosubmit_expired() == 1  # what the periodic task runs

    page = page.context.new_page()
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/")
    page.wait_for_url(re.compile(r"/result$"))
    expect(page.locator(".summary")).to_contain_text("submitted automatically")
    expect(page.locator(".summary")).to_contain_text("1 of 8 questions answered")
    expect(page.locator(".summary")).to_contain_text("1 / 17")


def test_the_countdown_submits_when_time_runs_out(
    page: Page, live_server: Any, quiz: Any, learner: Any
) -> None:
    quiz.time_limit_seconds = 3
    quiz.save()
    log_in(page.context, live_server, learner)
    attempt = start(page, live_server, quiz)
    page.wait_for_url(re.compile(r"/result$"), timeout=15000)
    attempt.refresh_from_db()
    assert attempt.status != AttemptStatus.IN_PROGRESS


def test_leaving_with_unsaved_work_asks_first(
    page: Page, live_server: Any, quiz: Any, learner: Any
) -> None:
    type_while_offline(page, live_server, quiz, learner, "unsaved words")
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()  # "stay on this page"

    page.on("dialog", on_dialog)
    page.close(run_before_unload=True)
    expect(page.locator("[data-global-state]")).to_contain_text("Not saved")
    assert dialogs == ["beforeunload"]
    page.context.set_offline(False)
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=30000)
