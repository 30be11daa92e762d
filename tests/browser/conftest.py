"""Browser fixtures: Django's live server driven by Playwright (Chromium), shared helpers.

Generic helpers live here so every browser test can use them:
- ``login(page, live_server, user)`` logs a user in through the real login form;
- ``axe_violations(page)`` runs axe-core on the current page;
- ``oidc_provider`` runs oidc-provider-mock on loopback (see test_oidc_login.py).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.factories import DEFAULT_PASSWORD

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"


@pytest.fixture
def login() -> Callable[..., None]:
    """``login(page, live_server, user, password=DEFAULT_PASSWORD)``: log in via the form."""

    def do_login(page: Any, live_server: Any, user: Any, password: str = DEFAULT_PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

    return do_login


@pytest.fixture
def axe_violations() -> Callable[..., list[dict[str, Any]]]:
    """``axe_violations(page, impacts=("serious", "critical"))``: axe-core's findings.

    axe is evaluated through the DevTools protocol, which the page's CSP does not
    govern, so the CSP stays on while the page is checked.
    """
    source = AXE_JS.read_text()

    def run(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(f"() => {{ {source}\n}}")
            page.evaluate("() => { window.axe = window.axe || axe; }")
        result = page.evaluate("async () => await axe.run(document)")
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]
            if v["impact"] in impacts
        ]

    return run


# --- OpenID Connect provider (oidc-provider-mock) ------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http_json(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback http on purpose)
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        raw = response.read()
    return json.loads(raw) if raw else None


@dataclass
class OIDCProvider:
    """A running oidc-provider-mock that requires clients to register."""

    url: str

    def register_client(self, redirect_uri: str) -> tuple[str, str]:
        """Register a client (RFC 7591, as the mock's docs say); returns (id, secret)."""
        body = _http_json("POST", f"{self.url}/oauth2/clients", {"redirect_uris": [redirect_uri]})
        return body["client_id"], body["client_secret"]

    def set_user(self, sub: str, **claims: Any) -> None:
        """Define the claims the provider reports for subject ``sub``."""
        _http_json("PUT", f"{self.url}/users/{sub}", claims)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OIDCProvider]:
    """oidc-provider-mock on a free loopback port, with --require-registration.

    With registration required, only a registered client id and its secret are
    accepted at the token endpoint, so a wrong secret really fails.
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "oidc_provider_mock",
            "--host", "127.0.0.1", "--port", str(port), "--require-registration",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _http_json("GET", f"{url}/.well-known/openid-configuration")
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    stderr = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"oidc-provider-mock did not start: {stderr}") from None
                time.sleep(0.1)
        yield OIDCProvider(url=url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
