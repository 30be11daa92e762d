"""The real bank: its counts, its loader's idempotence, and precise rejection of bad files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from quizzes.bank.check import near_duplicates, roadmap_topics
from quizzes.bank.loader import bank_files, check_item, read_bank_file
from quizzes.models import Item, ItemVersion

BASE = Path(__file__).resolve().parents[3]
FILES = bank_files(BASE / "fixtures/questions")
TOPICS = roadmap_topics(BASE / "fixtures/roadmap.yaml")
CHALLENGES = {"code", "sql"}


@pytest.fixture(scope="module")
def bank() -> list[Any]:
    return [read_bank_file(path, topics_by_stage=TOPICS) for path in FILES]


def test_one_file_per_stage(bank: list[Any]) -> None:
    assert sorted(b.stage for b in bank) == list(range(1, 12))


@pytest.mark.parametrize("stage", range(1, 12))
def test_each_stage_meets_the_bank_standard(bank: list[Any], stage: int) -> None:
    [file] = [b for b in bank if b.stage == stage]
    objective = [i for i in file.items if i["type"] not in CHALLENGES]
    assert len(objective) >= 15
    assert set(TOPICS[stage]) <= {i["topic"] for i in objective}, "every topic is covered"
    # A mix of types: single choice is the most common, never the bulk of a stage.
    assert sum(i["type"] == "single_choice" for i in objective) <= len(objective) * 0.55
    assert sum(i.get("cognitive") == "judgement" for i in objective) >= len(objective) / 3
    assert len({i["difficulty"] for i in objective}) >= 4, "difficulty is spread"
    python = [i for i in file.items if i["type"] == "code"]
    assert python, "at least one Python challenge per stage"
    for item in python + [i for i in file.items if i["type"] == "sql"]:
        tests = item["challenge"]["tests"]
        assert 2 <= sum(bool(t.get("visible")) for t in tests) <= 5, item["slug"]
        # An index or transaction test is a whole data set; other tests are single calls.
        data_sets = item["challenge"].get("mode") in ("index", "transaction")
        assert sum(not t.get("visible") for t in tests) >= (5 if data_sets else 8), item["slug"]
        assert item["challenge"]["reference_solution"].strip()
        assert item["challenge"]["wrong_solutions"]


def test_bank_totals(bank: list[Any]) -> None:
    items = [i for b in bank for i in b.items]
    types = Counter(i["type"] for i in items)
    assert sum(n for t, n in types.items() if t not in CHALLENGES) >= 165
    assert types["sql"] >= 3
    for sql in (i for i in items if i["type"] == "sql"):
        assert "sqlite" in sql["body"].lower(), f"{sql['slug']} must say it runs on SQLite"
    assert len({i["slug"] for i in items}) == len(items)


def test_no_near_duplicates(bank: list[Any]) -> None:
    texts = [
        (i["slug"], f"{i['title']} {i['body']}")
        for b in bank
        for i in b.items
        if i["type"] not in CHALLENGES
    ]
    assert near_duplicates(texts) == []


def test_near_duplicates_are_detected() -> None:
    a = "Which HTTP method is safe to retry after a timeout when the server may have acted?"
    b = "Which HTTP method is safe to retry after a time-out when the server may have acted?"
    assert near_duplicates([("a", a), ("b", b), ("c", "Pick an index for a range scan.")]) == [
        ("a", "b", pytest.approx(0.98, abs=0.02))
    ]


@pytest.mark.slow  # the whole bank
@pytest.mark.django_db
def test_loading_twice_is_a_no_op(roadmap: Any, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_bank")
    first = capsys.readouterr().out
    assert "0 updated, 0 unchanged" in first
    versions = ItemVersion.objects.count()
    call_command("load_bank")
    assert "bank: 0 created, 0 updated" in capsys.readouterr().out
    assert ItemVersion.objects.count() == versions
    assert Item.objects.count() == sum(
        len(read_bank_file(p, topics_by_stage=TOPICS).items) for p in FILES
    )


@pytest.mark.django_db
def test_a_changed_item_gets_a_new_version(
    roadmap: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = yaml.safe_load((BASE / "fixtures/questions/stage-02.yaml").read_text())
    path = tmp_path / "stage-02.yaml"
    path.write_text(yaml.safe_dump(source))
    call_command("load_bank", str(path))
    source["items"][0]["body"] += "\n\n(Assume HTTP/1.1.)"
    path.write_text(yaml.safe_dump(source))
    call_command("load_bank", str(path))
    assert f"updated {source['items'][0]['slug']} (new version)" in capsys.readouterr().out
    item = Item.objects.get(slug=source["items"][0]["slug"])
    assert item.versions.count() == 2 and item.current_version.number == 2


BAD_FILE = """\
stage: 2
items:
  - slug: api-fine
    type: true_false
    topic: rest
    difficulty: 2
    title: Fine item
    body: PUT is idempotent.
    explanation: It is.
    answer: true
  - slug: api-two-keys
    type: single_choice
    topic: rest
    difficulty: 2
    title: Two keys
    body: Which?
    explanation: Because.
    choices:
      - {text: A, correct: true}
      - {text: B, correct: true}
  - slug: api-bad-regex
    type: short_text
    topic: no-such-topic
    difficulty: 9
    title: Bad regex
    body: Name it.
    explanation: Because.
    pattern: "retry-(after"
"""


@pytest.mark.django_db
def test_a_malformed_file_is_rejected_precisely_and_loads_nothing(
    roadmap: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stage-02.yaml"
    path.write_text(BAD_FILE)
    with pytest.raises(CommandError, match="1 file\\(s\\) rejected"):
        call_command("load_bank", str(path))
    errors = capsys.readouterr().err
    assert (
        f"{path}:11 [api-two-keys]: a single_choice item needs exactly one correct choice, found 2"
        in errors
    )
    assert (
        f"{path}:21 [api-bad-regex]: 'topic' 'no-such-topic' is not a topic of this stage" in errors
    )
    assert f"{path}:21 [api-bad-regex]: 'difficulty' must be an integer from 1 to 5" in errors
    assert "'pattern' does not compile" in errors
    assert not Item.objects.exists()  # not even the fine item


@pytest.mark.django_db
def test_invalid_yaml_reports_the_line(
    roadmap: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stage-03.yaml"
    path.write_text("stage: 3\nitems:\n  - slug: x\n    body: [unclosed\n")
    with pytest.raises(CommandError):
        call_command("load_bank", str(path))
    assert f"{path}:5: invalid YAML" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tolerance": None, "relative_tolerance": None}, "exactly one of 'tolerance'"),
        ({"tolerance": 500}, "as large as the answer"),
        ({"relative_tolerance": 0.7, "tolerance": None}, "below 0.5"),
        ({"answer": "lots"}, "finite number"),
    ],
)
def test_numeric_tolerances_must_be_sane(change: dict[str, Any], message: str) -> None:
    item = {"slug": "n", "type": "numeric", "topic": "t", "difficulty": 1, "title": "N",
            "body": "B", "explanation": "E", "answer": 200, "tolerance": 1, **change}  # fmt: skip
    item = {k: v for k, v in item.items() if v is not None}
    assert any(message in p for p in check_item(item, topics={"t"}))


@pytest.mark.sandbox
@pytest.mark.slow
def test_check_bank_passes_on_the_whole_bank(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("check_bank", "--require-languages", "all")
    out = capsys.readouterr().out
    assert "bank OK" in out
    assert "challenges run in the sandbox: 26" in out


@pytest.mark.sandbox
def test_check_bank_fails_when_a_wrong_solution_passes_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = yaml.safe_load((BASE / "fixtures/questions/stage-02.yaml").read_text())
    challenge = next(i for i in source["items"] if i["type"] == "code")
    challenge["challenge"]["wrong_solutions"] = [challenge["challenge"]["reference_solution"]]
    source["items"] = [challenge]
    path = tmp_path / "stage-02.yaml"
    path.write_text(yaml.safe_dump(source))
    with pytest.raises(CommandError, match="problem"):
        call_command("check_bank", str(path))
    err = capsys.readouterr().err
    assert "passes every hidden test: the tests miss its mistake" in err
