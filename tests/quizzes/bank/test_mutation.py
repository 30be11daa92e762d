"""Mutation testing of the Python challenges' tests: the mutator's operators and what it
leaves alone, the figures recorded in mutation.yaml and the whole-bank check of them, and
(in the sandbox) mutants graded by the real grader through `check_bank --mutation`."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from quizzes.bank.check import check_bank
from quizzes.bank.loader import BankFile, bank_files
from quizzes.bank.mutation import (
    MUTATION_FILE,
    Mutant,
    challenge_hash,
    check_mutation_records,
    mutants_of,
    mutation_run,
    read_mutation_file,
    write_mutation_file,
)
from tests.quizzes.bank.clamp import CLAMP_REFERENCE, clamp_item, write_stage
from tests.samples import COMMON, SQL

BASE = Path(__file__).resolve().parents[3]
ROADMAP = BASE / "fixtures/roadmap.yaml"
SLOTS = (2, 3)


def changes(source: str) -> dict[str, tuple[str, str]]:
    """Each mutant of ``source`` by id: (the changed line, what replaces it), stripped."""
    return {m.id: (m.before.strip(), m.after.strip()) for m in mutants_of(source)}


def afters(source: str, operator: str, line: int | None = None) -> list[str]:
    """What the mutants of one operator (on one line) put in place of the reference's."""
    return [
        m.after.strip()
        for m in mutants_of(source)
        if m.operator == operator and line in (None, m.line)
    ]


# --- the operators ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "operator", "expected"),
    [
        ("y = a + b", "arithmetic", ["y = a - b"]),
        ("y = a - b", "arithmetic", ["y = a + b"]),
        ("y = a * b", "arithmetic", ["y = a / b"]),
        ("y = a / b", "arithmetic", ["y = a * b", "y = a // b"]),
        ("y = a // b", "arithmetic", ["y = a / b"]),
        ("y = a % b", "arithmetic", ["y = a // b"]),
        ("y = a ** b", "arithmetic", ["y = a * b"]),
        ("y = a & b", "arithmetic", ["y = a | b"]),
        ("y = a << b", "arithmetic", ["y = a >> b"]),
        ("y = -a", "arithmetic", ["y = a"]),
        ("a += b", "arithmetic", ["a -= b"]),
        ("y = a == b", "comparison", ["y = a != b"]),
        ("y = a != b", "comparison", ["y = a == b"]),
        ("y = a < b", "comparison", ["y = a >= b", "y = a > b"]),
        ("y = a >= b", "comparison", ["y = a < b", "y = a <= b"]),
        ("y = a is None", "comparison", ["y = a is not None"]),
        ("y = a in b", "comparison", ["y = a not in b"]),
        ("y = a < b", "boundary", ["y = a <= b"]),
        ("y = a <= b", "boundary", ["y = a < b"]),
        ("y = a > b", "boundary", ["y = a >= b"]),
        ("y = a >= b", "boundary", ["y = a > b"]),
        ("y = 5", "constant", ["y = 6", "y = 4"]),
        ("y = 0", "constant", ["y = 1", "y = -1"]),
        ("y = 0.5", "constant", ["y = 1.5", "y = -0.5"]),
        ("y = 'ab'", "constant", ["y = 'XXabXX'"]),
        ("y = ''", "constant", ["y = 'XXXX'"]),
        ("y = a and b", "boolean", ["y = a or b"]),
        ("y = a or b", "boolean", ["y = a and b"]),
        ("y = not a", "boolean", ["y = a"]),
        ("y = True", "boolean", ["y = False"]),
        ("y = a", "statement", ["pass"]),
    ],
)
def test_each_operator_makes_its_mutants(line: str, operator: str, expected: list[str]) -> None:
    assert afters(f"def f(a, b):\n    {line}\n    return y\n", operator, line=2) == expected


def test_returns_become_none_and_boolean_returns_are_negated() -> None:
    source = (
        "def f(a, b):\n"
        "    if a:\n"
        "        return a < b\n"
        "    return b\n"
        "def g(a) -> bool:\n"
        "    return a\n"
    )
    assert afters(source, "return") == [
        "return None",
        "return not a < b",
        "return None",
        "return None",
        "return not a",
    ]


def test_an_elif_block_deleted_leaves_its_if_an_empty_else() -> None:
    source = "def f(a):\n    if a:\n        x = 1\n    elif a > 2:\n        x = 2\n    return x\n"
    [deleted] = [m for m in mutants_of(source) if m.id == "statement:4:4:0"]
    assert deleted.after == "    else:\n        pass"
    assert "else:\n        pass\n    return x" in deleted.source


def test_what_no_test_can_see_is_left_alone() -> None:
    source = (
        '"""The module."""\n'
        "from __future__ import annotations\n"
        "import functools\n"
        "@functools.lru_cache(maxsize=128)\n"
        'def f(a: int = 1, b: "str" = "x") -> bool:\n'
        '    """The function."""\n'
        '    assert a, "a message"\n'
        '    y = f"{a + 1}"\n'
        "    if b:\n"
        '        raise ValueError("bad " + b)\n'
        "    return None\n"
        "def g(items):\n"
        "    ...\n"
    )
    found = changes(source)
    assert {m.split(":")[0] + ":" + m.split(":")[1] for m in found} == {
        "statement:3",  # import functools
        "constant:5",  # the defaults 1 and "x", not the annotations
        "statement:7",  # the assert, not its message
        "statement:8",  # the f-string assignment, not its insides
        "statement:9",  # the if
        "statement:10",  # the raise, not its message
    }
    assert [after for key, (_, after) in found.items() if key.startswith("constant")] == [
        'def f(a: int = 2, b: "str" = "x") -> bool:',
        'def f(a: int = 0, b: "str" = "x") -> bool:',
        "def f(a: int = 1, b: \"str\" = 'XXxXX') -> bool:",
    ]


def test_mutants_differ_in_one_place_keep_comments_and_parse() -> None:
    source = "def f(a, b):\n    # why\n    c = a + b * 2  # note\n    return a - c\n"
    mutants = mutants_of(source)
    assert len({m.id for m in mutants}) == len(mutants)
    for mutant in mutants:
        ast.parse(mutant.source)
        assert mutant.source != source
        assert "# why" in mutant.source
        assert mutant.before in source
    [times] = [m for m in mutants if m.id == "arithmetic:3:12:0"]
    assert times.diff() == ["-     c = a + b * 2  # note", "+     c = a + b / 2  # note"]


def test_precedence_is_kept_with_parentheses_where_needed() -> None:
    assert afters("def f(a, b, c):\n    return a * b ** c\n", "arithmetic") == [
        "return a / b ** c",
        "return a * (b * c)",
    ]
    found = changes("def f(a, b, c):\n    return a and b or c\n")
    assert found["boolean:2:11:0"][1] == "return (a and b) and c"
    assert found["boolean:2:11:1"][1] == "return (a or b) or c"


def test_ids_are_stable_and_distinguish_nodes_starting_at_the_same_place() -> None:
    source = "def f(a, b, c):\n    return a + b + c\n"
    assert [m.id for m in mutants_of(source) if m.operator == "arithmetic"] == [
        "arithmetic:2:11:0",  # (a + b) + c
        "arithmetic:2:11:1",  # a + b
    ]
    assert [m.id for m in mutants_of(source)] == [m.id for m in mutants_of(source)]
    # A change further down keeps the ids above it.
    longer = source + "def g():\n    return 1\n"
    assert {m.id for m in mutants_of(source)} <= {m.id for m in mutants_of(longer)}


@pytest.mark.slow  # the whole bank
def test_every_python_reference_of_the_bank_mutates_cleanly() -> None:
    for path in bank_files(BASE / "fixtures/questions"):
        for item in yaml.safe_load(path.read_text())["items"]:
            if item["type"] != "code":
                continue
            reference = item["challenge"]["reference_solution"]
            mutants = mutants_of(reference)
            assert len(mutants) >= 20, item["slug"]
            assert len({m.id for m in mutants}) == len(mutants), item["slug"]
            for mutant in mutants:
                ast.parse(mutant.source)
                assert mutant.before in reference, (item["slug"], mutant.id)  # spliced


# --- the recorded figures and the whole-bank check -------------------------------------


def test_the_hash_covers_the_reference_the_tests_and_the_rules_only() -> None:
    challenge = clamp_item()["challenge"]
    base = challenge_hash(challenge)
    assert challenge_hash(dict(reversed(list(challenge.items())))) == base
    for key, value in [
        ("reference_solution", CLAMP_REFERENCE + "\n"),
        ("tests", challenge["tests"][:-1]),
        ("rules", challenge["rules"][:-1]),
    ]:
        assert challenge_hash({**challenge, key: value}) != base, key
    for key, value in [("starter", ""), ("wrong_solutions", []), ("tests_author", "zed")]:
        assert challenge_hash({**challenge, key: value}) == base, key


def _entry(item: dict[str, Any], **change: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "hash": challenge_hash(item["challenge"]),
        "mutants": 20,
        "killed": 18,
        "equivalent": [],
        "score": 0.9,
        "raw_score": 0.9,
    }
    return {**entry, **change}


def _records(tmp_path: Path, entries: dict[str, Any] | None) -> list[str]:
    item = clamp_item()
    sql = {**COMMON, **SQL, "topic": "rate-limiting"}
    path = tmp_path / MUTATION_FILE
    if entries is not None:
        path.write_text(yaml.safe_dump(entries))
    bank = BankFile(path=tmp_path / "stage-02.yaml", stage=2, items=[item, sql])
    found = check_mutation_records([bank], path)
    assert all(p.slug == "t-clamp" for p in found)
    return [p.message for p in found]


def test_current_figures_meeting_the_bar_pass_and_sql_challenges_need_none(
    tmp_path: Path,
) -> None:
    item = clamp_item()
    assert _records(tmp_path, {"t-clamp": _entry(item)}) == []
    marks = [{"id": "boundary:2:7:0", "reason": "lo == hi is fine"}]
    marked = _entry(item, equivalent=marks, score=0.9474)
    assert _records(tmp_path, {"t-clamp": marked}) == []


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (None, "has no mutation results in mutation.yaml: run check_bank --mutation t-clamp"),
        ({}, "has no mutation results in mutation.yaml: run check_bank --mutation t-clamp"),
        (
            {"t-clamp": {"hash": "0" * 64}},
            "its entry in mutation.yaml is malformed (it needs hash, mutants, killed, "
            "equivalent: a list of {id, reason}, score and raw_score): run check_bank "
            "--mutation t-clamp",
        ),
        (
            {"t-clamp": {"hash": "0" * 64, "mutants": 20, "killed": 20, "score": 1.0,
                         "raw_score": 1.0}},
            "its mutation results in mutation.yaml are stale (the reference solution, the "
            "tests or the rules changed since they were recorded): run check_bank --mutation "
            "t-clamp",
        ),
        (
            "killed=17, score=0.85, raw_score=0.85",
            "mutation score 0.85 is below 0.90 (3 surviving mutants): add hidden tests that "
            "kill them, or mark true equivalents in mutation.yaml with a reason",
        ),
        (
            "three equivalent",
            "3 of its 20 mutants are marked equivalent, more than 10%: an equivalent mutant is "
            "one no test could ever tell from the reference; kill the others with hidden tests",
        ),
        (
            "marked by hand",
            "its figures in mutation.yaml do not add up (killed 18 and 1 equivalent of 20 "
            "mutants; score 0.9, raw_score 0.9): run check_bank --mutation t-clamp to check the "
            "equivalent marks and record the figures",
        ),
        (
            "no reason",
            "equivalent mutant boundary:2:7:0 has no reason: say why no test can tell it from "
            "the reference",
        ),
    ],
    ids=["no file", "no entry", "malformed", "stale", "low score", "too many equivalent",
         "marked by hand", "no reason"],
)  # fmt: skip
def test_each_whole_bank_mutation_check_fires(tmp_path: Path, entries: Any, expected: str) -> None:
    item = clamp_item()
    if entries == "killed=17, score=0.85, raw_score=0.85":
        entries = {"t-clamp": _entry(item, killed=17, score=0.85, raw_score=0.85)}
    elif entries == "three equivalent":
        marks = [{"id": f"constant:{n}:1:0", "reason": "why"} for n in range(3)]
        entries = {"t-clamp": _entry(item, equivalent=marks, killed=17, score=1.0, raw_score=0.85)}
    elif entries == "marked by hand":
        marks = [{"id": "boundary:2:7:0", "reason": "lo == hi is fine"}]
        entries = {"t-clamp": _entry(item, equivalent=marks)}
    elif entries == "no reason":
        marks = [{"id": "boundary:2:7:0", "reason": " "}]
        entries = {"t-clamp": _entry(item, equivalent=marks, score=0.9474)}
    assert _records(tmp_path, entries) == [expected]


def test_mutation_records_are_checked_on_the_roadmap_bank_only(tmp_path: Path) -> None:
    path = write_stage(tmp_path, [clamp_item()])
    files = {"paths": [path], "roadmap_path": ROADMAP, "run_sandbox": False}
    assert check_bank(**files).problems == []
    # With the roadmap bank's policy, the bank standard (counts, reviews…) applies too.
    problems = check_bank(**files, policy_dir=tmp_path).problems
    [problem] = [p for p in problems if "mutation" in p.message]
    assert problem.message.startswith("has no mutation results in mutation.yaml")


def test_the_mutation_file_round_trips_and_keeps_its_header(tmp_path: Path) -> None:
    path = tmp_path / MUTATION_FILE
    entries = {"b-slug": _entry(clamp_item()), "a-slug": _entry(clamp_item(), killed=20)}
    write_mutation_file(path, entries)
    assert read_mutation_file(path) == entries
    text = path.read_text()
    assert text.startswith("# Mutation testing of the Python challenges' tests")
    assert text.index("a-slug:") < text.index("b-slug:")


# --- in the sandbox ---------------------------------------------------------------------


@pytest.mark.sandbox
def test_mutants_are_graded_by_the_real_grader_and_marks_are_proven() -> None:
    marks = {
        "boundary:2:7:0": "lo == hi: raising or returning lo, the statement allows both",
        "comparison:2:7:1": "claimed by mistake",
        "constant:9:9:0": "no such mutant",
    }
    result = mutation_run(clamp_item(), equivalent=marks, slots=SLOTS)
    ids = [m.id for m in result.mutants]
    assert ids == [
        "statement:2:4:0",
        "comparison:2:7:0",
        "comparison:2:7:1",
        "boundary:2:7:0",
        "statement:3:8:0",
        "return:4:11:0",
        "statement:4:4:0",
    ]
    # Only `lo >= hi` survives: no test has lo == hi.
    assert set(ids) - result.killed == {"boundary:2:7:0"}
    assert result.equivalent == {"boundary:2:7:0": marks["boundary:2:7:0"]}
    assert result.dropped == [
        ("comparison:2:7:1", "claimed by mistake", "the tests kill it: it is not equivalent"),
        ("constant:9:9:0", "no such mutant", "no such mutant of the current reference"),
    ]
    assert (result.score, result.raw_score) == (1.0, 6 / 7)
    assert result.survivors == []
    assert result.problems() == [
        "1 of its 7 mutants are marked equivalent, more than 10%: an equivalent mutant is one "
        "no test could ever tell from the reference; kill the others with hidden tests"
    ]


@pytest.mark.sandbox
def test_a_mutant_that_loops_forever_is_killed_by_the_time_limit() -> None:
    item = clamp_item()
    item["challenge"]["reference_solution"] = (
        "def clamp(x, lo, hi):\n"
        "    if lo > hi:\n"
        "        raise ValueError\n"
        "    while x < lo:\n"
        "        x += 1\n"
        "    return min(hi, x)\n"
    )
    result = mutation_run(item, slots=SLOTS)
    assert "arithmetic:5:8:0" in result.killed  # x -= 1: never ends
    assert result.survivors == [
        Mutant(
            id="boundary:2:7:0",
            operator="boundary",
            line=2,
            before="    if lo > hi:",
            after="    if lo >= hi:",
            source=result.survivors[0].source,
        )
    ]


@pytest.mark.sandbox
def test_check_bank_mutation_prints_the_figures_and_survivors_and_records_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = {**COMMON, **SQL, "topic": "rate-limiting"}
    path = write_stage(tmp_path, [clamp_item(), sql])
    with pytest.raises(CommandError, match="1 mutation problem"):
        call_command("check_bank", str(path), "--mutation")
    out, err = capsys.readouterr()
    assert "t-sql: not mutated (SQL challenge; only Python reference solutions are mutated)" in out
    assert "t-clamp: 7 mutants, 6 killed" in out
    table = out[out.index("slug ") :].splitlines()
    assert table[0].split() == [
        "slug", "mutants", "killed", "equivalent", "score", "raw", "score", "time"
    ]  # fmt: skip
    assert table[1].split()[:6] == ["t-clamp", "7", "6", "0", "0.857", "0.857"]
    assert "surviving mutants of t-clamp (1)" in out
    assert "  boundary:2:7:0  (line 2)\n    -     if lo > hi:\n    +     if lo >= hi:\n" in out
    assert "[t-clamp] mutation score 0.86 is below 0.90 (1 surviving mutants)" in err
    record = read_mutation_file(tmp_path / MUTATION_FILE)
    assert record == {
        "t-clamp": {
            "hash": challenge_hash(clamp_item()["challenge"]),
            "mutants": 7,
            "killed": 6,
            "equivalent": [],
            "score": 0.8571,
            "raw_score": 0.8571,
        }
    }
    # The author marks the survivor equivalent by hand; the plain check wants the run again.
    record["t-clamp"]["equivalent"] = [{"id": "boundary:2:7:0", "reason": "lo == hi allowed"}]
    write_mutation_file(tmp_path / MUTATION_FILE, record)
    bank = BankFile(path=path, stage=2, items=[clamp_item()])
    [stale] = check_mutation_records([bank], tmp_path / MUTATION_FILE)
    assert "do not add up" in stale.message
    # A test with lo == hi kills it instead; the figures are then current and pass.
    item = clamp_item()
    item["challenge"]["tests"].append(
        {"name": "one-point range", "visible": False, "rule": "range", "args": [3, 4, 4],
         "expect": 4}
    )  # fmt: skip
    path = write_stage(tmp_path, [item, sql])
    call_command("check_bank", str(path), "--mutation", "t-clamp")
    out = capsys.readouterr().out
    assert "equivalent mark boundary:2:7:0 (lo == hi allowed) dropped: the tests kill it" in out
    bank = BankFile(path=path, stage=2, items=[item])
    assert check_mutation_records([bank], tmp_path / MUTATION_FILE) == []
