"""The permission matrix: for every route, what anonymous visitors, learners, instructors
and admins get. The test walks every URL pattern and fails on a route without a row;
parameterised routes are filled with ANOTHER learner's objects, so object-level checks
are exercised (404, not 403, so ids do not leak). Each cell (route, method, visitor) is
one test, and no visitor's request may change that learner's role."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import User
from accounts.tokens import api_token_create
from quizzes.assessments.services import attempt_start
from quizzes.bank.trial import trial_request
from quizzes.models import ItemReport, QuizPool
from quizzes.pipeline.submissions import submission_create
from tests.factories import QuizFactory, UserFactory
from tests.samples import PYTHON, TRUE_FALSE, load_sample_items

ROLES = ("anonymous", "learner", "instructor", "admin")

# Outcomes: 200 ok, "login" = redirect to the login page with ?next= back to the route,
# "restart" = redirect to the bare login page (no login in progress), "redirect" = any
# other redirect, or a status code. One column per role, in ROLES order.
LOGIN, RESTART, REDIRECT = "login", "restart", "redirect"
LOGIN_PATH = "/accounts/login/"
PUBLIC = (200, 200, 200, 200)
LEARNER_PAGE = (LOGIN, 200, 200, 200)
ACCOUNT_PAGE = (LOGIN, 200, 200, 200)
AUTHOR_PAGE = (LOGIN, 403, 200, 200)
ADMIN_PAGE = (LOGIN, 403, 403, 200)
API_LEARNER = (401, 200, 200, 200)
API_READ_OTHERS = (401, 404, 200, 200)  # another learner's: instructors may read it
API_NOT_YOURS = (401, 404, 404, 404)
API_AUTHOR = (401, 403, 200, 200)
API_AUTHOR_EMPTY = (401, 403, 400, 400)  # an empty body: 400
API_ADMIN = (401, 403, 403, 200)

# One row per route as written in the URLconf: outcomes per method checked.
MATRIX: dict[str, dict[str, tuple[Any, ...]]] = {
    # health and docs
    "healthz": {"get": PUBLIC},
    "readyz": {"get": PUBLIC},
    "status/workers": {"get": (503, 503, 503, 503)},  # no worker runs in this test
    # by network or token, not by role: the test client is loopback, an allowed network
    # (tests/ops/test_metrics.py refuses other networks and wrong tokens)
    "metrics": {"get": PUBLIC},
    "api/v1/schema/": {"get": PUBLIC},  # the API description, no data
    "api/v1/docs/": {"get": PUBLIC},
    "api/v1/redoc/": {"get": PUBLIC},
    # learner pages; the attempt belongs to another learner
    "": {"get": PUBLIC},
    "stages/<slug:slug>/": {"get": LEARNER_PAGE},
    "quizzes/<slug:slug>/": {"get": LEARNER_PAGE},
    "quizzes/<slug:slug>/start": {"post": (LOGIN, REDIRECT, REDIRECT, REDIRECT)},
    # the learner's own language: nothing of anyone else's (an empty form is a 400)
    "me/language": {"get": LEARNER_PAGE, "post": (LOGIN, 400, 400, 400)},
    "api/v1/me/language": {"get": API_LEARNER, "put": (401, 400, 400, 400)},
    "attempts/<int:attempt_id>/": {"get": (LOGIN, 404, 404, 404)},
    "attempts/<int:attempt_id>/check/<int:position>": {"post": (LOGIN, 404, 404, 404)},
    "attempts/<int:attempt_id>/next/<int:position>": {"post": (LOGIN, 404, 404, 404)},
    "attempts/<int:attempt_id>/submit": {"post": (LOGIN, 404, 404, 404)},
    "attempts/<int:attempt_id>/result": {"get": (LOGIN, 404, 200, 200)},
    "attempts/<int:attempt_id>/result/status": {"get": (LOGIN, 404, 200, 200)},
    "attempts/<int:attempt_id>/log": {"get": (LOGIN, 403, 200, 200)},
    "attempts/<int:attempt_id>/items/<int:position>/report": {"post": (LOGIN, 404, 404, 404)},
    "author/attempts/": {"get": AUTHOR_PAGE},
    "dashboard/": {"get": LEARNER_PAGE},
    # authoring (instructors)
    "author/items/": {"get": AUTHOR_PAGE},
    "author/items/new": {"get": AUTHOR_PAGE, "post": (LOGIN, 403, 400, 400)},  # no type: 400
    "author/items/<slug:slug>/": {"get": AUTHOR_PAGE},
    "author/items/<slug:slug>/edit": {"get": AUTHOR_PAGE, "post": (LOGIN, 403, 400, 400)},
    "author/items/<slug:slug>/status": {"post": (LOGIN, 403, REDIRECT, REDIRECT)},
    "author/items/<slug:slug>/history": {"get": AUTHOR_PAGE},
    "author/items/bulk": {"post": (LOGIN, 403, REDIRECT, REDIRECT)},  # empty: nothing changes
    "author/reports/": {"get": AUTHOR_PAGE},
    "author/reports/<int:report_id>/close": {"post": (LOGIN, 403, REDIRECT, REDIRECT)},
    # the preview as a learner; an empty post holds no signed layout: refused, 400
    "author/items/<slug:slug>/try": {"get": AUTHOR_PAGE, "post": (LOGIN, 403, 400, 400)},
    # the item form's live preview (POST only); an empty post names no item form: 400
    "author/items/preview": {"post": (LOGIN, 403, 400, 400)},
    # only a challenge's solution is run as a learner (the item here is a true/false one),
    # and a run is shown to the author who asked for it only
    "author/items/<slug:slug>/trial": {"post": (LOGIN, 403, 404, 404)},
    "author/items/<slug:slug>/trial/<int:trial_id>": {"get": (LOGIN, 403, 404, 404)},
    # only challenges are verified; the item here is a true/false one
    "author/items/<slug:slug>/verify": {
        "get": (LOGIN, 403, 404, 404),
        "post": (LOGIN, 403, 404, 404),
    },
    "author/items/<slug:slug>/regrade": {  # GET: the dry run; POST applies once confirmed
        "get": AUTHOR_PAGE,
        "post": (LOGIN, 403, REDIRECT, REDIRECT),
    },
    "author/import": {  # POST with no file: the form again, with its error
        "get": AUTHOR_PAGE,
        "post": (LOGIN, 403, 400, 400),
    },
    "author/export/stage-<int:number>.yaml": {"get": AUTHOR_PAGE},
    "author/export/stage-<int:number>.xml": {"get": AUTHOR_PAGE},
    "author/export/stage-<int:number>.gift": {"get": AUTHOR_PAGE},
    "author/export/selection": {"get": AUTHOR_PAGE},  # no filter: every exportable item
    "author/analytics/": {"get": AUTHOR_PAGE},
    "author/analytics/heatmap": {"get": AUTHOR_PAGE},
    "author/analytics/results.csv": {"get": AUTHOR_PAGE},
    "author/analytics/items.csv": {"get": AUTHOR_PAGE},
    "author/quizzes/": {"get": AUTHOR_PAGE},
    "author/quizzes/new": {"get": AUTHOR_PAGE},
    "author/quizzes/<slug:slug>/edit": {"get": AUTHOR_PAGE},
    "author/quizzes/<slug:slug>/preview": {"get": AUTHOR_PAGE},
    "author/quizzes/pool-form": {"get": (LOGIN, 403, 400, 400)},  # no form count given
    # operations and roles (admins)
    "ops/grading/": {"get": ADMIN_PAGE},
    "ops/grading/<int:submission_id>/requeue": {"post": (LOGIN, 403, 403, REDIRECT)},
    "manage/roles/": {"get": ADMIN_PAGE, "post": (LOGIN, 403, 403, 400)},  # empty form: 400
    # API v1 (token or session; no credentials: 401). The attempt, submission and token
    # belong to another learner; the item was answered in that attempt.
    "api/v1/roadmap/": {"get": API_LEARNER},
    "api/v1/quizzes/": {"get": API_LEARNER},
    "api/v1/quizzes/<slug:slug>/": {"get": API_LEARNER},
    "api/v1/quizzes/<slug:slug>/attempts": {"post": (401, 201, 201, 201)},
    "api/v1/attempts/": {"get": API_LEARNER},
    "api/v1/attempts/<int:attempt_id>": {"get": API_READ_OTHERS},
    "api/v1/attempts/<int:attempt_id>/answers/<int:position>": {
        "put": API_NOT_YOURS,
        "post": API_NOT_YOURS,
    },
    "api/v1/attempts/<int:attempt_id>/flags/<int:position>": {"post": API_NOT_YOURS},
    "api/v1/attempts/<int:attempt_id>/items/<int:position>/run": {"post": API_NOT_YOURS},
    "api/v1/attempts/<int:attempt_id>/next/<int:position>": {"post": API_NOT_YOURS},
    "api/v1/attempts/<int:attempt_id>/submit": {"post": API_NOT_YOURS},
    "api/v1/attempts/<int:attempt_id>/result": {"get": API_READ_OTHERS},
    "api/v1/submissions/<int:submission_id>": {"get": API_READ_OTHERS},
    "api/v1/dashboard/": {"get": API_LEARNER},
    "api/v1/tokens/": {"get": API_LEARNER, "post": (401, 400, 400, 400)},  # empty: 400
    "api/v1/tokens/<int:token_id>": {"get": API_NOT_YOURS, "delete": API_NOT_YOURS},
    "api/v1/users/": {"get": API_ADMIN},
    "api/v1/users/<int:user_id>": {"get": API_ADMIN},
    "api/v1/users/<int:user_id>/role": {"post": (401, 403, 403, 400)},
    "api/v1/author/items/": {"get": API_AUTHOR, "post": API_AUTHOR_EMPTY},
    "api/v1/author/items/<slug:slug>": {
        "get": API_AUTHOR,
        "put": API_AUTHOR_EMPTY,
        "delete": (401, 403, 409, 409),  # answered: retire it instead
    },
    "api/v1/author/items/<slug:slug>/preview": {"get": API_AUTHOR},
    "api/v1/author/items/<slug:slug>/verify": {"post": API_AUTHOR},
    "api/v1/author/items/<slug:slug>/publish": {"post": API_AUTHOR},
    "api/v1/author/items/<slug:slug>/retire": {"post": API_AUTHOR},
    "api/v1/author/quizzes/": {"get": API_AUTHOR, "post": API_AUTHOR_EMPTY},
    "api/v1/author/quizzes/<slug:slug>": {
        "get": API_AUTHOR,
        "put": API_AUTHOR_EMPTY,
        "delete": (401, 403, 409, 409),  # attempted: back to draft instead
    },
    "api/v1/author/bank/import": {"post": API_AUTHOR_EMPTY},
    "api/v1/author/bank/export/stage-<int:number>.yaml": {"get": API_AUTHOR},
    "api/v1/author/attempts/": {"get": API_AUTHOR},
    "api/v1/author/attempts/<int:attempt_id>/events": {"get": API_AUTHOR},
    "api/v1/author/analytics/quizzes": {"get": API_AUTHOR},
    "api/v1/author/analytics/results": {"get": API_AUTHOR},
    "api/v1/author/analytics/results.csv": {"get": API_AUTHOR},
    "api/v1/author/analytics/items": {"get": API_AUTHOR},
    "api/v1/author/analytics/items.csv": {"get": API_AUTHOR},
    # The unversioned aliases of before v1 (deprecated): as their v1 routes.
    "api/schema/": {"get": (REDIRECT,) * 4},
    "api/docs/": {"get": (REDIRECT,) * 4},
    "api/stages/": {"get": API_LEARNER},
    "api/dashboard/": {"get": API_LEARNER},
    "api/quizzes/<slug:slug>/attempts": {"post": (401, 201, 201, 201)},
    "api/attempts/<int:attempt_id>": {"get": API_READ_OTHERS},
    "api/attempts/<int:attempt_id>/answers/<int:position>": {"put": API_NOT_YOURS},
    "api/attempts/<int:attempt_id>/flags/<int:position>": {"post": API_NOT_YOURS},
    "api/attempts/<int:attempt_id>/items/<int:position>/run": {"post": API_NOT_YOURS},
    "api/attempts/<int:attempt_id>/next/<int:position>": {"post": API_NOT_YOURS},
    "api/attempts/<int:attempt_id>/submit": {"post": API_NOT_YOURS},
    "api/submissions/<int:submission_id>": {"get": API_READ_OTHERS},
    "api/users/": {"get": API_ADMIN},
    "api/users/<int:user_id>/role": {"post": (401, 403, 403, 400)},
    # accounts (allauth and ours)
    "accounts/login/": {"get": (200, REDIRECT, REDIRECT, REDIRECT)},
    "accounts/logout/": {"get": (REDIRECT, 200, 200, 200)},
    "accounts/inactive/": {"get": PUBLIC},
    "accounts/signup/": {"get": (200, REDIRECT, REDIRECT, REDIRECT)},
    "accounts/reauthenticate/": {"get": ACCOUNT_PAGE},
    "accounts/email/": {"get": ACCOUNT_PAGE},
    "accounts/confirm-email/": {"get": PUBLIC},
    "accounts/password/change/": {"get": ACCOUNT_PAGE},
    "accounts/password/set/": {"get": (LOGIN, REDIRECT, REDIRECT, REDIRECT)},
    "accounts/password/reset/": {"get": PUBLIC},
    "accounts/login/code/confirm/": {"get": (RESTART, REDIRECT, REDIRECT, REDIRECT)},
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": {"get": PUBLIC},
    "accounts/password/reset/key/done/": {"get": PUBLIC},
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": {"get": PUBLIC},
    "accounts/password/reset/done/": {"get": PUBLIC},
    "accounts/2fa/": {"get": ACCOUNT_PAGE},
    "accounts/2fa/authenticate/": {"get": (RESTART, REDIRECT, REDIRECT, REDIRECT)},
    "accounts/2fa/reauthenticate/": {"get": (LOGIN, REDIRECT, REDIRECT, REDIRECT)},
    "accounts/2fa/totp/activate/": {"get": (LOGIN, REDIRECT, REDIRECT, REDIRECT)},
    "accounts/2fa/totp/deactivate/": {"get": (LOGIN, 404, 404, 404)},
    "accounts/2fa/recovery-codes/": {"get": (LOGIN, 404, 404, 404)},
    "accounts/2fa/recovery-codes/generate/": {"get": (LOGIN, REDIRECT, REDIRECT, REDIRECT)},
    "accounts/2fa/recovery-codes/download/": {"get": (LOGIN, 404, 404, 404)},
    "accounts/3rdparty/login/cancelled/": {"get": PUBLIC},
    "accounts/3rdparty/login/error/": {"get": (401, 401, 401, 401)},
    "accounts/3rdparty/signup/": {"get": (RESTART,) * 4},  # no pending login
    "accounts/3rdparty/": {"get": ACCOUNT_PAGE},
    # allauth's old /social/ routes redirect to /3rdparty/
    "accounts/social/login/cancelled/": {"get": (REDIRECT,) * 4},
    "accounts/social/login/error/": {"get": (REDIRECT,) * 4},
    "accounts/social/signup/": {"get": (REDIRECT, REDIRECT, REDIRECT, REDIRECT)},
    "accounts/social/connections/": {"get": (REDIRECT,) * 4},
    # no provider is configured in this test: their routes do not exist
    "accounts/github/login/": {"get": (404, 404, 404, 404)},
    "accounts/github/login/callback/": {"get": (404, 404, 404, 404)},
    "accounts/google/login/": {"get": (404, 404, 404, 404)},
    "accounts/google/login/callback/": {"get": (404, 404, 404, 404)},
    "accounts/google/login/token/": {"get": (404, 404, 404, 404)},
    "accounts/oidc/^(?P<provider_id>[^/]+)/login/": {"get": (404, 404, 404, 404)},
    "accounts/oidc/^(?P<provider_id>[^/]+)/login/callback/": {"get": (404, 404, 404, 404)},
    "accounts/sessions/": {"get": ACCOUNT_PAGE},
    "accounts/profile/": {"get": ACCOUNT_PAGE},
    "accounts/profile/delete/": {"get": ACCOUNT_PAGE},
    "accounts/profile/tokens/": {"get": ACCOUNT_PAGE, "post": (LOGIN, 200, 200, 200)},
}
# Every Django admin route: only admins get in; everyone else is sent to the login.
ADMIN_PREFIX = "admin/"


def all_routes() -> list[str]:
    def walk(patterns: list[Any], prefix: str = "") -> list[str]:
        found = []
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                found += walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                found.append(prefix + str(pattern.pattern))
        return found

    return walk(get_resolver().url_patterns)


def test_every_route_has_a_row() -> None:
    missing = [r for r in all_routes() if r not in MATRIX and not r.startswith(ADMIN_PREFIX)]
    assert missing == []
    stale = [r for r in MATRIX if r not in all_routes()]
    assert stale == []


@pytest.fixture
def world(db: None, topic: Any) -> dict[str, Any]:
    """Objects that belong to a learner who is none of the four visitors."""
    owner = UserFactory(role="learner")
    [tf, challenge] = load_sample_items(topic.stage, topic.slug, [TRUE_FALSE, PYTHON])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=2, stage=topic.stage)
    attempt = attempt_start(learner=owner, quiz=quiz)
    code_item = attempt.items.get(item_version__item=challenge)
    submission = submission_create(
        learner=owner, item_version=challenge.current_version, source="x", attempt_item=code_item
    )
    report = ItemReport.objects.create(
        item=tf, version=tf.current_version, attempt=attempt, reporter=owner, message="Typo"
    )
    token = api_token_create(user=owner, name="theirs", scope="read", days=1).token
    trial = trial_request(
        item=challenge, author=UserFactory(role="instructor"), code="def add(a, b):\n    return 0\n"
    )
    return {
        "owner": owner,
        "report_id": report.pk,
        "token_id": token.pk,
        "trial_id": trial.pk,
        "attempt_id": attempt.pk,
        "position": 1,
        "submission_id": submission.pk,
        "user_id": owner.pk,
        "number": topic.stage.number,
        "stage_slug": topic.stage.slug,
        "quiz_slug": quiz.slug,
        "item_slug": tf.slug,
    }


def concrete(route: str, world: dict[str, Any]) -> str:
    if route.startswith("stages/"):
        slug = world["stage_slug"]
    elif "author/items/" in route:
        slug = world["item_slug"]
    else:
        slug = world["quiz_slug"]
    path = route
    for name in (
        "attempt_id",
        "position",
        "submission_id",
        "user_id",
        "number",
        "report_id",
        "token_id",
        "trial_id",
    ):
        if f"<int:{name}>" in path:
            path = path.replace(f"<int:{name}>", str(world[name]))
    path = path.replace("<slug:slug>", slug)
    path = path.replace("^confirm-email/(?P<key>[-:\\w]+)/$", "confirm-email/not-a-key/")
    path = path.replace(
        "^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$", "password/reset/key/1-x/"
    )
    path = path.replace("^(?P<provider_id>[^/]+)/", "sso/")
    return "/" + path


def visitor(role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(UserFactory(role=role))
    return client


def outcome(response: Any) -> Any:
    if response.status_code in (301, 302):
        location = response["Location"]
        if location.startswith(f"{LOGIN_PATH}?next="):
            return LOGIN
        return RESTART if location == LOGIN_PATH else REDIRECT
    return response.status_code


CELLS = [
    pytest.param(route, method, role, expected[column], id=f"{method} {route} as {role}")
    for route, methods in sorted(MATRIX.items())
    for method, expected in methods.items()
    for column, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("route", "method", "role", "expected"), CELLS)
def test_route_outcome_per_role(
    route: str, method: str, role: str, expected: Any, world: dict[str, Any], private_cache: Any
) -> None:
    path = concrete(route, world)
    call = getattr(visitor(role), method)
    response = call(path, {}, content_type="application/json") if method != "get" else call(path)
    assert outcome(response) == expected, f"{method.upper()} {path} as {role}"
    # Whatever the route, the other learner's account is untouched (e.g. their role).
    assert_still_a_plain_learner(world["owner"])


def assert_still_a_plain_learner(user: User) -> None:
    user = User.objects.get(pk=user.pk)
    assert (user.role, user.is_staff, user.is_superuser) == ("learner", False, False)
    assert not user.user_permissions.exists()


def test_admin_routes_are_for_admins_only(world: dict[str, Any], private_cache: Any) -> None:
    from quizzes.models import Item

    paths = [
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{world['owner'].pk}/change/",
        "/admin/quizzes/",
        f"/admin/quizzes/item/{Item.objects.first().pk}/change/",  # type: ignore[union-attr]
        "/admin/accounts/rolechange/",
    ]
    admin_routes = [r for r in all_routes() if r.startswith(ADMIN_PREFIX)]
    assert len(admin_routes) > 20
    for path in paths:
        for role in ("anonymous", "learner", "instructor"):
            response = visitor(role).get(path)
            assert response.status_code == 302, (role, path)
            assert "login" in response["Location"], (role, path)
        assert visitor("admin").get(path).status_code in (200, 404), path


@pytest.mark.parametrize("role", ROLES)
def test_admin_change_form_posts_grant_no_privileges(
    role: str, world: dict[str, Any], private_cache: Any
) -> None:
    """A crafted Django admin POST for the learner: only admins get through, and even an
    admin's POST (not a superuser's) cannot make them staff, superuser, or give them groups
    or permissions."""
    from django.contrib.auth.models import Group, Permission

    owner = world["owner"]
    form = {
        "email": owner.email, "display_name": owner.display_name, "first_name": "",
        "last_name": "", "role": "learner", "is_active": "on",
        "last_login_0": "", "last_login_1": "",
        "date_joined_0": owner.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": owner.date_joined.strftime("%H:%M:%S"),
        "is_superuser": "on", "is_staff": "on", "superuser": "on",
        "groups": [Group.objects.get(name="admin").pk],
        "user_permissions": [Permission.objects.get(codename="manage_roles").pk],
    }  # fmt: skip
    response = visitor(role).post(f"/admin/accounts/user/{owner.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    if role == "admin":  # saved: back to the list of users
        assert response["Location"] == "/admin/accounts/user/"
    else:  # sent to the login, like every admin route
        assert "login" in response["Location"]
    assert_still_a_plain_learner(owner)


def test_instructors_cannot_act_as_the_learner(world: dict[str, Any]) -> None:
    """Reading results is allowed; answering or submitting for them is not."""
    from quizzes.models import Attempt

    client = visitor("instructor")
    attempt = Attempt.objects.get(pk=world["attempt_id"])
    assert client.get(f"/attempts/{attempt.pk}/result").status_code == 200
    assert client.post(f"/attempts/{attempt.pk}/submit").status_code == 404
    attempt.refresh_from_db()
    assert attempt.status == "in_progress"
