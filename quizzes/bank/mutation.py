"""Mutation testing of the Python challenges' tests: are they sharp enough to catch small
mistakes in a correct solution?

``mutants_of`` rewrites a reference solution into mutants, each one small change made by
one operator (``OPERATORS``). ``mutation_run`` grades every mutant with the real grader, two
sandbox slots at a time, as a learner's submission is graded: a mutant is **killed** when a
test fails or the run stops (it does not load, raises, or exceeds a limit). A mutant no
test can tell from the reference (an *equivalent* mutant) is listed by hand in
``mutation.yaml`` with a reason; at most ``MAX_EQUIVALENT_SHARE`` of a challenge's mutants
may be. The score is killed / (mutants - equivalent).

``manage.py check_bank --mutation [slug …]`` runs it (it takes minutes, so it is not part of
``make test``) and records the figures in ``fixtures/questions/mutation.yaml``, keyed by the
hash of what they depend on (``challenge_hash``: the reference, the tests and the rules).
The plain ``check_bank`` on the roadmap bank then only reads that file
(``check_mutation_records``): every Python challenge has current figures scoring at least
``MIN_SCORE``.

Why a mutator of our own rather than mutmut or cosmic-ray: those mutate a package on disk
and run its test suite in-process; here each mutant is one source text graded in the
sandbox by the grader (``ChallengeHandler.grade``), with the challenge's tests and limits.

Mutants are made on the AST and written back into the source text by replacing the span of
the changed node, so a mutant differs from the reference in one place, keeps its comments
and line numbers, and reads as a one-line diff. Each splice is checked: the mutant's AST
must be the mutated AST (else the whole mutated tree is unparsed instead). A mutant's id is
``operator:line:col:index``: stable for a given reference, whatever the tests.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import math
import queue
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from quizzes.bank.loader import BankFile, Problem
from quizzes.grading.outcomes import ReportStatus
from quizzes.grading.runner import GradeReport
from quizzes.itemtypes import challenge_handler_for, handler_for

MUTATION_FILE = "mutation.yaml"
MIN_SCORE = 0.90
MAX_EQUIVALENT_SHARE = 0.10
SLOTS = (0, 1)  # two sandbox runs at a time, as check_bank does
INFRASTRUCTURE_RETRIES = 2

OPERATORS: dict[str, str] = {
    "arithmetic": "+ ↔ -, * ↔ /, // → /, / → //, % → //, ** → *, bitwise & ↔ |, ^ → |, "
    "<< ↔ >> (also in augmented assignments); unary minus dropped",
    "comparison": "== ↔ !=, < ↔ >=, <= ↔ >, and the reversed order (< ↔ >, <= ↔ >=); "
    "is ↔ is not, in ↔ not in",
    "boundary": "< ↔ <=, > ↔ >=",
    "constant": "numbers n → n + 1 and n - 1; strings and bytes s → 'XX' s 'XX'",
    "boolean": "and ↔ or, `not x` → x, True ↔ False",
    "return": "return x → return None; return x → return not x when x is a boolean "
    "(a comparison, `and`/`or`/`not`, or in a function annotated `-> bool`)",
    "statement": "a statement → pass (a whole block for if/for/while/with/try)",
}

# Left alone, since no test can see them: docstrings and other bare strings, annotations,
# decorators, f-strings, the arguments of a raised exception (tests compare its type only)
# and assert messages. Definitions are not deleted (a missing name is killed at once and
# says nothing about the tests), nor `global`, `nonlocal`, `pass`, `__future__` imports or
# a function's final `return None`.

_ARITHMETIC: dict[type[ast.operator], tuple[type[ast.operator], ...]] = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Div,),
    ast.Div: (ast.Mult, ast.FloorDiv),
    ast.FloorDiv: (ast.Div,),
    ast.Mod: (ast.FloorDiv,),
    ast.Pow: (ast.Mult,),
    ast.BitAnd: (ast.BitOr,),
    ast.BitOr: (ast.BitAnd,),
    ast.BitXor: (ast.BitOr,),
    ast.LShift: (ast.RShift,),
    ast.RShift: (ast.LShift,),
}
_COMPARISON: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Lt: (ast.GtE, ast.Gt),
    ast.LtE: (ast.Gt, ast.GtE),
    ast.Gt: (ast.LtE, ast.Lt),
    ast.GtE: (ast.Lt, ast.LtE),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
_BOUNDARY: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
}
_BOOLEAN_CALLS = frozenset(
    {"isinstance", "issubclass", "callable", "hasattr", "all", "any", "bool"}
)
_NOT_DELETED = (
    ast.Pass,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Global,
    ast.Nonlocal,
)

_NodePath = tuple[tuple[str, int | None], ...]  # from the module down to a node: (field, index)


@dataclass(frozen=True)
class Mutant:
    id: str  # operator:line:col:index
    operator: str
    line: int
    before: str  # the changed lines of the reference
    after: str  # what the mutant has in their place
    source: str

    def diff(self) -> list[str]:
        """The change as diff lines (long blocks cut short)."""
        before, after = self.before.splitlines(), self.after.splitlines()
        cut = 6
        lines = [f"- {line}" for line in before[:cut]]
        if len(before) > cut:
            lines.append(f"- … ({len(before) - cut} more lines)")
        return lines + [f"+ {line}" for line in after]


@dataclass(frozen=True)
class _Site:
    path: _NodePath
    node: ast.AST
    operator: str
    new: ast.AST  # the node that replaces it
    statement: bool  # a statement (spliced without parentheses)


# --------------------------------------------------------------------------- the mutator


def mutants_of(source: str) -> list[Mutant]:
    """Every mutant of ``source`` (Python), in source order; no-ops and duplicates dropped.
    Raises SyntaxError if ``source`` does not parse."""
    tree = ast.parse(source)
    original = ast.dump(tree)
    lines = source.encode("utf-8").splitlines(keepends=True)
    counters: dict[tuple[str, int, int], int] = {}
    seen = {original}
    found = []
    for site in _sites(tree):
        node: Any = site.node
        line, col = node.lineno, node.col_offset
        key = (site.operator, line, col)
        index = counters.get(key, 0)
        counters[key] = index + 1
        mutated = _apply(tree, site)
        dump = ast.dump(mutated)
        if dump in seen:
            continue
        seen.add(dump)
        mutant_source, before, after = _splice(source, lines, site, dump, mutated)
        found.append(
            Mutant(
                id=f"{site.operator}:{line}:{col}:{index}",
                operator=site.operator,
                line=line,
                before=before,
                after=after,
                source=mutant_source,
            )
        )
    return found


def _sites(tree: ast.Module) -> Iterator[_Site]:
    """The mutation sites of ``tree`` in source order (pre-order over its fields)."""

    def walk(node: ast.AST, path: _NodePath, returns_bool: bool, last: bool) -> Iterator[_Site]:
        yield from _node_sites(node, path, returns_bool, last)
        if isinstance(node, ast.JoinedStr):
            return
        function = False
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = True
            returns_bool = isinstance(node.returns, ast.Name) and node.returns.id == "bool"
        for name, value in ast.iter_fields(node):
            if _unseen(node, name):
                continue
            if isinstance(value, list):
                for index, child in enumerate(value):
                    if isinstance(child, ast.AST) and not _bare_string(child):
                        tail = function and name == "body" and index == len(value) - 1
                        yield from walk(child, (*path, (name, index)), returns_bool, tail)
            elif isinstance(value, ast.AST):
                yield from walk(value, (*path, (name, None)), returns_bool, False)

    yield from walk(tree, (), False, False)


def _unseen(node: ast.AST, name: str) -> bool:
    """Fields no test can observe: annotations, decorators, exception and assert messages."""
    if name in ("annotation", "returns", "decorator_list", "type_comment"):
        return True
    if isinstance(node, ast.Raise):
        return name == "cause" or (name == "exc" and isinstance(node.exc, ast.Call))
    return isinstance(node, ast.Assert) and name == "msg"


def _bare_string(node: ast.AST) -> bool:
    """A docstring, or any other string (or ``...``) standing alone as a statement."""
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str | bytes | type(Ellipsis))
    )


def _node_sites(node: ast.AST, path: _NodePath, returns_bool: bool, last: bool) -> Iterator[_Site]:
    """The sites of one node; ``last``: it is the last statement of a function's body."""

    def expr(operator: str, new: ast.AST) -> _Site:
        return _Site(path, node, operator, new, statement=False)

    def stmt(operator: str, new: ast.AST) -> _Site:
        return _Site(path, node, operator, new, statement=True)

    if isinstance(node, ast.BinOp):
        for op in _ARITHMETIC.get(type(node.op), ()):
            yield expr("arithmetic", ast.BinOp(node.left, op(), node.right))
    elif isinstance(node, ast.AugAssign):
        for op in _ARITHMETIC.get(type(node.op), ()):
            yield stmt("arithmetic", ast.AugAssign(node.target, op(), node.value))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield expr("arithmetic", node.operand)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield expr("boolean", node.operand)
    elif isinstance(node, ast.BoolOp):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield expr("boolean", ast.BoolOp(other, node.values))
    elif isinstance(node, ast.Compare):
        for i, cmp in enumerate(node.ops):
            for new_cmp in _COMPARISON.get(type(cmp), ()):
                yield expr("comparison", _compare_with(node, i, new_cmp()))
            if type(cmp) in _BOUNDARY:
                yield expr("boundary", _compare_with(node, i, _BOUNDARY[type(cmp)]()))
    elif isinstance(node, ast.Constant):
        yield from (expr(operator, new) for operator, new in _constant_mutations(node.value))
    if isinstance(node, ast.Return) and node.value is not None:
        value = node.value
        value_path: _NodePath = (*path, ("value", None))
        if not (isinstance(value, ast.Constant) and value.value is None):
            yield _Site(value_path, value, "return", ast.Constant(None), statement=False)
        is_constant = isinstance(value, ast.Constant)
        if not is_constant and (returns_bool or _looks_boolean(value)):
            new = ast.UnaryOp(ast.Not(), value)
            yield _Site(value_path, value, "return", new, statement=False)
    if isinstance(node, ast.stmt) and not _kept(node, last):
        yield stmt("statement", ast.Pass())


def _compare_with(node: ast.Compare, index: int, op: ast.cmpop) -> ast.Compare:
    ops = list(node.ops)
    ops[index] = op
    return ast.Compare(node.left, ops, node.comparators)


def _number(value: float) -> ast.expr:
    """A number as the parser reads it: a negative one is a minus applied to a constant."""
    if value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def _constant_mutations(value: Any) -> Iterator[tuple[str, ast.AST]]:
    if isinstance(value, bool):
        yield "boolean", ast.Constant(not value)
    elif isinstance(value, int | float):
        if not math.isfinite(value):
            return
        yield "constant", _number(value + 1)
        yield "constant", _number(value - 1)
    elif isinstance(value, str):
        yield "constant", ast.Constant(f"XX{value}XX")
    elif isinstance(value, bytes):
        yield "constant", ast.Constant(b"XX" + value + b"XX")


def _looks_boolean(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare | ast.BoolOp):
        return True
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.Not)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _BOOLEAN_CALLS
    )


def _kept(node: ast.stmt, last: bool) -> bool:
    """Statements the statement operator leaves alone (a function's final ``return None``
    is what falling off its end does anyway)."""
    if isinstance(node, _NOT_DELETED):
        return True
    if isinstance(node, ast.Return) and last:
        return node.value is None or (
            isinstance(node.value, ast.Constant) and node.value.value is None
        )
    return isinstance(node, ast.ImportFrom) and node.module == "__future__"


def _apply(tree: ast.Module, site: _Site) -> ast.Module:
    """A copy of ``tree`` with the site's node replaced."""
    mutated = copy.deepcopy(tree)
    parent: Any = mutated
    for name, index in site.path[:-1]:
        parent = getattr(parent, name) if index is None else getattr(parent, name)[index]
    name, index = site.path[-1]
    new = copy.deepcopy(site.new)
    if index is None:
        setattr(parent, name, new)
    else:
        getattr(parent, name)[index] = new
    return mutated


def _offset(lines: list[bytes], line: int, col: int) -> int:
    return sum(len(text) for text in lines[: line - 1]) + col


def _splice(
    source: str, lines: list[bytes], site: _Site, dump: str, mutated: ast.Module
) -> tuple[str, str, str]:
    """The mutant's source, and the reference's changed lines with what replaces them."""
    node: Any = site.node
    start = _offset(lines, node.lineno, node.col_offset)
    end = _offset(lines, node.end_lineno, node.end_col_offset)
    first = lines[node.lineno - 1]
    indent = first[: len(first) - len(first.lstrip())].decode("utf-8")
    encoded = source.encode("utf-8")
    if isinstance(site.new, ast.Pass) and encoded[start:].startswith(b"elif"):
        texts = [f"else:\n{indent}    pass"]  # an `elif` block goes; its `if` keeps an else
    elif site.statement:
        texts = [ast.unparse(site.new)]
    else:  # parentheses only where the context needs them
        texts = [ast.unparse(site.new), f"({ast.unparse(site.new)})"]
    for text in texts:
        spliced = encoded[:start] + text.encode("utf-8") + encoded[end:]
        try:
            if ast.dump(ast.parse(spliced)) == dump:
                break
        except SyntaxError:
            pass
    else:  # write the whole mutated tree instead; it says the same in other words
        return ast.unparse(mutated) + "\n", ast.unparse(node), ast.unparse(site.new)
    line_start = _offset(lines, node.lineno, 0)
    line_end = _offset(lines, node.end_lineno, len(lines[node.end_lineno - 1].rstrip(b"\r\n")))
    before = encoded[line_start:line_end].decode("utf-8")
    after = (encoded[line_start:start] + text.encode("utf-8") + encoded[end:line_end]).decode(
        "utf-8"
    )
    return spliced.decode("utf-8"), before, after


# --------------------------------------------------------------------------- grading


class MutationError(Exception):
    """Mutation testing of a challenge could not be done; the message says why."""


def challenge_hash(challenge: dict[str, Any]) -> str:
    """sha256 of what mutation results depend on: the reference, the tests, the rules."""
    payload = {
        "reference_solution": challenge.get("reference_solution", ""),
        # Which languages a test applies to does not change what it checks in Python.
        "tests": [
            {k: v for k, v in t.items() if k != "languages"} if isinstance(t, dict) else t
            for t in challenge.get("tests", [])
        ],
        "rules": challenge.get("rules", []),
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class MutationResult:
    slug: str
    hash: str
    mutants: list[Mutant]
    killed: set[str]
    equivalent: dict[str, str]  # id -> reason, survivors only
    # Marks that no longer apply: (id, reason, why), e.g. the mutant is now killed.
    dropped: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def survivors(self) -> list[Mutant]:
        return [m for m in self.mutants if m.id not in self.killed and m.id not in self.equivalent]

    @property
    def score(self) -> float:
        return mutation_score(len(self.mutants), len(self.killed), len(self.equivalent))

    @property
    def raw_score(self) -> float:
        return len(self.killed) / len(self.mutants) if self.mutants else 1.0

    def record(self) -> dict[str, Any]:
        """The entry ``mutation.yaml`` keeps for this challenge."""
        return {
            "hash": self.hash,
            "mutants": len(self.mutants),
            "killed": len(self.killed),
            "equivalent": [
                {"id": m.id, "reason": self.equivalent[m.id]}
                for m in self.mutants
                if m.id in self.equivalent
            ],
            "score": round(self.score, 4),
            "raw_score": round(self.raw_score, 4),
        }

    def problems(self) -> list[str]:
        return figure_problems(len(self.mutants), len(self.killed), len(self.equivalent))


def mutation_score(mutants: int, killed: int, equivalent: int) -> float:
    """killed / (mutants - equivalent); 1.0 when nothing is left to kill."""
    return killed / (mutants - equivalent) if mutants > equivalent else 1.0


def figure_problems(mutants: int, killed: int, equivalent: int) -> list[str]:
    problems = []
    if equivalent > MAX_EQUIVALENT_SHARE * mutants:
        problems.append(
            f"{equivalent} of its {mutants} mutants are marked equivalent, more than "
            f"{MAX_EQUIVALENT_SHARE:.0%}: an equivalent mutant is one no test could ever tell "
            "from the reference; kill the others with hidden tests"
        )
    score = mutation_score(mutants, killed, equivalent)
    if score < MIN_SCORE:
        survivors = mutants - killed - equivalent
        problems.append(
            f"mutation score {score:.2f} is below {MIN_SCORE:.2f} ({survivors} surviving "
            f"mutants): add hidden tests that kill them, or mark true equivalents in "
            f"{MUTATION_FILE} with a reason"
        )
    return problems


def _killed(report: GradeReport) -> bool:
    return report.status != ReportStatus.GRADED or not all(o.passed for o in report.outcomes)


def mutation_run(
    item: dict[str, Any],
    *,
    equivalent: dict[str, str] | None = None,
    slots: tuple[int, ...] = SLOTS,
    progress: Callable[[int, int], None] | None = None,
) -> MutationResult:
    """Grade every mutant of ``item``'s reference solution; ``equivalent`` holds the marks
    recorded so far (id -> reason). Raises MutationError when the reference does not pass
    or the grader fails; SandboxUnavailable propagates."""
    started = time.monotonic()
    challenge = item["challenge"]
    handler = challenge_handler_for(item["type"])
    spec = handler.parse_spec(challenge)
    reference = challenge["reference_solution"]
    free: queue.Queue[int] = queue.Queue()
    for slot in slots:
        free.put(slot)

    def grade(source: str) -> GradeReport:
        slot = free.get()
        try:
            for _ in range(1 + INFRASTRUCTURE_RETRIES):
                report = handler.grade(spec, source, slot=slot)
                if report.status != ReportStatus.ERROR:
                    return report
        finally:
            free.put(slot)
        raise MutationError(f"the grader failed ({report.message}): nothing recorded")

    if _killed(grade(reference)):
        raise MutationError("the reference solution does not pass its tests: nothing recorded")
    try:
        mutants = mutants_of(reference)
    except SyntaxError as exc:
        raise MutationError(f"the reference solution does not parse: {exc}") from exc
    killed: set[str] = set()
    done = 0
    with ThreadPoolExecutor(max_workers=len(slots)) as pool:
        for mutant, report in zip(
            mutants, pool.map(lambda m: grade(m.source), mutants), strict=True
        ):
            if _killed(report):
                killed.add(mutant.id)
            done += 1
            if progress is not None:
                progress(done, len(mutants))
    marks = dict(equivalent or {})
    ids = {m.id for m in mutants}
    kept: dict[str, str] = {}
    dropped = []
    for mutant_id, reason in marks.items():
        if mutant_id not in ids:
            dropped.append((mutant_id, reason, "no such mutant of the current reference"))
        elif mutant_id in killed:
            dropped.append((mutant_id, reason, "the tests kill it: it is not equivalent"))
        else:
            kept[mutant_id] = reason
    return MutationResult(
        slug=item["slug"],
        hash=challenge_hash(challenge),
        mutants=mutants,
        killed=killed,
        equivalent=kept,
        dropped=dropped,
        seconds=time.monotonic() - started,
    )


def mutation_tested(item: dict[str, Any]) -> bool:
    """Whether ``check_bank --mutation`` mutates this item (a Python challenge)."""
    handler = handler_for(item["type"])
    return handler.needs_sandbox and challenge_handler_for(item["type"]).mutation_tested


# --------------------------------------------------------------------------- mutation.yaml


class MutationFileError(ValueError):
    """mutation.yaml cannot be read; the message says where."""


_HEADER = """\
# Mutation testing of the Python challenges' tests: written by
# `manage.py check_bank --mutation [slug ...]` (see fixtures/questions/README.md).
# Per challenge: the hash of its reference solution, tests and rules; how many mutants its
# reference gives, how many the tests kill, the equivalent ones (listed by hand: a mutant's
# id and why no test can tell it from the reference), score = killed / (mutants -
# equivalent), raw_score = killed / mutants.
"""


def read_mutation_file(path: Path) -> dict[str, dict[str, Any]]:
    """The entries of ``mutation.yaml`` by slug (none if the file does not exist)."""
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise MutationFileError(f"cannot read: {exc}") from exc
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise MutationFileError("expected a mapping of challenge slugs to their results")
    return {str(slug): entry for slug, entry in raw.items()}


def equivalent_marks(entry: dict[str, Any] | None) -> dict[str, str]:
    """An entry's equivalent mutants, id -> reason."""
    marks = (entry or {}).get("equivalent") or []
    if not isinstance(marks, list):
        return {}
    return {
        str(m["id"]): str(m.get("reason", "")) for m in marks if isinstance(m, dict) and "id" in m
    }


def write_mutation_file(path: Path, entries: dict[str, dict[str, Any]]) -> None:
    body = yaml.safe_dump(
        dict(sorted(entries.items())), sort_keys=False, allow_unicode=True, width=100
    )
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(_HEADER + body)
    temporary.replace(path)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _entry_problems(slug: str, entry: dict[str, Any], expected_hash: str) -> list[str]:
    run = f"run check_bank --mutation {slug}"
    mutants, killed = _count(entry.get("mutants")), _count(entry.get("killed"))
    marks = entry.get("equivalent", [])
    if (
        not isinstance(entry.get("hash"), str)
        or mutants is None
        or killed is None
        or not isinstance(marks, list)
        or not all(isinstance(m, dict) and set(m) == {"id", "reason"} for m in marks)
    ):
        return [
            f"its entry in {MUTATION_FILE} is malformed (it needs hash, mutants, killed, "
            f"equivalent: a list of {{id, reason}}, score and raw_score): {run}"
        ]
    if entry["hash"] != expected_hash:
        return [
            f"its mutation results in {MUTATION_FILE} are stale (the reference solution, the "
            f"tests or the rules changed since they were recorded): {run}"
        ]
    problems = []
    ids = [str(m["id"]) for m in marks]
    for mutant_id in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"equivalent mutant {mutant_id} is listed twice in {MUTATION_FILE}")
    for mark in marks:
        if not isinstance(mark["reason"], str) or not mark["reason"].strip():
            problems.append(
                f"equivalent mutant {mark['id']} has no reason: say why no test can tell it "
                "from the reference"
            )
    equivalent = len(marks)
    expected = {
        "score": mutation_score(mutants, killed, equivalent),
        "raw_score": killed / mutants if mutants else 1.0,
    }
    recorded: dict[str, Any] = {key: entry.get(key) for key in expected}
    adds_up = killed + equivalent <= mutants and all(
        isinstance(recorded[key], int | float) and abs(recorded[key] - value) <= 1e-3
        for key, value in expected.items()
    )
    if not adds_up:
        problems.append(
            f"its figures in {MUTATION_FILE} do not add up (killed {killed} and "
            f"{equivalent} equivalent of {mutants} mutants; score {recorded['score']}, "
            f"raw_score {recorded['raw_score']}): {run} to check the equivalent marks and "
            "record the figures"
        )
    else:
        problems.extend(figure_problems(mutants, killed, equivalent))
    return problems


def check_mutation_records(files: list[BankFile], path: Path) -> list[Problem]:
    """Every Python challenge in ``files`` has current mutation results in ``path`` that
    meet the bar: the hash of its reference, tests and rules matches, at most 10 % of its
    mutants are marked equivalent, and its score is at least ``MIN_SCORE``."""
    try:
        entries = read_mutation_file(path)
    except MutationFileError as exc:
        return [Problem(str(path), None, None, str(exc))]
    problems: list[Problem] = []
    for bank in files:
        for item in bank.items:
            if not mutation_tested(item):
                continue
            slug = item["slug"]
            entry = entries.get(slug)
            if entry is None:
                messages = [
                    f"has no mutation results in {MUTATION_FILE}: run check_bank --mutation {slug}"
                ]
            else:
                messages = _entry_problems(slug, entry, challenge_hash(item["challenge"]))
            problems.extend(Problem(str(bank.path), None, slug, m) for m in messages)
    return problems
