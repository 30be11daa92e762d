"""One vocabulary: statuses, kinds and outcome categories are compared through their enums.

A literal such as ``"queued"`` compared in a view, a selector, a service or a template is a
second, unchecked spelling of a word the enums already define (and label). The models (where
the enums live) and migrations are the exceptions; so is the in-sandbox harness, which runs
on its own and cannot import anything of ours (runner.py reads its words through enums).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from quizzes.grading import OutcomeCategory, ReportStatus
from quizzes.models import (
    AttemptStatus,
    EventKind,
    FeedbackMode,
    ItemStatus,
    QuizKind,
    QuizStatus,
    SubmissionKind,
    SubmissionStatus,
)

BASE = Path(__file__).resolve().parents[2]
ENUMS = (
    AttemptStatus, EventKind, FeedbackMode, ItemStatus, QuizKind, QuizStatus,
    SubmissionKind, SubmissionStatus, OutcomeCategory, ReportStatus,
)  # fmt: skip
VOCABULARY = frozenset(str(member.value) for enum in ENUMS for member in enum)
EXEMPT = ("quizzes/models/", "quizzes/migrations/", "quizzes/grading/harness.py")
# Keyword arguments that name one of these words: status="queued", attempt__status__in=[...].
WORD_ARGUMENT = re.compile(r"^(\w+__)?(status|kind|category|feedback_mode)(__\w+)?$")


def _literals(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [v for elt in node.elts for v in _literals(elt)]
    return []


def _compared(node: ast.Compare) -> list[ast.AST]:
    """The operands of ==, != and of membership in a literal collection.

    ``"stage" in errors`` tests a key (a field named like a quiz kind), not a kind: a literal
    left of ``in`` counts only when the right side is a literal collection too."""
    operands: list[ast.AST] = []
    for left, op, right in zip(
        [node.left, *node.comparators], node.ops, node.comparators, strict=False
    ):
        if isinstance(op, ast.In | ast.NotIn):
            if isinstance(right, ast.Tuple | ast.List | ast.Set):
                operands += [left, right]
        else:
            operands += [left, right]
    return operands


def python_hits(path: Path, root: Path = BASE) -> list[str]:
    hits = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Compare):
            operands = _compared(node)
        elif isinstance(node, ast.MatchValue) or (
            isinstance(node, ast.keyword) and node.arg and WORD_ARGUMENT.match(node.arg)
        ):
            operands = [node.value]
        else:
            continue
        words = [w for operand in operands for w in _literals(operand) if w in VOCABULARY]
        if words:
            hits.append(f"{path.relative_to(root)}:{node.lineno}: {', '.join(words)}")
    return hits


TEMPLATE_TAG = re.compile(r"{%-?\s*(?:if|elif)\b(.*?)-?%}", re.DOTALL)
TEMPLATE_STRING = re.compile(r"""(["'])(.*?)\1""")


def template_hits(path: Path, root: Path = BASE) -> list[str]:
    text = path.read_text()
    hits = []
    for tag in TEMPLATE_TAG.finditer(text):
        words = [m.group(2) for m in TEMPLATE_STRING.finditer(tag.group(1))]
        words = [w for w in words if w in VOCABULARY]
        if words:
            line = text.count("\n", 0, tag.start()) + 1
            hits.append(f"{path.relative_to(root)}:{line}: {', '.join(words)}")
    return hits


def sources() -> list[Path]:
    return [
        path
        for path in sorted((BASE / "quizzes").rglob("*.py"))
        if not str(path.relative_to(BASE)).startswith(EXEMPT)
    ]


def templates() -> list[Path]:
    return sorted(BASE.glob("*/templates/**/*.html"))


def test_the_scan_sees_what_it_looks_for(tmp_path: Path) -> None:
    assert {"queued", "running", "graded", "error", "in_progress", "challenge"} <= VOCABULARY
    assert {"placement", "stage", "wrong_answer", "not_run", "compile_error"} <= VOCABULARY
    assert len(sources()) > 40 and len(templates()) > 20
    sample = tmp_path / "sample.py"
    sample.write_text(
        'a == "queued"\n"graded" != b\nc in ("x", "running")\nQ(status="error")\n'
        'f(quiz__kind__in=["challenge"])\nd == "code"\ng(title="stage")\n"stage" in errors\n'
        'match e:\n    case "placement":\n        pass\n'
    )
    found = sorted(hit.split(": ", 1)[1] for hit in python_hits(sample, root=tmp_path))
    assert found == sorted(["queued", "graded", "running", "error", "challenge", "placement"])
    page = tmp_path / "templates" / "page.html"
    page.parent.mkdir()
    page.write_text(
        "{% if s.status == 'queued' %}{% elif s.status != \"error\" and x %}{% endif %}\n"
        "{% if item.type == 'python' %}queued{% endif %}\n"
    )
    found = [hit.split(": ", 1)[1] for hit in template_hits(page, root=tmp_path)]
    assert found == ["queued", "error"]


def test_no_status_kind_or_category_is_compared_as_a_string_literal() -> None:
    hits = [hit for path in sources() for hit in python_hits(path)]
    assert hits == [], "compare with the enum members (quizzes/models, quizzes/grading)"


def test_no_template_compares_a_status_kind_or_category_literal() -> None:
    hits = [hit for path in templates() for hit in template_hits(path)]
    assert hits == [], "pass a boolean or use a model property (e.g. Submission.is_pending)"
