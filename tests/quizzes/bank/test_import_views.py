"""The import page: upload, dry run, mapping, confirm; and the Moodle XML and GIFT exports."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from quizzes.models import Item, ItemStatus
from tests.factories import UserFactory
from tests.samples import SINGLE, TRUE_FALSE, load_sample_items

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
MOODLE4 = (FIXTURES / "moodle4_export.xml").read_bytes()
INDEXING = "$course$/top/Default for Backend Engineering 101/Databases/Indexing"


@pytest.fixture
def author(instructor: Any, private_cache: Any, roadmap: Any) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


def text(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def field(response: Any, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', response.content.decode())
    assert match, name
    return unescape(match.group(1))


def upload(client: Client, data: bytes = MOODLE4, name: str = "bank.xml", **extra: Any) -> Any:
    return client.post(
        "/author/import", {"bank": SimpleUploadedFile(name, data), "action": "upload", **extra}
    )


def confirm_data(response: Any, **mapping: str) -> dict[str, str]:
    data = {
        "upload": field(response, "upload"),
        "format": field(response, "format"),
        "previewed": field(response, "previewed"),
        "action": "confirm",
    }
    selected = re.findall(
        r'<select id="(map-\d+)" name="map-\d+">.*?</select>', response.content.decode(), re.S
    )
    for name in selected:
        block = re.search(rf'name="{name}">(.*?)</select>', response.content.decode(), re.S)
        chosen = re.search(r'<option value="([^"]*)" selected>', block.group(1)) if block else None
        data[name] = chosen.group(1) if chosen else ""
    data.update(mapping)
    return data


def test_upload_shows_the_dry_run_and_confirming_imports_it(author: Client) -> None:
    response = upload(author)
    assert response.status_code == 200
    page = text(response)
    assert "Dry run: bank.xml" in page
    assert "7 to create, 0 to update, 0 unchanged, 5 skipped." in page
    assert "essay questions are marked by hand" in page
    assert "image 'index diagram.png' (embedded in the file) is not imported" in page
    assert "guessed" in page
    assert not Item.objects.exists()  # nothing is written before the confirmation

    done = author.post("/author/import", confirm_data(response), follow=True)
    assert done.redirect_chain[-1][0] == "/author/items/"
    assert "Imported bank.xml: 7 created (as drafts), 0 updated, 0 unchanged, 5 skipped." in text(
        done
    )
    assert Item.objects.filter(status=ItemStatus.DRAFT).count() == 7
    # The staged upload is gone: confirming twice imports nothing more.
    again = author.post("/author/import", confirm_data(response))
    assert again.status_code == 400
    assert "the upload has expired" in text(again)


def test_the_mapping_is_chosen_on_the_page_and_must_be_reviewed_before_confirming(
    author: Client,
) -> None:
    response = upload(author)
    data = confirm_data(response, **{"map-0": ""})  # the Indexing category: not imported
    refused = author.post("/author/import", data)
    assert refused.status_code == 400
    assert "The category mapping changed: review the new report, then confirm." in text(refused)
    assert not Item.objects.exists()

    preview = author.post("/author/import", {**data, "action": "preview"})
    assert preview.status_code == 200
    assert "5 to create, 0 to update, 0 unchanged, 7 skipped." in text(preview)
    assert f"its category '{INDEXING}' is not mapped to a stage and topic" in text(preview)
    assert json.loads(field(preview, "previewed"))[INDEXING] == ""
    author.post("/author/import", confirm_data(preview))
    assert Item.objects.count() == 5
    assert not Item.objects.filter(slug="index-only-scans").exists()


def test_another_instructor_cannot_confirm_someone_elses_upload(author: Client) -> None:
    response = upload(author)
    other = Client()
    other.force_login(UserFactory(role="instructor"))
    refused = other.post("/author/import", confirm_data(response))
    assert refused.status_code == 400
    assert "the upload has expired" in text(refused)
    forged = author.post("/author/import", {**confirm_data(response), "upload": "0" * 64})
    assert forged.status_code == 400
    assert not Item.objects.exists()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaa">]><quiz>&a;</quiz>',
            "bomb.xml",
            "the file declares a DTD",
        ),
        (
            b"<quiz><question></quiz>",
            "broken.xml",
            "line 1, column 19: the XML is broken (mismatched tag)",
        ),
        ("::Q::caf\xe9{T}".encode("latin-1"), "latin.gift", "line 1: the file is not valid UTF-8"),
    ],
)
def test_a_malformed_file_is_refused_with_a_precise_report(
    author: Client, data: bytes, name: str, message: str
) -> None:
    response = upload(author, data, name)
    assert response.status_code == 400
    assert "The file is refused; nothing from it can be imported:" in text(response)
    assert message in text(response)
    assert "Import 1 question" not in text(response)
    assert not Item.objects.exists()


def test_a_file_over_the_limit_is_refused_before_it_is_read(author: Client, settings: Any) -> None:
    settings.BANK_IMPORT_MAX_BYTES = 100
    response = upload(author)
    assert response.status_code == 400
    assert f"The file is {len(MOODLE4):,} bytes; the limit is 100." in text(response)


def test_the_format_can_be_forced(author: Client) -> None:
    response = upload(author, b"::Q::Is it?{T####Because.}", "notes.xml", format="gift")
    assert response.status_code == 200
    assert "gift" in text(response) and "0 to create" in text(response)  # no category mapped


def test_a_yaml_file_gets_a_dry_run_then_loads(author: Client, topic: Any) -> None:
    import yaml

    bank = yaml.safe_dump({"stage": topic.stage.number, "items": [
        {**TRUE_FALSE, "slug": "ok-one", "topic": topic.slug, "difficulty": 1, "explanation": "E."},
    ]})  # fmt: skip
    response = upload(author, bank.encode(), "stage-x.yaml")
    assert "1 to create" in text(response) and not Item.objects.exists()
    author.post("/author/import", confirm_data(response))
    assert Item.objects.get(slug="ok-one").status == ItemStatus.PUBLISHED


def test_exports_download_moodle_xml_and_gift(author: Client, topic: Any) -> None:
    load_sample_items(topic.stage, topic.slug, [SINGLE, TRUE_FALSE])
    number = topic.stage.number
    xml = author.get(f"/author/export/stage-{number}.xml")
    assert xml.status_code == 200
    assert xml["Content-Type"] == "application/xml; charset=utf-8"
    assert xml["Content-Disposition"] == f'attachment; filename="stage-{number:02d}.xml"'
    assert xml.content.count(b'<question type="') == 3  # a category and two questions
    gift = author.get(f"/author/export/stage-{number}.gift")
    assert gift["Content-Disposition"] == f'attachment; filename="stage-{number:02d}.gift"'
    assert f"$CATEGORY: $course$/top/{topic.stage.slug}/{topic.slug}" in gift.content.decode()

    selection = author.get(
        "/author/export/selection", {"format": "gift", "items": f"t-tf, {SINGLE['slug']}"}
    )
    assert selection.status_code == 200
    assert selection.content.decode().count("// [id:") == 2
    one = author.get("/author/export/selection", {"format": "moodle-xml", "item": "t-tf"})
    assert one.content.count(b"<idnumber>") == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"format": "yaml"}, "Choose Moodle XML or GIFT."),
        ({"stage": "999"}, "There is no stage '999'."),
        ({"stage": "99999999999999999999"}, "There is no stage '9999999999'."),
        ({"topic": "jwt"}, "Choose the topic's stage too."),
        ({"items": "no-such-item"}, "No item matches this selection."),
    ],
)
def test_a_bad_selection_is_a_400_with_its_reason(
    author: Client, query: dict[str, str], message: str
) -> None:
    response = author.get("/author/export/selection", query)
    assert response.status_code == 400
    assert message in text(response)


def test_learners_get_403_on_every_import_and_export_url(learner: Any, roadmap: Any) -> None:
    client = Client()
    client.force_login(learner)
    for url in [
        "/author/import",
        "/author/export/stage-3.xml",
        "/author/export/stage-3.gift",
        "/author/export/selection?format=gift&stage=3",
    ]:
        assert client.get(url).status_code == 403, url
    response = client.post(
        "/author/import", {"bank": SimpleUploadedFile("b.xml", MOODLE4), "action": "upload"}
    )
    assert response.status_code == 403
    assert not Item.objects.exists()
