"""CPU per request of an exam's flow, in process: what one web worker spends on a start, the
attempt page, an autosave, a submit and the result page.

    .venv/bin/python bench/request_cpu.py [--learners 150] [--profile save]

A throwaway PostgreSQL database (``skillmap_request_cpu``, dropped and created, dropped at
the end) and Redis db 14 as the shared cache (flushed), production settings (DEBUG off),
stage 2's bank and its stage quiz as ``bench/exam_burst.py`` loads them, learners logged in
through Django's session machinery. Each learner then runs the burst's flow (start through
API v1, the attempt page, 8 autosaves through API v1 with the session cookie and CSRF
header, the last one the challenge's code, the submit form, the result page) by calling
Django's WSGI handler directly, one request after another: no server, no network, no
concurrency, so each request's ``time.process_time`` is its own CPU in the web process (its
database and Redis round trips included as the client's share, not the servers').

Prints the mean and median CPU per request type over all but the first fifth of the
learners (the first requests import and warm caches). ``--profile KIND`` adds cProfile's
top functions for that request type (CPU time, so the profiler's own cost inflates them).
``bench/exam_burst.py`` measures the same flow under load. Prints figures only.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

DATABASE = "skillmap_request_cpu"
KINDS = ("start", "page", "save", "submit", "result")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=150)
    parser.add_argument("--profile", choices=KINDS, default=None)
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args(argv)
    if args.learners < 5:
        parser.error("--learners must be at least 5")

    import psycopg
    import redis
    from exam_burst import production_env

    with psycopg.connect(args.pg_admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    redis.Redis.from_url(args.redis_url).flushdb()
    work = Path(tempfile.mkdtemp(prefix="skillmap-request-cpu-"))
    admin_db = args.pg_admin_url.rsplit("/", 1)[0]
    os.environ.update(
        {
            **production_env(work, args.redis_url),
            "DATABASE_URL": f"{admin_db}/{DATABASE}".replace("postgresql://", "postgres://", 1),
            "LOG_LEVEL": "WARNING",
        }
    )
    (work / "var").mkdir()
    (work / "metrics").mkdir()
    try:
        return measure(args)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(args.pg_admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        redis.Redis.from_url(args.redis_url).flushdb()


def measure(args: argparse.Namespace) -> int:
    import django

    django.setup()
    import exam_burst
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    slug, references = exam_burst.load_content()
    sessions = exam_burst.make_learners(args.learners)
    app = WSGIHandler()

    def call(method: str, path: str, session: tuple[str, str], body: Any = None) -> Any:
        key, csrf = session
        data = b"" if body is None else json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr,
            "CONTENT_LENGTH": str(len(data)),
            "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={key}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf}",
            "HTTP_X_CSRFTOKEN": csrf,
            "HTTP_ACCEPT": "application/json" if path.startswith("/api/") else "text/html",
        }
        if body is not None:
            environ["CONTENT_TYPE"] = "application/json"
        elif method == "POST":
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        status: list[str] = []
        content = b"".join(app(environ, lambda s, h, *rest: status.append(s)))
        return int(status[0].split()[0]), content

    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    profiler = cProfile.Profile(time.process_time) if args.profile else None

    def timed(kind: str, expect: int, *request: Any) -> bytes:
        on = profiler is not None and kind == args.profile
        if on:
            profiler.enable()
        started = time.process_time()
        status, content = call(*request)
        cpu[kind].append(time.process_time() - started)
        if on:
            profiler.disable()
        if status != expect:
            raise SystemExit(f"{kind}: HTTP {status}, expected {expect}: {content[:300]!r}")
        return content

    rng = random.Random(1)
    load_before = os.getloadavg()
    for session in sessions:
        attempt = json.loads(
            timed("start", 201, "POST", f"/api/v1/quizzes/{slug}/attempts", session)
        )
        attempt_id = attempt["id"]
        timed("page", 200, "GET", f"/attempts/{attempt_id}/", session)
        code = [i for i in attempt["items"] if i["type"] in ("code", "sql")]
        objective = [i for i in attempt["items"] if i not in code]
        revisions: dict[int, int] = {}
        for item in [rng.choice(objective) for _ in range(7)] + (code[:1] or objective[:1]):
            position = item["position"]
            revisions[position] = revisions.get(position, 0) + 1
            answer = exam_burst.answer_for(item, rng, references)
            body = {"answer": answer, "revision": revisions[position]}
            path = f"/api/v1/attempts/{attempt_id}/answers/{position}"
            timed("save", 200, "PUT", path, session, body)
        timed("submit", 302, "POST", f"/attempts/{attempt_id}/submit", session)
        timed("result", 200, "GET", f"/attempts/{attempt_id}/result", session)
    load_after = os.getloadavg()

    print(
        f"CPU per request in one web process, {args.learners} learners, stage {exam_burst.STAGE}'s "
        f"quiz, PostgreSQL + Redis, DEBUG off"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in load_before)} -> "
          f"{' '.join(f'{x:.2f}' for x in load_after)}")  # fmt: skip
    print(f"{'request':8s} {'n':>6s} {'mean ms':>8s} {'p50 ms':>8s} {'p95 ms':>8s}")
    per_learner = 0.0
    for kind, values in cpu.items():
        kept = sorted(values[len(values) // 5 :])
        mean = statistics.fmean(kept)
        per_learner += mean * len(values) / len(sessions)
        p95 = kept[min(len(kept) - 1, int(len(kept) * 0.95))]
        print(f"{kind:8s} {len(kept):6d} {mean * 1000:8.2f} {kept[len(kept) // 2] * 1000:8.2f} "
              f"{p95 * 1000:8.2f}")  # fmt: skip
    print(f"one learner's flow (1 start, 1 page, 8 saves, 1 submit, 1 result): "
          f"{per_learner * 1000:.0f} ms of web CPU")  # fmt: skip
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(40)
        print(f"\ncProfile of {args.profile} (CPU time, inflated by the profiler):")
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
