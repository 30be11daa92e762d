"""Loading the roadmap (stages and topics) from YAML, idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from quizzes.grading.languages.names import LANGUAGE_KEYS
from quizzes.models import Stage, Topic


class RoadmapError(ValueError):
    """The roadmap file is malformed; the message says where."""


@dataclass
class RoadmapReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired or self.restored)


def check_roadmap_data(data: Any, *, source: str) -> list[dict[str, Any]]:
    """Validate the parsed YAML; return the list of stage mappings."""
    if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
        raise RoadmapError(f"{source}: expected a mapping with a 'stages' list")
    seen_numbers: set[int] = set()
    seen_slugs: set[str] = set()
    for index, stage in enumerate(data["stages"], start=1):
        where = f"{source}: stage #{index}"
        if not isinstance(stage, dict):
            raise RoadmapError(f"{where}: expected a mapping")
        for key in ("number", "slug", "title"):
            if not stage.get(key):
                raise RoadmapError(f"{where}: '{key}' is required")
        if not isinstance(stage["number"], int) or stage["number"] < 1:
            raise RoadmapError(f"{where}: 'number' must be a positive integer")
        if stage["number"] in seen_numbers or stage["slug"] in seen_slugs:
            raise RoadmapError(f"{where}: duplicate stage number or slug")
        seen_numbers.add(stage["number"])
        seen_slugs.add(stage["slug"])
        topic_slugs: set[str] = set()
        for t_index, topic in enumerate(stage.get("topics") or [], start=1):
            if not isinstance(topic, dict) or not topic.get("slug") or not topic.get("title"):
                raise RoadmapError(f"{where}, topic #{t_index}: 'slug' and 'title' are required")
            if topic["slug"] in topic_slugs:
                raise RoadmapError(f"{where}, topic #{t_index}: duplicate slug {topic['slug']!r}")
            topic_slugs.add(topic["slug"])
            languages = topic.get("languages", [])
            if not isinstance(languages, list) or any(
                lang not in LANGUAGE_KEYS for lang in languages
            ):
                raise RoadmapError(
                    f"{where}, topic #{t_index}: 'languages' is a list of "
                    f"{', '.join(LANGUAGE_KEYS)}"
                )
    return list(data["stages"])


def read_roadmap_file(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise RoadmapError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise RoadmapError(f"{path}: invalid YAML: {exc}") from exc
    return check_roadmap_data(data, source=str(path))


@transaction.atomic
def roadmap_load(*, stages: list[dict[str, Any]]) -> RoadmapReport:
    """Make the database match ``stages``: create, update, retire (never delete), restore."""
    report = RoadmapReport()
    now = timezone.now()
    wanted_stage_ids: set[int] = set()
    for data in stages:
        stage = Stage.objects.filter(number=data["number"]).first()
        values = {
            "slug": data["slug"],
            "title": data["title"],
            "description": data.get("description", ""),
        }
        label = f"stage {data['number']}"
        if stage is None:
            stage = Stage.objects.create(number=data["number"], **values)
            report.created.append(label)
        else:
            _apply(stage, values, label, report)
        wanted_stage_ids.add(stage.pk)
        wanted_topic_ids: set[int] = set()
        for position, t in enumerate(data.get("topics") or []):
            topic = Topic.objects.filter(stage=stage, slug=t["slug"]).first()
            t_values = {
                "title": t["title"],
                "position": position,
                "languages": list(t.get("languages", [])),
            }
            t_label = f"topic {data['number']}/{t['slug']}"
            if topic is None:
                topic = Topic.objects.create(stage=stage, slug=t["slug"], **t_values)
                report.created.append(t_label)
            else:
                _apply(topic, t_values, t_label, report)
            wanted_topic_ids.add(topic.pk)
        for topic in Topic.objects.filter(stage=stage, retired_at__isnull=True).exclude(
            pk__in=wanted_topic_ids
        ):
            topic.retired_at = now
            topic.save(update_fields=["retired_at"])
            report.retired.append(f"topic {stage.number}/{topic.slug}")
    for stage in Stage.objects.filter(retired_at__isnull=True).exclude(pk__in=wanted_stage_ids):
        stage.retired_at = now
        stage.save(update_fields=["retired_at"])
        report.retired.append(f"stage {stage.number}")
    return report


def _apply(obj: Stage | Topic, values: dict[str, Any], label: str, report: RoadmapReport) -> None:
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if obj.retired_at is not None:
        obj.retired_at = None
        changed.append("retired_at")
        report.restored.append(label)
    if not changed:
        report.unchanged.append(label)
        return
    for k in changed:
        if k in values:
            setattr(obj, k, values[k])
    obj.save(update_fields=changed)
    if label not in report.restored:
        report.updated.append(label)
