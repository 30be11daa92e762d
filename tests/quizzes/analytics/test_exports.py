"""CSV exports (results and item statistics) and the cohort page's score distributions."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from quizzes.analytics.exports import ITEMS_HEADER, RESULTS_HEADER, cell
from quizzes.analytics.selectors import score_distributions
from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.models import Attempt, AttemptStatus, QuizPool
from tests.factories import QuizFactory, UserFactory
from tests.samples import SINGLE, TRUE_FALSE, load_sample_items

pytestmark = pytest.mark.django_db


def staff(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def read_csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("a=b", "a=b"),  # only the first character matters
        ("ann@example.com", "ann@example.com"),
        (-0.25, -0.25),  # numbers Skillmap computes cannot hold a formula
        (Decimal("-3.00"), Decimal("-3.00")),
        (None, ""),
        (True, "yes"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_written_as_text(value: Any, written: Any) -> None:
    assert cell(value) == written


@pytest.fixture
def quiz(topic: Any) -> Any:
    hostile_choice = {**SINGLE, "choices": [*SINGLE["choices"][:2], {"text": "=1+1"}]}
    load_sample_items(
        topic.stage,
        topic.slug,
        [hostile_choice, {**TRUE_FALSE, "title": "@SUM(1) is true"}],
    )
    quiz = QuizFactory(stage=topic.stage, title="=cmd|' /C calc'!A0", slug="q-export")
    QuizPool.objects.create(quiz=quiz, count=2, stage=topic.stage)
    return quiz


def take(quiz: Any, learner: Any, *, right: bool) -> Attempt:
    attempt = attempt_start(learner=learner, quiz=quiz)
    for item in attempt.items.select_related("item_version__item"):
        data = item.item_version.data
        if "choices" in data:
            token = {i: t for t, i in item.layout["choices"]}
            wanted = next(c["id"] for c in data["choices"] if c["correct"] is right)
            answer: dict[str, Any] = {"choice": token[wanted]}
        else:
            answer = {"value": data["answer"] if right else not data["answer"]}
        attempt_answer_save(attempt=attempt, position=item.position, answer=answer, revision=1)
    return attempt_submit(attempt=attempt)


def test_results_csv_has_one_row_per_graded_attempt(quiz: Any, instructor: Any) -> None:
    ann = UserFactory(role="learner", email="-ann@example.com")
    first = take(quiz, ann, right=True)
    second = take(quiz, ann, right=False)
    attempt_start(learner=UserFactory(role="learner"), quiz=quiz)  # in progress: not listed
    response = staff(instructor).get("/author/analytics/results.csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="skillmap-results-{timezone.localdate().isoformat()}.csv"'
    )
    rows = read_csv(response)
    assert rows[0] == RESULTS_HEADER
    assert len(rows) == 3
    one, two = rows[1], rows[2]
    assert one[:4] == ["'-ann@example.com", "'=cmd|' /C calc'!A0", "q-export", "1"]
    assert first.submitted_at is not None and first.graded_at is not None
    assert one[4:6] == [first.submitted_at.isoformat(), first.graded_at.isoformat()]
    assert one[6:] == ["2.00", "2.00", "100.0", "yes"]
    assert two[3] == "2" and two[6:] == ["0.00", "2.00", "0.0", "no"]
    assert second.number == 2
    # One quiz only, by its slug; an unknown slug lists every quiz.
    one_quiz = staff(instructor).get("/author/analytics/results.csv", {"quiz": "q-export"})
    assert "skillmap-results-q-export-" in one_quiz["Content-Disposition"]
    assert len(read_csv(one_quiz)) == 3
    assert len(read_csv(staff(instructor).get("/author/analytics/results.csv?quiz=nope"))) == 3


def test_item_statistics_csv_has_every_column(quiz: Any, instructor: Any) -> None:
    for k in range(4):
        take(quiz, UserFactory(role="learner"), right=k % 2 == 0)
    response = staff(instructor).get("/author/analytics/items.csv")
    assert "skillmap-item-statistics-" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ITEMS_HEADER
    by_slug = {r[0]: dict(zip(ITEMS_HEADER, r, strict=True)) for r in rows[1:]}
    single, tf = by_slug["t-single"], by_slug["t-tf"]
    # Right, wrong, right, wrong: facility 0.5; SD sqrt(1 / 3); the rest of each attempt
    # (the other item) moves with it, so the item-rest correlation is 1.
    assert single["n"] == "4" and single["facility"] == "0.5" and single["sd"] == "0.5774"
    assert single["discrimination_item_rest"] == "1.0" and single["full_marks"] == "2"
    assert single["irt"] == "provisional" and single["a"] == "1.0" and single["b"] == "-0.8"
    assert single["se_a"] == single["se_b"] == single["fit_rmsd"] == single["flags"] == ""
    assert single["answers_to_current_version"] == "4" and single["no_pick"] == "0"
    # The picks cell starts with a choice's text: a hostile one would be escaped.
    assert single["picks"] == "POST: 2; GET (correct): 2; =1+1: 0"
    assert tf["title"] == "'@SUM(1) is true"
    assert tf["picks"] == "True: 2; False (correct): 2"
    # One stage's items, by number; anything else lists every item.
    one_stage = staff(instructor).get("/author/analytics/items.csv", {"stage": quiz.stage.number})
    assert f"stage-{quiz.stage.number:02d}" in one_stage["Content-Disposition"]
    assert len(read_csv(staff(instructor).get("/author/analytics/items.csv?stage=x"))) == 3


# --- score distributions ---------------------------------------------------------------
def graded(quiz: Any, score: str, max_score: str = "10") -> None:
    Attempt.objects.create(
        quiz=quiz,
        learner=UserFactory(role="learner"),
        seed=1,
        status=AttemptStatus.GRADED,
        score=Decimal(score),
        max_score=Decimal(max_score),
        graded_at=timezone.now(),
    )


def test_score_distributions_count_attempts_per_tenth_in_one_query(
    topic: Any, django_assert_num_queries: Any
) -> None:
    first, second = QuizFactory(stage=topic.stage), QuizFactory(stage=topic.stage)
    # 0 % and 9.9 % in bin 0; 10 % in bin 1; 55 % in bin 5; 99.99 % and 100 % in bin 9.
    for score in ("0", "0.99", "1", "5.5", "9.99", "10"):
        graded(first, score)
    graded(first, "2.3", "23")  # exactly 10 %, whatever floating point makes of it
    graded(second, "3", "3")
    Attempt.objects.create(quiz=second, learner=UserFactory(), seed=1)  # in progress
    with django_assert_num_queries(1):
        found = score_distributions()
    assert found[first.pk] == [2, 2, 0, 0, 0, 1, 0, 0, 0, 2]
    assert found[second.pk] == [0] * 9 + [1]


def test_cohort_page_draws_each_quiz_histogram_with_a_text_alternative(
    quiz: Any, instructor: Any
) -> None:
    for k in range(3):
        take(quiz, UserFactory(role="learner"), right=k > 0)
    html = unescape(staff(instructor).get("/author/analytics/").content.decode())
    assert 'role="img"' in html and "<svg" in html
    assert (
        "3 graded attempts by score: 0\u201310 %: 1; 10\u201320 %: 0; 20\u201330 %: 0; "
        "30\u201340 %: 0; 40\u201350 %: 0; 50\u201360 %: 0; 60\u201370 %: 0; 70\u201380 %: 0; "
        "80\u201390 %: 0; 90\u2013100 %: 2"
    ) in html
    assert 'data-count="2"' in html
    assert 'href="/author/analytics/results.csv"' in html
    assert 'href="/author/analytics/items.csv"' in html
    assert 'href="/author/analytics/heatmap"' in html
