"""Request ids in every log line, from the web request into the Celery task it causes.

One id follows a learner's action: the middleware takes a sane incoming ``X-Request-ID``
(else makes one), returns it in the response, and keeps it in a context variable that
the log filter adds to every record. A task published while it is set carries it in the
message headers (``before_task_publish``), and the worker puts it back into the same
context variable while the task runs (``task_prerun``), so the worker's log lines about
grading a submission carry the id of the request that submitted it. Logs are JSON lines
(``LOG_FORMAT=json``, the default) or plain text. Nothing here imports Django models.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

# The message header the request id travels in (Celery copies custom headers onto
# ``task.request``).
TASK_HEADER = "skillmap_request_id"
HTTP_HEADER = "X-Request-ID"
# What we accept from a client or a proxy: a short token of safe characters (a UUID, a
# trace id, a load balancer's id). Anything else could forge log lines or bloat them.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")

request_id_var: ContextVar[str | None] = ContextVar("skillmap_request_id", default=None)
task_var: ContextVar[tuple[str, str] | None] = ContextVar("skillmap_task", default=None)

access_logger = logging.getLogger("skillmap.request")


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """The incoming id if it is safe to log and pass on, else None."""
    if value and SANE_REQUEST_ID.match(value):
        return value
    return None


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` (and, in a worker, ``task_id`` and ``task_name``) to records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a 4xx/5xx after the middleware returned, with the request attached.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        task = task_var.get()
        if task is not None and not hasattr(record, "task_id"):
            record.task_id, record.task_name = task
        return True


class RequestIdMiddleware:
    """First in the chain: every later log line of the request carries its id; one access
    line per request (method, path, view, status, duration) ends it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = sane_request_id(request.headers.get(HTTP_HEADER)) or new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HTTP_HEADER] = request_id
            match = request.resolver_match
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "view": match.view_name if match else None,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


# --- Celery: the id travels in the task message's headers ---------------------------------
def add_request_id_to_message(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """``before_task_publish``: tasks sent during a request (or a task) carry its id."""
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def enter_task_context(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """``task_prerun``: the worker's log lines for this task carry the sender's request id."""
    request = getattr(task, "request", None)
    incoming = getattr(request, TASK_HEADER, None)
    if incoming is None:
        incoming = (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    request_id_var.set(sane_request_id(incoming))
    task_var.set((task_id or "", getattr(task, "name", "") or ""))


def leave_task_context(**kwargs: Any) -> None:
    """``task_postrun``: a pool process's next task starts without the last one's id."""
    request_id_var.set(None)
    task_var.set(None)
