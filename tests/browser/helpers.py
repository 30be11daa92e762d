"""Helpers for Playwright tests: log a user in without the form, answer questions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext


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


def right_answer(item: Any) -> dict[str, Any]:
    """The correct answer to an attempt item, in that attempt's tokens."""
    data = item.item_version.data
    layout = item.layout
    kind = item.item_version.item.type
    choice_token = {ident: tok for tok, ident in layout.get("choices", [])}
    if kind == "single_choice":
        return {"choices": [choice_token[c["id"]] for c in data["choices"] if c["correct"]]}
    if kind == "multiple_choice":
        return {"choices": [choice_token[c["id"]] for c in data["choices"] if c["correct"]]}
    if kind == "true_false":
        return {"value": data["answer"]}
    if kind == "numeric":
        return {"value": f"{data['answer']:g}"}
    if kind == "short_text":
        return {"text": data["accepted"][0] if data.get("accepted") else ""}
    if kind == "ordering":
        seq = {ident: tok for tok, ident in layout["sequence"]}
        return {"order": [seq[s["id"]] for s in data["sequence"]]}
    if kind == "matching":
        lefts = {ident: tok for tok, ident in layout["lefts"]}
        rights = {ident: tok for tok, ident in layout["rights"]}
        return {"pairs": {lefts[p["id"]]: rights[p["id"]] for p in data["pairs"]}}
    return {"code": data["challenge"]["reference_solution"]}


def answer_in_page(page: Any, item: Any, answer: dict[str, Any]) -> None:
    """Answer one question with its real controls, by keyboard where it matters."""
    pos = item.position
    section = page.locator(f"#q{pos}")
    kind = item.item_version.item.type
    if kind in ("single_choice", "multiple_choice"):
        for token in answer["choices"]:
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
            section.locator(f"select[data-left='{left}']").select_option(right)
    else:
        editor = section.locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.press("Delete")
        # One statement per line, typed flush left: the editor keeps indentation itself.
        page.keyboard.insert_text(answer["code"])
