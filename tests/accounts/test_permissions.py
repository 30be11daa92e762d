"""Who may reach the accounts routes: anonymous, learner, instructor, admin.

The full matrix for every route is extended by later features; these are the rows
for the routes the accounts app owns.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"

# route, method, then the expected status for: anonymous, learner, instructor, admin.
# "login" means a redirect to the login page.
MATRIX = [
    ("/accounts/profile/", "get", ("login", 200, 200, 200)),
    ("/accounts/profile/delete/", "get", ("login", 200, 200, 200)),
    ("/manage/roles/", "get", ("login", 403, 403, 200)),
    ("/manage/roles/", "post", ("login", 403, 403, 400)),  # an empty form: 400
    ("/api/users/", "get", (403, 403, 403, 200)),
    ("/api/users/{learner}/role", "post", (403, 403, 403, 400)),  # no role given: 400
    ("/accounts/email/", "get", ("login", 200, 200, 200)),
    ("/accounts/2fa/", "get", ("login", 200, 200, 200)),
    ("/accounts/sessions/", "get", ("login", 200, 200, 200)),
    ("/accounts/3rdparty/", "get", ("login", 200, 200, 200)),
]
ROLES = ["anonymous", "learner", "instructor", "admin"]


@pytest.mark.parametrize(
    ("path", "method", "role", "expected"),
    [
        (path, method, role, expected[i])
        for path, method, expected in MATRIX
        for i, role in enumerate(ROLES)
    ],
)
def test_accounts_routes_permission_matrix(
    client: Client, path: str, method: str, role: str, expected: int | str
) -> None:
    target = UserFactory()
    if role != "anonymous":
        client.force_login(UserFactory(role=role))
    url = path.format(learner=target.pk)
    response = getattr(client, method)(url, content_type="application/json")
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN}?next=")
    else:
        assert response.status_code == expected
    assert target.role == "learner"
