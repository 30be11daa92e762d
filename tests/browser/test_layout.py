"""Every page fits a phone, a tablet and a desktop screen.

The pages are the GET routes of the permission matrix
(tests/security/test_permission_matrix.py), so a new route fails here until it is either
visited (``PAGES``) or skipped with a reason (``SKIPPED``). Each page is loaded at three
widths and must not be wider than the screen: every visible element lies inside the
viewport horizontally, unless it sits in a horizontal scroll container (a code block, a
table wrapper, the editor). Hiding the overflow of ``html`` or ``body`` does not count.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page

from accounts.tokens import api_token_create
from quizzes.assessments.services import (
    attempt_answer_save,
    attempt_item_apply_grade,
    attempt_item_flag,
    attempt_start,
    attempt_submit,
)
from quizzes.bank.loader import bank_load
from quizzes.models import (
    Item,
    ItemReport,
    Quiz,
    QuizPool,
    Submission,
    SubmissionStatus,
    WorkerHeartbeat,
)
from tests.browser.helpers import log_in, right_answer
from tests.conftest import BASE_DIR
from tests.factories import QuizFactory, UserFactory
from tests.security.test_permission_matrix import ADMIN_PREFIX, MATRIX, all_routes, concrete

# The GET routes shown as pages, and who visits each one. The attempt routes are filled
# with the learner's own attempt: the open one for the attempt page, the graded one for
# the result and its log.
PAGES: dict[str, tuple[str, ...]] = {
    "": ("anonymous", "learner"),
    "stages/<slug:slug>/": ("learner",),
    "quizzes/<slug:slug>/": ("learner",),
    "attempts/<int:attempt_id>/": ("learner",),
    "attempts/<int:attempt_id>/result": ("learner",),
    "attempts/<int:attempt_id>/log": ("instructor",),
    "dashboard/": ("learner",),
    "me/language": ("learner",),
    "author/attempts/": ("instructor",),
    "author/items/": ("instructor",),
    "author/items/new": ("instructor",),
    "author/items/<slug:slug>/": ("instructor",),
    "author/items/<slug:slug>/regrade": ("instructor",),  # the dry run
    "author/items/<slug:slug>/edit": ("instructor",),  # an SQL challenge's form
    "author/items/<slug:slug>/try": ("instructor",),  # its preview as a learner
    "author/items/<slug:slug>/history": ("instructor",),
    "author/reports/": ("instructor",),
    "author/quizzes/<slug:slug>/preview": ("instructor",),
    "author/import": ("instructor",),
    "author/analytics/": ("instructor",),
    "author/analytics/heatmap": ("instructor",),
    "author/quizzes/": ("instructor",),
    "author/quizzes/new": ("instructor",),
    "author/quizzes/<slug:slug>/edit": ("instructor",),
    "ops/grading/": ("admin",),
    "manage/roles/": ("admin",),
    "accounts/login/": ("anonymous",),
    "accounts/logout/": ("learner",),
    "accounts/inactive/": ("anonymous",),
    "accounts/signup/": ("anonymous",),
    "accounts/reauthenticate/": ("learner",),
    "accounts/email/": ("learner",),
    "accounts/confirm-email/": ("anonymous",),
    "accounts/password/change/": ("learner",),
    "accounts/password/reset/": ("anonymous",),
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": ("anonymous",),
    "accounts/password/reset/key/done/": ("anonymous",),
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": ("anonymous",),
    "accounts/password/reset/done/": ("anonymous",),
    "accounts/2fa/": ("learner",),
    "accounts/3rdparty/login/cancelled/": ("anonymous",),
    "accounts/3rdparty/login/error/": ("anonymous",),  # a 401, but a page all the same
    "accounts/3rdparty/": ("learner",),
    "accounts/sessions/": ("learner",),
    "accounts/profile/": ("learner",),
    "accounts/profile/delete/": ("learner",),
    "accounts/profile/tokens/": ("learner",),
}
_JSON = "JSON, not a page"
_MOVED = "moved permanently under /api/v1/"
_REDIRECT = "redirects every visitor here (no login, code or 2FA in progress)"
_NO_2FA = "404 until the visitor has set up two-factor authentication"
_NO_PROVIDER = "404: no third-party provider is configured in the tests"
_OLD_SOCIAL = "allauth's old /social/ route: redirects to /3rdparty/"
SKIPPED: dict[str, str] = {
    "healthz": "a plain-text probe",
    "readyz": "a plain-text probe",
    "status/workers": _JSON,
    "api/v1/schema/": "the OpenAPI description (YAML)",
    "api/v1/docs/": "Swagger UI, laid out by its own vendored stylesheet",
    "api/v1/redoc/": "ReDoc, laid out by its own vendored script",
    "api/schema/": _MOVED,
    "api/docs/": _MOVED,
    "attempts/<int:attempt_id>/result/status": "an htmx fragment of the result page",
    "author/quizzes/pool-form": "an htmx fragment of the quiz builder",
    "api/v1/me/language": _JSON,
    "metrics": "Prometheus's text format",
    "author/items/<slug:slug>/verify": "an htmx fragment of the item page",
    "author/items/<slug:slug>/trial/<int:trial_id>": "an htmx fragment of the preview as a learner",
    "author/export/stage-<int:number>.yaml": "a YAML download",
    "author/export/stage-<int:number>.xml": "a Moodle XML download",
    "author/export/stage-<int:number>.gift": "a GIFT download",
    "author/export/selection": "a Moodle XML or GIFT download",
    "author/analytics/results.csv": "a CSV download",
    "author/analytics/items.csv": "a CSV download",
    "api/stages/": _JSON,
    "api/dashboard/": _JSON,
    "api/attempts/<int:attempt_id>": _JSON,
    "api/submissions/<int:submission_id>": _JSON,
    "api/users/": _JSON,
    "api/v1/roadmap/": _JSON,
    "api/v1/quizzes/": _JSON,
    "api/v1/quizzes/<slug:slug>/": _JSON,
    "api/v1/attempts/": _JSON,
    "api/v1/attempts/<int:attempt_id>": _JSON,
    "api/v1/attempts/<int:attempt_id>/result": _JSON,
    "api/v1/submissions/<int:submission_id>": _JSON,
    "api/v1/dashboard/": _JSON,
    "api/v1/tokens/": _JSON,
    "api/v1/tokens/<int:token_id>": _JSON,
    "api/v1/users/": _JSON,
    "api/v1/users/<int:user_id>": _JSON,
    "api/v1/author/items/": _JSON,
    "api/v1/author/items/<slug:slug>": _JSON,
    "api/v1/author/items/<slug:slug>/preview": _JSON,
    "api/v1/author/quizzes/": _JSON,
    "api/v1/author/quizzes/<slug:slug>": _JSON,
    "api/v1/author/bank/export/stage-<int:number>.yaml": "a YAML download",
    "api/v1/author/attempts/": _JSON,
    "api/v1/author/attempts/<int:attempt_id>/events": _JSON,
    "api/v1/author/analytics/quizzes": _JSON,
    "api/v1/author/analytics/results": _JSON,
    "api/v1/author/analytics/results.csv": "a CSV download",
    "api/v1/author/analytics/items": _JSON,
    "api/v1/author/analytics/items.csv": "a CSV download",
    "accounts/password/set/": _REDIRECT,
    "accounts/login/code/confirm/": _REDIRECT,
    "accounts/2fa/authenticate/": _REDIRECT,
    "accounts/2fa/reauthenticate/": _REDIRECT,
    "accounts/2fa/totp/activate/": _REDIRECT,
    "accounts/2fa/recovery-codes/generate/": _REDIRECT,
    "accounts/3rdparty/signup/": _REDIRECT,
    "accounts/2fa/totp/deactivate/": _NO_2FA,
    "accounts/2fa/recovery-codes/": _NO_2FA,
    "accounts/2fa/recovery-codes/download/": _NO_2FA,
    "accounts/social/login/cancelled/": _OLD_SOCIAL,
    "accounts/social/login/error/": _OLD_SOCIAL,
    "accounts/social/signup/": _OLD_SOCIAL,
    "accounts/social/connections/": _OLD_SOCIAL,
    "accounts/github/login/": _NO_PROVIDER,
    "accounts/github/login/callback/": _NO_PROVIDER,
    "accounts/google/login/": _NO_PROVIDER,
    "accounts/google/login/callback/": _NO_PROVIDER,
    "accounts/google/login/token/": _NO_PROVIDER,
    "accounts/oidc/^(?P<provider_id>[^/]+)/login/": _NO_PROVIDER,
    "accounts/oidc/^(?P<provider_id>[^/]+)/login/callback/": _NO_PROVIDER,
}
# Django's admin (every route under ADMIN_PREFIX) is laid out by Django's own stylesheet.
# Pages no route names: the error pages.
EXTRA_PAGES = {
    "404": ("/no-such-page/", "learner"),
    "403": ("/author/items/", "learner"),
    "new item form": ("/author/items/new?stage=1&type=matching", "instructor"),
    "new code challenge form": ("/author/items/new?stage=1&type=code", "instructor"),
    # Stage 3's code challenge, in the form: its signature, tests and five languages.
    "code challenge form": ("/author/items/db-transfer-batch-atomic/edit", "instructor"),
}

SCREENS = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1280, 800)}
HEADER_SHARE = 0.15  # of a phone's height, at most

# Elements wider than the screen, outermost first, unless a horizontal scroll container
# holds them. Off-screen on purpose (a skip link to the left) does not count.
FIND_OVERFLOW = """() => {
  const width = window.innerWidth;
  const root = document.documentElement;
  const problems = [];
  for (const [name, el] of [["html", root], ["body", document.body]]) {
    const overflow = getComputedStyle(el).overflowX;
    if (overflow === "hidden" || overflow === "clip") {
      problems.push(`${name} hides its horizontal overflow (${overflow})`);
    }
  }
  if (root.scrollWidth > width) problems.push(`the page is ${root.scrollWidth}px wide`);
  // A scroll container holds an element if it is on the element's containing-block chain:
  // an absolutely positioned element escapes every static scroller up to its positioned one.
  const held = (el) => {
    let position = getComputedStyle(el).position;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (position === "fixed") return false;
      const style = getComputedStyle(up);
      if (position === "absolute" && style.position === "static") continue;
      if (["auto", "scroll"].includes(style.overflowX)) return true;
      position = style.position;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("");
  const x = window.scrollX;
  const outside = new Set();
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility !== "visible") continue;
    const left = box.left + x, right = box.right + x;
    if (left >= -0.5 && right <= width + 0.5) continue;
    if (["absolute", "fixed"].includes(style.position) && right <= 0) continue;
    if (!held(el)) outside.add(el);
  }
  for (const el of outside) {
    if (outside.has(el.parentElement)) continue;
    const box = el.getBoundingClientRect();
    const [left, right] = [box.left + x, box.right + x].map(Math.round);
    problems.push(`${name(el)} spans ${left}..${right}px`);
  }
  return problems.slice(0, 8);
}"""


def test_every_page_route_is_visited_or_skipped_with_a_reason() -> None:
    get_routes = {route for route, methods in MATRIX.items() if "get" in methods}
    assert set(PAGES) & set(SKIPPED) == set()
    assert sorted(get_routes - set(PAGES) - set(SKIPPED)) == []  # new pages need a row here
    assert sorted((set(PAGES) | set(SKIPPED)) - get_routes) == []
    assert all(r in MATRIX or r.startswith(ADMIN_PREFIX) for r in all_routes())


def _grade(submission: Submission, score: float, outcomes: list[dict[str, Any]]) -> None:
    """Store a grade as a worker would (no sandbox needed for a page's layout)."""
    passed = sum(1 for o in outcomes if o["passed"])
    results = {
        "status": "graded",
        "score": score,
        "message": f"{passed} of {len(outcomes)} tests passed.",
        "wall_seconds": 0.2,
        "outcomes": [
            {"weight": 1.0, "exception_type": None, "input_repr": None, "expected_repr": None,
             "actual_repr": None, **o}
            for o in outcomes
        ],
    }  # fmt: skip
    with transaction.atomic():
        Submission.objects.filter(pk=submission.pk).update(
            status=SubmissionStatus.GRADED, score=score, results=results, run_seconds=0.2
        )
        submission.refresh_from_db()
        attempt_item_apply_grade(submission=submission)


LONG_ROW = repr([(n, f"customer-{n}@example.com", "UPS", f"1Z999AA1012345678{n}") for n in (1, 2)])


@pytest.fixture
def world(roadmap: Any) -> dict[str, Any]:
    """The real stage 3 (databases): a learner with an open attempt of its stage quiz,
    Python and SQL challenges included, and a graded attempt; a long e-mail address."""
    _, failures = bank_load(paths=[BASE_DIR / "fixtures/questions/stage-03.yaml"])
    assert failures == []
    quiz = Quiz.objects.get(slug="stage-3")
    stage = quiz.stage
    quiz.pools.all().delete()
    for position, (count, types) in enumerate(
        [(6, ["single_choice", "multiple_choice", "numeric", "ordering", "matching"]),
         (1, ["code"]), (1, ["sql"])]
    ):  # fmt: skip
        QuizPool.objects.create(
            quiz=quiz, position=position, count=count, stage=stage, item_types=types
        )
    learner = UserFactory(role="learner", email="alexandra.konstantinopoulou@example.org")
    attempt = attempt_start(learner=learner, quiz=quiz)
    for item in attempt.items.select_related("item_version__item").order_by("position"):
        if item.item_version.item.type == "sql":
            # One long line, as learners write them: it must stay inside the editor.
            answer = {"code": (
                "SELECT o.id AS order_id, c.email, s.carrier, s.tracking_number FROM orders o "
                "JOIN customers c ON c.id = o.customer_id LEFT JOIN shipments s ON "
                "s.order_id = o.id AND s.voided = 0 WHERE o.status = 'paid' ORDER BY o.id;"
            )}  # fmt: skip
        elif item.position <= 3:
            answer = right_answer(item)
        else:
            continue
        attempt_answer_save(attempt=attempt, position=item.position, answer=answer, revision=1)
    attempt_item_flag(attempt=attempt, position=2, flagged=True)

    review_quiz = QuizFactory(stage=stage, title=f"{stage.title}: practice", pass_mark_percent=70)
    for position, pool in enumerate(quiz.pools.all()):
        QuizPool.objects.create(
            quiz=review_quiz, position=position, count=pool.count, stage=stage,
            item_types=pool.item_types,
        )  # fmt: skip
    graded = attempt_start(learner=learner, quiz=review_quiz)
    for item in graded.items.select_related("item_version__item"):
        attempt_answer_save(
            attempt=graded, position=item.position, answer=right_answer(item), revision=1
        )
    attempt_submit(attempt=graded)
    for submission in Submission.objects.filter(attempt_item__attempt=graded):
        _grade(
            submission,
            0.5,
            [
                {"name": "sample data from the question", "visible": True, "passed": True,
                 "category": "passed", "input_repr": LONG_ROW, "expected_repr": LONG_ROW,
                 "actual_repr": LONG_ROW},
                {"name": "orders with only voided shipments", "visible": True, "passed": False,
                 "category": "wrong_answer", "input_repr": LONG_ROW, "expected_repr": LONG_ROW,
                 "actual_repr": LONG_ROW[: len(LONG_ROW) // 2] + "]"},
                {"name": "h1", "visible": False, "passed": False, "category": "wrong_answer"},
            ],
        )  # fmt: skip
    graded.refresh_from_db()
    assert graded.status == "graded", graded.status
    # A worker with its sandbox, and one gone quiet: the operator's table has both.
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        hostname="celery@grading-1.skillmap.internal", started_at=now, last_seen=now,
        queues="grading,default", sandbox_available=True,
    )  # fmt: skip
    WorkerHeartbeat.objects.create(
        hostname="celery@grading-2.skillmap.internal", started_at=now - timedelta(hours=2),
        last_seen=now - timedelta(hours=1), queues="grading",
        sandbox_reason="bwrap: setting up uid map: Permission denied",
    )  # fmt: skip
    sql_item = Item.objects.filter(stage=stage, type="sql").order_by("slug").first()
    assert sql_item is not None
    # A learner's report with a long word, for the history page and the report queue.
    report = ItemReport.objects.create(
        item=sql_item, version=sql_item.current_version, attempt=graded, reporter=learner,
        message="The expected rows ignore voided shipments: " + LONG_ROW,
    )  # fmt: skip
    return {
        "users": {
            "learner": learner,
            "instructor": UserFactory(role="instructor"),
            "admin": UserFactory(role="admin"),
        },
        "open_attempt": attempt.pk,
        "graded_attempt": graded.pk,
        "sql_in": {
            a.pk: a.items.get(item_version__item__type="sql").position for a in (attempt, graded)
        },
        "matrix": {
            "attempt_id": graded.pk,
            "position": 1,
            "submission_id": Submission.objects.first().pk,  # type: ignore[union-attr]
            "user_id": learner.pk,
            "number": stage.number,
            "stage_slug": stage.slug,
            "quiz_slug": quiz.slug,
            "item_slug": sql_item.slug,
            "report_id": report.pk,
            "token_id": api_token_create(
                user=learner, name="laptop", scope="read", days=1
            ).token.pk,
        },
    }


def visits(world: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, path, role) for every page."""
    found = []
    for route, roles in PAGES.items():
        values = dict(world["matrix"])
        if route == "attempts/<int:attempt_id>/":
            values["attempt_id"] = world["open_attempt"]
        path = concrete(route, values)
        found += [(f"/{route} as {role}", path, role) for role in roles]
    found += [
        (f"{label} page as {role}", path, role) for label, (path, role) in EXTRA_PAGES.items()
    ]
    return found


@pytest.fixture
def contexts(browser: Browser) -> Iterator[dict[tuple[str, int, int], BrowserContext]]:
    opened: dict[tuple[str, int, int], BrowserContext] = {}
    yield opened
    for context in opened.values():
        context.close()


def page_for(
    contexts: dict[tuple[str, int, int], BrowserContext],
    browser: Browser,
    live_server: Any,
    world: dict[str, Any],
    role: str,
    size: tuple[int, int],
) -> Page:
    """One browser context per role and screen, logged in once."""
    key = (role, *size)
    if key not in contexts:
        context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        if role != "anonymous":
            log_in(context, live_server, world["users"][role])
        context.new_page()
        contexts[key] = context
    return contexts[key].pages[0]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("screen", SCREENS)
def test_every_page_fits_the_screen(
    screen: str, browser: Browser, live_server: Any, world: dict[str, Any], contexts: Any
) -> None:
    width, height = SCREENS[screen]
    problems: dict[str, list[str]] = {}
    icons: dict[str, int] = {}
    for label, path, role in visits(world):
        page = page_for(contexts, browser, live_server, world, role, (width, height))
        response = page.goto(live_server.url + path)
        assert response is not None and "text/html" in response.headers["content-type"], label
        found = page.evaluate(FIND_OVERFLOW)
        icon = page.evaluate("() => document.querySelector('link[rel~=icon]')?.href")
        if not icon:
            found.append("no icon is linked (browsers then ask for /favicon.ico)")
        elif icon not in icons:
            icons[icon] = page.request.get(icon).status
        if screen == "phone":
            header = page.locator(".site-header").bounding_box()
            if header and header["height"] > HEADER_SHARE * height:
                found.append(f"the header is {header['height']:.0f}px tall")
        if found:
            problems[f"{label} ({path})"] = found
    assert {icon: status for icon, status in icons.items() if status != 200} == {}
    assert problems == {}, f"at {width}x{height}:\n" + "\n".join(
        f"{where}: {found}" for where, found in problems.items()
    )


SHOTS_DIR = os.environ.get("SKILLMAP_SCREENSHOTS", "")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not SHOTS_DIR, reason="SKILLMAP_SCREENSHOTS=<folder> refreshes the README's")
def test_readme_screenshots(browser: Browser, live_server: Any, world: dict[str, Any]) -> None:
    """The attempt and review pages on a desktop and on a phone (docs/screenshots/)."""
    attempt, graded = world["open_attempt"], world["graded_attempt"]
    sql = world["sql_in"]
    # name: (screen, page, the part scrolled to the top; None for the top of the page)
    shots = {
        "attempt-desktop": ("desktop", f"/attempts/{attempt}/", None),
        "attempt-phone": ("phone", f"/attempts/{attempt}/", f"#q{sql[attempt]}"),
        "review-desktop": ("desktop", f"/attempts/{graded}/result", f"#q{sql[graded]} .review"),
        "review-phone": ("phone", f"/attempts/{graded}/result", None),
    }
    folder = Path(SHOTS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    for screen, scale in (("desktop", 1), ("phone", 2)):
        width, height = SCREENS[screen]
        context = browser.new_context(
            viewport={"width": width, "height": height}, device_scale_factor=scale
        )
        log_in(context, live_server, world["users"]["learner"])
        page = context.new_page()
        for name, (on, path, part) in shots.items():
            if on != screen:
                continue
            page.goto(live_server.url + path)
            page.evaluate("() => window.scrollTo(0, 0)")
            if part:
                page.locator(part).evaluate("(el) => el.scrollIntoView({block: 'start'})")
                page.evaluate("() => window.scrollBy(0, -24)")
            page.screenshot(path=folder / f"{name}.png")
        context.close()
