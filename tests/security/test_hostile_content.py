"""Hostile content in items and answers is rendered inert."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.markdown import render_markdown
from quizzes.models import QuizPool
from tests.factories import QuizFactory
from tests.samples import SHORT, load_sample_items

HOSTILE = (
    '<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a>'
)


def test_markdown_keeps_formatting_and_drops_active_content() -> None:
    html = render_markdown(f"**bold** {HOSTILE}\n\n```python\ndef f():\n    return 1\n```")
    assert "<strong>bold</strong>" in html
    assert '<div class="highlight">' in html and '<span class="k">def</span>' in html
    for bad in ("<script", "onerror", "javascript:", "alert(1)", "<img"):
        assert bad not in html


@pytest.mark.django_db
def test_an_item_body_with_html_cannot_run_script(topic: Any, learner: Any) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [{**SHORT, "body": f"Name it. {HOSTILE}"}])
    assert "<script" not in item.current_version.body_html
    assert "onerror" not in item.current_version.body_html


@pytest.mark.django_db
def test_a_hostile_answer_is_escaped_on_the_review_page(topic: Any, learner: Any) -> None:
    load_sample_items(topic.stage, topic.slug, [SHORT])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=1, stage=topic.stage)
    attempt = attempt_start(learner=learner, quiz=quiz)
    attempt_answer_save(attempt=attempt, position=1, answer={"text": HOSTILE}, revision=1)
    attempt_submit(attempt=attempt)
    client = Client()
    client.force_login(learner)
    html = client.get(f"/attempts/{attempt.pk}/result").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert 'onerror="alert(2)"' not in html
