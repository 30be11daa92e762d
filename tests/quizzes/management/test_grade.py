from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.samples import PYTHON, load_sample_items

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
