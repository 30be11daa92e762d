from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from quizzes.bank.loader import bank_files, bank_load


class Command(BaseCommand):
    help = (
        "Load the question bank from YAML (one file per stage). Idempotent: items are matched "
        "by slug; changed items get a new version. A file with any problem loads nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="*", help="bank files (default: fixtures/questions/stage-*.yaml)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths = [Path(p) for p in options["paths"]] or bank_files(
            settings.BASE_DIR / "fixtures/questions"
        )
        report, failures = bank_load(paths=paths)
        self.stdout.write(
            f"bank: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged"
        )
        for slug in report.updated:
            self.stdout.write(f"  updated {slug} (new version)")
        if failures:
            for failure in failures:
                for problem in failure.problems:
                    self.stderr.write(str(problem))
            raise CommandError(f"{len(failures)} file(s) rejected; nothing was loaded from them")
