"""Schemathesis against /api/v1/schema/, in process: every operation with generated input,
and the attempt flow followed through the schema's links. No answer may be a server error,
carry a status code or media type the schema does not list, or contradict the schema.

Throttles are off (the rates are unset). The requests come from an administrator's token of
scope instructor, so every operation is reachable; a quiz with an item of every type is
published for the links to start from. ``-m soak`` runs many more examples.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import token_for
from tests.factories import UserFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# At least 20 generated cases per operation in `make test`; a soak run asks for more.
EXAMPLES = int(os.environ.get("SKILLMAP_FUZZ_EXAMPLES", "20"))
STATEFUL_EXAMPLES = int(os.environ.get("SKILLMAP_FUZZ_SCENARIOS", "60"))
SOAK_EXAMPLES = 300
ATTEMPT_FLOW = [
    "quiz_list",
    "attempt_start",
    "attempt_retrieve",
    "answer_save",
    "attempt_flag",
    "attempt_run_examples",
    "submission_retrieve",
    "attempt_submit",
    "attempt_result",
]
# No shrinking: the fuzzer's data depends on earlier answers, which a replay cannot repeat;
# a failure is reported as found (with a curl command to reproduce it).
FAST = {
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "database": None,
    "phases": [Phase.explicit, Phase.generate],
}


@pytest.fixture
def world(db: None, settings: Any, private_cache: Any, every_type_quiz: Any) -> dict[str, Any]:
    framework = dict(settings.REST_FRAMEWORK)
    framework["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(framework["DEFAULT_THROTTLE_RATES"])
    settings.REST_FRAMEWORK = framework
    admin = UserFactory(role="admin")
    return {"admin": admin, "headers": bearer(admin)}


def bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user, 'instructor')}"}


@pytest.fixture
def api_schema(world: dict[str, Any]) -> Iterator[Any]:
    # As Django's test client does: a request must not close the test's database
    # connection (its transaction holds the test's data).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def every_operation(schema: Any, world: dict[str, Any], examples: int) -> Counter[str]:
    calls: Counter[str] = Counter()
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=examples, **FAST)  # type: ignore[arg-type]
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            calls[case.operation.label] += 1
            case.call_and_validate(headers=world["headers"], checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(exc)[:3000]}")
    assert not failures, "\n\n".join(failures)
    return calls


@pytest.mark.slow
def test_every_operation_answers_as_documented(api_schema: Any, world: dict[str, Any]) -> None:
    calls = every_operation(api_schema, world, EXAMPLES)
    operations = [r.ok().label for r in api_schema.get_all_operations()]
    assert len(operations) >= 40 and set(calls) == set(operations)
    # Operations whose input has room for 20 cases got at least 20.
    roomy = [label for label in operations if calls[label] >= EXAMPLES]
    assert len(roomy) >= len(operations) * 3 // 4, calls


def stateful(schema: Any, world: dict[str, Any], examples: int) -> Counter[str]:
    seen: Counter[str] = Counter()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # An administrator and token of its own per scenario: one scenario may revoke
            # its token (links lead from the token list to DELETE), and the next must not
            # start unauthenticated.
            self.headers = bearer(UserFactory(role="admin"))

        def after_call(self, response: Any, case: Any) -> None:
            seen[f"{case.operation.label} {response.status_code}"] += 1

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": self.headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflow.run(settings=settings(max_examples=examples, stateful_step_count=12, **FAST))  # type: ignore[arg-type]
    return seen


@pytest.mark.slow
def test_the_attempt_flow_through_the_links(api_schema: Any, world: dict[str, Any]) -> None:
    # The attempt flow's operations only, so that scenarios go deep along it.
    seen = stateful(api_schema.include(operation_id=ATTEMPT_FLOW), world, STATEFUL_EXAMPLES)
    from quizzes.models import Attempt, AttemptEvent

    # The links were followed: attempts were started, and answered through them.
    assert seen["POST /api/v1/quizzes/{slug}/attempts 201"] > 0, seen
    assert Attempt.objects.exists()
    assert AttemptEvent.objects.filter(kind__in=["saved", "save_rejected"]).exists(), seen


@pytest.mark.soak
def test_every_operation_soak(api_schema: Any, world: dict[str, Any]) -> None:
    every_operation(api_schema, world, SOAK_EXAMPLES)
    stateful(api_schema.include(operation_id=ATTEMPT_FLOW), world, SOAK_EXAMPLES)
    stateful(api_schema, world, SOAK_EXAMPLES)
