"""Operator pages for grading, and the health endpoints for probes."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from quizzes.metrics import (
    FORBIDDEN,
    PROXY_HEADERS,
    exposition_registry,
    metrics_access_allowed,
)
from quizzes.models import Submission
from quizzes.pipeline.grading import submission_requeue
from quizzes.pipeline.ops import GradingStateCollector, readiness_problems, worker_status
from quizzes.pipeline.selectors import grading_overview


@login_required
@permission_required("quizzes.operate_grading", raise_exception=True)
@require_GET
def grading_operator(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "quizzes/staff/grading.html",
        {"overview": grading_overview(), "workers": worker_status()},
    )


@login_required
@permission_required("quizzes.operate_grading", raise_exception=True)
@require_POST
def grading_requeue(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = get_object_or_404(Submission, pk=submission_id)
    if submission_requeue(submission=submission):
        messages.success(request, f"Submission {submission.pk} is back in the grading queue.")
    else:
        messages.error(request, f"Submission {submission.pk} is already graded; nothing to do.")
    return redirect("grading-operator")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests; checks nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: database and broker reachable. Workers are not part of it."""
    problems = readiness_problems()
    if problems:
        return JsonResponse(
            {
                "status": "unavailable",
                "problems": [{"component": p.component, "reason": p.reason} for p in problems],
            },
            status=503,
        )
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def workers(request: HttpRequest) -> JsonResponse:
    """Worker liveness from their heartbeats; 503 when no worker is alive.

    Probes and visitors get the bare answer (alive, grading available, the code languages
    some live worker can grade); host names, queues, sandbox and toolchain diagnostics are
    for operators only (they describe the machines, not the learner's work).
    """
    status = worker_status()
    if not request.user.has_perm("quizzes.operate_grading"):
        status = {key: status[key] for key in ("alive", "grading_available", "languages")}
    return JsonResponse(status, status=200 if status["alive"] else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus's text format: this server's metrics (every gunicorn process's) and the
    grading state read from the database. For the monitoring network or the token holder."""
    allowed = metrics_access_allowed(
        remote_addr=request.META.get("REMOTE_ADDR"),
        authorization=request.headers.get("Authorization"),
        networks=settings.METRICS_ALLOWED_NETWORKS,
        token=settings.METRICS_TOKEN,
        proxied=any(request.META.get(header) for header in PROXY_HEADERS),
    )
    if not allowed:
        return HttpResponse(FORBIDDEN, status=403, content_type="text/plain; charset=utf-8")
    registry = exposition_registry([GradingStateCollector()])
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
