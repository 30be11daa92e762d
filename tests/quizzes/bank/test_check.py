"""check_bank's item checks beyond one item's fields: answers given away by another item of
the stage, near-duplicates anywhere in the bank, text cut short by a YAML comment, and
samples scored when a file is read."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from quizzes.bank.check import (
    answers_given_away,
    near_duplicates,
    roadmap_topics,
    texts_cut_by_comments,
)
from quizzes.bank.loader import BankFile, BankFileError, read_bank_file

BASE = Path(__file__).resolve().parents[3]


def item(slug: str, item_type: str, body: str = "Unrelated.", **fields: Any) -> dict[str, Any]:
    return {"slug": slug, "type": item_type, "title": slug, "body": body, **fields}


def given_away(*items: dict[str, Any]) -> list[tuple[str | None, str]]:
    stage = BankFile(path=Path("stage-06.yaml"), stage=6, items=list(items))
    return [(p.slug, p.message) for p in answers_given_away(stage)]


def numeric(answer: float, unit: str = "ms", slug: str = "latency") -> dict[str, Any]:
    return item(slug, "numeric", "How long?", answer=answer, tolerance=0.5, unit=unit)


def choice(slug: str, body: str, *texts: str) -> dict[str, Any]:
    return item(
        slug,
        "single_choice",
        body,
        choices=[{"text": t, "correct": n == 0} for n, t in enumerate(texts)],
    )


def test_a_numeric_answer_with_its_unit_stated_elsewhere_is_flagged() -> None:
    telling = item("tells", "true_false", "Under M/M/1 at 90% the mean is 250 ms.", answer=True)
    assert given_away(numeric(250), telling) == [
        (
            "latency",
            "its accepted answer '250 ms' appears in tells, which can be drawn into the same quiz",
        )
    ]
    glued = item("glued", "true_false", "It takes 250MS on average.", answer=True)
    assert [slug for slug, _ in given_away(numeric(250), glued)] == ["latency"]
    grouped = item("grouped", "true_false", "A budget of 1,500 ms per request.", answer=True)
    assert [slug for slug, _ in given_away(numeric(1500), grouped)] == ["latency"]


def test_numbers_that_only_look_alike_are_not_flagged() -> None:
    bodies = [
        "A replica lags 0.250 ms behind.",  # inside another number
        "Timeouts of 250 s are common.",  # another unit
        "Page 250 of the manual.",  # a bare number
    ]
    others = [item(f"o{n}", "true_false", b, answer=True) for n, b in enumerate(bodies)]
    assert given_away(numeric(250), *others) == []
    # A round number turns up everywhere ('under 100 ms'): too common to judge.
    lag = item("lag", "true_false", "Lag is usually under 100 ms.", answer=True)
    assert given_away(numeric(100), lag) == []


def test_a_correct_choice_stated_by_another_item_is_flagged() -> None:
    asking = choice(
        "cookie-flag",
        "Which attribute hides a cookie from scripts?",
        "`HttpOnly`",
        "`Secure`",
        "`SameSite=Lax`",
    )
    stating = item(
        "xss", "true_false", "With HttpOnly set, `document.cookie` is empty.", answer=True
    )
    assert [slug for slug, _ in given_away(asking, stating)] == ["cookie-flag"]


def test_a_correct_choice_offered_as_an_option_elsewhere_gives_nothing_away() -> None:
    asking = choice(
        "cookie-flag", "Which attribute hides a cookie?", "`HttpOnly`", "`Secure`", "Path"
    )
    offering = choice(
        "fixation", "How to stop fixation?", "Rotate the session ID", "Add `HttpOnly`"
    )
    assert given_away(asking, offering) == []


def test_a_pattern_only_short_text_is_judged_by_what_its_samples_accept() -> None:
    asking = item(
        "name-it",
        "short_text",
        "Name the pattern.",
        pattern=r"(the\s+)?sagas?",
        samples={"accept": ["`Saga`.", "the saga"], "reject": ["2PC"]},
    )
    offering = choice("which", "Which?", "Use a saga", "Use two-phase commit", "Retry")
    assert [slug for slug, _ in given_away(asking, offering)] == ["name-it"]


def test_short_text_answers_are_still_flagged_in_options() -> None:
    asking = item("profiler", "short_text", "The C profiler?", accepted=["cProfile"])
    offering = choice("report", "Read it.", "Rerun it under cProfile", "Guess", "Ask")
    assert [slug for slug, _ in given_away(asking, offering)] == ["profiler"]


# --- near-duplicates -----------------------------------------------------------------
def _text(rng: random.Random, vocabulary: list[str], words: int) -> str:
    return " ".join(rng.choice(vocabulary) for _ in range(words))


def test_near_duplicates_are_found_across_stages() -> None:
    """The command passes every stage's items to one call: a pair from two stages is found."""
    text = "Which HTTP method is safe to retry after a timeout when the server may have acted?"
    twin = text.replace("timeout", "time-out")
    pairs = near_duplicates([("stage-2-item", text), ("x", "Unrelated."), ("stage-8-item", twin)])
    assert [(a, b) for a, b, _ in pairs] == [("stage-2-item", "stage-8-item")]


def test_near_duplicates_in_a_bank_of_six_hundred() -> None:
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(3000)]
    items = [(f"i{n}", _text(rng, vocabulary, rng.randint(40, 120))) for n in range(600)]
    # Three near-copies (a word changed, two words swapped) and one item sharing only half.
    for n in (10, 200, 450):
        words = items[n][1].split()
        words[5] = "changed"
        words[8], words[9] = words[9], words[8]
        items.append((f"copy-of-i{n}", " ".join(words)))
    half = items[300][1].split()
    items.append(("half-of-i300", " ".join(half[: len(half) // 2] + ["other"] * (len(half) // 2))))
    assert sorted((a, b) for a, b, _ in near_duplicates(items)) == [
        ("i10", "copy-of-i10"),
        ("i200", "copy-of-i200"),
        ("i450", "copy-of-i450"),
    ]


# --- text cut short by a YAML comment -------------------------------------------------
CUT = """\
stage: 7
# a comment on a line of its own is fine
items:
  - slug: exchanges # even one word of plain text may have been longer
    type: single_choice
    topic: rabbitmq
    difficulty: 2   # a number may carry a comment
    title: Topic exchanges
    body: |
      Which route?   # inside a block scalar: text, not a comment
    choices:
      - text: By pattern, with * and # as wildcards
        correct: true  # so may a boolean
      - text: "Quoted, with * and # kept"
      - text: By pattern like orders.# (no space before the hash)
      - text: Wildcards
          on two lines # and cut on the second
    samples:
      accept: [fine]
      reject:
        - cut # here
"""


def cut_message(text: str, rest: str) -> str:
    return (
        f"the text {text!r} is cut at ' #': YAML reads the rest of the line ({rest!r}) as a "
        "comment. Quote the text, or move the comment to a line of its own"
    )


def test_text_cut_short_by_a_comment_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "stage-07.yaml"
    path.write_text(CUT)
    problems = texts_cut_by_comments(path)
    assert [(p.line, p.slug, p.message) for p in problems] == [
        (
            4,
            "exchanges",
            cut_message("exchanges", "# even one word of plain text may have been longer"),
        ),
        (12, "exchanges", cut_message("By pattern, with * and", "# as wildcards")),
        (17, "exchanges", cut_message("Wildcards on two lines", "# and cut on the second")),
        (21, "exchanges", cut_message("cut", "# here")),
    ]
    assert str(problems[1]).startswith(f"{path}:12 [exchanges]: the text 'By pattern")


def test_a_file_that_does_not_parse_is_left_to_the_loader(tmp_path: Path) -> None:
    path = tmp_path / "stage-07.yaml"
    path.write_text("stage: 7\nitems:\n  - slug: [unclosed\n")
    assert texts_cut_by_comments(path) == []


# --- samples, read from a bank file ---------------------------------------------------
SAMPLES = """\
stage: 2
items:
  - slug: burst
    type: numeric
    topic: rate-limiting
    difficulty: 2
    title: Burst
    body: How many requests pass in 2 s across a window boundary at 100/s?
    explanation: Two full windows.
    answer: 200
    tolerance: 0.5
    unit: requests
    samples:
      accept: ["200", "200 requests", "`200`."]
      reject: [{reject}]
"""


def test_samples_in_a_bank_file_are_scored_when_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "stage-02.yaml"
    path.write_text(SAMPLES.format(reject='"100", "200 s"'))
    topics = roadmap_topics(BASE / "fixtures/roadmap.yaml")
    [item] = read_bank_file(path, topics_by_stage=topics).items
    assert item["samples"]["reject"] == ["100", "200 s"]
    path.write_text(SAMPLES.format(reject='"200 REQUESTS"'))
    with pytest.raises(BankFileError) as refused:
        read_bank_file(path, topics_by_stage=topics)
    assert [str(p) for p in refused.value.problems] == [
        f"{path}:3 [burst]: sample '200 REQUESTS' is accepted (scores 1)"
    ]
