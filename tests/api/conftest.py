"""Fixtures for API v1: clients that hold a personal token (and never a session or a CSRF
token), and a published quiz with an item of every type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.tokens import api_token_create
from quizzes.models import QuizPool
from tests.factories import QuizFactory, UserFactory
from tests.samples import ALL, load_sample_items

V1 = "/api/v1"


def token_for(user: Any, scope: str = "instructor", days: int = 30) -> str:
    return api_token_create(user=user, name="tests", scope=scope, days=days).secret


def token_client(secret: str) -> Client:
    """A client that authenticates with the token alone; CSRF checks are on, as for a
    browser, so a request that needed CSRF would fail."""
    client = Client(enforce_csrf_checks=True)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


@pytest.fixture
def client_for(db: None) -> Callable[..., Client]:
    """``client_for(role or user, scope=…)``: a token client of a new (or that) account."""

    def make(who: Any = "learner", scope: str = "instructor") -> Client:
        user = UserFactory(role=who) if isinstance(who, str) else who
        client = token_client(token_for(user, scope))
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def every_type_quiz(topic: Any) -> Any:
    """A published quiz that draws one item of every type (sample bank), feedback after
    submit."""
    load_sample_items(topic.stage, topic.slug, ALL)
    quiz = QuizFactory(stage=topic.stage, slug="every-type", title="Every type")
    QuizPool.objects.create(quiz=quiz, count=len(ALL), stage=topic.stage)
    return quiz


def send(client: Client, method: str, url: str, body: Any = None) -> Any:
    call = getattr(client, method)
    if method == "get":
        return call(url)
    if body is None:
        return call(url)
    return call(url, body, content_type="application/json")


def problem(response: Any, status: int) -> dict[str, Any]:
    """The problem-details body of a refusal with ``status``."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body
