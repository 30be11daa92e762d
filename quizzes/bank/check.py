"""Whole-bank validation for `manage.py check_bank`: fields, rendering, and challenges
proven in the sandbox (the reference passes everything; each wrong solution passes every
visible test yet fails a hidden one, of the rule it breaks and of no other: see rules.py)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quizzes.bank.loader import BankFile, BankFileError, Problem, read_bank_file
from quizzes.bank.mutation import MUTATION_FILE, check_mutation_records
from quizzes.bank.roadmap import read_roadmap_file
from quizzes.bank.rules import check_breaks_only, check_rules, wrong_solution_label
from quizzes.grading.outcomes import ReportStatus
from quizzes.grading.runner import GradeReport
from quizzes.itemtypes import challenge_handler_for, handler_for
from quizzes.itemtypes.base import strip_lines
from quizzes.markdown import render_markdown

NEAR_DUPLICATE_RATIO = 0.85


@dataclass
class BankCheck:
    files: list[BankFile]
    problems: list[Problem]
    challenges_checked: int = 0


def roadmap_topics(roadmap_path: Path) -> dict[int, set[str]]:
    return {
        s["number"]: {t["slug"] for t in s.get("topics") or []}
        for s in read_roadmap_file(roadmap_path)
    }


def near_duplicates(items: Iterable[tuple[str, str]]) -> list[tuple[str, str, float]]:
    """Pairs of (slug, text) whose texts are nearly the same."""
    entries = [(slug, " ".join(text.lower().split())) for slug, text in items]
    pairs = []
    for i, (slug_a, a) in enumerate(entries):
        for slug_b, b in entries[i + 1 :]:
            matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
            if matcher.real_quick_ratio() < NEAR_DUPLICATE_RATIO:
                continue
            if matcher.quick_ratio() < NEAR_DUPLICATE_RATIO:
                continue
            ratio = matcher.ratio()
            if ratio >= NEAR_DUPLICATE_RATIO:
                pairs.append((slug_a, slug_b, ratio))
    return pairs


def grade_source(item_type: str, challenge: dict[str, Any], source: str, slot: int) -> GradeReport:
    handler = challenge_handler_for(item_type)
    return handler.grade(handler.parse_spec(challenge), source, slot=slot)


def check_challenge(path: Path, item: dict[str, Any], slot: int) -> list[Problem]:
    problems = []
    challenge = item["challenge"]

    def problem(message: str) -> None:
        problems.append(Problem(str(path), None, item["slug"], message))

    reference = grade_source(item["type"], challenge, challenge["reference_solution"], slot)
    failed = [o.name for o in reference.outcomes if not o.passed]
    if reference.status != ReportStatus.GRADED or failed:
        problem(
            f"reference solution does not pass: {reference.status} {reference.message} "
            f"failed={failed}"
        )
    spec = challenge_handler_for(item["type"]).parse_spec(strip_lines(challenge))
    for n, wrong in enumerate(spec.wrong_solutions, start=1):
        report = grade_source(item["type"], challenge, wrong.source, slot)
        visible_failed = [o.name for o in report.outcomes if o.visible and not o.passed]
        hidden_failed = [o.name for o in report.outcomes if not o.visible and not o.passed]
        label = wrong_solution_label(n, wrong)
        if report.status != ReportStatus.GRADED or visible_failed:
            problem(f"{label} should pass every visible test; fails {visible_failed}")
        if not hidden_failed:
            problem(f"{label} passes every hidden test: the tests miss its mistake")
        for message in check_breaks_only(spec, n, wrong, report):
            problem(message)
    return problems


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in phrase.split()]
    return re.compile(r"(?<![\w-])" + r"\s+".join(words) + r"(?![\w-])", re.IGNORECASE)


def answers_given_away(bank: BankFile) -> list[Problem]:
    """Items of one stage whose accepted answer another item of the stage spells out.

    A stage's items are drawn into the same quizzes, so a phrase that answers one item,
    shown in another item's title, body or options, gives the answer away. Phrases of
    fewer than four characters (numbers, short acronyms) are too common to judge.
    """
    shown: list[tuple[str, str]] = []
    for item in bank.items:
        handler = handler_for(item["type"])
        data = handler.build_data(item)
        text = " ".join([item["title"], item["body"], *handler.shown_texts(data)])
        shown.append((item["slug"], text))
    problems = []
    for item in bank.items:
        handler = handler_for(item["type"])
        for phrase in handler.answer_phrases(handler.build_data(item)):
            if len(phrase.strip()) < 4:
                continue
            pattern = _phrase_pattern(phrase)
            for slug, text in shown:
                if slug != item["slug"] and pattern.search(text):
                    problems.append(
                        Problem(
                            str(bank.path),
                            None,
                            item["slug"],
                            f"its accepted answer {phrase!r} appears in {slug}, "
                            "which can be drawn into the same quiz",
                        )
                    )
    return problems


def check_bank(
    *,
    paths: list[Path],
    roadmap_path: Path,
    run_sandbox: bool = True,
    policy_dir: Path | None = None,
) -> BankCheck:
    """Check the bank files at ``paths``. With ``policy_dir`` (the roadmap bank's folder),
    also the whole-bank policy: every challenge states its rules (``quizzes.bank.rules``)
    and every Python challenge's mutation results are current (``quizzes.bank.mutation``)."""
    topics = roadmap_topics(roadmap_path)
    files: list[BankFile] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            files.append(read_bank_file(path, topics_by_stage=topics))
        except BankFileError as exc:
            problems.extend(exc.problems)
    seen: dict[str, Path] = {}
    texts = []
    for bank in files:
        for item in bank.items:
            if item["slug"] in seen:
                problems.append(
                    Problem(
                        str(bank.path),
                        None,
                        item["slug"],
                        f"slug also used in {seen[item['slug']]}",
                    )
                )
            seen[item["slug"]] = bank.path
            for text in (item["body"], item.get("explanation", "")):
                try:
                    render_markdown(text)
                except Exception as exc:  # a renderer crash is a bank problem
                    problems.append(Problem(str(bank.path), None, item["slug"], f"Markdown: {exc}"))
            if not handler_for(item["type"]).needs_sandbox:
                texts.append((item["slug"], f"{item['title']} {item['body']}"))
    for a, b, ratio in near_duplicates(texts):
        problems.append(Problem("bank", None, a, f"near-duplicate of {b} ({ratio:.0%} alike)"))
    for bank in files:
        problems.extend(answers_given_away(bank))
    problems.extend(check_rules(files, required=policy_dir is not None))
    if policy_dir is not None:
        problems.extend(check_mutation_records(files, policy_dir / MUTATION_FILE))
    checked = 0
    if run_sandbox:
        jobs = [
            (bank.path, item)
            for bank in files
            for item in bank.items
            if handler_for(item["type"]).needs_sandbox
        ]
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = pool.map(
                lambda job: check_challenge(job[1][0], job[1][1], slot=job[0] % 2),
                enumerate(jobs),
            )
            for found in results:
                problems.extend(found)
                checked += 1
    return BankCheck(files=files, problems=problems, challenges_checked=checked)
