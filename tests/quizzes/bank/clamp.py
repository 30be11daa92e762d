"""A small Python challenge with stated rules, for the rule and mutation checks' tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

CLAMP_REFERENCE = """\
def clamp(x, lo, hi):
    if lo > hi:
        raise ValueError("empty range")
    return max(lo, min(hi, x))
"""

# Each breaks one rule, and only it.
BREAKS_LOWER = """\
def clamp(x, lo, hi):
    if lo > hi:
        raise ValueError("empty range")
    return min(hi, x)
"""
BREAKS_UPPER = """\
def clamp(x, lo, hi):
    if lo > hi:
        raise ValueError("empty range")
    return max(lo, x)
"""
BREAKS_RANGE = """\
def clamp(x, lo, hi):
    return max(lo, min(hi, x))
"""

_CLAMP: dict[str, Any] = {
    "slug": "t-clamp",
    "type": "code",
    "topic": "rate-limiting",
    "difficulty": 2,
    "cognitive": "judgement",
    "title": "Clamp a number",
    "body": "Write `clamp(x, lo, hi)`: `x` bounded to `[lo, hi]`; `lo > hi` raises ValueError.",
    "explanation": "Bound from both sides; check the range first.",
    "challenge": {
        "entry_point": "clamp",
        "kind": "function",
        "time_limit": 1,
        "starter": "def clamp(x, lo, hi):\n    ...\n",
        "reference_solution": CLAMP_REFERENCE,
        "tests_author": "alice",
        "rules": [
            {"id": "lower", "text": "Below `lo`, the result is `lo`."},
            {"id": "upper", "text": "Above `hi`, the result is `hi`."},
            {"id": "range", "text": "`lo > hi` raises ValueError."},
        ],
        "wrong_solutions": [
            {"breaks": "lower", "author": "bob", "source": BREAKS_LOWER},
            {"breaks": "upper", "author": "bob", "source": BREAKS_UPPER},
            {"breaks": "range", "author": "carol", "source": BREAKS_RANGE},
        ],
        "tests": [
            {"name": "inside", "visible": True, "args": [5, 0, 10], "expect": 5},
            {"name": "below", "visible": False, "rule": "lower", "args": [-5, 0, 10], "expect": 0},
            {"name": "far below", "visible": False, "rule": "lower", "args": [-99, -50, 0],
             "expect": -50},
            {"name": "above", "visible": False, "rule": "upper", "args": [50, 0, 10],
             "expect": 10},
            {"name": "empty range", "visible": False, "rule": "range", "args": [1, 5, 0],
             "raises": "ValueError"},
        ],
    },
}  # fmt: skip


def clamp_item() -> dict[str, Any]:
    """A fresh copy of the clamp challenge, valid and meeting every rule check."""
    return copy.deepcopy(_CLAMP)


def write_stage(folder: Path, items: list[dict[str, Any]], stage: int = 2) -> Path:
    """A bank file of ``items`` in ``folder`` (stage 2, whose topics include rate-limiting)."""
    path = folder / f"stage-{stage:02d}.yaml"
    path.write_text(yaml.safe_dump({"stage": stage, "items": items}, sort_keys=False))
    return path
