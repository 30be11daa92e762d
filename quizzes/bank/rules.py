"""Stated rules, the hidden tests that enforce them, and the wrong solutions that break them.

A challenge lists the rules its statement states (``challenge.rules``); every hidden test
names the rule it enforces (``rule:``); every rule has a wrong solution that breaks it and
only it (``breaks:``), written by someone other than the tests' author. The format is in
``fixtures/questions/README.md``.

``check_rules`` checks the mapping without running anything: for every challenge that
declares rules, and, on the roadmap bank (``required``), for every challenge. In the
sandbox, ``check_breaks_only`` judges a wrong solution's grade report: it fails at least
one hidden test of the rule it breaks and passes every hidden test of the other rules
(``check_challenge`` in ``check.py`` runs it). The spec parser has already refused a test
or a wrong solution that names an unknown rule.
"""

from __future__ import annotations

from typing import Any

from quizzes.bank.loader import BankFile, Problem
from quizzes.grading.runner import GradeReport
from quizzes.grading.spec import PythonChallengeSpec, SqlChallengeSpec, WrongSolution
from quizzes.itemtypes import challenge_handler_for, handler_for

Spec = PythonChallengeSpec | SqlChallengeSpec


def wrong_solution_label(n: int, wrong: WrongSolution) -> str:
    """``wrong solution #2 (breaks capacity, by bob)``: how messages name a wrong solution."""
    about = [f"breaks {wrong.breaks}"] if wrong.breaks else []
    if wrong.author:
        about.append(f"by {wrong.author}")
    return f"wrong solution #{n}" + (f" ({', '.join(about)})" if about else "")


def _same_person(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def rule_problems(challenge: dict[str, Any], spec: Spec, *, required: bool) -> list[str]:
    """The mapping's problems in one challenge (``challenge`` is the raw mapping, for the
    form its wrong solutions are written in), as messages."""
    if not spec.rules and not required:
        return []
    if not spec.rules:
        return [
            "states no rules: list the rules its statement states under `rules:`, give every "
            "hidden test the `rule:` it enforces and every rule a wrong solution that breaks "
            "it (the roadmap bank requires all three)"
        ]
    messages = []
    hidden = [t for t in spec.tests if not t.visible]
    for test in hidden:
        if test.rule is None:
            messages.append(
                f"hidden test {test.name!r} names no rule: add `rule:` with the id of the rule "
                "it enforces"
            )
    if spec.tests_author is None:
        messages.append(
            "`tests_author` is not set: name who wrote the tests, so that the wrong solutions "
            "can be seen to come from someone else"
        )
    raw_wrong = challenge.get("wrong_solutions") or []
    for n, wrong in enumerate(spec.wrong_solutions, start=1):
        label = wrong_solution_label(n, wrong)
        if n <= len(raw_wrong) and isinstance(raw_wrong[n - 1], str):
            messages.append(
                f"{label} is plain source text: write it as a mapping with `source`, "
                "`breaks` (the rule it breaks) and `author`"
            )
            continue
        if wrong.breaks is None:
            messages.append(f"{label} names no rule: add `breaks:` with the rule it breaks")
        if wrong.author is None:
            messages.append(
                f"{label} has no author: add `author:` (someone other than the tests' author)"
            )
        elif spec.tests_author is not None and _same_person(wrong.author, spec.tests_author):
            messages.append(
                f"{label} is by the tests' author ({spec.tests_author}): a wrong solution "
                "comes from someone else, so that it probes the tests rather than their "
                "author's blind spots"
            )
    for rule in spec.rules:
        if not any(t.rule == rule.id for t in hidden):
            messages.append(
                f"rule {rule.id!r} is enforced by no hidden test: add a hidden test with "
                f"`rule: {rule.id}`"
            )
        if not any(w.breaks == rule.id for w in spec.wrong_solutions):
            messages.append(
                f"rule {rule.id!r} has no wrong solution that breaks it: add one with "
                f"`breaks: {rule.id}` and its `author`"
            )
    return messages


def check_rules(files: list[BankFile], *, required: bool) -> list[Problem]:
    """``rule_problems`` of every challenge in ``files``; with ``required`` (the roadmap
    bank), every challenge must declare its rules and write its wrong solutions as
    mappings."""
    problems = []
    for bank in files:
        for item in bank.items:
            if not handler_for(item["type"]).needs_sandbox:
                continue
            challenge = item["challenge"]
            spec = challenge_handler_for(item["type"]).parse_spec(challenge)
            for message in rule_problems(challenge, spec, required=required):
                problems.append(Problem(str(bank.path), None, item["slug"], message))
    return problems


def check_breaks_only(spec: Spec, n: int, wrong: WrongSolution, report: GradeReport) -> list[str]:
    """A wrong solution that breaks rule R fails a hidden test of R and passes every hidden
    test of the other rules. A run that fails no hidden test at all is reported by
    ``check_challenge`` already ("passes every hidden test")."""
    if wrong.breaks is None:
        return []
    rule_of = {t.name: t.rule for t in spec.tests}
    failed = [o.name for o in report.outcomes if not o.visible and not o.passed]
    if not failed:
        return []
    label = wrong_solution_label(n, wrong)
    own = [name for name in failed if rule_of.get(name) == wrong.breaks]
    others = [name for name in failed if rule_of.get(name) != wrong.breaks]
    shown = ", ".join(f"{name!r} ({rule_of.get(name) or 'no rule'})" for name in others)
    messages = []
    if not own:
        messages.append(
            f"{label} fails no hidden test of rule {wrong.breaks!r}: the tests of "
            f"{wrong.breaks!r} miss its mistake (it fails only {shown})"
        )
    elif others:
        messages.append(
            f"{label} also fails hidden tests of other rules: {shown}; it should break only "
            f"{wrong.breaks!r} (or those tests enforce {wrong.breaks!r} too)"
        )
    return messages
