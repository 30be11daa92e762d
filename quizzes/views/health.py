from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from quizzes.services.ops import readiness_problems, worker_status


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
    """Worker liveness from their heartbeats; 503 when no worker is alive."""
    status = worker_status()
    return JsonResponse(status, status=200 if status["alive"] else 503)
