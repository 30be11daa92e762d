from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from quizzes.bank.roadmap import RoadmapError, read_roadmap_file, roadmap_load
from quizzes.models import Item, Stage, Topic

ROADMAP = Path(__file__).resolve().parents[3] / "fixtures/roadmap.yaml"


def test_roadmap_fixture_has_eleven_stages_with_topics() -> None:
    stages = read_roadmap_file(ROADMAP)
    assert [s["number"] for s in stages] == list(range(1, 12))
    assert all(len(s["topics"]) >= 3 for s in stages)


@pytest.mark.django_db
def test_loading_twice_changes_nothing() -> None:
    stages = read_roadmap_file(ROADMAP)
    first = roadmap_load(stages=stages)
    assert len(first.created) == 11 + sum(len(s["topics"]) for s in stages)
    second = roadmap_load(stages=stages)
    assert not second.changed
    assert Stage.objects.count() == 11


@pytest.mark.django_db
def test_edited_title_is_updated_in_place() -> None:
    stages = read_roadmap_file(ROADMAP)
    roadmap_load(stages=stages)
    pk = Stage.objects.get(number=4).pk
    stages[3]["title"] = "Caching, properly"
    report = roadmap_load(stages=stages)
    assert report.updated == ["stage 4"]
    assert Stage.objects.get(number=4).title == "Caching, properly"
    assert Stage.objects.get(number=4).pk == pk


@pytest.mark.django_db
def test_removed_entries_retire_and_keep_referencing_rows() -> None:
    stages = read_roadmap_file(ROADMAP)
    roadmap_load(stages=stages)
    cdn = Topic.objects.get(stage__number=4, slug="cdn")
    Item.objects.create(slug="x", type="true_false", stage=cdn.stage, topic=cdn)
    stages[3]["topics"] = [t for t in stages[3]["topics"] if t["slug"] != "cdn"]
    stages = [s for s in stages if s["number"] != 11]
    report = roadmap_load(stages=stages)
    assert "topic 4/cdn" in report.retired
    assert "stage 11" in report.retired
    cdn.refresh_from_db()
    assert cdn.retired_at is not None
    assert Item.objects.filter(topic=cdn).exists()
    assert Stage.objects.active().count() == 10
    # Putting them back restores the same rows.
    report = roadmap_load(stages=read_roadmap_file(ROADMAP))
    assert "topic 4/cdn" in report.restored
    assert Topic.objects.get(pk=cdn.pk).retired_at is None


@pytest.mark.django_db
def test_command_reports_and_rejects_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("load_roadmap")
    assert "57 created, 0 updated" in capsys.readouterr().out
    call_command("load_roadmap")
    assert "0 created, 0 updated" in capsys.readouterr().out

    bad = tmp_path / "bad.yaml"
    bad.write_text("stages:\n  - number: 1\n    slug: one\n")
    with pytest.raises(CommandError, match=r"stage #1: 'title' is required"):
        call_command("load_roadmap", file=str(bad))
    bad.write_text("stages: [\n")
    with pytest.raises(CommandError, match="invalid YAML"):
        call_command("load_roadmap", file=str(bad))
    assert Stage.objects.count() == 11


def test_duplicate_topic_slug_is_rejected() -> None:
    from quizzes.bank.roadmap import check_roadmap_data

    data = {"stages": [{"number": 1, "slug": "a", "title": "A", "topics": [
        {"slug": "t", "title": "T"}, {"slug": "t", "title": "T2"}]}]}  # fmt: skip
    with pytest.raises(RoadmapError, match="duplicate slug 't'"):
        check_roadmap_data(data, source="x.yaml")
