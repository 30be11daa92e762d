from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from quizzes.bank.roadmap import RoadmapError, read_roadmap_file, roadmap_load


class Command(BaseCommand):
    help = "Load the roadmap stages and topics from YAML (idempotent; removed entries retire)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", default=str(settings.BASE_DIR / "fixtures/roadmap.yaml"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            stages = read_roadmap_file(Path(options["file"]))
        except RoadmapError as exc:
            raise CommandError(str(exc)) from exc
        report = roadmap_load(stages=stages)
        for label in report.retired:
            self.stdout.write(self.style.WARNING(f"retired {label} (no longer in the file)"))
        for label in report.restored:
            self.stdout.write(f"restored {label}")
        self.stdout.write(
            f"roadmap: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.retired)} retired"
        )
