"""Accounts in a real browser: sign-up with email verification, profile, role management."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from accounts.models import RoleChange, User
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("transactional_db", "private_cache"),
]

PASSWORD = "a-much-longer-passphrase-42"


def test_sign_up_verify_email_and_arrive_home(
    page: Page, live_server: Any, mailoutbox: list[Any], axe_violations: Any
) -> None:
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Sign up").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your account")
    assert axe_violations(page) == []
    page.get_by_label("Email").fill("maria@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify your email address")

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mailoutbox[-1].body)
    assert link, mailoutbox[-1].body
    page.goto(link.group(0))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("maria@example.com")
    assert User.objects.get(email="maria@example.com").role == "learner"


def test_login_page_is_accessible_and_wrong_password_is_explained(
    page: Page, live_server: Any, axe_violations: Any
) -> None:
    user = UserFactory()
    page.goto(f"{live_server.url}/accounts/login/")
    assert axe_violations(page) == []
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("are not correct")
    assert axe_violations(page) == []


def test_profile_edit_and_account_deletion(
    page: Page, live_server: Any, login: Any, axe_violations: Any
) -> None:
    user = UserFactory(display_name="Old name")
    login(page, live_server, user)
    page.get_by_role("link", name=user.email).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    assert axe_violations(page) == []
    page.get_by_label("Display name").fill("Ada")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_contain_text("Your profile was saved.")
    assert User.objects.get(pk=user.pk).display_name == "Ada"

    page.get_by_role("link", name="Delete my account…").click()
    field = page.get_by_label("Type your email address or your password to confirm")
    field.fill("not-me@example.com")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was deleted.")
    assert User.objects.filter(pk=user.pk).exists()
    field.fill(user.email)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account was deleted.")
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()
    assert not User.objects.filter(pk=user.pk).exists()


def test_api_tokens_are_created_shown_once_and_revoked(
    page: Page, live_server: Any, login: Any, axe_violations: Any
) -> None:
    user = UserFactory()
    login(page, live_server, user)
    page.goto(f"{live_server.url}/accounts/profile/")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    assert axe_violations(page) == []
    page.get_by_label("Name").fill("CI pipeline")
    page.get_by_label("Scope").select_option("learner")
    page.get_by_role("button", name="Create token").click()
    shown = page.locator("[data-new-token]")
    expect(shown).to_have_text(re.compile(r"^skm_"))
    secret = shown.inner_text()
    assert axe_violations(page) == []
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    assert client.get("/api/v1/roadmap/").status_code == 200
    # Shown once: the list shows the token's start, never the token again.
    page.reload()
    expect(page.get_by_role("cell", name="CI pipeline", exact=True)).to_be_visible()
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke CI pipeline").click()
    expect(page.get_by_role("status")).to_contain_text("is revoked")
    assert client.get("/api/v1/roadmap/").status_code == 401


def test_admin_changes_a_role_and_cannot_demote_themselves(
    page: Page, live_server: Any, login: Any, axe_violations: Any
) -> None:
    admin = UserFactory(role="admin", email="boss@example.com")
    learner = UserFactory(email="pupil@example.com")
    UserFactory(email="other@example.com")
    login(page, live_server, admin)
    page.get_by_role("link", name="Roles").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Roles")
    assert axe_violations(page) == []

    page.get_by_label("Search by email").fill("pupil")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr", has_text="other@example.com")).to_have_count(0)
    page.get_by_label("New role for pupil@example.com").select_option("instructor")
    page.get_by_role("button", name="Change role of pupil@example.com").click()
    expect(page.get_by_role("status")).to_contain_text(
        "pupil@example.com is now instructor (was learner)."
    )
    expect(page.locator("#role-audit")).to_contain_text("pupil@example.com")
    assert User.objects.get(pk=learner.pk).role == "instructor"

    page.get_by_role("link", name="Show everyone").click()
    page.get_by_label("New role for boss@example.com").select_option("learner")
    page.get_by_role("button", name="Change role of boss@example.com").click()
    expect(page.get_by_role("alert")).to_contain_text("You cannot change your own role")
    assert User.objects.get(pk=admin.pk).role == "admin"
    assert RoleChange.objects.filter(changed_by=admin).count() == 1
