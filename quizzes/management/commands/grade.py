import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quizzes.grading.languages import (
    LANGUAGE_KEYS,
    LANGUAGES,
    UnknownLanguage,
    language_for_filename,
)
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
        parser.add_argument("file", help="the source to grade ('-' for stdin)")
        parser.add_argument(
            "--language",
            help="the language of a code challenge's file: "
            f"{', '.join(LANGUAGE_KEYS)} (default: from the file's extension, else python)",
        )
        parser.add_argument("--visible-only", action="store_true", help="run the examples only")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["challenge_slug"]
        item = Item.objects.select_related("current_version").filter(slug=slug).first()
        if item is None or not handler_for(item.type).needs_sandbox or item.current_version is None:
            raise CommandError(f"unknown challenge {slug!r}")
        path = options["file"]
        if options["language"] and not handler_for(item.type).language_files:
            raise CommandError(f"{slug!r} is not a code challenge: it takes no --language")
        language = self._language(options["language"], path)
        try:
            source = self.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        try:
            report = run_grader(
                item.current_version,
                source,
                visible_only=options["visible_only"],
                slot=0,
                language=language if handler_for(item.type).language_files else "",
            )
        except SandboxUnavailable as exc:
            raise CommandError(f"grading unavailable: {exc}") from exc
        except UnknownLanguage as exc:
            raise CommandError(str(exc)) from exc
        except ValueError as exc:  # a challenge without a signature, in another language
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps({"challenge": slug, **report.to_dict()}, indent=2))

    @staticmethod
    def _language(given: str | None, path: str) -> str:
        """The language named, else the one the file's extension names, else Python."""
        if given:
            if given not in LANGUAGE_KEYS:
                raise CommandError(
                    f"unknown language {given!r} (expected one of {', '.join(LANGUAGE_KEYS)})"
                )
            if given not in LANGUAGES:
                raise CommandError(f"{given} cannot be graded here: no runtime is registered")
            return given
        by_extension = language_for_filename(path)
        return by_extension.key if by_extension is not None else "python"

    @property
    def stdin(self) -> Any:
        return sys.stdin
