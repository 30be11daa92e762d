"""Load shedding: when the web server is overloaded, refuse early and say when to retry.

gunicorn's sync workers take one connection at a time from the listening socket; every
other client waits in the kernel's accept queue, unseen, until its request times out or the
queue overflows. Under an exam burst that turns into slow saves and then lost ones. So each
gunicorn worker reads the accept queue's length before serving a request (the kernel
reports it through ``TCP_INFO`` on a listening socket: ``tcpi_unacked`` is the number of
connections waiting for ``accept()``) and estimates how long the last of them will wait:
the queue's length times the time this process takes per request (a moving average of the
requests it served, which grows when the machine's CPU is contended), divided by the
server's workers. When that passes ``WEB_SHED_WAIT_MS``, it answers 503 at once, with a
``Retry-After`` of ``WEB_SHED_RETRY_AFTER`` plus the estimated wait, so that clients come
back when the queue can have drained (docs/architecture.md, "Shedding load"). A refusal
costs a fraction of a request, so the queue drains and the requests that are served stay
fast. Nothing is lost: the attempt page's autosave keeps the answer and retries after
``Retry-After`` (quizzes/static/quizzes/js/attempt.js), as API clients should.

A request sent again after refusals says how many came in a row (the ``X-Shed-Retries``
header, which the page's script sends) and may wait that many times longer, up to
``MAX_RETRY_PRIORITY`` more: under a long overload, a learner refused again and again is
served before one who was never refused, so that nobody's answer waits forever (aging).
The header can ask for no more than that.

Never shed: submitting an attempt (it is never refused; it waits its turn), the health and
metrics endpoints, and static files. ``config/gunicorn.py`` registers the listening
sockets and the number of workers (``listen_on``); under any other server there are none
and nothing is shed.

This module imports no Django at import time: gunicorn's master loads it with its config.
"""

from __future__ import annotations

import math
import re
import socket
import struct
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

# struct tcp_info: eight one-byte fields, then __u32 rto, ato, snd_mss, rcv_mss, unacked.
_TCP_INFO_UNACKED = 8 + 4 * 4
_TCP_INFO_SIZE = 104
# The time per request assumed before any is measured, and the weight of each new one.
INITIAL_SERVICE_SECONDS = 0.02
_SMOOTHING = 0.05
MAX_RETRY_AFTER = 60
# A retried request may wait up to (1 + refusals, at most this) times WEB_SHED_WAIT_MS.
MAX_RETRY_PRIORITY = 2
RETRIES_HEADER = "HTTP_X_SHED_RETRIES"
_RETRIES = re.compile(r"[0-9]{1,4}")

# Paths never shed: the submit of an attempt (page and API, any version), health, metrics.
NEVER_SHED = re.compile(
    r"^/(?:attempts/\d+/submit|api/(?:v\d+/)?attempts/\d+/submit|healthz|readyz|metrics"
    r"|static/)"
)


class _Server:
    """This process's view of its server: the listening sockets, how many workers take
    connections from them, and the moving average of the time it takes per request."""

    listeners: list[socket.socket] = []
    workers = 1
    service_seconds = INITIAL_SERVICE_SECONDS


def listen_on(sockets: Iterable[socket.socket], *, workers: int = 1) -> None:
    """The listening sockets of this server process and the number of processes serving
    them (gunicorn's ``post_worker_init``); the time per request starts afresh."""
    _Server.listeners = [s for s in sockets if s.family in (socket.AF_INET, socket.AF_INET6)]
    _Server.workers = max(1, workers)
    _Server.service_seconds = INITIAL_SERVICE_SECONDS


def accept_queue_depth() -> int | None:
    """Connections waiting to be accepted on this server's sockets; None when unknown
    (no registered socket, or a kernel that does not say)."""
    if not _Server.listeners:
        return None
    depth = 0
    for sock in _Server.listeners:
        try:
            info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
        except OSError:
            return None
        if len(info) < _TCP_INFO_UNACKED + 4:
            return None
        depth += struct.unpack_from("=I", info, _TCP_INFO_UNACKED)[0]
    return depth


def estimated_wait() -> float | None:
    """Seconds the last connection in the queue will wait before it is served, or None."""
    depth = accept_queue_depth()
    if depth is None:
        return None
    return depth * _Server.service_seconds / _Server.workers


def _served(seconds: float) -> None:
    _Server.service_seconds += _SMOOTHING * (seconds - _Server.service_seconds)


class LoadSheddingMiddleware:
    """Answers 503 + ``Retry-After`` while the estimated wait in the accept queue passes
    ``WEB_SHED_WAIT_MS`` (0 turns it off). Before the session middleware, so a refusal
    touches neither the session nor the database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        limit = settings.WEB_SHED_WAIT_MS / 1000 * (1 + refusals_before(request))
        if limit > 0 and _Server.listeners and not NEVER_SHED.match(request.path):
            wait = estimated_wait()
            if wait is not None and wait > limit:
                retry_after = min(MAX_RETRY_AFTER, settings.WEB_SHED_RETRY_AFTER + math.ceil(wait))
                return busy_response(request, retry_after=retry_after)
        started = time.perf_counter()
        response = self.get_response(request)
        if _Server.listeners:
            _served(time.perf_counter() - started)
        return response


def refusals_before(request: HttpRequest) -> int:
    """The refusals in a row this request says it had (``X-Shed-Retries``), at most
    ``MAX_RETRY_PRIORITY``; anything but a small number counts as none."""
    raw = request.META.get(RETRIES_HEADER, "")
    if not isinstance(raw, str) or not _RETRIES.fullmatch(raw):
        return 0
    return min(int(raw), MAX_RETRY_PRIORITY)


def busy_response(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    """503 with ``Retry-After``: problem details under /api/, a short page elsewhere."""
    from django.http import HttpResponse

    from quizzes.metrics import REQUESTS_SHED
    from quizzes.problems import problem_body, status_problem
    from quizzes.renderers import PROBLEM_JSON, ProblemJSONRenderer

    api = request.path.startswith("/api/")
    REQUESTS_SHED.labels("api" if api else "page").inc()
    if api:
        detail = f"Skillmap is busy: try again in {retry_after} s. Nothing was changed."
        body = problem_body(status_problem(503), 503, detail, retry_after=retry_after)
        response = HttpResponse(
            ProblemJSONRenderer().render(body), status=503, content_type=PROBLEM_JSON
        )
    else:
        # No template: rendering the site's layout would read the session and the user.
        response = HttpResponse(
            "<!doctype html><html lang=en><meta charset=utf-8><title>Skillmap is busy</title>"
            f"<p>Skillmap is busy: reload this page in {retry_after} s. Nothing was changed."
            "</p></html>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response
