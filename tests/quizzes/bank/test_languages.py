"""The bank in every language: languages/<slug>/<lang>.yaml merged into the challenge,
signatures required of the roadmap bank, and check_bank skipping (or refusing) a language
this host cannot grade."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from django.core.management import CommandError, call_command

from quizzes.bank.check import check_bank, check_language_dirs, check_signatures
from quizzes.bank.loader import BankFileError, read_bank_file
from quizzes.grading.languages.base import Language, SandboxProgram
from quizzes.grading.spec import CodeChallengeSpec
from quizzes.itemtypes import handler_for
from tests.conftest import language_standing_in, languages_only
from tests.samples import COMMON, PYTHON, TRUE_FALSE

BASE = Path(__file__).resolve().parents[3]
TOPICS = {1: {"python"}}


def bank_dir(tmp_path: Path, items: list[dict[str, Any]]) -> Path:
    entries = [{**COMMON, "topic": "python", **item} for item in items]
    (tmp_path / "stage-01.yaml").write_text(yaml.safe_dump({"stage": 1, "items": entries}))
    return tmp_path


def language_file(root: Path, slug: str, language: str, content: Any) -> Path:
    folder = root / "languages" / slug
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{language}.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


GO = {
    "reference_solution": "package main\n\nfunc Add(a, b int) int { return a + b }\n",
    "wrong_solutions": [{"source": "package main // wrong", "author": "someone"}],
}


def test_language_files_are_merged_into_the_challenge(tmp_path: Path) -> None:
    root = bank_dir(tmp_path, [PYTHON])
    language_file(root, "t-python", "go", GO)
    bank = read_bank_file(root / "stage-01.yaml", topics_by_stage=TOPICS)
    [item] = bank.items
    assert item["challenge"]["languages"] == {"go": GO}
    spec = handler_for(item["type"]).parse_spec(item["challenge"])  # type: ignore[attr-defined]
    assert isinstance(spec, CodeChallengeSpec)
    go = spec.material("go")
    assert go is not None and go.reference_solution.startswith("package main")


def test_the_old_type_name_python_is_read_as_code(tmp_path: Path) -> None:
    root = bank_dir(tmp_path, [{**PYTHON, "type": "python"}])
    [item] = read_bank_file(root / "stage-01.yaml", topics_by_stage=TOPICS).items
    assert item["type"] == "code"


@pytest.mark.parametrize(
    ("language", "content", "message"),
    [
        ("rust", GO, "unknown language 'rust'"),
        ("go", {"reference": "x"}, "challenge.languages.go: unknown key(s) 'reference'"),
        ("go", "- just\n- a list\n", "expected a mapping"),
        ("go", "reference_solution: [unclosed\n", "cannot read"),
    ],
)
def test_bad_language_files_are_refused_precisely(
    tmp_path: Path, language: str, content: Any, message: str
) -> None:
    root = bank_dir(tmp_path, [PYTHON])
    language_file(root, "t-python", language, content)
    with pytest.raises(BankFileError) as caught:
        read_bank_file(root / "stage-01.yaml", topics_by_stage=TOPICS)
    assert message in str(caught.value)


def test_language_files_for_an_item_that_is_no_code_challenge_are_refused(
    tmp_path: Path,
) -> None:
    root = bank_dir(tmp_path, [TRUE_FALSE])
    language_file(root, "t-tf", "go", GO)
    with pytest.raises(BankFileError, match="not a code challenge"):
        read_bank_file(root / "stage-01.yaml", topics_by_stage=TOPICS)


def test_a_language_given_twice_is_refused(tmp_path: Path) -> None:
    inline = {**PYTHON, "challenge": {**PYTHON["challenge"], "languages": {"go": GO}}}
    root = bank_dir(tmp_path, [inline])
    language_file(root, "t-python", "go", GO)
    with pytest.raises(BankFileError, match="go is also given in the stage file"):
        read_bank_file(root / "stage-01.yaml", topics_by_stage=TOPICS)


def test_the_roadmap_bank_needs_signatures_and_no_stray_language_folders(
    tmp_path: Path,
) -> None:
    untyped = {**PYTHON, "challenge": dict(PYTHON["challenge"])}
    del untyped["challenge"]["signature"]
    root = bank_dir(tmp_path, [untyped])
    language_file(root, "t-gone", "go", GO)
    bank = read_bank_file(root / "stage-01.yaml", topics_by_stage=TOPICS)
    [problem] = check_signatures([bank])
    assert "no `signature:`" in problem.message
    [stray] = check_language_dirs([bank], root)
    assert stray.slug == "t-gone" and "no code challenge" in stray.message


def test_every_bank_challenge_has_a_signature_its_tests_fit() -> None:
    files = [
        read_bank_file(path, topics_by_stage=_roadmap_topics())
        for path in sorted((BASE / "fixtures/questions").glob("stage-*.yaml"))
    ]
    assert check_signatures(files) == []
    assert sum(1 for f in files for i in f.items if "signature" in i.get("challenge", {})) == 20


def _roadmap_topics() -> dict[int, set[str]]:
    from quizzes.bank.check import roadmap_topics

    return roadmap_topics(BASE / "fixtures/roadmap.yaml")


class Missing(Language):
    key: ClassVar[str] = "go"
    label: ClassVar[str] = "Go"
    extensions: ClassVar[tuple[str, ...]] = (".go",)
    editor_mode: ClassVar[str] = "go"

    def unavailable_reason(self) -> str | None:
        return "go is not installed (test)"

    def program(
        self, spec: CodeChallengeSpec, source: str, config: dict[str, Any], *, slot: int
    ) -> SandboxProgram:
        raise AssertionError("a language without its toolchain is never run")


@pytest.fixture
def missing_go() -> Iterator[Missing]:
    with languages_only("python"), language_standing_in(Missing()) as language:
        yield language


@pytest.mark.sandbox
def test_check_bank_skips_a_language_without_toolchain_or_fails_when_required(
    tmp_path: Path, missing_go: Missing
) -> None:
    root = bank_dir(tmp_path, [PYTHON])
    language_file(root, "t-python", "go", GO)
    roadmap = tmp_path / "roadmap.yaml"
    roadmap.write_text(
        yaml.safe_dump({"stages": [{"number": 1, "slug": "s", "title": "S",
                                    "topics": [{"slug": "python", "title": "Python"}]}]})
    )  # fmt: skip
    skipped = check_bank(paths=[root / "stage-01.yaml"], roadmap_path=roadmap)
    assert skipped.skipped_languages == {"go": "go is not installed (test)"}
    assert skipped.solutions_checked["python"] == 2 and "go" not in skipped.solutions_checked
    assert [p.message for p in skipped.problems] == []
    required = check_bank(
        paths=[root / "stage-01.yaml"], roadmap_path=roadmap, require_languages=["all"]
    )
    assert [p.message for p in required.problems] == [
        "Go is required but go is not installed (test)"
    ]


@pytest.mark.sandbox
def test_check_bank_command_names_skipped_languages_and_refuses_unknown_ones(
    tmp_path: Path, missing_go: Missing, capsys: pytest.CaptureFixture[str]
) -> None:
    root = bank_dir(tmp_path, [PYTHON])
    with pytest.raises(CommandError, match="--require-languages: unknown language 'cobol'"):
        call_command("check_bank", str(root / "stage-01.yaml"), "--require-languages", "cobol")
    with pytest.raises(CommandError, match="problem"):
        call_command("check_bank", str(root / "stage-01.yaml"), "--require-languages", "go")
    assert "Go is required but go is not installed" in capsys.readouterr().err
    call_command("check_bank", str(root / "stage-01.yaml"))
    out = capsys.readouterr().out
    assert "skipped go: go is not installed (test)" in out
    assert "solutions run, by language: python 2" in out
