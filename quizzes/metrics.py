"""Prometheus metrics: what Skillmap counts, and how it is exposed.

Every metric is defined here, once, and incremented where its event happens: requests in
``RequestMetricsMiddleware``; attempts and autosaves in ``assessments/services.py``;
grading runs, sandbox outcomes and sweeper recoveries in ``pipeline/grading.py``; worker
heartbeats in ``pipeline/worker.py``. Gauges read from the database at scrape time (queue
depth, live workers) are collected by ``pipeline.ops.GradingStateCollector``.

Processes. A metric lives in the memory of the process that counts it, so a server with
several processes must pool them: with ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client
writes every process's values to files in that folder, and ``exposition_registry`` reads
them all back (``MultiProcessCollector``). ``config/gunicorn.py`` prepares the folder for the
web server (emptied at start, a dead worker's live gauges removed); a Celery worker always
uses a folder of its own (``config/prometheus.py``) and serves it on
``WORKER_METRICS_PORT``, so the web's ``/metrics`` never counts a worker's numbers twice and
a worker on another host is scraped where it runs. Without the variable (``runserver``,
tests, a single-process server) each process reports its own registry.

Access. ``/metrics`` and a worker's port answer clients that connect directly from
``METRICS_ALLOWED_NETWORKS`` (loopback by default), or any client that sends
``Authorization: Bearer <METRICS_TOKEN>``. A request that came through a reverse proxy
(it carries X-Forwarded-For, Forwarded or X-Real-IP) needs the token: on the same host, the
proxy's loopback address would otherwise open the metrics to everyone.

This module imports no Django models, so any layer may count through it.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    make_wsgi_app,
)
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# No "_created" series beside each counter and histogram: Prometheus does not need them,
# and they would double the number of series.
disable_created_metrics()  # type: ignore[no-untyped-call]

# --- requests ---------------------------------------------------------------------------
HTTP_REQUEST_SECONDS = Histogram(
    "skillmap_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by view (URL name).",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.18, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS_SHED = Counter(
    "skillmap_requests_shed",
    "Requests refused with 503 and Retry-After because too many connections waited to be "
    "accepted (config/shedding.py), by kind: api or page.",
    ["kind"],
)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# --- attempts ---------------------------------------------------------------------------
ATTEMPTS_STARTED = Counter("skillmap_attempts_started", "Attempts started (not resumed).")
ATTEMPTS_SUBMITTED = Counter(
    "skillmap_attempts_submitted",
    "Attempts submitted, by the learner or by the deadline's auto-submit.",
    ["trigger"],
)
AUTOSAVES = Counter(
    "skillmap_autosaves",
    "Answers saved (saved: stored; stale: an older revision acknowledged, not applied).",
    ["result"],
)
AUTOSAVE_FAILURES = Counter(
    "skillmap_autosave_failures",
    "Saves refused or failed (closed: attempt over or item locked; invalid: bad answer or "
    "revision; error: a fault on our side).",
    ["reason"],
)

# --- grading ----------------------------------------------------------------------------
SUBMISSIONS_CREATED = Counter(
    "skillmap_submissions_created", "Code and SQL submissions stored for grading.", ["kind"]
)
GRADING_RUNS = Counter(
    "skillmap_grading_runs",
    "Grading task runs by what they did (graded, not-claimed, error, unavailable, "
    "lost-lease, infrastructure-error).",
    ["outcome"],
)
GRADING_CLAIM_TO_GRADED_SECONDS = Histogram(
    "skillmap_grading_claim_to_graded_seconds",
    "From a worker claiming a submission to its GRADED row committed.",
    buckets=(0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
GRADING_QUEUE_WAIT_SECONDS = Histogram(
    "skillmap_grading_queue_wait_seconds",
    "From a submission being sent to the broker to a worker claiming it.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0),
)
SANDBOX_RUNS = Counter(
    "skillmap_sandbox_runs",
    "Sandbox runs by how they ended (graded, compile_error, error: the grader failed; "
    "unavailable: no sandbox; crashed: the worker's code raised).",
    ["status"],
)
SANDBOX_TEST_OUTCOMES = Counter(
    "skillmap_sandbox_test_outcomes",
    "Test outcomes of graded runs by category (hidden tests report passed or failed only).",
    ["category"],
)
SANDBOX_RUN_SECONDS = Histogram(
    "skillmap_sandbox_run_seconds",
    "Wall time of one sandboxed grading run.",
    buckets=(0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 150.0),
)
SWEEPER_RECOVERIES = Counter(
    "skillmap_sweeper_recoveries",
    "Submissions the sweeper acted on (expired_lease, stale_queued: re-sent; errored: "
    "given up after GRADING_MAX_ATTEMPTS; released_held).",
    ["kind"],
)

# --- workers (each worker's own exporter) -----------------------------------------------
WORKER_LAST_HEARTBEAT = Gauge(
    "skillmap_worker_last_heartbeat_timestamp_seconds",
    "When this worker last wrote its heartbeat (Unix time).",
    multiprocess_mode="max",
)
WORKER_SANDBOX_AVAILABLE = Gauge(
    "skillmap_worker_sandbox_available",
    "1 if this worker's last sandbox check could run code.",
    multiprocess_mode="mostrecent",
)


def request_view_label(request: HttpRequest) -> str:
    """The URL's name (or the view's dotted path); "unresolved" when no route matched."""
    match = request.resolver_match
    return match.view_name if match is not None else "unresolved"


class RequestMetricsMiddleware:
    """Observes every request's latency by view, method and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        HTTP_REQUEST_SECONDS.labels(
            request_view_label(request), method, str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response


# --- exposition ---------------------------------------------------------------------------
def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _Forward(Collector):
    """Collects another registry (this process's own metrics) into a fresh one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        yield from self.registry.collect()


def exposition_registry(extra: Iterable[Collector] = ()) -> CollectorRegistry:
    """A registry for one scrape: every process's metrics (multiprocess mode) or this
    process's, plus ``extra`` collectors (scrape-time gauges)."""
    registry = CollectorRegistry(auto_describe=False)
    path = multiprocess_dir()
    if path:
        MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))
    for collector in extra:
        registry.register(collector)
    return registry


Networks = Sequence[IPv4Network | IPv6Network]


# Headers a reverse proxy adds. A request carrying one came through a proxy, whose address
# (often loopback, on the same host) says nothing about the client: only the token counts.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def metrics_access_allowed(
    *,
    remote_addr: str | None,
    authorization: str | None,
    networks: Networks,
    token: str,
    proxied: bool = False,
) -> bool:
    """The scraper holds the token (compared in constant time), or connects directly (not
    through a proxy) from an allowed network."""
    if token and authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return True
    if proxied:
        return False
    try:
        address = ip_address(remote_addr or "")
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


FORBIDDEN = (
    "Metrics are served to the monitoring network (METRICS_ALLOWED_NETWORKS) or with "
    "'Authorization: Bearer <METRICS_TOKEN>'.\n"
)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would drown the worker's log."""


def serve_metrics(
    *,
    address: str,
    port: int,
    networks: Networks,
    token: str,
    extra: Callable[[], Iterable[Collector]] = tuple,
) -> ThreadingWSGIServer:
    """Serve ``/metrics`` from a daemon thread (a Celery worker's own exporter)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        allowed = metrics_access_allowed(
            remote_addr=environ.get("REMOTE_ADDR"),
            authorization=environ.get("HTTP_AUTHORIZATION"),
            networks=networks,
            token=token,
            proxied=any(environ.get(header) for header in PROXY_HEADERS),
        )
        if not allowed:
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
            return [FORBIDDEN.encode()]
        exposition: Callable[..., Iterable[bytes]] = make_wsgi_app(exposition_registry(extra()))
        return exposition(environ, start_response)

    server = make_server(address, port, app, ThreadingWSGIServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True)
    thread.start()
    return server
