import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quizzes.grading.sandbox import SandboxUnavailable
from quizzes.itemtypes import handler_for
from quizzes.models import Item
from quizzes.pipeline.grading import run_grader


class Command(BaseCommand):
    help = (
        "Grade a file against a challenge synchronously, through the same sandbox runner the "
        "workers use, and print the result as JSON. Exit 0 when grading happened."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("challenge_slug")
        parser.add_argument("file", help="the Python or SQL source to grade ('-' for stdin)")
        parser.add_argument("--visible-only", action="store_true", help="run the examples only")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["challenge_slug"]
        item = Item.objects.select_related("current_version").filter(slug=slug).first()
        if item is None or not handler_for(item.type).needs_sandbox or item.current_version is None:
            raise CommandError(f"unknown challenge {slug!r}")
        path = options["file"]
        try:
            source = self.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        try:
            report = run_grader(
                item.current_version, source, visible_only=options["visible_only"], slot=0
            )
        except SandboxUnavailable as exc:
            raise CommandError(f"grading unavailable: {exc}") from exc
        self.stdout.write(json.dumps({"challenge": slug, **report.to_dict()}, indent=2))

    @property
    def stdin(self) -> Any:
        return sys.stdin
