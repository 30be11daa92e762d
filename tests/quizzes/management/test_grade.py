from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from quizzes.grading.languages import LANGUAGES
from tests.samples import PYTHON, SQL, load_sample_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def challenge(topic: Any) -> Any:
    return load_sample_items(topic.stage, topic.slug, [PYTHON])[0]


@pytest.mark.sandbox
def test_grade_prints_the_result_as_json(
    challenge: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "add.py"
    source.write_text(PYTHON["challenge"]["wrong_solutions"][0])
    call_command("grade", "t-python", str(source))
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "graded"
    assert result["score"] == pytest.approx(2 / 3)
    assert [o["passed"] for o in result["outcomes"]] == [True, False, True]


def test_unknown_challenge_and_unreadable_file_fail_clearly(challenge: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="unknown challenge 'nope'"):
        call_command("grade", "nope", str(tmp_path / "x.py"))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("grade", "t-python", str(tmp_path / "missing.py"))


@pytest.mark.sandbox
def test_the_language_is_named_or_read_from_the_extension(
    challenge: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "add.txt"
    source.write_text(PYTHON["challenge"]["reference_solution"])
    call_command("grade", "t-python", str(source), "--language", "python")
    named = json.loads(capsys.readouterr().out)
    inferred = tmp_path / "add.py"
    inferred.write_text(PYTHON["challenge"]["reference_solution"])
    call_command("grade", "t-python", str(inferred))
    assert json.loads(capsys.readouterr().out) == named
    assert named["score"] == 1.0 and set(named) == {
        "challenge",
        "status",
        "score",
        "message",
        "outcomes",
    }


def test_an_unknown_or_unregistered_language_fails_clearly(
    challenge: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(LANGUAGES, "go", raising=False)  # known, but no runtime registered
    source = tmp_path / "add.go"
    source.write_text("package main\n")
    with pytest.raises(CommandError, match="unknown language 'cobol'"):
        call_command("grade", "t-python", str(source), "--language", "cobol")
    with pytest.raises(CommandError, match="go cannot be graded here: no runtime is registered"):
        call_command("grade", "t-python", str(source), "--language", "go")


def test_an_sql_challenge_takes_no_language(topic: Any, tmp_path: Path) -> None:
    load_sample_items(topic.stage, topic.slug, [SQL])
    source = tmp_path / "q.sql"
    source.write_text("SELECT 1")
    with pytest.raises(
        CommandError, match="'t-sql' is not a code challenge: it takes no --language"
    ):
        call_command("grade", "t-sql", str(source), "--language", "python")
