"""The cohort heatmap: learners by stages from the stored estimates, sorted, filtered and
paginated, "—" for a stage not assessed, and a query count that ignores the cohort's size."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quizzes.analytics.selectors import HEATMAP_PAGE_SIZE
from quizzes.models import SkillEstimate, Stage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/author/analytics/heatmap"


def estimate(learner: Any, stage: Stage, theta: float, n: int = 4) -> None:
    SkillEstimate.objects.create(
        learner=learner, stage=stage, theta=theta, se=0.4, n_answers=n, updated_at=timezone.now()
    )


def staff(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def learners_shown(html: str) -> list[str]:
    return re.findall(r'<tr data-learner="([^"]+)">', html)


def page(client: Client, **params: Any) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return unescape(response.content.decode())


@pytest.fixture
def cohort(roadmap: Any) -> dict[str, Any]:
    """Four learners; stage 3 scores: dan 250 (theta 2), bob 200, cat 120; ann not assessed."""
    stage3 = Stage.objects.get(number=3)
    people = {name: UserFactory(role="learner", email=f"{name}@example.com") for name in "abcd"}
    estimate(people["b"], stage3, 1.0)
    estimate(people["c"], stage3, -0.6)
    estimate(people["d"], stage3, 2.0)
    estimate(people["a"], Stage.objects.get(number=1), 0.0)
    return people


def test_cells_show_scores_levels_and_a_dash_when_not_assessed(
    cohort: dict[str, Any], instructor: Any
) -> None:
    html = page(staff(instructor))
    row = html[html.index('<tr data-learner="a@example.com">') :]
    row = row[: row.index("</tr>")]
    # Stage 1: theta 0 is a score of 150, Proficient; stage 3 was never answered.
    assert (
        '<td class="heat heat-proficient" data-stage="1" data-score="150">150'
        '<span class="visually-hidden"> Proficient, 4 answers</span></td>'
    ) in row
    assert (
        '<td class="heat heat-none" data-stage="3">—<span class="visually-hidden"> '
        "not assessed</span></td>"
    ) in row
    assert row.count("—") == 10  # 11 stages, one assessed
    assert '<th scope="row">' in row and '<th scope="col"' in html
    assert "Expert 250\u2013300" in html  # the legend repeats the colours in words


def test_sorted_by_email_by_default_and_staff_are_not_learners(
    cohort: dict[str, Any], instructor: Any
) -> None:
    html = page(staff(instructor))
    assert learners_shown(html) == [f"{n}@example.com" for n in "abcd"]
    assert instructor.email not in learners_shown(html)
    html = page(staff(instructor), sort="email", order="desc")
    assert learners_shown(html) == [f"{n}@example.com" for n in "dcba"]


def test_sorted_by_a_stage_with_not_assessed_last_both_ways(
    cohort: dict[str, Any], instructor: Any
) -> None:
    client = staff(instructor)
    html = page(client, sort="stage-3", order="desc")
    assert learners_shown(html) == [
        "d@example.com",
        "b@example.com",
        "c@example.com",
        "a@example.com",
    ]
    assert 'aria-sort="descending"' in html
    html = page(client, sort="stage-3")
    assert learners_shown(html) == [
        "c@example.com",
        "b@example.com",
        "d@example.com",
        "a@example.com",
    ]
    assert 'aria-sort="ascending"' in html


def test_filter_by_email_text(cohort: dict[str, Any], instructor: Any) -> None:
    UserFactory(role="learner", email="zed@other.org")
    html = page(staff(instructor), q="OTHER.org")
    assert learners_shown(html) == ["zed@other.org"]
    html = page(staff(instructor), q="nobody-like-this")
    assert learners_shown(html) == [] and "No learners match" in html


def test_pages_of_fifty(roadmap: Any, instructor: Any) -> None:
    for k in range(HEATMAP_PAGE_SIZE + 3):
        UserFactory(role="learner", email=f"p{k:03d}@example.com")
    client = staff(instructor)
    first = page(client)
    assert len(learners_shown(first)) == HEATMAP_PAGE_SIZE
    assert "Learners 1\u201350 of 53" in first and "Page 1 of 2" in first
    assert 'href="?sort=email&page=2"' in first  # (unescaped)
    second = page(client, page="2")
    assert learners_shown(second) == [f"p{k:03d}@example.com" for k in range(50, 53)]


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "stage-99"},
        {"sort": "nonsense"},
        {"sort": "stage-"},
        {"sort": "stage-\uff13"},  # a fullwidth 3
        {"order": "sideways"},
        {"page": "abc"},
        {"page": "0"},
        {"page": "-1"},
        {"page": "99999999999999999999999"},
        {"page": "2"},  # out of range
        {"page": "1.5"},
        {"q": "x" * 5000},
    ],
)
def test_invalid_parameters_fall_back_to_the_default(
    params: dict[str, str], cohort: dict[str, Any], instructor: Any
) -> None:
    html = page(staff(instructor), **params)
    if "q" in params:  # cut to 100 characters: matches nobody
        assert learners_shown(html) == []
    else:
        assert learners_shown(html) == [f"{n}@example.com" for n in "abcd"]
        assert "sorted by email, ascending" in html


def test_a_null_character_in_the_filter_is_a_400(cohort: dict[str, Any], instructor: Any) -> None:
    response = staff(instructor).get(URL, {"q": "a\x00b"})
    assert response.status_code == 400
    assert "must not contain null characters" in response.content.decode()


def test_query_count_does_not_grow_with_the_cohort(roadmap: Any, instructor: Any) -> None:
    stages = list(Stage.objects.all())
    client = staff(instructor)

    def add_learners(count: int) -> None:
        for _ in range(count):
            person = UserFactory(role="learner")
            for stage in stages[::2]:
                estimate(person, stage, 0.5)

    def queries(**params: Any) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, params).status_code == 200
        return len(captured)

    add_learners(3)
    small = [queries(), queries(sort="stage-5", order="desc"), queries(page="1", q="person")]
    add_learners(HEATMAP_PAGE_SIZE + 7)
    large = [queries(), queries(sort="stage-5", order="desc"), queries(page="2", q="person")]
    assert small == large
    # The session, the user and their permissions (4); then the stages, the count, the page
    # of learners (with the sort score as a subquery) and their estimates (4).
    assert large[0] <= 8


def test_learners_cannot_see_the_heatmap_or_the_exports(learner: Any) -> None:
    client = staff(learner)
    for url in (
        URL,
        "/author/analytics/",
        "/author/analytics/results.csv",
        "/author/analytics/items.csv",
    ):
        assert client.get(url).status_code == 403, url
