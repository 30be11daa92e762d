"""``check_bank --mutation [slug …]``: mutation-test the Python challenges' tests and record
the figures in ``mutation.yaml`` beside the bank files (see quizzes/bank/mutation.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from quizzes.bank.check import roadmap_topics
from quizzes.bank.loader import BankFileError, read_bank_file
from quizzes.bank.mutation import (
    MUTATION_FILE,
    MutationError,
    MutationFileError,
    MutationResult,
    equivalent_marks,
    mutation_run,
    mutation_tested,
    read_mutation_file,
    write_mutation_file,
)
from quizzes.itemtypes import handler_for

_COLUMNS = ("mutants", "killed", "equivalent", "score", "raw score", "time")


def run_mutation(command: BaseCommand, *, paths: list[Path], slugs: list[str], whole: bool) -> None:
    """Mutation-test the challenges named by ``slugs`` (all Python challenges of ``paths``
    when empty), update ``mutation.yaml`` and print the figures and the surviving mutants.
    ``whole``: ``paths`` are the whole bank, so entries of challenges gone are dropped."""
    out = command.stdout
    folders = {path.resolve().parent for path in paths}
    if len(folders) != 1:
        raise CommandError("--mutation: give bank files of one folder (mutation.yaml is there)")
    record_path = folders.pop() / MUTATION_FILE
    challenges = _challenges(paths)
    unknown = [slug for slug in slugs if slug not in challenges]
    if unknown:
        raise CommandError(f"--mutation: no challenge {', '.join(unknown)} in the bank files")
    chosen = slugs or list(challenges)
    skipped = [s for s in chosen if not mutation_tested(challenges[s])]
    for slug in skipped:
        label = handler_for(challenges[slug]["type"]).label
        out.write(f"{slug}: not mutated ({label}; only Python reference solutions are mutated)")
    try:
        entries = read_mutation_file(record_path)
    except MutationFileError as exc:
        raise CommandError(f"{record_path}: {exc}") from exc
    results: list[MutationResult] = []
    problems: list[str] = []
    for slug in (s for s in chosen if s not in skipped):
        out.write(f"{slug}: mutating the reference solution …")
        try:
            result = mutation_run(challenges[slug], equivalent=equivalent_marks(entries.get(slug)))
        except MutationError as exc:
            problems.append(f"[{slug}] {exc}")
            continue
        out.write(
            f"{slug}: {len(result.mutants)} mutants, {len(result.killed)} killed "
            f"({result.seconds:.0f} s)"
        )
        results.append(result)
        entries[slug] = result.record()
        problems.extend(f"[{slug}] {message}" for message in result.problems())
    if whole and not slugs:
        for slug in sorted(set(entries) - {s for s, i in challenges.items() if mutation_tested(i)}):
            out.write(f"{slug}: no longer a Python challenge of the bank; its entry is dropped")
            del entries[slug]
    write_mutation_file(record_path, entries)
    _print_results(command, results, record_path)
    for problem in problems:
        command.stderr.write(problem)
    if problems:
        raise CommandError(f"{len(problems)} mutation problem(s)")


def _challenges(paths: list[Path]) -> dict[str, dict[str, Any]]:
    topics = roadmap_topics(settings.BASE_DIR / "fixtures/roadmap.yaml")
    found: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            bank = read_bank_file(path, topics_by_stage=topics)
        except BankFileError as exc:
            raise CommandError(f"fix the bank first (check_bank):\n{exc}") from exc
        for item in bank.items:
            if handler_for(item["type"]).needs_sandbox:
                found[item["slug"]] = item
    return found


def _print_results(command: BaseCommand, results: list[MutationResult], path: Path) -> None:
    out = command.stdout
    if not results:
        return
    width = max(len("slug"), *(len(r.slug) for r in results))
    out.write("")
    out.write(f"{'slug':<{width}}  " + "  ".join(f"{c:>10}" for c in _COLUMNS))
    for r in results:
        cells = (
            len(r.mutants),
            len(r.killed),
            len(r.equivalent),
            f"{r.score:.3f}",
            f"{r.raw_score:.3f}",
            f"{r.seconds:.0f} s",
        )
        out.write(f"{r.slug:<{width}}  " + "  ".join(f"{c!s:>10}" for c in cells))
    out.write(f"recorded in {path}")
    for r in results:
        for mutant_id, reason, why in r.dropped:
            out.write(f"{r.slug}: equivalent mark {mutant_id} ({reason}) dropped: {why}")
        survivors = r.survivors
        if not survivors:
            continue
        out.write("")
        out.write(
            f"surviving mutants of {r.slug} ({len(survivors)}): kill each with a hidden test, "
            f"or, if no test can tell it from the reference, list it under `equivalent:` in "
            f"{MUTATION_FILE} with its id and a reason, then run this again"
        )
        for mutant in survivors:
            out.write(f"  {mutant.id}  (line {mutant.line})")
            for line in mutant.diff():
                out.write(f"    {line}")
