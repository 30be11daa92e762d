"""An instructor writes a new code challenge in Chromium through the form only, never
typing YAML: the signature as rows, visible and hidden tests, a reference and a wrong
solution in Python, JavaScript and every other registered language; a test argument that
does not fit the signature is named next to its field, and fixed; Verify runs on a real
worker, the challenge is published, and a learner is graded on it by the worker. A
challenge whose reference fails a test is not published."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from quizzes.bank.authoring import item_save
from quizzes.models import (
    Attempt,
    AttemptStatus,
    ChallengeVerification,
    Item,
    ItemStatus,
    QuizKind,
    QuizPool,
    Submission,
    VerificationStatus,
)
from tests.browser.helpers import log_in
from tests.browser.test_item_authoring import common, create, created, new_item
from tests.conftest import wait_for
from tests.factories import QuizFactory
from tests.samples import COMMON

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

SLUG = "form-code-pages"
# Each language's reference and wrong solution (the wrong one rounds down: it passes the
# visible tests and fails the hidden "a partial page").
SOLUTIONS = {
    "python": (
        "def total_pages(items, per_page):\n    if per_page < 1:\n"
        "        raise ValueError('per_page must be positive')\n"
        "    return -(-items // per_page)\n",
        "def total_pages(items, per_page):\n    if per_page < 1:\n"
        "        raise ValueError('per_page must be positive')\n"
        "    return items // per_page\n",
    ),
    "javascript": (
        "function totalPages(items, perPage) {\n"
        "  if (perPage < 1) throw new RangeError('perPage must be positive');\n"
        "  return Math.ceil(items / perPage);\n}\n\nmodule.exports = { totalPages };\n",
        "function totalPages(items, perPage) {\n"
        "  if (perPage < 1) throw new RangeError('perPage must be positive');\n"
        "  return Math.floor(items / perPage);\n}\n\nmodule.exports = { totalPages };\n",
    ),
    "typescript": (
        "export function totalPages(items: number, perPage: number): number {\n"
        "  if (perPage < 1) throw new RangeError('perPage must be positive');\n"
        "  return Math.ceil(items / perPage);\n}\n",
        "export function totalPages(items: number, perPage: number): number {\n"
        "  if (perPage < 1) throw new RangeError('perPage must be positive');\n"
        "  return Math.floor(items / perPage);\n}\n",
    ),
    "go": (
        'package main\n\nimport "errors"\n\n'
        'var ErrInvalidArgument = errors.New("invalid argument")\n\n'
        "func TotalPages(items int, perPage int) (int, error) {\n"
        "\tif perPage < 1 {\n\t\treturn 0, ErrInvalidArgument\n\t}\n"
        "\treturn (items + perPage - 1) / perPage, nil\n}\n",
        'package main\n\nimport "errors"\n\n'
        'var ErrInvalidArgument = errors.New("invalid argument")\n\n'
        "func TotalPages(items int, perPage int) (int, error) {\n"
        "\tif perPage < 1 {\n\t\treturn 0, ErrInvalidArgument\n\t}\n"
        "\treturn items / perPage, nil\n}\n",
    ),
    "java": (
        "class Solution {\n    static long totalPages(long items, long perPage) {\n"
        '        if (perPage < 1) throw new IllegalArgumentException("perPage");\n'
        "        return (items + perPage - 1) / perPage;\n    }\n}\n",
        "class Solution {\n    static long totalPages(long items, long perPage) {\n"
        '        if (perPage < 1) throw new IllegalArgumentException("perPage");\n'
        "        return items / perPage;\n    }\n}\n",
    ),
}
TESTS = [
    # name, visible, arguments, expected result or None, error, rule
    ("two full pages", True, "[20, 10]", "2", "", ""),
    ("no items", True, "[0, 5]", "0", "", ""),
    ("a partial page", False, '["21", 10]', "3", "", "round-up"),  # "21": fixed below
    ("no page size", False, "[3, 0]", "", "ValueError", "positive-size"),
]


def click(page: Page, button: str, then: str) -> None:
    """Press a row button (htmx swaps the form back in) and wait for ``then`` to show."""
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(then)).to_be_visible()


def write_challenge(page: Page, topic: Any) -> None:
    common(page, topic, SLUG, "Pages for a list", "Write `total_pages(items, per_page)`.")
    page.fill("#id_t-entry_point", "total_pages")
    # The signature: a parameter row is there, a second is added.
    page.fill("#id_params-0-name", "items")
    page.fill("#id_params-0-type", "int")
    click(page, "Add a parameter", "#id_params-1-name")
    page.fill("#id_params-1-name", "per_page")
    page.fill("#id_params-1-type", "int")
    page.fill("#id_t-returns", "int")
    page.check("#id_t-raises_0")  # ValueError, among the errors the function may raise
    click(page, "Add a rule", "#id_rules-0-id")
    click(page, "Add a rule", "#id_rules-1-id")
    page.fill("#id_rules-0-id", "round-up")
    page.fill("#id_rules-0-text", "A partial last page is a page.")
    page.fill("#id_rules-1-id", "positive-size")
    page.fill("#id_rules-1-text", "A page size below 1 raises ValueError.")
    click(page, "Add a test", "#id_tests-2-name")
    click(page, "Add a test", "#id_tests-3-name")
    for n, (name, visible, args, expect_value, raises, rule) in enumerate(TESTS):
        page.fill(f"#id_tests-{n}-name", name)
        if visible:
            page.check(f"#id_tests-{n}-visible")
        page.fill(f"#id_tests-{n}-args", args)
        page.fill(f"#id_tests-{n}-expect", expect_value)
        page.select_option(f"#id_tests-{n}-raises", raises)
        page.fill(f"#id_tests-{n}-rule", rule)
    for key, (reference, wrong) in SOLUTIONS.items():
        prefix = "" if key == "python" else f"{key}_"
        rows = "wrong_solutions" if key == "python" else f"{key}_wrong"
        if key != "python":  # Python's form has a wrong-solution row to fill already
            section = page.locator(f"#language-{key}-title").locator("xpath=..")
            section.get_by_role("button", name=re.compile("^Add a .* wrong solution$")).click()
        expect(page.locator(f"#id_{rows}-0-source")).to_be_visible()
        page.fill(f"#id_t-{prefix}reference_solution", reference)
        page.fill(f"#id_{rows}-0-source", wrong)
        page.fill(f"#id_{rows}-0-breaks", "round-up")
        page.fill(f"#id_{rows}-0-author", "author-w")
    page.fill("#id_t-tests_author", "author-t")


def test_an_instructor_writes_verifies_and_publishes_a_challenge_a_learner_is_graded_on(
    page: Page,
    browser: Any,
    live_server: Any,
    topic: Any,
    instructor: Any,
    learner: Any,
    start_worker: Any,
    axe_violations: Any,
) -> None:
    url = live_server.url
    log_in(page.context, live_server, instructor)
    new_item(page, url, topic.stage, "Coding challenge")
    write_challenge(page, topic)
    create(page)
    # The argument that does not fit the signature is named next to its field.
    expect(page.locator("#id_tests-2-args_error")).to_have_text(
        "The argument for items: expected int, got string '21'."
    )
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was saved")
    assert not Item.objects.filter(slug=SLUG).exists()
    expect(page.locator("#id_t-javascript_reference_solution")).to_have_value(
        SOLUTIONS["javascript"][0]
    )  # what was typed is all there
    page.fill("#id_tests-2-args", "[21, 10]")
    create(page)
    created(page, SLUG)
    item = Item.objects.get(slug=SLUG)
    challenge = item.current_version.source["challenge"]  # type: ignore[union-attr]
    assert challenge["signature"] == {
        "params": [{"name": "items", "type": "int"}, {"name": "per_page", "type": "int"}],
        "returns": "int",
        "raises": ["ValueError"],
    }
    assert [t.get("visible", False) for t in challenge["tests"]] == [True, True, False, False]
    assert challenge["tests"][3] == {
        "name": "no page size", "rule": "positive-size", "args": [3, 0], "raises": "ValueError"
    }  # fmt: skip
    assert set(challenge["languages"]) == set(SOLUTIONS) - {"python"}
    # The blank starters show the ones generated from the signature.
    page.goto(f"{url}/author/items/{SLUG}/edit")
    expect(page.locator("#id_t-starter")).to_have_attribute(
        "placeholder", re.compile(r"^def total_pages\(items: int, per_page: int\) -> int:")
    )
    expect(page.locator("#id_t-go_starter")).to_have_attribute(
        "placeholder", re.compile(r"func TotalPages\(items int, perPage int\) \(int, error\)")
    )
    assert axe_violations(page) == []
    page.goto(f"{url}/author/items/{SLUG}/")

    # Not published before Verify has passed.
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("has not passed verification")
    assert Item.objects.get(slug=SLUG).status == ItemStatus.DRAFT

    worker = start_worker()
    page.get_by_role("button", name="Verify version 1").click()
    verification = wait_for(
        lambda: next(
            (v for v in ChallengeVerification.objects.order_by("-pk")[:1] if not v.is_pending),
            None,
        ),
        timeout=600,
        what=f"the verification\n{worker.log_text()[-3000:]}",
    )
    assert verification.status == VerificationStatus.PASSED, verification.problems
    expect(page.locator("#verification")).to_contain_text("✔ Verified", timeout=30000)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text(f"{SLUG} is now published.")
    assert Item.objects.get(slug=SLUG).status == ItemStatus.PUBLISHED

    # A learner takes it, in Python, and a real worker grades it.
    quiz = QuizFactory(stage=topic.stage, kind=QuizKind.CHALLENGE, title="Pages")
    QuizPool.objects.create(quiz=quiz, count=1, item=item)
    context = browser.new_context()
    learner_page = context.new_page()
    log_in(context, live_server, learner)
    learner_page.goto(f"{url}/quizzes/{quiz.slug}/")
    learner_page.click("[data-start]")
    learner_page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    editor = learner_page.locator("#q1 .cm-content")
    expect(editor).to_contain_text("def total_pages(items: int, per_page: int) -> int:")
    editor.click()
    learner_page.keyboard.press("Control+a")
    learner_page.keyboard.press("Delete")
    learner_page.keyboard.insert_text(SOLUTIONS["python"][0])
    expect(learner_page.locator("[data-global-state]")).to_have_text(
        "All answers saved.", timeout=15000
    )
    learner_page.click("[data-submit]")
    learner_page.locator("[data-submit-confirm] [data-confirm-submit]").click()
    learner_page.wait_for_url(re.compile(r"/result$"))
    expect(learner_page.locator(".summary")).to_contain_text("passed", timeout=120000)
    attempt = Attempt.objects.get(learner=learner)
    assert attempt.status == AttemptStatus.GRADED and attempt.passed, worker.log_text()[-2000:]
    submission = Submission.objects.get(attempt_item__attempt=attempt)
    assert (submission.language, submission.score) == ("python", 1.0)
    context.close()


def test_a_challenge_whose_reference_fails_a_test_is_not_published(
    page: Page, live_server: Any, topic: Any, instructor: Any, start_worker: Any
) -> None:
    """Python only (no signature), so the worker runs one language; the expected result
    of a hidden test is wrong, so the reference fails it."""
    entry = {
        **COMMON,
        "slug": "form-code-broken",
        "type": "code",
        "topic": topic.slug,
        "title": "Add two numbers",
        "body": "Write `add(a, b)`.",
        "challenge": {
            "entry_point": "add",
            "kind": "function",
            "reference_solution": "def add(a, b):\n    return a + b\n",
            "wrong_solutions": ["def add(a, b):\n    return a + b if a >= 0 else 0\n"],
            "tests": [
                {"name": "small", "visible": True, "args": [1, 2], "expect": 3},
                {"name": "negative", "args": [-5, 2], "expect": -3},
                {"name": "zeros", "args": [0, 0], "expect": 1},  # wrong: 0 + 0 is 0
            ],
        },
    }
    item = item_save(entry=entry, stage=topic.stage, author=instructor)
    worker = start_worker()
    log_in(page.context, live_server, instructor)
    page.goto(f"{live_server.url}/author/items/{item.slug}/")
    page.get_by_role("button", name="Verify version 1").click()
    wait_for(
        lambda: ChallengeVerification.objects.filter(status=VerificationStatus.FAILED).exists(),
        timeout=180,
        what=f"the verification to fail\n{worker.log_text()[-3000:]}",
    )
    expect(page.locator("#verification")).to_contain_text(
        "✘ Verification failed: this version cannot be published.", timeout=30000
    )
    expect(page.locator("#verification")).to_contain_text("reference solution does not pass")
    expect(page.locator("#verification")).to_contain_text("failed=['zeros']")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("has not passed verification")
    assert Item.objects.get(slug=item.slug).status == ItemStatus.DRAFT
