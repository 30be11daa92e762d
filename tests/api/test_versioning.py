"""The unversioned paths of before v1 are aliases of their v1 routes until the sunset:
the same answers, with Deprecation, Sunset and a Link to the successor."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from config.api import LEGACY_DEPRECATED, LEGACY_SUNSET
from tests.api.conftest import V1

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/stages/", "/dashboard/", "/users/"])
def test_an_alias_answers_as_v1_does_and_names_its_successor(
    path: str, client_for: Any, roadmap: Any
) -> None:
    client = client_for("admin", scope="read")
    old = client.get(f"/api{path}")
    new_path = "/roadmap/" if path == "/stages/" else path
    new = client.get(V1 + new_path)
    assert old.status_code == new.status_code == 200
    assert old.json() == new.json()
    assert old["Deprecation"] == f"@{int(LEGACY_DEPRECATED.timestamp())}"
    assert (
        old["Sunset"]
        == "Tue, 01 Jun 2027 00:00:00 GMT"
        == LEGACY_SUNSET.strftime("%a, %d %b %Y %H:%M:%S GMT")
    )
    assert old["Link"] == f'<{V1}{new_path}>; rel="successor-version"'
    assert "Deprecation" not in new


def test_an_alias_refuses_as_v1_does(db: None) -> None:
    old = Client().post("/api/attempts/1/submit")
    assert old.status_code == 401 and old["Deprecation"]


def test_the_old_schema_and_docs_paths_move_permanently(db: None) -> None:
    assert Client().get("/api/schema/")["Location"] == "/api/v1/schema/"
    assert Client().get("/api/docs/").status_code == 301
