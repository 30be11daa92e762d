"""Item statistics: hand-computed values on a small fixture, the flags for broken items, the
IRT columns, the item pages, and a query count that does not grow with the answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from quizzes.analytics.itemstats import (
    FLAG_MIN_ANSWERS,
    ItemFlag,
    ItemStats,
    correlation,
    item_statistics,
)
from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.models import Attempt, Item, ItemCalibration, QuizPool
from tests.factories import QuizFactory, UserFactory
from tests.samples import MULTIPLE, SINGLE, TRUE_FALSE, load_sample_items

pytestmark = pytest.mark.django_db


def take(quiz: Any, answers: dict[str, Any]) -> Attempt:
    """A new learner takes ``quiz``, answering by item slug: a choice item with the texts
    of the choices picked, a true/false item with the value; an item left out is blank."""
    attempt = attempt_start(learner=UserFactory(role="learner"), quiz=quiz)
    for item in attempt.items.select_related("item_version__item"):
        slug = item.item_version.item.slug
        if slug not in answers:
            continue
        wanted = answers[slug]
        if isinstance(wanted, bool):
            answer: dict[str, Any] = {"value": wanted}
        else:
            ids = {c["text"]: c["id"] for c in item.item_version.data["choices"]}
            token = {i: t for t, i in item.layout["choices"]}
            picked = [token[ids[text]] for text in wanted]
            if item.item_version.item.type == "single_choice":
                answer = {"choice": picked[0]}
            else:
                answer = {"choices": picked}
        attempt_answer_save(attempt=attempt, position=item.position, answer=answer, revision=1)
    return attempt_submit(attempt=attempt)


def by_slug(rows: list[ItemStats]) -> dict[str, ItemStats]:
    return {r.item.slug: r for r in rows}


@pytest.fixture
def small_quiz(topic: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [SINGLE, MULTIPLE, TRUE_FALSE])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=3, stage=topic.stage)
    return quiz


# Five learners, three one-point items. Single choice (key GET), multiple choice (key PUT
# and DELETE: +1/2 per right pick, -1/2 per wrong one, never below 0), true/false (key False).
FIVE = [
    # single      multiple                        true/false   scores      total
    {"t-single": ["GET"], "t-multiple": ["PUT", "DELETE"], "t-tf": False},  # 1, 1, 1 = 3
    {"t-single": ["GET"], "t-multiple": ["PUT"], "t-tf": False},  # 1, .5, 1 = 2.5
    {"t-single": ["POST"], "t-multiple": ["PUT", "POST"], "t-tf": False},  # 0, 0, 1 = 1
    {"t-single": ["GET"], "t-tf": True},  # multiple left blank: 1, 0, 0 = 1
    {"t-single": ["DELETE"], "t-multiple": ["PUT", "DELETE", "POST"], "t-tf": True},  # 0, .5, 0
]


def test_statistics_match_values_computed_by_hand(small_quiz: Any) -> None:
    for answers in FIVE:
        take(small_quiz, answers)
    rows = by_slug(item_statistics())
    single, multiple, tf = rows["t-single"], rows["t-multiple"], rows["t-tf"]

    # Single choice: x = 1, 1, 0, 1, 0. Facility 3/5 = 0.6. Deviations .4 .4 -.6 .4 -.6,
    # squares sum 3(.16) + 2(.36) = 1.2; sample SD sqrt(1.2 / 4) = sqrt(.3) = 0.5477.
    # Rest (multiple + true/false, out of 2): 2/2, 1.5/2, 1/2, 0/2, .5/2 = 1 .75 .5 0 .25,
    # mean .5, deviations .5 .25 0 -.5 -.25, squares sum .625.
    # Cross products .2 + .1 + 0 - .2 + .15 = .25; r = .25 / sqrt(1.2 * .625) = 0.2887.
    assert single.n == 5 and single.full_marks == 3
    assert single.facility == pytest.approx(0.6)
    assert single.sd == pytest.approx(0.5477, abs=1e-4)
    assert single.discrimination == pytest.approx(0.2887, abs=1e-4)

    # Multiple choice: x = 1, .5, 0, 0, .5. Facility 2/5 = 0.4. Deviations .6 .1 -.4 -.4 .1,
    # squares sum .7; SD sqrt(.7 / 4) = 0.4183.
    # Rest (single + true/false): 2/2, 2/2, 1/2, 1/2, 0/2 = 1 1 .5 .5 0, mean .6,
    # deviations .4 .4 -.1 -.1 -.6, squares sum .7.
    # Cross products .24 + .04 + .04 + .04 - .06 = .3; r = .3 / sqrt(.7 * .7) = 0.4286.
    assert multiple.n == 5 and multiple.full_marks == 1
    assert multiple.facility == pytest.approx(0.4)
    assert multiple.sd == pytest.approx(0.4183, abs=1e-4)
    assert multiple.discrimination == pytest.approx(0.4286, abs=1e-4)

    # True/false: x = 1, 1, 1, 0, 0. Facility 0.6, SD sqrt(.3) = 0.5477 as for single.
    # Rest (single + multiple): 2/2, 1.5/2, 0/2, 1/2, .5/2 = 1 .75 0 .5 .25, mean .5,
    # deviations .5 .25 -.5 0 -.25, squares sum .625.
    # Cross products .2 + .1 - .2 + 0 + .15 = .25; r = .25 / sqrt(1.2 * .625) = 0.2887.
    assert tf.n == 5 and tf.full_marks == 3
    assert tf.facility == pytest.approx(0.6)
    assert tf.sd == pytest.approx(0.5477, abs=1e-4)
    assert tf.discrimination == pytest.approx(0.2887, abs=1e-4)

    # Picks, in the version's order of options.
    # Single: POST by learner 3, GET by 1, 2 and 4, DELETE by 5.
    assert [(c.option.text, c.option.correct, c.picks) for c in single.choices] == [
        ("POST", False, 1),
        ("GET", True, 3),
        ("DELETE", False, 1),
    ]
    assert (single.choice_answers, single.blank) == (5, 0)
    assert single.choices[1].share == pytest.approx(0.6)
    # Multiple: PUT by 1, 2, 3 and 5; DELETE by 1 and 5; POST by 3 and 5; PATCH never;
    # learner 4 picked nothing.
    assert [(c.option.text, c.picks) for c in multiple.choices] == [
        ("PUT", 4),
        ("DELETE", 2),
        ("POST", 2),
        ("PATCH (as JSON merge)", 0),
    ]
    assert (multiple.choice_answers, multiple.blank) == (5, 1)
    # True/false: True by 4 and 5, False by 1, 2 and 3.
    assert [(c.option.text, c.option.correct, c.picks) for c in tf.choices] == [
        ("True", False, 2),
        ("False", True, 3),
    ]
    # Five answers are too few for any flag.
    assert single.flags == multiple.flags == tf.flags == []


def test_correlation_from_sums_agrees_with_the_definition() -> None:
    xs, ys = [1.0, 0.0, 1.0, 0.0, 1.0], [0.9, 0.2, 0.8, 0.1, 0.4]
    sums = (
        sum(xs),
        sum(ys),
        sum(x * x for x in xs),
        sum(y * y for y in ys),
        sum(x * y for x, y in zip(xs, ys, strict=True)),
    )
    mx, my = sum(xs) / 5, sum(ys) / 5
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    expected = cov / (sum((x - mx) ** 2 for x in xs) ** 0.5 * sum((y - my) ** 2 for y in ys) ** 0.5)
    assert correlation(5, *sums) == pytest.approx(expected)
    assert correlation(2, 1.0, 1.0, 1.0, 1.0, 1.0) is None  # fewer than three pairs
    assert correlation(3, 3.0, 1.5, 3.0, 1.25, 1.5) is None  # x does not vary


def test_items_without_answers_have_no_statistics_but_provisional_parameters(
    small_quiz: Any,
) -> None:
    rows = by_slug(item_statistics())
    single = rows["t-single"]
    assert (single.n, single.facility, single.sd, single.discrimination) == (0, None, None, None)
    # Provisional: discrimination 1 and difficulty (2 - 3) * 0.8 from the author's 2.
    assert not single.calibrated
    assert (single.a, single.b, single.se_a, single.se_b, single.fit) == (
        1.0,
        pytest.approx(-0.8),
        None,
        None,
        None,
    )
    assert [c.picks for c in single.choices] == [0, 0, 0] and single.choices[0].share is None


# --- flags -------------------------------------------------------------------------------
def tf_spec(slug: str, answer: bool) -> dict[str, Any]:
    return {**TRUE_FALSE, "slug": slug, "title": slug, "body": f"Claim {slug}.", "answer": answer}


@pytest.fixture
def flag_quiz(topic: Any) -> Any:
    specs = [tf_spec(f"good-{k}", True) for k in range(3)]
    specs += [tf_spec("miskeyed", True), tf_spec("hard", True), tf_spec("easy", True)]
    load_sample_items(topic.stage, topic.slug, specs)
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=len(specs), stage=topic.stage)
    return quiz


def strong_and_weak(quiz: Any, pairs: int) -> None:
    """Strong learners answer the good items right; weak ones wrong. The miskeyed item's
    key is wrong, so the strong (who know better) score 0 on it and the weak 1. Nobody
    gets "hard" right, everybody gets "easy" right."""
    for _ in range(pairs):
        for strong in (True, False):
            answers = {f"good-{k}": strong for k in range(3)}
            answers.update({"miskeyed": not strong, "hard": False, "easy": True})
            take(quiz, answers)


def test_flags_fire_on_broken_items_and_not_on_good_ones(flag_quiz: Any) -> None:
    strong_and_weak(flag_quiz, pairs=FLAG_MIN_ANSWERS // 2)
    rows = by_slug(item_statistics())
    assert rows["miskeyed"].discrimination == pytest.approx(-1.0)
    assert rows["miskeyed"].flags == [ItemFlag.NEGATIVE_DISCRIMINATION]
    assert rows["hard"].flags == [ItemFlag.NOBODY_CORRECT]
    assert rows["easy"].flags == [ItemFlag.EVERYBODY_CORRECT]
    for k in range(3):
        good = rows[f"good-{k}"]
        assert good.discrimination is not None and good.discrimination > 0.5
        assert good.flags == []


def test_flags_wait_for_enough_answers(flag_quiz: Any) -> None:
    strong_and_weak(flag_quiz, pairs=FLAG_MIN_ANSWERS // 2 - 1)
    rows = by_slug(item_statistics())
    assert rows["easy"].n == FLAG_MIN_ANSWERS - 2
    assert rows["miskeyed"].discrimination == pytest.approx(-1.0)
    assert all(row.flags == [] for row in rows.values())


def test_calibrated_parameters_and_poor_fit(flag_quiz: Any) -> None:
    good, miskeyed = Item.objects.get(slug="good-0"), Item.objects.get(slug="miskeyed")
    ItemCalibration.objects.create(
        item=good, a=1.4, b=0.3, se_a=0.1, se_b=0.05, calibrated=True, fit=0.04
    )
    ItemCalibration.objects.create(
        item=miskeyed, a=0.2, b=2.5, se_a=0.3, se_b=0.9, calibrated=True, fit=0.16
    )
    rows = by_slug(item_statistics())
    assert rows["good-0"].calibrated
    assert (rows["good-0"].a, rows["good-0"].se_a, rows["good-0"].b, rows["good-0"].se_b) == (
        1.4,
        0.1,
        0.3,
        0.05,
    )
    assert rows["good-0"].flags == [] and rows["good-0"].fit == 0.04
    assert rows["miskeyed"].flags == [ItemFlag.POOR_FIT]


def test_query_count_does_not_grow_with_the_answers(small_quiz: Any) -> None:
    take(small_quiz, FIVE[0])
    with CaptureQueriesContext(connection) as few:
        item_statistics()
    for answers in FIVE * 4:
        take(small_quiz, answers)
    with CaptureQueriesContext(connection) as many:
        rows = by_slug(item_statistics())
    assert rows["t-single"].n == 21
    assert len(few) == len(many) == 3
    with CaptureQueriesContext(connection) as without_picks:
        rows = by_slug(item_statistics(picks=False))
    assert len(without_picks) == 2
    assert rows["t-single"].n == 21 and rows["t-single"].choices == []


# --- the pages ---------------------------------------------------------------------------
def test_items_page_and_item_page_show_the_statistics(
    small_quiz: Any, instructor: Any, django_assert_max_num_queries: Any
) -> None:
    for answers in FIVE:
        take(small_quiz, answers)
    client = Client()
    client.force_login(instructor)
    with django_assert_max_num_queries(12):
        page = client.get("/author/items/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<th scope="col">SD</th>' in html and "provisional" in html
    assert "0.55" in html and "0.43" in html  # the single's SD, the multiple's discrimination
    assert "none: 1" not in html and "choose a stage" in html  # the whole bank: no picks
    number = small_quiz.stage.number
    with django_assert_max_num_queries(14):  # the filter form looks the stage up
        html = client.get(f"/author/items/?stage={number}").content.decode()
    assert "GET" in html and "none: 1" in html  # picks, and the blank multiple-choice answer
    item = client.get("/author/items/t-multiple/")
    text = item.content.decode()
    assert item.status_code == 200 and "data-item-stats" in text
    assert '<th scope="row">PUT</th><td>correct</td><td>4</td><td>80 %</td>' in text
    assert '<th scope="row">No pick</th><td>—</td><td>1</td><td>20 %</td>' in text


def test_an_author_without_the_statistics_permission_sees_items_only(
    small_quiz: Any, instructor: Any
) -> None:
    from django.contrib.auth.models import Permission

    author = UserFactory(role="learner")
    author.user_permissions.add(
        Permission.objects.get(codename="author_item", content_type__app_label="quizzes")
    )
    client = Client()
    client.force_login(author)
    html = client.get("/author/items/").content.decode()
    assert "Safe method" in html and "Discrimination" not in html
    assert "data-item-stats" not in client.get("/author/items/t-single/").content.decode()
