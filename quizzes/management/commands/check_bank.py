from argparse import BooleanOptionalAction
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from quizzes.bank.check import check_bank
from quizzes.bank.loader import bank_files
from quizzes.grading.languages import LANGUAGE_KEYS
from quizzes.management.commands._mutation import run_mutation


class Command(BaseCommand):
    help = (
        "Validate every bank item: fields and keys, tolerances, regexes, samples, Markdown, "
        "text cut by a YAML comment, near-duplicates, answers given away, and each "
        "challenge's reference and wrong solutions run in the sandbox. On the roadmap bank "
        "(no paths given) also the bank standard: counts, difficulties, true/false share, "
        "samples, answer cues, the coverage manifest and the cold reviews. Exits 1 on any "
        "problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths",
            nargs="*",
            help="bank files to check (default: every stage-*.yaml of the bank folder)",
        )
        parser.add_argument(
            "--no-sandbox", action="store_true", help="skip running challenge solutions"
        )
        parser.add_argument(
            "--bank-dir",
            type=Path,
            default=None,
            help="the bank folder: stage files, coverage.yaml and reviews/ "
            "(default: fixtures/questions)",
        )
        parser.add_argument(
            "--policy",
            action=BooleanOptionalAction,
            default=None,
            help="apply the bank standard (default: on for the whole bank folder, off for "
            "files named on the command line; with files, it covers their stages)",
        )
        parser.add_argument(
            "--require-languages",
            default="",
            metavar="LANG,…",
            help="fail when one of these languages (or 'all' registered ones) cannot be "
            "graded on this host; by default such a language is skipped with its reason",
        )
        parser.add_argument(
            "--mutation",
            nargs="*",
            metavar="SLUG",
            help="instead of checking, mutation-test the Python challenges' tests (all, or "
            "the slugs named) and record the figures in mutation.yaml beside the bank files; "
            "takes minutes",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bank_dir = options["bank_dir"] or settings.BASE_DIR / "fixtures/questions"
        named = [Path(p) for p in options["paths"]]
        paths = named or bank_files(bank_dir)
        if not paths:
            raise CommandError("no bank files found")
        policy = options["policy"] if options["policy"] is not None else not named
        if options["mutation"] is not None:
            run_mutation(self, paths=paths, slugs=options["mutation"], whole=not named)
            return
        required = [k.strip() for k in options["require_languages"].split(",") if k.strip()]
        unknown = [k for k in required if k not in (*LANGUAGE_KEYS, "all")]
        if unknown:
            raise CommandError(
                f"--require-languages: unknown language {unknown[0]!r} "
                f"(expected 'all' or some of {', '.join(LANGUAGE_KEYS)})"
            )
        result = check_bank(
            paths=paths,
            roadmap_path=settings.BASE_DIR / "fixtures/roadmap.yaml",
            run_sandbox=not options["no_sandbox"],
            policy_dir=bank_dir if policy else None,
            whole_bank=not named,
            require_languages=required,
        )
        for bank in result.files:
            types = Counter(i["type"] for i in bank.items)
            summary = ", ".join(f"{n} {t}" for t, n in sorted(types.items()))
            self.stdout.write(f"stage {bank.stage:>2}: {len(bank.items)} items ({summary})")
        self.stdout.write(f"challenges run in the sandbox: {result.challenges_checked}")
        if result.solutions_checked:
            per_language = ", ".join(
                f"{key} {n}" for key, n in sorted(result.solutions_checked.items())
            )
            self.stdout.write(f"solutions run, by language: {per_language}")
        for key, reason in result.skipped_languages.items():
            self.stdout.write(f"skipped {key}: {reason} (--require-languages {key} to fail)")
        if result.summaries:
            self.stdout.write("bank standard:")
            for stage in result.summaries:
                self.stdout.write(f"  {stage.line()}")
        tally = ", ".join(f"{name} {n}" for name, n in result.counts.items())
        self.stdout.write(f"problems by check: {tally}")
        for problem in result.problems:
            self.stderr.write(str(problem))
        if result.problems:
            raise CommandError(f"{len(result.problems)} problem(s) in the bank")
        self.stdout.write(self.style.SUCCESS("bank OK"))
