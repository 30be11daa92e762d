from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from quizzes.bank.check import check_bank
from quizzes.bank.loader import bank_files
from quizzes.management.commands._mutation import run_mutation


class Command(BaseCommand):
    help = (
        "Validate every bank item: fields and keys, tolerances, regexes, Markdown, and each "
        "challenge's reference and wrong solutions run in the sandbox. Exits 1 on any problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*")
        parser.add_argument(
            "--no-sandbox", action="store_true", help="skip running challenge solutions"
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
        paths = [Path(p) for p in options["paths"]] or bank_files(
            settings.BASE_DIR / "fixtures/questions"
        )
        if not paths:
            raise CommandError("no bank files found")
        if options["mutation"] is not None:
            run_mutation(self, paths=paths, slugs=options["mutation"], whole=not options["paths"])
            return
        result = check_bank(
            paths=paths,
            roadmap_path=settings.BASE_DIR / "fixtures/roadmap.yaml",
            run_sandbox=not options["no_sandbox"],
            policy_dir=None if options["paths"] else settings.BASE_DIR / "fixtures/questions",
        )
        for bank in result.files:
            types = Counter(i["type"] for i in bank.items)
            summary = ", ".join(f"{n} {t}" for t, n in sorted(types.items()))
            self.stdout.write(f"stage {bank.stage:>2}: {len(bank.items)} items ({summary})")
        self.stdout.write(f"challenges run in the sandbox: {result.challenges_checked}")
        for problem in result.problems:
            self.stderr.write(str(problem))
        if result.problems:
            raise CommandError(f"{len(result.problems)} problem(s) in the bank")
        self.stdout.write(self.style.SUCCESS("bank OK"))
