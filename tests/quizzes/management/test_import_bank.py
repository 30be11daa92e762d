"""`manage.py import_bank`: the same report as the page, JSON on request, writes only
without --dry-run, and a non-zero exit when nothing could be imported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from quizzes.models import Item

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "bank" / "fixtures"


def test_a_dry_run_prints_the_report_and_writes_nothing(
    roadmap: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("import_bank", str(FIXTURES / "moodle4_export.xml"), "--dry-run")
    out = capsys.readouterr().out
    assert "7 to create, 0 to update, 0 unchanged, 5 skipped" in out
    assert "#8 line 335 'Explain sharding' (essay) -> skip" in out
    assert "why: essay questions are marked by hand" in out
    assert "-> 3/indexing (guessed)" in out
    assert out.rstrip().endswith("nothing written")
    assert not Item.objects.exists()


def test_json_and_a_category_map_then_a_real_import(
    roadmap: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    gift = tmp_path / "bank.gift"
    shutil.copy(FIXTURES / "quirks.gift", gift)
    mapping = "$course$/top/API design/Rate limiting=2/rate-limiting"
    call_command("import_bank", str(gift), "--json", "--dry-run", "--category-map", mapping)
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "gift" and report["written"] is False
    assert report["summary"] == {"create": 10, "update": 0, "unchanged": 0, "skip": 6}
    assert report["categories"][0]["target"] == "2/rate-limiting"
    assert report["categories"][0]["guessed"] is False
    assert not Item.objects.exists()

    call_command("import_bank", str(gift), "--json", "--category-map", mapping)
    report = json.loads(capsys.readouterr().out)
    assert report["written"] is True
    assert Item.objects.count() == 10


def test_nothing_importable_exits_non_zero_and_writes_nothing(
    roadmap: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    essays = tmp_path / "essays.gift"
    essays.write_text("$CATEGORY: databases/indexing\n\n::E::Explain B-trees.{}\n")
    with pytest.raises(CommandError, match="no question in the file can be imported"):
        call_command("import_bank", str(essays))
    assert "why: essay questions are marked by hand" in capsys.readouterr().out
    bomb = tmp_path / "bomb.xml"
    bomb.write_bytes(b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "a">]><quiz>&a;</quiz>')
    with pytest.raises(CommandError, match="declares a DTD"):
        call_command("import_bank", str(bomb), "--dry-run")
    assert "refused: the file declares a DTD" in capsys.readouterr().out
    assert not Item.objects.exists()


def test_bad_arguments_fail_clearly(roadmap: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_bank", str(tmp_path / "missing.xml"))
    with pytest.raises(CommandError, match="write CATEGORY=STAGE/TOPIC"):
        call_command(
            "import_bank", str(FIXTURES / "quirks.gift"), "--category-map", "no equals sign"
        )
