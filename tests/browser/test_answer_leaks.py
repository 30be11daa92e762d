"""No answer leaks: every byte the server sends during an attempt, before grading, is
scanned for anything that would reveal the key, computed from the real bank."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, Response, expect

from quizzes.models import Attempt, ItemType, Quiz, QuizPool, Stage
from tests.browser.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Markup and keys that only the server's copy of an item, or a review, may contain.
STRUCTURAL_MARKERS = [
    r'"correct"\s*:',
    r"data-correct",
    r'class="[^"]*\bkey\b',
    r"tag-ok",
    r'class="explanation"',
    r'"explanation_html"',
    r'"is_correct"\s*:\s*(true|false)',
    r'"accepted"\s*:',
    r'"pattern"\s*:',
    r'"tolerance"\s*:',
    r'"relative_tolerance"\s*:',
    r'"reference_solution"',
    r'"wrong_solutions"',
    r'"feedback_true"',
    r'"key"\s*:',
    r'value="[cps]\d{1,2}"',  # an item's own choice / sequence / pair ids
]
# In JSON bodies, an item's own ids as values (HTML has Pygments classes such as "s1").
JSON_MARKERS = [r'"[cps]\d{1,2}"']
# CSRF tokens (64 letters and digits) and CSP nonces (base64), as attributes or meta content.
RANDOM_TOKENS = re.compile(
    r'(?<=nonce=")[^"]+|(?<=value=")[A-Za-z0-9]{64}(?=")|(?<=content=")[A-Za-z0-9+/=]{16,}(?=")'
)


class Recorder:
    """Keeps the body of every non-static response the page receives."""

    def __init__(self, page: Page) -> None:
        self.bodies: list[tuple[str, str]] = []
        page.on("response", self.record)

    def record(self, response: Response) -> None:
        if "/static/" in response.url or response.status in (301, 302, 304):
            return
        try:
            self.bodies.append((response.url, response.body().decode("utf-8", "replace")))
        except Exception:  # the page moved on before the body was read
            return

    def text(self) -> str:
        """Every body, random tokens masked: a CSRF token or a CSP nonce may hold any short
        string (a three-letter answer such as "3NF") by chance."""
        return RANDOM_TOKENS.sub("<token>", "\n".join(body for _, body in self.bodies))


def leak_context(secret: str, sent: str) -> str:
    """Where ``secret`` stands in ``sent`` as a value of its own, with what surrounds it; ""
    when it does not. A secret inside a longer word or number (an answer "110" inside a
    timing of 0.1104 or an id 31108) is not that value."""
    found = re.search(rf"(?<![\w.]){re.escape(secret)}(?![\w])", sent)
    return sent[max(0, found.start() - 60) : found.end() + 60] if found else ""


def plain(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def secrets_of(stage: Stage, typed: set[str]) -> tuple[list[str], str]:
    """Literal strings that would reveal a key, and the text the page may legitimately show."""
    shown: list[str] = []
    secrets: list[str] = []
    for item in stage.items.select_related("current_version"):
        version = item.current_version
        data = version.data
        shown += [plain(version.body_html), version.title]
        for choice in data.get("choices", []):
            shown.append(plain(choice["html"]))
            if len(choice.get("feedback", "")) >= 20:
                secrets.append(choice["feedback"][:60])
        shown += [plain(s["html"]) for s in data.get("sequence", [])]
        shown += [plain(p["left_html"] + " " + p["right_html"]) for p in data.get("pairs", [])]
        for key in ("feedback_true", "feedback_false"):
            if len(data.get(key, "")) >= 20:
                secrets.append(data[key][:60])
        explanation = plain(version.explanation_html)
        if len(explanation) >= 30:
            secrets.append(explanation[:60])
        if item.type == ItemType.SHORT_TEXT:
            secrets += [a for a in data.get("accepted", []) if len(a) >= 3]
            if data.get("pattern"):
                secrets.append(data["pattern"])
        if item.type == ItemType.NUMERIC:
            number = f"{data['answer']:g}"
            # A one-digit answer is too common to judge: value="3" is also a progress bar's.
            if len(number) >= 2:
                secrets += [f'value="{number}"', f'"answer": {number}', f'"answer":{number}']
        if item.type in (ItemType.CODE, ItemType.SQL):
            challenge = data["challenge"]
            visible_text = json.dumps([t for t in challenge["tests"] if t.get("visible")])
            shown.append(challenge.get("starter", "") + visible_text + challenge.get("schema", ""))
            wrong = [w if isinstance(w, str) else w["source"] for w in challenge["wrong_solutions"]]
            for source in [challenge["reference_solution"], *wrong]:
                secrets += [line.strip() for line in source.splitlines() if len(line.strip()) >= 25]
            for test in challenge["tests"]:
                if test.get("visible"):
                    continue
                for key in ("args", "expect", "calls", "data"):
                    if key in test:
                        value = test[key] if key == "data" else json.dumps(test[key])
                        if len(str(value)) >= 12:
                            secrets.append(str(value))
    allowed = "\n".join(shown) + "\n" + "\n".join(typed)
    return [s for s in dict.fromkeys(secrets) if s not in allowed], allowed


def answer_everything_wrongly(page: Page, attempt: Attempt) -> set[str]:
    """Answer each question the way a learner might, without knowing the key."""
    typed: set[str] = set()
    for item in attempt.items.select_related("item_version__item").order_by("position"):
        section = page.locator(f"#q{item.position}")
        kind = item.item_version.item.type
        if kind in ("single_choice", "multiple_choice"):
            section.locator("input").first.check()
        elif kind == "true_false":
            section.locator(f"#q{item.position}-t").check()
        elif kind == "numeric":
            section.locator("input[name=value]").fill("3")
            typed.add("3")
        elif kind == "short_text":
            section.locator("input[name=text]").fill("no idea")
            typed.add("no idea")
        elif kind == "ordering":
            section.locator("[data-move='down']").first.click()
        elif kind == "matching":
            for select in section.locator("select").all():
                select.select_option(index=1)
        else:
            section.locator(".cm-content").click()
            page.keyboard.press("End")
            page.keyboard.insert_text("\n# thinking")
    return typed


def test_nothing_sent_before_grading_reveals_the_key(
    page: Page, live_server: Any, learner: Any, start_worker: Any
) -> None:
    call_command("load_roadmap", verbosity=0)
    call_command("load_bank", "fixtures/questions/stage-03.yaml", verbosity=0)
    stage = Stage.objects.get(number=3)
    quiz = Quiz.objects.create(
        slug="leak-scan", title="Stage 3 items of every type", stage=stage, status="published"
    )
    # Up to three items of each type the stage has (every SQL mode included): every
    # widget and every challenge kind is on the page, without answering the whole stage.
    expected = 0
    for position, (item_type, sql_mode) in enumerate(
        sorted(
            {
                (i.type, (i.current_version.data.get("challenge") or {}).get("mode", ""))
                for i in stage.items.select_related("current_version")
            }
        )
    ):
        pool_items = [
            i
            for i in stage.items.select_related("current_version")
            if i.type == item_type
            and (i.current_version.data.get("challenge") or {}).get("mode", "") == sql_mode
        ][:3]
        for offset, item in enumerate(pool_items):
            QuizPool.objects.create(quiz=quiz, position=position * 10 + offset, count=1, item=item)
        expected += len(pool_items)

    log_in(page.context, live_server, learner)
    recorder = Recorder(page)
    page.goto(f"{live_server.url}/quizzes/{quiz.slug}/")
    page.click("[data-start]")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    attempt = Attempt.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))
    assert attempt.items.count() == expected
    typed = answer_everything_wrongly(page, attempt)
    page.locator("[data-flag-url]").first.check()
    python = attempt.items.get(item_version__item__type="code")
    page.locator(f"#q{python.position} [data-run-url]").click()
    page.evaluate(f"fetch('/api/attempts/{attempt.pk}').then((r) => r.text())")
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=20000)
    page.reload()

    sent = recorder.text()
    assert len(recorder.bodies) >= 10 and "/api/attempts/" in " ".join(
        u for u, _ in recorder.bodies
    )
    for marker in STRUCTURAL_MARKERS:
        found = re.search(marker, sent)
        context = sent[max(0, found.start() - 80) : found.end() + 80] if found else ""
        assert found is None, f"{marker!r} sent before grading: …{context}…"
    for url, body in recorder.bodies:
        if body.lstrip().startswith("{"):
            for marker in JSON_MARKERS:
                assert re.search(marker, body) is None, f"{marker!r} in {url}: {body[:300]}"
    secrets, _ = secrets_of(stage, typed)
    assert len(secrets) > 50  # the scan has teeth
    leaked = {s: leak_context(s, sent) for s in secrets if leak_context(s, sent)}
    assert leaked == {}
    # Ordering items are never displayed in their key's order.
    for item in attempt.items.filter(item_version__item__type="ordering"):
        shown_ids = [ident for _, ident in item.layout["sequence"]]
        assert shown_ids != [s["id"] for s in item.item_version.data["sequence"]]

    # The positive control: once the attempt is submitted, the review shows the key, and
    # the same scan finds it — so an empty result above means something.
    recorder.bodies.clear()
    start_worker(concurrency=2)  # grades the code, so the review appears
    page.click("[data-submit]")
    page.click("[data-confirm-submit]")
    page.wait_for_url(re.compile(r"/result$"))
    expect(page.locator(".summary")).to_contain_text("Score", timeout=60000)
    review = recorder.text()
    assert re.search(r"tag-ok", review) and re.search(r'class="explanation"', review)
    assert any(s in review for s in secrets)
