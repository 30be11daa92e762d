import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quizzes.bank.formats import FORMATS
from quizzes.bank.transfer import (
    SKIP,
    ImportRefused,
    ImportReport,
    bank_import_apply,
    bank_import_plan,
)


def _category_map(pairs: list[str]) -> dict[str, str]:
    """``CATEGORY=STAGE/TOPIC`` (or ``CATEGORY=`` to skip it) as a mapping."""
    mapping = {}
    for pair in pairs:
        category, sep, target = pair.rpartition("=")
        if not sep:
            raise CommandError(
                f"--category-map {pair!r}: write CATEGORY=STAGE/TOPIC, e.g. "
                "'$course$/top/Indexes=3/indexing' (or CATEGORY= to skip it)"
            )
        mapping[category] = target.strip()
    return mapping


def render_report(report: ImportReport) -> str:
    lines = [f"{report.file} ({report.format}, {report.size} bytes, sha256 {report.sha256[:12]})"]
    for problem in report.problems:
        lines.append(f"refused: {problem}")
    if not report.problems:
        summary = report.summary()
        lines.append(
            f"{summary['create']} to create, {summary['update']} to update, "
            f"{summary['unchanged']} unchanged, {summary['skip']} skipped"
        )
    lines += [f"note: {note}" for note in report.notes]
    if report.categories:
        lines.append("categories:")
        for category in report.categories:
            target = category.target or "not imported"
            guess = " (guessed)" if category.guessed and category.target else ""
            problem = f"  ! {category.problem}" if category.problem else ""
            lines.append(f"  {category.label} [{category.questions}] -> {target}{guess}{problem}")
    if report.questions:
        lines.append("questions:")
    for q in report.questions:
        where = f" line {q.line}" if q.line else ""
        outcome = "skip" if q.action == SKIP else f"{q.action} {q.type} {q.slug}"
        lines.append(f"  #{q.number}{where} {q.name!r} ({q.source_type}) -> {outcome}")
        lines += [f"      why: {reason}" for reason in q.reasons]
        lines += [f"      warning: {warning}" for warning in q.warnings]
    lines.append("written" if report.written else "nothing written")
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Import a question bank file (Skillmap YAML, Moodle XML or GIFT). Prints the report "
        "of what is imported and what is skipped and why; without --dry-run, writes exactly "
        "that in one transaction. Exits non-zero when nothing could be imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the bank file")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="the file's format (default: from its suffix, else from its content)",
        )
        parser.add_argument("--dry-run", action="store_true", help="report only; write nothing")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--category-map",
            action="append",
            default=[],
            metavar="CATEGORY=STAGE/TOPIC",
            help="where a Moodle category's questions go, e.g. '$course$/top/Indexes=3/"
            "indexing'; CATEGORY= skips it. Repeat per category; unmapped categories are "
            "guessed from their names.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read: {exc.strerror}") from exc
        mapping = _category_map(options["category_map"])
        arguments = {
            "name": path.name,
            "data": data,
            "fmt": options["format"],
            "category_map": mapping,
        }
        refused = ""
        if options["dry_run"]:
            report = bank_import_plan(**arguments)
        else:
            try:
                report = bank_import_apply(**arguments)
            except ImportRefused as exc:
                refused = str(exc)
                report = bank_import_plan(**arguments)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(render_report(report))
        if report.problems or report.importable == 0:
            raise CommandError(
                refused or "; ".join(report.problems) or "no question in the file can be imported"
            )
