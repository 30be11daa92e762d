"""The item form: one per item type, errors next to their fields, YAML as the advanced mode
(round-tripping with the form), "test this answer", and rows added, removed and moved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from quizzes.bank.authoring import parse_item_yaml, to_yaml
from quizzes.bank.forms import ItemAuthoring
from quizzes.bank.loader import bank_files, content_hash, read_bank_file, topics_by_stage
from quizzes.itemtypes import all_handlers, handler_for
from quizzes.models import Item, ItemStatus, ItemVersion, Stage
from tests.quizzes.bank.authoring_forms import form_post_data
from tests.samples import (
    COMMON,
    MATCHING,
    MULTIPLE,
    NUMERIC,
    OBJECTIVE,
    ORDERING,
    SHORT,
    SINGLE,
    TRUE_FALSE,
    load_sample_items,
)

pytestmark = pytest.mark.django_db
BANK = Path(__file__).resolve().parents[3] / "fixtures" / "questions"


@pytest.fixture
def author(instructor: Any) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


def new_url(topic: Any, spec: dict[str, Any]) -> str:
    return f"/author/items/new?stage={topic.stage.number}&type={spec['type']}"


def shown(topic: Any, spec: dict[str, Any]) -> ItemAuthoring:
    """The form as it shows the sample ``spec`` (a valid item of its type)."""
    entry = {**COMMON, "topic": topic.slug, **spec}
    return ItemAuthoring(
        handler=handler_for(spec["type"]), stage=topic.stage, item=None, entry=entry
    )


def post(author: Client, topic: Any, spec: dict[str, Any], **changes: Any) -> Any:
    data = form_post_data(shown(topic, spec), **changes)
    data.setdefault("op", "save")
    return author.post(new_url(topic, spec), data)


# --- round trip -----------------------------------------------------------------------------
@pytest.mark.slow  # the whole objective bank, twice through the form
def test_every_objective_bank_item_round_trips_through_the_form_and_yaml(roadmap: Any) -> None:
    """form → entry → YAML → form gives the same item, for every objective item of the
    bank: what the form shows, posted back unchanged, is the item (same content hash: an
    unchanged save makes no new version)."""
    checked = 0
    for path in sorted(BANK.glob("stage-*.yaml")):
        bank = yaml.safe_load(path.read_text())
        stage = Stage.objects.get(number=bank["stage"])
        for entry in bank["items"]:
            handler = handler_for(entry["type"])
            if handler.needs_sandbox:
                continue
            first = ItemAuthoring(handler=handler, stage=stage, item=None, entry=entry)
            posted = ItemAuthoring(
                handler=handler, stage=stage, item=None, data=form_post_data(first)
            )
            from_form = posted.entry()
            assert from_form == entry, entry["slug"]
            again = parse_item_yaml(to_yaml(from_form))
            second = ItemAuthoring(handler=handler, stage=stage, item=None, entry=again)
            posted = ItemAuthoring(
                handler=handler, stage=stage, item=None, data=form_post_data(second)
            )
            assert posted.entry() == entry, entry["slug"]
            checked += 1
    assert checked > 500  # the whole objective bank, not a handful


@pytest.mark.slow  # every code challenge of the bank, in every language, twice through the form
def test_every_code_challenge_of_the_bank_round_trips_through_the_form_and_yaml(
    roadmap: Any,
) -> None:
    """Each code challenge as the loader reads it (its languages' files merged), shown in
    the form (never "edit it in YAML"), posted back unchanged, is the same entry; and so
    is its YAML, switched back to the form."""
    known = topics_by_stage()
    checked = 0
    for path in bank_files(BANK):
        bank = read_bank_file(path, topics_by_stage=known)
        stage = Stage.objects.get(number=bank.stage)
        for entry in bank.items:
            handler = handler_for(entry["type"])
            if not handler.language_files:
                continue
            first = ItemAuthoring(handler=handler, stage=stage, item=None, entry=entry)
            assert first.typed.unsupported is None, entry["slug"]
            posted = ItemAuthoring(
                handler=handler, stage=stage, item=None, data=form_post_data(first)
            )
            from_form = posted.entry()
            assert from_form == entry, entry["slug"]
            assert content_hash(from_form) == content_hash(entry)
            again = parse_item_yaml(to_yaml(from_form))
            second = ItemAuthoring(handler=handler, stage=stage, item=None, entry=again)
            posted = ItemAuthoring(
                handler=handler, stage=stage, item=None, data=form_post_data(second)
            )
            assert posted.entry() == entry, entry["slug"]
            checked += 1
    assert checked >= 20  # every code challenge of the bank, not a handful


def test_every_type_supplies_a_form() -> None:
    missing = [h.type for h in all_handlers() if h.authoring_form is None]
    assert missing == []


# --- a valid form per type ------------------------------------------------------------------
@pytest.mark.parametrize("spec", OBJECTIVE, ids=lambda s: s["type"])
def test_a_valid_form_creates_a_draft_of_its_type(
    author: Client, topic: Any, spec: dict[str, Any]
) -> None:
    response = post(author, topic, spec)
    assert response.status_code == 302, response.content.decode()[:2000]
    item = Item.objects.get(slug=spec["slug"])
    assert (item.type, item.status) == (spec["type"], ItemStatus.DRAFT)
    version = item.current_version
    assert version is not None
    assert version.source == {**COMMON, "topic": topic.slug, **spec}


def test_save_and_publish_publishes_an_objective_item(author: Client, topic: Any) -> None:
    response = post(author, topic, TRUE_FALSE, op="publish")
    assert response.status_code == 302
    assert Item.objects.get(slug=TRUE_FALSE["slug"]).status == ItemStatus.PUBLISHED


def test_editing_through_the_form_adds_a_version(author: Client, topic: Any) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [NUMERIC])
    page = author.get(f"/author/items/{item.slug}/edit")
    assert page.status_code == 200
    authoring = page.context["authoring"]
    unchanged = author.post(f"/author/items/{item.slug}/edit", form_post_data(authoring, op="save"))
    assert unchanged.status_code == 302
    assert ItemVersion.objects.filter(item=item).count() == 1  # same content: no new version
    changed = author.post(
        f"/author/items/{item.slug}/edit",
        form_post_data(authoring, op="save", **{"t-answer": "201"}),
    )
    assert changed.status_code == 302
    item.refresh_from_db()
    assert item.current_version.number == 2
    assert item.current_version.data["answer"] == 201


# --- each error on its field ----------------------------------------------------------------
def _errors(response: Any, where: str) -> list[str]:
    """The errors shown at ``where``: a common field (``c:title``), a field of the type's
    form (``t:tolerance``), a whole row set (``rows:choices``) or one row's field
    (``rows:choices:0:text``)."""
    authoring = response.context["authoring"]
    kind, _, rest = where.partition(":")
    if kind == "c":
        return list(authoring.common.errors.get(rest, []))
    if kind == "t":
        return list(authoring.typed.form.errors.get(rest, []))
    name, _, row = rest.partition(":")
    formset = authoring.typed.formsets[name]
    if not row:
        return list(formset.non_form_errors())
    index, field = row.split(":")
    return list(formset.forms[int(index)].errors.get(field, []))


CHOICES_NONE_CORRECT = {"choices-0-correct": None, "choices-1-correct": None}
BAD_FORMS = [
    pytest.param(
        SINGLE,
        CHOICES_NONE_CORRECT,
        "rows:choices",
        "Mark exactly one choice as correct (now 0).",
        id="no correct choice",
    ),
    pytest.param(
        SINGLE,
        {"choices-1-correct": "on", "choices-2-correct": "on"},
        "rows:choices",
        "Mark exactly one choice as correct (now 2).",
        id="two correct in single",
    ),
    pytest.param(
        SINGLE,
        {"choices-2-text": "post"},
        "rows:choices",
        "Two choices have the same text.",
        id="duplicate choices",
    ),
    pytest.param(
        SINGLE,
        {"choices-TOTAL_FORMS": "1"},
        "rows:choices",
        "Give 2 to 6 choices.",
        id="one choice",
    ),
    pytest.param(
        MULTIPLE,
        {"choices-1-correct": None},
        "rows:choices",
        "Mark at least two choices as correct and leave at least one wrong (now 1 correct of 4).",
        id="one correct in multiple",
    ),
    pytest.param(
        TRUE_FALSE,
        {"t-answer": None},
        "t:answer",
        "Say whether the statement is true or false.",
        id="true/false unanswered",
    ),
    pytest.param(
        NUMERIC,
        {"t-tolerance": "-1"},
        "t:tolerance",
        "The tolerance cannot be negative.",
        id="negative tolerance",
    ),
    pytest.param(
        NUMERIC,
        {"t-tolerance": ""},
        "t:tolerance",
        "Give a tolerance (0 for an exact answer).",
        id="no tolerance",
    ),
    pytest.param(
        NUMERIC,
        {"t-answer": "two hundred"},
        "t:answer",
        "Enter a number, such as 42 or 0.25.",
        id="answer not a number",
    ),
    pytest.param(NUMERIC, {"t-unit": "req; drop"}, "t:unit", None, id="unit a learner cannot type"),
    pytest.param(
        NUMERIC,
        {"t-samples_accept": "200\n210", "t-samples_reject": "199"},
        "t:samples_accept",
        "'210' is not accepted (it scores 0).",
        id="sample not accepted",
    ),
    pytest.param(SHORT, {"t-pattern": "(retry"}, "t:pattern", None, id="invalid regex"),
    pytest.param(
        SHORT,
        {"t-pattern": "retry-later"},
        "t:pattern",
        "The pattern does not match the accepted answer 'Retry-After'.",
        id="answer unreachable by the pattern",
    ),
    pytest.param(
        SHORT,
        {"t-pattern": "", "accepted-0-text": ""},
        "rows:accepted",
        "Give at least one accepted answer, or a pattern.",
        id="nothing accepted",
    ),
    pytest.param(
        ORDERING,
        {"sequence-TOTAL_FORMS": "2"},
        "rows:sequence",
        "Give 3 to 8 entries.",
        id="two entries",
    ),
    pytest.param(
        ORDERING,
        {"sequence-2-text": "serverhello"},
        "rows:sequence",
        "Two entries have the same text.",
        id="duplicate entries",
    ),
    pytest.param(
        MATCHING,
        {"pairs-2-right": "forbidden"},
        "rows:pairs",
        "Two pairs share a left or a right entry.",
        id="duplicate match",
    ),
    pytest.param(
        MATCHING,
        {"pairs-2-right": ""},
        "rows:pairs",
        "Fill in both sides of every pair.",
        id="half a pair",
    ),
    pytest.param(SINGLE, {"c-title": ""}, "c:title", "Write a title.", id="no title"),
    pytest.param(
        SINGLE,
        {"c-explanation": ""},
        "c:explanation",
        "Write the explanation learners read at review.",
        id="no explanation",
    ),
    pytest.param(SINGLE, {"c-slug": "Not A Slug"}, "c:slug", None, id="bad slug"),
    pytest.param(
        SINGLE,
        {"c-difficulty": ""},
        "c:difficulty",
        "Choose a difficulty from 1 to 5.",
        id="no difficulty",
    ),
    pytest.param(
        SINGLE, {"c-topic": ""}, "c:topic", "Choose a topic of this stage.", id="no topic"
    ),
]


@pytest.mark.parametrize(("spec", "changes", "where", "message"), BAD_FORMS)
def test_each_error_is_shown_on_its_field_and_nothing_is_saved(
    author: Client,
    topic: Any,
    spec: dict[str, Any],
    changes: dict[str, Any],
    where: str,
    message: str | None,
) -> None:
    response = post(author, topic, spec, **changes)
    assert response.status_code == 400
    shown_errors = _errors(response, where)
    assert shown_errors, f"no error at {where}: {response.context['authoring'].non_field_errors}"
    if message is not None:
        assert message in shown_errors
    assert message is None or message in response.content.decode().replace("&#x27;", "'")
    assert not Item.objects.filter(slug=spec["slug"]).exists()


def test_an_existing_slug_is_refused_on_the_slug(author: Client, topic: Any) -> None:
    load_sample_items(topic.stage, topic.slug, [SINGLE])
    response = post(author, topic, SINGLE)
    assert response.status_code == 400
    assert _errors(response, "c:slug") == ["An item with this slug already exists."]
    assert Item.objects.filter(slug=SINGLE["slug"]).count() == 1


# --- test this answer -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "typed", "verdict"),
    [
        (NUMERIC, "200 requests", "is accepted: full marks"),
        (NUMERIC, "201", "is not accepted: it scores 0"),
        (NUMERIC, "two hundred", "cannot be scored: Enter a number"),
        (SHORT, "`the Retry-After header`.", "is accepted: full marks"),
        (SHORT, "Retry-Later", "is not accepted"),
    ],
)
def test_test_this_answer_scores_with_the_types_own_scoring(
    author: Client, topic: Any, spec: dict[str, Any], typed: str, verdict: str
) -> None:
    response = post(
        author, topic, spec, op="test-answer", test_answer=typed, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert verdict in response.content.decode().replace("&quot;", '"')
    assert not Item.objects.exists()


def test_testing_an_answer_against_a_broken_key_names_the_problem(
    author: Client, topic: Any
) -> None:
    response = post(
        author, topic, NUMERIC, op="test-answer", test_answer="200", **{"t-tolerance": "-1"}
    )
    assert "Fix the item first" in response.content.decode()
    assert _errors(response, "t:tolerance") == ["The tolerance cannot be negative."]


# --- rows -----------------------------------------------------------------------------------
def _texts(response: Any, name: str, field: str) -> list[Any]:
    return [f[field].value() for f in response.context["authoring"].typed.formsets[name].forms]


def test_rows_are_added_removed_and_moved_without_saving(author: Client, topic: Any) -> None:
    added = post(author, topic, ORDERING, op="add:sequence")
    assert added.status_code == 200
    assert _texts(added, "sequence", "text") == ["ClientHello", "ServerHello", "Finished", None]
    moved = post(author, topic, ORDERING, op="up:sequence:2")
    assert _texts(moved, "sequence", "text") == ["ClientHello", "Finished", "ServerHello"]
    removed = post(author, topic, ORDERING, op="remove:sequence:0")
    assert _texts(removed, "sequence", "text") == ["ServerHello", "Finished"]
    # What was typed in the other fields stays as it was.
    assert removed.context["authoring"].common["title"].value() == ORDERING["title"]
    assert not Item.objects.exists()


def test_a_row_op_out_of_range_changes_nothing(author: Client, topic: Any) -> None:
    response = post(author, topic, ORDERING, op="down:sequence:2")
    assert _texts(response, "sequence", "text") == ["ClientHello", "ServerHello", "Finished"]
    response = post(author, topic, ORDERING, op="remove:nonsense:99")
    assert response.status_code == 400
    assert "is no action of this page" in response.content.decode()
    assert not Item.objects.exists()


# --- YAML mode ------------------------------------------------------------------------------
def test_switching_to_yaml_and_back_keeps_what_was_typed(author: Client, topic: Any) -> None:
    to_yaml_page = post(author, topic, MATCHING, op="to-yaml")
    assert to_yaml_page.status_code == 200
    source = to_yaml_page.context["source"]
    assert parse_item_yaml(source) == {**COMMON, "topic": topic.slug, **MATCHING}
    edited = source.replace("Forbidden", "Authenticated, not allowed")
    back = author.post(
        new_url(topic, MATCHING), {"mode": "yaml", "op": "to-form", "source": edited}
    )
    assert back.status_code == 200
    assert "Authenticated, not allowed" in _texts(back, "pairs", "right")
    saved = author.post(new_url(topic, MATCHING), {"mode": "yaml", "op": "save", "source": edited})
    assert saved.status_code == 302
    assert Item.objects.get(slug=MATCHING["slug"]).status == ItemStatus.DRAFT


def test_yaml_of_another_type_cannot_switch_to_this_form(author: Client, topic: Any) -> None:
    source = to_yaml({**COMMON, "topic": topic.slug, **SINGLE})
    response = author.post(
        new_url(topic, TRUE_FALSE), {"mode": "yaml", "op": "to-form", "source": source}
    )
    assert response.status_code == 400
    assert "the form edits a True / false item" in response.content.decode()


def test_the_new_item_page_offers_every_type(author: Client, roadmap: Any) -> None:
    response = author.get("/author/items/new")
    assert response.status_code == 200
    for handler in all_handlers():
        assert handler.label in response.content.decode().replace("&amp;", "&")
