"""Personal API tokens: shown once, stored hashed, scoped, expiring, revocable; token
requests need no CSRF token while session requests keep theirs."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import api_token_authenticate, api_token_create
from tests.api.conftest import V1, problem, token_client, token_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_a_digest_and_shown_once(learner: Any) -> None:
    client = Client()
    client.force_login(learner)
    created = client.post(
        "/accounts/profile/tokens/",
        {"action": "create", "name": "CI pipeline", "scope": "learner", "expires_in_days": "30"},
    )
    assert created.status_code == 302
    response = client.get(created["Location"])
    assert "no-store" in response["Cache-Control"]
    secret = response.context["new_secret"]
    assert secret.startswith("skm_") and secret in response.content.decode()
    token = ApiToken.objects.get(user=learner)
    assert (token.name, token.scope) == ("CI pipeline", "learner")
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.values_list(flat=False).get(pk=token.pk)]
    assert not any(secret in value for value in stored)
    assert 29 <= (token.expires_at - timezone.now()).days <= 30
    # Listed again, the page shows its start only.
    listing = client.get("/accounts/profile/tokens/").content.decode()
    assert "CI pipeline" in listing and f"skm_{token.prefix}" in listing
    assert secret not in listing
    # The secret works, as a bearer token, without a session or CSRF token.
    me = token_client(secret).get(f"{V1}/tokens/")
    assert me.status_code == 200 and me.json()["results"][0]["name"] == "CI pipeline"


def test_the_profile_links_to_the_token_page(learner: Any) -> None:
    client = Client()
    client.force_login(learner)
    assert 'href="/accounts/profile/tokens/"' in client.get("/accounts/profile/").content.decode()


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"name": "", "scope": "read", "expires_in_days": "30"}, "name"),
        ({"name": "x", "scope": "root", "expires_in_days": "30"}, "scope"),
        ({"name": "x", "scope": "read", "expires_in_days": "9999"}, "expires_in_days"),
        ({"name": "bell\x07", "scope": "read", "expires_in_days": "30"}, "name"),
    ],
)
def test_a_bad_token_form_says_why_and_creates_nothing(
    learner: Any, form: dict[str, str], field: str
) -> None:
    client = Client()
    client.force_login(learner)
    response = client.post("/accounts/profile/tokens/", {"action": "create", **form})
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not ApiToken.objects.exists()


def test_revoking_on_the_page_stops_the_token_at_once(learner: Any) -> None:
    secret = token_for(learner, "read")
    token = ApiToken.objects.get(user=learner)
    assert token_client(secret).get(f"{V1}/roadmap/").status_code == 200
    client = Client()
    client.force_login(learner)
    response = client.post("/accounts/profile/tokens/", {"action": "revoke", "token": token.pk})
    assert response.status_code == 302
    problem(token_client(secret).get(f"{V1}/roadmap/"), 401)
    # Someone else's token cannot be revoked from your page.
    other = api_token_create(user=UserFactory(), name="theirs", scope="read", days=1).token
    client.post("/accounts/profile/tokens/", {"action": "revoke", "token": other.pk})
    other.refresh_from_db()
    assert other.revoked_at is None


def test_tokens_through_the_api_create_list_revoke(learner: Any) -> None:
    client = token_client(token_for(learner, "learner"))
    created = client.post(
        f"{V1}/tokens/",
        {"name": "LMS", "scope": "read", "expires_in_days": 7},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("skm_") and body["scope"] == "read" and body["active"]
    listed = client.get(f"{V1}/tokens/").json()
    assert listed["count"] == 2 and all("token" not in t for t in listed["results"])
    assert client.delete(f"{V1}/tokens/{body['id']}").status_code == 204
    assert client.get(f"{V1}/tokens/{body['id']}").json()["active"] is False
    problem(token_client(body["token"]).get(f"{V1}/roadmap/"), 401)


def test_a_token_never_makes_a_wider_or_longer_lived_token(learner: Any) -> None:
    client = token_client(token_for(learner, "learner", days=3))
    wider = client.post(
        f"{V1}/tokens/",
        {"name": "escalate", "scope": "instructor", "expires_in_days": 30},
        content_type="application/json",
    )
    body = problem(wider, 400)
    assert body["errors"][0]["field"] == "scope"
    longer = client.post(
        f"{V1}/tokens/",
        {"name": "longer", "scope": "read", "expires_in_days": 300},
        content_type="application/json",
    )
    assert longer.status_code == 201
    mine = ApiToken.objects.get(user=learner, name="tests")
    assert ApiToken.objects.get(name="longer").expires_at <= mine.expires_at
    # And a read-only token cannot create one at all: creating is a write.
    reader = token_client(token_for(learner, "read"))
    assert reader.get(f"{V1}/tokens/").status_code == 200
    problem(
        reader.post(
            f"{V1}/tokens/",
            {"name": "x", "scope": "read", "expires_in_days": 1},
            content_type="application/json",
        ),
        403,
    )


def test_another_accounts_token_is_a_404(learner: Any) -> None:
    other = api_token_create(user=UserFactory(), name="theirs", scope="read", days=1).token
    client = token_client(token_for(learner, "learner"))
    problem(client.get(f"{V1}/tokens/{other.pk}"), 404)
    problem(client.delete(f"{V1}/tokens/{other.pk}"), 404)
    other.refresh_from_db()
    assert other.revoked_at is None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer skm_00000000_nope",
        "Bearer nonsense",
        "Bearer",
        "Bearer a b",
        "Bearer skm_" + "x" * 200,
    ],
)
def test_a_bad_token_is_a_401_that_says_how_to_authenticate(learner: Any, header: str) -> None:
    response = Client().get(f"{V1}/roadmap/", HTTP_AUTHORIZATION=header)
    problem(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_no_credentials_is_a_401(db: None) -> None:
    response = Client().get(f"{V1}/attempts/")
    assert problem(response, 401)["title"] == "Unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_or_a_deactivated_account_is_refused(learner: Any) -> None:
    secret = token_for(learner, "read")
    client = token_client(secret)
    assert client.get(f"{V1}/roadmap/").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    problem(client.get(f"{V1}/roadmap/"), 401)
    ApiToken.objects.update(expires_at=timezone.now() + timedelta(days=1))
    learner.is_active = False
    learner.save(update_fields=["is_active"])
    assert api_token_authenticate(secret=secret) is None


def test_a_token_with_the_right_prefix_and_a_wrong_secret_is_refused(learner: Any) -> None:
    secret = token_for(learner, "read")
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    assert api_token_authenticate(secret=forged) is None
    problem(token_client(forged).get(f"{V1}/roadmap/"), 401)


def test_token_requests_need_no_csrf_but_session_requests_do(
    learner: Any, every_type_quiz: Any
) -> None:
    by_token = token_client(token_for(learner, "learner"))
    assert by_token.post(f"{V1}/quizzes/{every_type_quiz.slug}/attempts").status_code == 201
    session = Client(enforce_csrf_checks=True)
    session.force_login(UserFactory(role="learner"))
    refused = session.post(f"{V1}/quizzes/{every_type_quiz.slug}/attempts")
    assert "CSRF" in problem(refused, 403)["detail"]


@pytest.mark.parametrize(
    ("scope", "read", "learner_write", "author_write"),
    [
        ("read", 200, 403, 403),
        ("learner", 200, 201, 403),
        ("instructor", 200, 201, 400),
    ],
)
def test_a_tokens_scope_narrows_what_its_account_may_do(
    every_type_quiz: Any, scope: str, read: int, learner_write: int, author_write: int
) -> None:
    instructor = UserFactory(role="instructor")
    client = token_client(token_for(instructor, scope))
    assert client.get(f"{V1}/author/items/").status_code == read
    assert client.post(f"{V1}/quizzes/{every_type_quiz.slug}/attempts").status_code == (
        learner_write
    )
    # An empty item: the instructor scope gets as far as the input check.
    response = client.post(f"{V1}/author/items/", {}, content_type="application/json")
    assert response.status_code == author_write
    if author_write == 403:
        assert scope in response.json()["detail"]


def test_a_token_never_exceeds_its_account(learner: Any) -> None:
    client = token_client(token_for(learner, "instructor"))
    problem(client.get(f"{V1}/author/items/"), 403)
    problem(client.get(f"{V1}/users/"), 403)


def test_last_use_is_recorded(learner: Any) -> None:
    token_client(token_for(learner, "read")).get(f"{V1}/roadmap/")
    assert ApiToken.objects.get(user=learner).last_used_at is not None
