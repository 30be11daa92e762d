"""Single choice: the key must not stand out as the one clearly longest option."""

from __future__ import annotations

import pytest

from quizzes.itemtypes import handler_for

SINGLE = handler_for("single_choice")


def cues(key: str, *distractors: str) -> list[str]:
    choices = [{"text": key, "correct": True}, *({"text": d} for d in distractors)]
    return SINGLE.answer_cues(SINGLE.build_data({"choices": choices}))


def test_a_key_clearly_longer_than_every_distractor_is_a_cue() -> None:
    key = "Use a cursor on (created_at, id) so that inserts at the head never shift the pages"
    [cue] = cues(key, "Raise the page size to 200", "Nothing: pages are consistent", "Use OFFSET")
    assert cue == (
        f"the key is clearly the longest option ({len(key)} characters, the longest "
        "distractor 29): shorten the key or lengthen a distractor"
    )


@pytest.mark.parametrize(
    ("key", "distractors"),
    [
        # A distractor as long as the key, or longer.
        ("Use a cursor on (created_at, id)", ("Raise the page size to 200 rows per page",)),
        # Longer by more than a fifth but by fewer than ten characters.
        ("Use a cursor", ("Use OFFSET",)),
        # Longer by ten characters but by less than a fifth.
        ("x" * 70, ("y" * 60, "z" * 20)),
        # Whitespace runs do not count.
        ("Use   a    cursor    on   the    key", ("Use an offset on the page",)),
    ],
)
def test_a_key_that_is_not_clearly_the_longest_is_no_cue(
    key: str, distractors: tuple[str, ...]
) -> None:
    assert cues(key, *distractors) == []


def test_the_margin_is_strict() -> None:
    assert cues("k" * 60, "d" * 50) == []  # 10 longer, exactly 20 %: not more than either
    assert cues("k" * 61, "d" * 50) != []


def test_other_types_report_no_cue_and_only_true_false_has_a_boolean_key() -> None:
    tf = handler_for("true_false")
    assert tf.boolean_key(tf.build_data({"answer": True})) is True
    assert tf.boolean_key(tf.build_data({"answer": False})) is False
    assert SINGLE.boolean_key({"choices": []}) is None
    multiple = handler_for("multiple_choice")
    data = multiple.build_data(
        {
            "choices": [
                {"text": "a" * 90, "correct": True},
                {"text": "b" * 90, "correct": True},
                {"text": "c"},
            ]
        }
    )
    assert multiple.answer_cues(data) == []
