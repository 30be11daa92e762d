"""A shown order is never the key (quizzes/itemtypes/base.py, ``shuffled_tokens``)."""

from __future__ import annotations

import random

import pytest

from quizzes.itemtypes import handler_for


@pytest.mark.parametrize("size", [2, 3, 4])
@pytest.mark.parametrize("shuffle", [True, False])
def test_matching_never_shows_the_right_side_in_the_left_sides_order(
    size: int, shuffle: bool
) -> None:
    data = {"pairs": [{"id": f"p{n}", "left_html": "", "right_html": ""} for n in range(size)]}
    handler = handler_for("matching")
    seen = set()
    for seed in range(400):  # every permutation of up to four, many times over
        layout = handler.layout(data, random.Random(seed), shuffle=shuffle)
        lefts = [pair_id for _, pair_id in layout["lefts"]]
        rights = [pair_id for _, pair_id in layout["rights"]]
        assert sorted(rights) == sorted(lefts) == [f"p{n}" for n in range(size)]
        assert rights != lefts, (seed, lefts, rights)
        seen.add((tuple(lefts), tuple(rights)))
    assert len(seen) > 1 or (size == 2 and not shuffle)  # still shuffled where it can be


@pytest.mark.parametrize("size", [2, 3, 4])
def test_ordering_never_shows_the_key(size: int) -> None:
    ids = [f"s{n}" for n in range(size)]
    data = {"sequence": [{"id": i, "html": i} for i in ids]}
    handler = handler_for("ordering")
    for seed in range(400):
        layout = handler.layout(data, random.Random(seed), shuffle=False)
        assert [i for _, i in layout["sequence"]] != ids, seed
