"""Every registered item type implements the whole contract, and nothing else in the
tree branches on an item type."""

from __future__ import annotations

import ast
import random
from pathlib import Path
from typing import Any

import pytest
from django.template.loader import get_template

from quizzes.itemtypes import AnswerError, all_handlers, choice_types, handler_for, type_names
from quizzes.itemtypes.base import ItemTypeHandler
from quizzes.models import ItemType

ROOT = Path(__file__).resolve().parents[3]
CONTRACT = (
    "check_bank",
    "build_data",
    "layout",
    "clean_answer",
    "to_item_ids",
    "to_tokens",
    "score",
    "key_answer",
    "is_blank",
    "learner_view",
    "review_view",
    "key_display",
)
# Methods a handler must define itself (or in a shared base below ItemTypeHandler).
MUST_OVERRIDE = ("check_bank", "build_data", "key_answer")


def test_every_item_type_has_exactly_one_handler() -> None:
    assert sorted(type_names()) == sorted(ItemType.values)
    assert all(handler_for(name).type == name for name in ItemType.values)


@pytest.mark.parametrize("handler", list(all_handlers()), ids=lambda h: str(h.type))
def test_each_handler_implements_the_whole_contract(handler: ItemTypeHandler) -> None:
    for name in CONTRACT:
        assert callable(getattr(handler, name)), name
    for name in MUST_OVERRIDE:
        assert getattr(type(handler), name) is not getattr(ItemTypeHandler, name), name
    if handler.scored_at_submit:
        assert type(handler).score is not ItemTypeHandler.score
    assert isinstance(handler.needs_sandbox, bool)
    assert isinstance(handler.scored_at_submit, bool)
    assert handler.needs_sandbox != handler.scored_at_submit
    assert handler.bank_keys, "a type adds at least one bank field"
    assert handler.label
    # Its templates exist and its schema rejects what is not an object.
    get_template(handler.question_template)
    get_template(handler.review_template)
    with pytest.raises(AnswerError):
        handler.clean_answer(["not", "an", "object"], {})


def _sample_entry(item_type: str) -> dict[str, Any]:
    """A valid bank entry of each type, as an author writes it."""
    base = {"slug": f"sample-{item_type}", "type": item_type, "title": "T", "body": "B"}
    fields: dict[str, dict[str, Any]] = {
        ItemType.SINGLE_CHOICE: {"choices": [{"text": "a", "correct": True}, {"text": "b"}]},
        ItemType.MULTIPLE_CHOICE: {
            "choices": [
                {"text": "a", "correct": True},
                {"text": "b", "correct": True},
                {"text": "c"},
            ]
        },
        ItemType.TRUE_FALSE: {"answer": False},
        ItemType.NUMERIC: {"answer": 12.5, "tolerance": 0.1},
        ItemType.SHORT_TEXT: {"accepted": ["idempotent"]},
        ItemType.ORDERING: {"sequence": ["one", "two", "three"]},
        ItemType.MATCHING: {
            "pairs": [
                {"left": "a", "right": "1"},
                {"left": "b", "right": "2"},
                {"left": "c", "right": "3"},
            ]
        },
    }
    return {**base, **fields.get(item_type, {})}


@pytest.mark.parametrize(
    "handler", [h for h in all_handlers() if h.scored_at_submit], ids=lambda h: str(h.type)
)
def test_the_key_given_through_the_answer_schema_scores_full_marks(
    handler: ItemTypeHandler,
) -> None:
    entry = _sample_entry(str(handler.type))
    assert handler.check_bank(entry) == []
    data = handler.build_data(entry)
    layout = handler.layout(data, random.Random(1), shuffle=True)
    submitted = handler.to_tokens(handler.key_answer(data), layout)
    clean = handler.clean_answer(submitted, layout)
    assert handler.score(data, handler.to_item_ids(clean, layout)) == 1.0
    # The learner view carries tokens only: no item id and no correctness flag.
    view = handler.learner_view(data, layout, clean)
    text = repr(view)
    assert "correct" not in text
    for value in ("c1", "s1", "p1"):
        assert f"'{value}'" not in text


@pytest.mark.parametrize(
    "handler", [h for h in all_handlers() if h.scored_at_submit], ids=lambda h: str(h.type)
)
def test_choice_picks_read_the_options_an_answer_picked(handler: ItemTypeHandler) -> None:
    """Item statistics count picks per option: a type with options names them, and its key
    answer picks exactly the correct ones; any other type reports no options and no picks."""
    data = handler.build_data(_sample_entry(str(handler.type)))
    options = handler.choice_options(data)
    key = handler.key_answer(data)
    assert handler.choice_picks(data, {}) == []
    if not handler.has_choices:
        assert options == [] and handler.choice_picks(data, key) == []
        assert str(handler.type) not in choice_types()
        return
    assert str(handler.type) in choice_types()
    assert len({o.id for o in options}) == len(options) >= 2
    assert sorted(handler.choice_picks(data, key)) == sorted(o.id for o in options if o.correct)
    # Through an attempt's tokens, as the answer is stored.
    layout = handler.layout(data, random.Random(3), shuffle=True)
    stored = handler.clean_answer(handler.to_tokens(key, layout), layout)
    given = handler.to_item_ids(stored, layout)
    assert sorted(handler.choice_picks(data, given)) == sorted(o.id for o in options if o.correct)


# --- nothing outside quizzes/itemtypes/ branches on an item type ------------------------
TYPE_STRINGS = set(ItemType.values)
TYPE_CONTAINERS = {"CHALLENGE_TYPES", "OBJECTIVE_TYPES"}


def _is_type_reference(node: ast.AST) -> bool:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "ItemType"
    ):
        return True
    if isinstance(node, ast.Name) and node.id in TYPE_CONTAINERS:
        return True
    if isinstance(node, ast.Constant) and node.value in TYPE_STRINGS:
        return True
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_is_type_reference(e) for e in node.elts)
    return False


def type_branches(source: str) -> list[int]:
    """Lines comparing anything with an item-type member, container or type name."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_type_reference(o) for o in operands):
                lines.append(node.lineno)
        elif isinstance(node, ast.match_case) and _is_type_reference(node.pattern):
            lines.append(node.pattern.lineno)
    return lines


def test_the_branch_detector_finds_every_kind_of_type_comparison() -> None:
    positive = [
        "if item.type == ItemType.SQL: pass",
        "if kind in (ItemType.CODE, ItemType.SQL): pass",
        'if item["type"] not in CHALLENGE_TYPES: pass',
        'ok = t != "single_choice"',
        'ok = "matching" == t',
    ]
    for source in positive:
        assert type_branches(source) == [1], source
    assert type_branches("ok = handler.needs_sandbox and x == 'other'") == []


def test_no_code_outside_itemtypes_branches_on_an_item_type() -> None:
    offenders = []
    for package in ("quizzes", "accounts", "config"):
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if rel.parts[:2] == ("quizzes", "itemtypes") or "migrations" in rel.parts:
                continue
            offenders += [f"{rel}:{line}" for line in type_branches(path.read_text())]
    assert offenders == []


def test_no_template_or_script_branches_on_an_item_type() -> None:
    offenders = []
    patterns = [f'"{name}"' for name in TYPE_STRINGS] + [f"'{name}'" for name in TYPE_STRINGS]
    for path in [
        *(ROOT / "quizzes" / "templates").rglob("*.html"),
        *(ROOT / "quizzes" / "static" / "quizzes" / "js").rglob("*.js"),
    ]:
        if "itemtypes" in path.parts:  # each type's own widget and review
            continue
        text = path.read_text()
        offenders += [f"{path.name}: {p}" for p in patterns if p in text]
        if "item.type ==" in text or "item.type !=" in text or "dataset.type" in text:
            offenders.append(f"{path.name}: compares item.type")
    assert offenders == []
