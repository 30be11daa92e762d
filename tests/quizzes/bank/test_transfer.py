"""Importing Moodle XML, GIFT and YAML banks: the dry run writes nothing, confirming writes
what it said in one transaction, and exports import back as the same items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from quizzes.bank import transfer
from quizzes.bank.loader import bank_load
from quizzes.bank.transfer import (
    ImportRefused,
    bank_import_apply,
    bank_import_plan,
    export_gift,
    export_items,
    export_moodle_xml,
    guess_target,
)
from quizzes.models import Item, ItemStatus, ItemVersion, Stage

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
BANK = Path(__file__).resolve().parents[3] / "fixtures/questions"
MOODLE4 = (FIXTURES / "moodle4_export.xml").read_bytes()
GIFT = (FIXTURES / "quirks.gift").read_bytes()


def test_categories_are_guessed_from_their_names(roadmap: Any) -> None:
    stages = list(Stage.objects.prefetch_related("topics"))
    assert guess_target("$course$/top/Default for X/Databases/Indexing", stages) == "3/indexing"
    assert guess_target("$system$/top/Shared/Caching strategies/CDN integration", stages) == (
        "4/cdn"
    )
    assert guess_target("$course$/top/databases/transactions", stages) == "3/transactions"
    assert guess_target("$course$/top/Default for Biology 101", stages) == ""


def test_the_dry_run_reports_every_question_and_writes_nothing(roadmap: Any) -> None:
    report = bank_import_plan(name="moodle4_export.xml", data=MOODLE4)
    assert report.format == "moodle-xml" and not report.problems
    assert [(c.questions, c.target, c.guessed) for c in report.categories] == [
        (2, "3/indexing", True),
        (3, "3/transactions", True),
        (7, "4/cdn", True),
    ]
    assert report.summary() == {"create": 7, "update": 0, "unchanged": 0, "skip": 5}
    rows = {q.name: q for q in report.questions}
    assert (rows["Index-only scans"].slug, rows["Index-only scans"].type) == (
        "index-only-scans",
        "multiple_choice",
    )
    assert rows["Composite index column order"].slug == "composite-index-column-order"
    assert rows["Serializable can abort"].slug == "t-f-serializable"  # from its idnumber
    assert rows["Explain sharding"].reasons == [
        "essay questions are marked by hand; Skillmap has no hand-marked type"
    ]
    assert any("difficulty 3" in note for note in report.notes)
    assert not Item.objects.exists()
    assert report.as_dict()["summary"]["create"] == 7


def test_confirming_writes_drafts_once_and_again_changes_nothing(
    roadmap: Any, instructor: Any
) -> None:
    report = bank_import_apply(name="moodle4_export.xml", data=MOODLE4, author=instructor)
    assert report.written and report.summary()["create"] == 7
    items = {i.slug: i for i in Item.objects.select_related("current_version", "topic")}
    assert len(items) == 7
    assert {i.status for i in items.values()} == {ItemStatus.DRAFT}
    lock = items["lock-wait"]
    assert (lock.stage.number, lock.topic.slug) == (3, "transactions")
    assert lock.current_version.points == 2
    assert lock.current_version.data["unit"] == "ms"
    assert lock.created_by == instructor
    assert items["index-only-scans"].current_version.difficulty == 3

    again = bank_import_plan(name="moodle4_export.xml", data=MOODLE4)
    assert again.summary() == {"create": 0, "update": 0, "unchanged": 7, "skip": 5}
    with pytest.raises(ImportRefused):
        bank_import_apply(name="x.xml", data=b"<quiz/>")
    assert ItemVersion.objects.count() == 7


def test_an_idnumber_updates_its_item_and_a_name_never_overwrites_one(
    roadmap: Any, instructor: Any
) -> None:
    bank_import_apply(name="moodle4_export.xml", data=MOODLE4, author=instructor)
    published = Item.objects.get(slug="index-only-scans")
    published.status = ItemStatus.PUBLISHED
    published.save(update_fields=["status"])
    changed = MOODLE4.replace(b"A covering index with INCLUDE", b"A covering index (INCLUDE)")
    report = bank_import_apply(name="moodle4_export.xml", data=changed, author=instructor)
    rows = {q.name: q for q in report.questions}
    assert rows["Index-only scans"].action == "update"
    published.refresh_from_db()
    assert published.current_version.number == 2 and published.status == ItemStatus.PUBLISHED
    # Without its idnumber, the slug comes from the name: the same content is recognised as
    # unchanged, and different content never overwrites the item but gets a slug of its own.
    nameless = b"<idnumber>index-only-scans</idnumber>", b"<idnumber></idnumber>"
    report = bank_import_plan(name="again.xml", data=changed.replace(*nameless))
    rows = {q.name: q for q in report.questions}
    assert (rows["Index-only scans"].action, rows["Index-only scans"].slug) == (
        "unchanged",
        "index-only-scans",
    )
    report = bank_import_plan(name="again.xml", data=MOODLE4.replace(*nameless))
    rows = {q.name: q for q in report.questions}
    assert (rows["Index-only scans"].action, rows["Index-only scans"].slug) == (
        "create",
        "index-only-scans-2",
    )


def test_an_unmapped_or_wrongly_mapped_category_skips_its_questions(roadmap: Any) -> None:
    path = "$course$/top/Default for Backend Engineering 101/Databases/Indexing"
    report = bank_import_plan(name="m.xml", data=MOODLE4, category_map={path: ""})
    skipped = [q for q in report.questions if q.category == path]
    assert [q.action for q in skipped] == ["skip", "skip"]
    assert skipped[0].reasons == [f"its category {path!r} is not mapped to a stage and topic"]
    report = bank_import_plan(name="m.xml", data=MOODLE4, category_map={path: "3/nope"})
    assert report.categories[0].problem == "'3/nope' is not a topic of the roadmap"
    report = bank_import_plan(name="m.xml", data=MOODLE4, category_map={path: "5/jwt"})
    assert report.categories[0].target == "5/jwt" and not report.categories[0].guessed
    assert {q.slug for q in report.questions if q.category == path} == {
        "composite-index-column-order",
        "index-only-scans",
    }


def test_a_question_the_bank_rules_refuse_is_skipped_with_the_rules_words(roadmap: Any) -> None:
    gift = b"$CATEGORY: databases/indexing\n\n::Seven::Pick one{=a ~b ~c ~d ~e ~f ~g####E.}\n"
    [row] = bank_import_plan(name="q.gift", data=gift).questions
    assert row.action == "skip"
    assert row.reasons == ["'choices' must be a list of 2 to 6 choices"]
    bare = b"$CATEGORY: databases/indexing\n\n::Bare::429 is a client error.{T}\n"
    [row] = bank_import_plan(name="q.gift", data=bare).questions
    assert row.reasons == ["'explanation' is required: it is what the learner reads at review"]


def test_a_failure_part_way_writes_nothing(
    roadmap: Any, instructor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = transfer.item_version_create

    def fail_on_the_third(**kwargs: Any) -> Any:
        calls.append(kwargs["item"].slug)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(transfer, "item_version_create", fail_on_the_third)
    with pytest.raises(RuntimeError):
        bank_import_apply(name="moodle4_export.xml", data=MOODLE4, author=instructor)
    assert len(calls) == 3
    assert not Item.objects.exists() and not ItemVersion.objects.exists()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the file is empty"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><quiz/>', "declares a DTD"),
        ("::T::caf\xe9{T}".encode("latin-1"), "not valid UTF-8"),
    ],
)
def test_a_refused_file_reports_why_and_nothing_is_written(
    roadmap: Any, data: bytes, problem: str
) -> None:
    report = bank_import_plan(name="bank.xml" if b"<" in data else "bank.gift", data=data)
    assert problem in report.problems[0]
    with pytest.raises(ImportRefused, match=problem.replace("(", r"\(")):
        bank_import_apply(name="bank.xml" if b"<" in data else "bank.gift", data=data)
    assert not Item.objects.exists()


def test_a_file_over_the_size_limit_is_refused(roadmap: Any, settings: Any) -> None:
    settings.BANK_IMPORT_MAX_BYTES = 1000
    report = bank_import_plan(name="moodle4_export.xml", data=MOODLE4)
    assert report.problems == [
        f"the file is {len(MOODLE4):,} bytes; the limit is 1,000 (BANK_IMPORT_MAX_BYTES): "
        "split it and import the parts"
    ]
    assert report.questions == []


def test_gift_imports_with_its_ids_and_skips(roadmap: Any) -> None:
    report = bank_import_plan(
        name="quirks.gift",
        data=GIFT,
        category_map={"$course$/top/API design/Rate limiting": "2/rate-limiting"},
    )
    assert report.summary() == {"create": 10, "update": 0, "unchanged": 0, "skip": 6}
    assert "rl-window-seconds" in {q.slug for q in report.questions}
    rows = {q.name: q for q in report.questions}
    assert rows["No explanation"].reasons == [
        "'explanation' is required: it is what the learner reads at review"
    ]


def test_a_yaml_bank_file_gets_the_same_dry_run(roadmap: Any) -> None:
    data = (BANK / "stage-05.yaml").read_bytes()
    report = bank_import_plan(name="stage-05.yaml", data=data)
    assert report.format == "yaml" and not report.problems
    assert report.summary()["create"] == len(report.questions) > 20
    assert not Item.objects.exists()
    bad = data.replace(b"topic: jwt", b"topic: nope", 1)
    report = bank_import_plan(name="stage-05.yaml", data=bad)
    assert "'topic' 'nope' is not a topic of this stage" in report.problems[0]
    assert report.problems[0].startswith("stage-05.yaml:")


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["moodle-xml", "gift"])
def test_a_stage_exported_and_imported_again_is_unchanged(roadmap: Any, fmt: str) -> None:
    bank_load(paths=[BANK / "stage-04.yaml"])
    stage = Stage.objects.get(number=4)
    items = export_items(stage=stage)
    text = export_moodle_xml(items) if fmt == "moodle-xml" else export_gift(items)
    report = bank_import_plan(name="stage-04", data=text.encode(), fmt=fmt)
    summary = report.summary()
    ordering = Item.objects.filter(stage=stage, type="ordering").count()
    challenges = sum(1 for i in items if i.type in ("code", "sql"))
    assert summary["create"] == summary["update"] == summary["skip"] == 0
    assert summary["unchanged"] == len(items) - challenges - (ordering if fmt == "gift" else 0)
    # Each category maps back to its own topic by itself.
    assert all(c.target.startswith("4/") and c.guessed for c in report.categories)
