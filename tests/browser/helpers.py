"""Helpers for Playwright tests: log a user in without the form, answer questions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext

from tests.samples import right_answer

__all__ = ["answer_in_page", "log_in", "right_answer"]


def log_in(context: BrowserContext, live_server: Any, user: Any) -> None:
    """Give the browser a real session for ``user`` (the login form has its own tests)."""
    client = Client()
    client.force_login(user)
    client.get("/")  # sets the CSRF cookie too
    host = urlsplit(live_server.url).hostname
    cookies = []
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
        if name in client.cookies:
            cookies.append(
                {"name": name, "value": client.cookies[name].value, "domain": host, "path": "/"}
            )
    context.add_cookies(cookies)  # type: ignore[arg-type]


def answer_in_page(page: Any, item: Any, answer: dict[str, Any]) -> None:
    """Answer one question with its real controls, by keyboard where it matters."""
    pos = item.position
    section = page.locator(f"#q{pos}")
    kind = item.item_version.item.type
    if kind in ("single_choice", "multiple_choice"):
        for token in answer.get("choices") or [answer["choice"]]:
            section.locator(f"input[value='{token}']").check()
    elif kind == "true_false":
        section.locator(f"#q{pos}-{'t' if answer['value'] else 'f'}").check()
    elif kind == "numeric":
        section.locator(f"#q{pos}-value").fill(answer["value"])
    elif kind == "short_text":
        section.locator(f"#q{pos}-text").fill(answer["text"])
    elif kind == "ordering":
        for index, token in enumerate(answer["order"]):
            current = section.locator("ol.ordering > li").evaluate_all(
                "(lis) => lis.map((li) => li.dataset.token)"
            )
            for _ in range(current.index(token) - index):
                button = section.locator(f"li[data-token='{token}'] [data-move='up']")
                button.focus()
                page.keyboard.press("Enter")
    elif kind == "matching":
        for left, right in answer["pairs"].items():
            section.locator(f"select[data-map-key='{left}']").select_option(right)
    else:
        editor = section.locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.press("Delete")
        # One statement per line, typed flush left: the editor keeps indentation itself.
        page.keyboard.insert_text(answer["code"])
