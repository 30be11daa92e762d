"""Small, valid bank items of every type, for tests (validated by the real loader)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quizzes.bank.loader import BankFile, LoadReport, bank_file_load, check_item
from quizzes.models import Item, Stage

COMMON = {"difficulty": 2, "cognitive": "judgement", "explanation": "Because it is so."}

SINGLE = {
    "slug": "t-single",
    "type": "single_choice",
    "title": "Safe method",
    "body": "Which HTTP method is **safe**?",
    "choices": [
        {"text": "POST", "correct": False, "feedback": "POST changes state."},
        {"text": "GET", "correct": True},
        {"text": "DELETE", "correct": False},
    ],
}
MULTIPLE = {
    "slug": "t-multiple",
    "type": "multiple_choice",
    "title": "Idempotent methods",
    "body": "Which methods are idempotent?",
    "choices": [
        {"text": "PUT", "correct": True},
        {"text": "DELETE", "correct": True},
        {"text": "POST", "correct": False},
        {"text": "PATCH (as JSON merge)", "correct": False},
    ],
}
TRUE_FALSE = {
    "slug": "t-tf",
    "type": "true_false",
    "title": "Index always helps",
    "body": "An index always speeds up a query.",
    "answer": False,
}
NUMERIC = {
    "slug": "t-numeric",
    "type": "numeric",
    "title": "Fixed window burst",
    "body": "How many requests can pass in 2 s across a window boundary at 100/s?",
    "answer": 200,
    "tolerance": 0.5,
    "unit": "requests",
}
SHORT = {
    "slug": "t-short",
    "type": "short_text",
    "title": "Header name",
    "body": "Which header says when to come back?",
    "accepted": ["Retry-After"],
    "pattern": "(the )?retry-after( header)?",
}
ORDERING = {
    "slug": "t-ordering",
    "type": "ordering",
    "title": "TLS handshake order",
    "body": "Order these.",
    "sequence": ["ClientHello", "ServerHello", "Finished"],
}
MATCHING = {
    "slug": "t-matching",
    "type": "matching",
    "title": "Status codes",
    "body": "Match.",
    "pairs": [
        {"left": "401", "right": "Unauthenticated"},
        {"left": "403", "right": "Forbidden"},
        {"left": "429", "right": "Too many requests"},
    ],
}
PYTHON = {
    "slug": "t-python",
    "type": "code",
    "title": "Add two numbers",
    "points": 10,
    "body": "Write `add(a, b)`.",
    "challenge": {
        "entry_point": "add",
        "kind": "function",
        "signature": {
            "params": [{"name": "a", "type": "int"}, {"name": "b", "type": "int"}],
            "returns": "int",
        },
        "starter": "def add(a, b):\n    ...\n",
        "reference_solution": "def add(a, b):\n    return a + b\n",
        "wrong_solutions": ["def add(a, b):\n    return a + b if a >= 0 else 0\n"],
        "tests": [
            {"name": "small", "visible": True, "args": [1, 2], "expect": 3},
            {"name": "negative", "visible": False, "args": [-5, 2], "expect": -3},
            {"name": "zeros", "visible": False, "args": [0, 0], "expect": 0},
        ],
    },
}
SQL = {
    "slug": "t-sql", "type": "sql", "title": "Richest owners", "points": 10,
    "body": "On SQLite: total balance per owner, largest first.",
    "challenge": {
        "schema": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER);",
        "ordered": True,
        "starter": "SELECT ...",
        "reference_solution": (
            "SELECT owner, SUM(balance) AS total FROM accounts GROUP BY owner "
            "ORDER BY total DESC, owner"
        ),
        "wrong_solutions": [
            "SELECT owner, SUM(balance) AS total FROM accounts GROUP BY owner ORDER BY total DESC"
        ],
        "tests": [
            {"name": "two", "visible": True,
             "data": "INSERT INTO accounts VALUES (1,'ana',10),(2,'bo',5);"},
            {"name": "tie", "visible": False,
             "data": "INSERT INTO accounts VALUES (1,'zed',5),(2,'amy',5);"},
        ],
    },
}  # fmt: skip

OBJECTIVE = [SINGLE, MULTIPLE, TRUE_FALSE, NUMERIC, SHORT, ORDERING, MATCHING]
ALL = [*OBJECTIVE, PYTHON, SQL]


def load_sample_items(stage: Stage, topic_slug: str, specs: list[dict[str, Any]]) -> list[Item]:
    """Load items through the real bank loader, as if from a stage file."""
    items = [{**COMMON, "topic": topic_slug, **spec} for spec in specs]
    for item in items:
        problems = check_item(item, topics={topic_slug})
        assert not problems, (item["slug"], problems)
    bank_file_load(
        bank=BankFile(path=Path("tests.yaml"), stage=stage.number, items=items),
        report=LoadReport(),
    )
    return list(Item.objects.filter(slug__in=[i["slug"] for i in items]).order_by("pk"))


def right_answer(item: Any) -> dict[str, Any]:
    """The correct answer to an attempt item, in that attempt's tokens."""
    data = item.item_version.data
    layout = item.layout
    kind = item.item_version.item.type
    choice_token = {ident: tok for tok, ident in layout.get("choices", [])}
    if kind == "single_choice":
        return {"choice": next(choice_token[c["id"]] for c in data["choices"] if c["correct"])}
    if kind == "multiple_choice":
        return {"choices": [choice_token[c["id"]] for c in data["choices"] if c["correct"]]}
    if kind == "true_false":
        return {"value": data["answer"]}
    if kind == "numeric":
        return {"value": f"{data['answer']:g}"}
    if kind == "short_text":
        return {"text": data["accepted"][0] if data.get("accepted") else ""}
    if kind == "ordering":
        seq = {ident: tok for tok, ident in layout["sequence"]}
        return {"order": [seq[s["id"]] for s in data["sequence"]]}
    if kind == "matching":
        lefts = {ident: tok for tok, ident in layout["lefts"]}
        rights = {ident: tok for tok, ident in layout["rights"]}
        return {"pairs": {lefts[p["id"]]: rights[p["id"]] for p in data["pairs"]}}
    return {"code": data["challenge"]["reference_solution"]}


def load_true_false_bank(
    stages: Any, *, per_stage: int, difficulties: tuple[int, ...] = (1, 3, 5)
) -> list[Item]:
    """``per_stage`` true/false items in each stage's first topic that a Python learner is
    asked about (alternating keys, spread difficulties), through the real loader; for tests
    that need items in many stages."""
    loaded: list[Item] = []
    for stage in stages:
        topic = next(
            t
            for t in stage.topics.order_by("position")
            if not t.languages or "python" in t.languages
        )
        specs = [
            {
                **TRUE_FALSE,
                "slug": f"tf-s{stage.number}-{k}",
                "title": f"Claim {k} of stage {stage.number}",
                "body": f"Statement number {k} about stage {stage.number}.",
                "answer": k % 2 == 0,
                "difficulty": difficulties[k % len(difficulties)],
            }
            for k in range(per_stage)
        ]
        loaded.extend(load_sample_items(stage, topic.slug, specs))
    return loaded
