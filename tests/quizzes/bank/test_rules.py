"""Stated rules: every hidden test names one, every rule has a hidden test and a wrong
solution by someone else, and in the sandbox that wrong solution breaks its rule only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from quizzes.bank.check import check_bank, check_challenge
from quizzes.bank.loader import BankFile
from quizzes.bank.rules import check_rules, rule_problems
from quizzes.itemtypes import challenge_handler_for
from tests.quizzes.bank.clamp import BREAKS_LOWER, BREAKS_UPPER, clamp_item, write_stage
from tests.samples import COMMON, SQL

BASE = Path(__file__).resolve().parents[3]
ROADMAP = BASE / "fixtures/roadmap.yaml"
SLOT = 3


def problems_of(item: dict[str, Any], *, required: bool = False) -> list[str]:
    spec = challenge_handler_for(item["type"]).parse_spec(item["challenge"])
    return rule_problems(item["challenge"], spec, required=required)


def test_a_challenge_meeting_every_rule_check_has_no_problem() -> None:
    assert problems_of(clamp_item()) == []
    assert problems_of(clamp_item(), required=True) == []


def test_a_challenge_without_rules_is_left_alone_unless_the_roadmap_bank_requires_them() -> None:
    item = clamp_item()
    challenge = item["challenge"]
    del challenge["rules"], challenge["tests_author"]
    challenge["wrong_solutions"] = [w["source"] for w in challenge["wrong_solutions"]]
    for test in challenge["tests"]:
        test.pop("rule", None)
    assert problems_of(item) == []
    [message] = problems_of(item, required=True)
    assert message.startswith("states no rules: list the rules its statement states")


def _drop_rule_of_far_below(c: dict[str, Any]) -> None:
    del c["tests"][2]["rule"]


def _show_the_upper_test(c: dict[str, Any]) -> None:
    c["tests"][3]["visible"] = True


def _drop_wrong_solution_of_range(c: dict[str, Any]) -> None:
    del c["wrong_solutions"][2]


def _drop_author(c: dict[str, Any]) -> None:
    del c["wrong_solutions"][0]["author"]


def _tests_author_writes_it(c: dict[str, Any]) -> None:
    c["wrong_solutions"][1]["author"] = " Alice "


def _no_tests_author(c: dict[str, Any]) -> None:
    del c["tests_author"]


def _plain_text(c: dict[str, Any]) -> None:
    c["wrong_solutions"].append(BREAKS_UPPER)


def _names_no_rule(c: dict[str, Any]) -> None:
    del c["wrong_solutions"][1]["breaks"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_drop_rule_of_far_below, ["hidden test 'far below' names no rule: add `rule:`"]),
        (_show_the_upper_test, ["rule 'upper' is enforced by no hidden test"]),
        (_drop_wrong_solution_of_range, ["rule 'range' has no wrong solution that breaks it"]),
        (_drop_author, ["wrong solution #1 (breaks lower) has no author"]),
        (
            _tests_author_writes_it,
            ["wrong solution #2 (breaks upper, by  Alice ) is by the tests' author (alice)"],
        ),
        (_no_tests_author, ["`tests_author` is not set"]),
        (_plain_text, ["wrong solution #4 is plain source text: write it as a mapping"]),
        (
            _names_no_rule,
            [
                "wrong solution #2 (by bob) names no rule",
                "rule 'upper' has no wrong solution that breaks it",
            ],
        ),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
def test_each_rule_check_fires_on_its_mistake(
    change: Callable[[dict[str, Any]], None], expected: list[str]
) -> None:
    item = clamp_item()
    change(item["challenge"])
    found = problems_of(item)
    assert len(found) == len(expected), found
    for message, start in zip(found, expected, strict=True):
        assert message.startswith(start), (message, start)


def test_the_roadmap_bank_requires_rules_of_every_challenge_including_sql() -> None:
    sql = {**COMMON, **SQL, "topic": "rate-limiting"}
    bank = BankFile(path=Path("stage-02.yaml"), stage=2, items=[clamp_item(), sql])
    assert check_rules([bank], required=False) == []
    [problem] = check_rules([bank], required=True)
    assert problem.slug == "t-sql"
    assert "states no rules" in problem.message


def test_check_bank_reports_rule_problems_naming_the_challenge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item = clamp_item()
    _drop_wrong_solution_of_range(item["challenge"])
    path = write_stage(tmp_path, [item])
    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_bank", "--no-sandbox", str(path))
    err = capsys.readouterr().err
    assert f"{path} [t-clamp]: rule 'range' has no wrong solution that breaks it" in err


def test_check_bank_reports_a_hidden_test_naming_an_unknown_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item = clamp_item()
    item["challenge"]["tests"][1]["rule"] = "lowest"
    path = write_stage(tmp_path, [item])
    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_bank", "--no-sandbox", str(path))
    assert (
        "[t-clamp]: challenge: challenge.tests ('below').rule: 'lowest' is not one of the "
        "challenge's rules" in capsys.readouterr().err
    )


def test_rules_are_required_only_of_the_roadmap_bank(tmp_path: Path) -> None:
    item = clamp_item()
    del item["challenge"]["rules"]
    for test in item["challenge"]["tests"]:
        test.pop("rule", None)
    for wrong in item["challenge"]["wrong_solutions"]:
        del wrong["breaks"]
    path = write_stage(tmp_path, [item])
    files = {"paths": [path], "roadmap_path": ROADMAP, "run_sandbox": False}
    assert check_bank(**files).problems == []
    required = check_bank(**files, policy_dir=tmp_path).problems
    assert any(p.message.startswith("states no rules") for p in required)


# --- in the sandbox: each wrong solution breaks its rule, and only it ------------------


@pytest.mark.sandbox
def test_wrong_solutions_that_break_only_their_rule_pass_the_sandbox_check() -> None:
    assert check_challenge(Path("stage-02.yaml"), clamp_item(), slot=SLOT) == []


@pytest.mark.sandbox
def test_a_wrong_solution_that_fails_no_test_of_its_rule_is_reported() -> None:
    item = clamp_item()
    wrong = item["challenge"]["wrong_solutions"]
    wrong[0]["source"], wrong[1]["source"] = BREAKS_UPPER, BREAKS_LOWER  # labels swapped
    messages = [p.message for p in check_challenge(Path("s.yaml"), item, slot=SLOT)]
    assert messages == [
        "wrong solution #1 (breaks lower, by bob) fails no hidden test of rule 'lower': the "
        "tests of 'lower' miss its mistake (it fails only 'above' (upper))",
        "wrong solution #2 (breaks upper, by bob) fails no hidden test of rule 'upper': the "
        "tests of 'upper' miss its mistake (it fails only 'below' (lower), 'far below' (lower))",
    ]


@pytest.mark.sandbox
def test_a_wrong_solution_that_also_breaks_another_rule_is_reported() -> None:
    item = clamp_item()
    item["challenge"]["wrong_solutions"][0]["source"] = (
        "def clamp(x, lo, hi):\n    if lo > hi:\n        raise ValueError\n    return x\n"
    )
    [problem] = check_challenge(Path("s.yaml"), item, slot=SLOT)
    assert problem.slug == "t-clamp"
    assert problem.message == (
        "wrong solution #1 (breaks lower, by bob) also fails hidden tests of other rules: "
        "'above' (upper); it should break only 'lower' (or those tests enforce 'lower' too)"
    )


@pytest.mark.sandbox
def test_a_wrong_solution_that_passes_everything_or_fails_a_visible_test_is_named() -> None:
    item = clamp_item()
    wrong = item["challenge"]["wrong_solutions"]
    wrong[0]["source"] = item["challenge"]["reference_solution"]
    wrong[1]["source"] = "def clamp(x, lo, hi):\n    return 0\n"
    messages = [p.message for p in check_challenge(Path("s.yaml"), item, slot=SLOT)]
    assert messages[0] == (
        "wrong solution #1 (breaks lower, by bob) passes every hidden test: the tests miss "
        "its mistake"
    )
    assert messages[1] == (
        "wrong solution #2 (breaks upper, by bob) should pass every visible test; fails ['inside']"
    )
