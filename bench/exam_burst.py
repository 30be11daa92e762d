"""Exam burst: a cohort takes a stage quiz at once against the production setup.

    .venv/bin/pip install -r bench/requirements.txt      # Locust (not needed by make test)
    .venv/bin/python bench/exam_burst.py --quick          # smoke run: 10 and 30 learners
    .venv/bin/python bench/exam_burst.py --users 250,500,1000
    .venv/bin/python bench/exam_burst.py                  # 250 … 3000 learners

What runs, all on this machine and on loopback only, started and stopped by the bench:
gunicorn as the Dockerfile runs it (``-c python:config.gunicorn``, 3 sync workers), one
Celery worker as the compose file runs it (``-Q grading,default --concurrency 2``), with
production settings (DEBUG off) on PostgreSQL (a temporary database ``skillmap_burst``,
dropped and created, dropped at the end) and a Redis server of the bench's own (a free
port, no persistence), so that every CPU second of it is the bench's. The bench raises its
open-file limit itself (``resource.setrlimit``); the processes it starts inherit it.

The quiz: the roadmap and stage 2's bank, and its stage quiz as ``load_bank`` makes it (10
objective questions and one coding challenge). Learners are created before the run with
unusable passwords and logged in through Django's session machinery (a session row each,
a CSRF secret each): no password is hashed during the run.

Each simulated learner (Locust, ``FastHttpUser``, in a process of its own:
bench/exam_burst_learners.py) starts within the first ``--spread`` seconds (spawned
evenly), starts the attempt (API v1, as a script would; the page does the same service),
loads the attempt page, autosaves ``--saves`` times every 5-15 s (``--save-interval``)
through API v1 exactly as the page's script does (PUT, session cookie and CSRF header), the
last save being the coding challenge's reference solution, then submits through the page
(a form POST) and opens the result page. A 429 or 503 with ``Retry-After`` is waited out
and sent again, as the page's script does (for at most 5 minutes, then it is a failure);
it is counted as shed, not failed. Every request has a ``--timeout`` (60 s).

For each cohort size it prints: requests/s; p50/p95/p99 and counts per request type; shed
and failed requests (a failure: no answer, a timeout, or a status the flow does not expect);
the CPU share of gunicorn, the Celery worker (its pool and sandboxes), the PostgreSQL
backends of the bench's database, Redis and the load generator, read from /proc of their
pids, and what the rest of the machine used; the load average. Then it checks in
PostgreSQL that every acknowledged save (a 2xx ``saved: true``) is stored (the stored
revision is at least the acknowledged one, and the last acknowledged answer per question is
the stored answer) and every acknowledged submit is submitted, and waits for the grading
queue to drain (how long after the burst, and submit → graded p50/p95). Last, the highest
cohort whose save and submit p95 stayed under 500 ms with no failure.

Prints figures only; never run as a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

LEARNERS = Path(__file__).resolve().parent / "exam_burst_learners.py"
BURST_DB = "skillmap_burst"
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_CURVE = "250,500,1000,1500,2000,3000"
QUICK_CURVE = "10,30"
STAGE = 2
P95_GOAL_MS = 500.0
KINDS = ("start", "page", "save", "submit", "result")
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    """The nearest-rank percentile; NaN without values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def loadavg() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_open_files() -> int:
    """As many open files as learners need (a socket each, and the servers' own)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    for wanted in (65536, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(wanted, hard)))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# =========================================================================== the services


@dataclass
class Service:
    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=wait)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()

    def tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def wait_until(predicate: Any, *, timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def http_ok(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return bool(response.status == 200)
    except OSError:
        return False


# =========================================================================== CPU from /proc


def proc_cpu(pid: int) -> tuple[int, int] | None:
    """(CPU ticks of the process and its waited-for children, start time in ticks)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the name: state(3) … utime(14) stime(15) cutime(16) cstime(17) … starttime(22)
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks, int(fields[19])


def descendants(pid: int) -> list[int]:
    found, todo = [pid], [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def machine_ticks() -> int:
    """Busy CPU ticks of the whole machine since boot (all but idle and I/O wait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values[:8]) - values[3] - values[4]


def uptime_ticks() -> int:
    return int(float(Path("/proc/uptime").read_text().split()[0]) * CLK_TCK)


class CpuSampler:
    """CPU seconds per group of processes over a stage, sampled every second."""

    def __init__(self, groups: dict[str, Any]) -> None:
        self.groups = groups  # name -> callable returning the group's pids now
        self.first: dict[str, dict[int, int]] = {name: {} for name in groups}
        self.last: dict[str, dict[int, int]] = {name: {} for name in groups}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> CpuSampler:
        self.began = uptime_ticks()
        self.machine_first = machine_ticks()
        self.wall_first = time.monotonic()
        self.sample()
        self.thread.start()
        return self

    def sample(self) -> None:
        for name, pids_now in self.groups.items():
            try:
                pids = pids_now()
            except Exception as exc:  # a group whose pids cannot be read this second
                log(f"CPU sample of {name} skipped: {exc!r}")
                continue
            for pid in pids:
                read = proc_cpu(pid)
                if read is None:
                    continue
                ticks, started = read
                if pid not in self.first[name]:
                    # A process started during the stage counts from zero.
                    self.first[name][pid] = 0 if started >= self.began else ticks
                self.last[name][pid] = ticks

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self.thread.join()
        self.sample()
        self.wall = time.monotonic() - self.wall_first
        self.machine_busy = (machine_ticks() - self.machine_first) / CLK_TCK
        return {
            name: sum(self.last[name][pid] - self.first[name][pid] for pid in self.last[name])
            / CLK_TCK
            for name in self.groups
        }


# =========================================================================== the database


def production_env(work: Path, redis_url: str) -> dict[str, str]:
    """Production settings (DEBUG off) with the bench's own folder under ``work`` and the
    given Redis; also bench/request_cpu.py's."""
    return {
        "ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "VAR_DIR": str(work / "var"),
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
    }


def _with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def prepare_database(admin: str) -> str:
    import psycopg

    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BURST_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BURST_DB}"')
    return _with_db(admin, BURST_DB).replace("postgresql://", "postgres://", 1)


def drop_database(admin: str) -> None:
    import psycopg

    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BURST_DB}" WITH (FORCE)')
    except Exception as exc:
        log(f"could not drop {BURST_DB}: {exc}")


def postgres_backends(admin: str) -> Any:
    """A callable: the pids of the PostgreSQL backends connected to the bench's database."""
    import psycopg

    conn = psycopg.connect(admin, autocommit=True, connect_timeout=5)

    def pids() -> list[int]:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [BURST_DB],
        ).fetchall()
        return [int(row[0]) for row in rows]

    pids.close = conn.close  # type: ignore[attr-defined]
    return pids


def load_content() -> tuple[str, dict[str, Any]]:
    """Migrate, load the roadmap and stage 2's bank, make its stage quiz; return the quiz's
    slug and the reference solution of each of its coding challenges, by title."""
    from django.core.management import call_command

    from quizzes.bank.quizzes import default_quizzes_sync
    from quizzes.grading.spec import spec_from_dict
    from quizzes.itemtypes import sandbox_types
    from quizzes.models import Item, Quiz

    quiet = open(os.devnull, "w")  # noqa: SIM115
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    call_command("load_roadmap", stdout=quiet)
    call_command(
        "load_bank", str(BASE_DIR / f"fixtures/questions/stage-{STAGE:02d}.yaml"), stdout=quiet
    )
    default_quizzes_sync()
    quiz = Quiz.objects.get(slug=f"stage-{STAGE}")
    quiz.max_attempts = None
    quiz.save(update_fields=["max_attempts"])
    references: dict[str, Any] = {}
    challenges = Item.objects.filter(stage=quiz.stage, type__in=sandbox_types()).select_related(
        "current_version"
    )
    for item in challenges:
        version = item.current_version
        if version is None:
            continue
        spec = spec_from_dict(item.type, version.data["challenge"])
        material = spec.material("python")
        if material is not None:
            references[version.title] = {"code": material.reference_solution, "language": "python"}
    if not references:
        raise SystemExit(f"stage {STAGE} has no coding challenge with a Python reference")
    return quiz.slug, references


def answer_for(item: dict[str, Any], rng: random.Random, references: dict[str, Any]) -> Any:
    """An answer of the item's shape (from its learner view); the reference for code.
    Used by the learners (bench/exam_burst_learners.py) and bench/request_cpu.py."""
    kind = item["type"]
    choices = [c["token"] for c in item.get("choices") or []]
    if kind == "single_choice":
        return {"choice": rng.choice(choices)}
    if kind == "multiple_choice":
        return {"choices": rng.sample(choices, rng.randint(1, len(choices)))}
    if kind == "true_false":
        return {"value": rng.random() < 0.5}
    if kind == "numeric":
        return {"value": str(rng.randint(0, 500))}
    if kind == "short_text":
        return {"text": rng.choice(["idempotent", "a cache", "ETag", "429", "backoff"])}
    if kind == "ordering":
        order = [e["token"] for e in item.get("sequence") or []]
        rng.shuffle(order)
        return {"order": order}
    if kind == "matching":
        rights = [r["token"] for r in item.get("rights") or []]
        return {"pairs": {left["token"]: rng.choice(rights) for left in item.get("lefts") or []}}
    if item["title"] in references:
        return references[item["title"]]
    return {"code": "pass\n"}


def make_learners(count: int) -> list[tuple[str, str]]:
    """``count`` learner accounts, each with a logged-in session and a CSRF secret."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.middleware.csrf import _get_new_csrf_string
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from accounts.models import User

    unusable = make_password(None)  # no password: nobody logs in during the run
    User.objects.bulk_create(
        [User(email=f"burst{i}@example.com", password=unusable) for i in range(count)],
        batch_size=1000,
    )
    users = list(User.objects.filter(email__startswith="burst").order_by("pk"))
    learner = Group.objects.get(name="learner")
    through = User.groups.through
    through.objects.bulk_create(
        [through(user_id=u.pk, group_id=learner.pk) for u in users], batch_size=1000
    )
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    rows, pairs = [], []
    backend = "allauth.account.auth_backends.AuthenticationBackend"  # what a login stores
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        pairs.append((key, _get_new_csrf_string()))
    Session.objects.bulk_create(rows, batch_size=1000)
    engine = settings.SESSION_ENGINE.rsplit(".", 1)[-1]
    assert engine in ("db", "cached_db"), "sessions must be rows for this bench"
    return pairs


# =========================================================================== one stage


@dataclass
class Stage:
    learners: int
    seconds: float = 0.0
    records: list[tuple[str, float, float, int, str]] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0
    wall: float = 0.0
    load_before: str = ""
    load_after: str = ""
    acks: int = 0
    lost: int = 0
    wrong: int = 0
    submits: int = 0
    unsubmitted: int = 0
    timed_out: bool = False
    submissions: int = 0
    graded: int = 0
    errored: int = 0
    pending: int = 0
    drain_seconds: float = float("nan")
    grading_ms: list[float] = field(default_factory=list)

    def latencies(self, kind: str) -> list[float]:
        return [r[2] for r in self.records if r[0] == kind and r[4] == "ok"]

    def count(self, kind: str | None, outcome: str) -> int:
        return sum(1 for r in self.records if (kind is None or r[0] == kind) and r[4] == outcome)

    @property
    def failures(self) -> int:
        return self.count(None, "failed") + self.count(None, "gave-up")

    def p95(self, kind: str) -> float:
        return pct(self.latencies(kind), 95)

    @property
    def passed(self) -> bool:
        return (
            self.failures == 0
            and not self.timed_out
            and self.lost == 0
            and self.wrong == 0
            and self.unsubmitted == 0
            and self.p95("save") < P95_GOAL_MS
            and self.p95("submit") < P95_GOAL_MS
        )


def run_stage(
    n: int,
    *,
    args: argparse.Namespace,
    work: Path,
    host: str,
    slug: str,
    references: dict[str, Any],
    sessions: list[tuple[str, str]],
    groups: dict[str, Any],
    env: dict[str, str],
    report: bool = True,
) -> Stage:
    from django.conf import settings
    from django.utils import timezone

    stage = Stage(learners=n)
    out = work / f"stage-{n}-{time.monotonic_ns()}"
    out.mkdir()
    config = {
        "host": host,
        "slug": slug,
        "sessions": sessions[:n],
        "references": references,
        "saves": args.saves,
        "save_interval": args.save_interval,
        "spread": args.spread,
        "timeout": args.timeout,
        "retry_seconds": 300,
        "max_seconds": args.spread + args.saves * args.save_interval[1] + 900,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "out": str(out),
    }
    (out / "config.json").write_text(json.dumps(config))
    began = timezone.now()
    stage.load_before = loadavg()
    generator = Service(
        "locust",
        [sys.executable, str(LEARNERS), str(out / "config.json")],
        out / "locust.log",
        env,
    ).start()
    sampler = CpuSampler({**groups, "load generator": lambda: descendants(generator.pid)})
    sampler.start()
    t0 = time.monotonic()
    try:
        generator.proc.wait(timeout=config["max_seconds"] + 120)  # type: ignore[union-attr]
    except subprocess.TimeoutExpired:
        log("the load generator overran its deadline; stopping it")
        generator.stop()
    stage.seconds = time.monotonic() - t0
    stage.cpu = sampler.stop()
    stage.machine_busy, stage.wall = sampler.machine_busy, sampler.wall
    stage.load_after = loadavg()
    generator.stop()
    if not (out / "records.json").exists():
        raise SystemExit(f"the load generator wrote no records:\n{generator.tail(40)}")
    stage.records = [tuple(r) for r in json.loads((out / "records.json").read_text())]  # type: ignore[misc]
    stage.timed_out = json.loads((out / "summary.json").read_text())["timed_out"]
    acks = json.loads((out / "acks.json").read_text())
    submits = json.loads((out / "submits.json").read_text())
    verify(stage, acks, submits)
    drain(stage, began, timeout=args.drain_timeout)
    if report:
        print_stage(stage)
    return stage


def verify(stage: Stage, acks: list[dict[str, Any]], submits: list[int]) -> None:
    """Every acknowledged save is stored; every acknowledged submit is submitted."""
    from quizzes.itemtypes import handler_for
    from quizzes.models import Attempt, AttemptItem, AttemptStatus

    stage.acks, stage.submits = len(acks), len(submits)
    attempts = {a["attempt"] for a in acks} | set(submits)
    stored = {
        (i.attempt_id, i.position): i
        for i in AttemptItem.objects.filter(attempt_id__in=attempts).select_related(
            "item_version__item"
        )
    }
    last: dict[tuple[int, int], dict[str, Any]] = {}
    for ack in acks:
        key = (ack["attempt"], ack["position"])
        item = stored.get(key)
        if item is None or item.answer_revision < ack["revision"]:
            stage.lost += 1
        if key not in last or ack["revision"] > last[key]["revision"]:
            last[key] = ack
    for key, ack in last.items():
        item = stored.get(key)
        if item is None or item.answer_revision != ack["revision"]:
            continue  # counted above if older; a newer unacknowledged save may have won
        handler = handler_for(item.item_version.item.type)
        if handler.clean_answer(ack["answer"], item.layout) != item.answer:
            stage.wrong += 1
    done = Attempt.objects.filter(pk__in=submits).exclude(status=AttemptStatus.IN_PROGRESS)
    stage.unsubmitted = len(set(submits)) - done.count()


def drain(stage: Stage, began: Any, *, timeout: float) -> None:
    """Wait until every code submission of the stage is graded (or errored)."""
    from quizzes.models import Submission, SubmissionKind, SubmissionStatus

    rows = Submission.objects.filter(created_at__gte=began, kind=SubmissionKind.SUBMIT)
    finished = (SubmissionStatus.GRADED, SubmissionStatus.ERROR)
    load_end = time.monotonic()
    deadline = load_end + timeout
    while rows.exclude(status__in=finished).exists() and time.monotonic() < deadline:
        time.sleep(1.0)
    stage.submissions = rows.count()
    stage.graded = rows.filter(status=SubmissionStatus.GRADED).count()
    stage.errored = rows.filter(status=SubmissionStatus.ERROR).count()
    stage.pending = stage.submissions - stage.graded - stage.errored
    if not stage.pending:
        stage.drain_seconds = time.monotonic() - load_end
    stage.grading_ms = [
        (graded - created).total_seconds() * 1000
        for created, graded in rows.filter(graded_at__isnull=False).values_list(
            "created_at", "graded_at"
        )
    ]


# =========================================================================== reporting


def ms(value: float) -> str:
    return "-" if value != value else f"{value:.0f}"  # NaN: no sample


def print_stage(stage: Stage) -> None:
    served = [r for r in stage.records if r[4] in ("ok", "failed", "shed")]
    rate = len(served) / stage.seconds if stage.seconds else 0.0
    print(
        f"\n=== {stage.learners} learners: {stage.seconds:.0f} s, {rate:.1f} requests/s, "
        f"load average {stage.load_before} -> {stage.load_after}"
    )
    print(
        f"  {'request':8} {'ok':>6} {'shed':>6} {'failed':>6} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    for kind in KINDS:
        lat = stage.latencies(kind)
        failed = stage.count(kind, "failed") + stage.count(kind, "gave-up")
        print(
            f"  {kind:8} {len(lat):6d} {stage.count(kind, 'shed'):6d} {failed:6d} "
            f"{ms(pct(lat, 50)):>8} {ms(pct(lat, 95)):>8} {ms(pct(lat, 99)):>8} "
            f"{ms(max(lat) if lat else float('nan')):>8}"
        )
    statuses: dict[str, int] = {}
    for r in stage.records:
        if r[4] in ("failed", "gave-up"):
            label = f"{r[0]} {r[4]} HTTP {r[3]}"
            statuses[label] = statuses.get(label, 0) + 1
    for label, count in sorted(statuses.items()):
        print(f"    {label}: {count}")
    capacity = stage.wall * NCPU
    ours = sum(stage.cpu.values())
    print(f"  CPU over {stage.wall:.0f} s on {NCPU} cores (share of the machine, cores used):")
    for name, seconds in stage.cpu.items():
        print(f"    {name:16} {100 * seconds / capacity:5.1f} %  {seconds / stage.wall:5.2f}")
    other = max(0.0, stage.machine_busy - ours)
    print(f"    {'everything else':16} {100 * other / capacity:5.1f} %  {other / stage.wall:5.2f}")
    print(
        f"  saves acknowledged: {stage.acks}; not stored: {stage.lost}; "
        f"last answer differs: {stage.wrong}"
    )
    print(f"  submits acknowledged: {stage.submits}; not submitted: {stage.unsubmitted}")
    drained = (
        f"drained {stage.drain_seconds:.0f} s after the burst"
        if stage.drain_seconds == stage.drain_seconds
        else f"NOT drained ({stage.pending} pending)"
    )
    print(
        f"  grading: {stage.submissions} submissions, {stage.graded} graded, "
        f"{stage.errored} errors, {drained}; submit -> graded p50 "
        f"{ms(pct(stage.grading_ms, 50))} ms, p95 {ms(pct(stage.grading_ms, 95))} ms"
    )
    if stage.timed_out:
        print("  the load generator hit its deadline: some learners did not finish")


def print_curve(stages: list[Stage]) -> None:
    print("\nCapacity curve (latencies in ms; CPU as cores used)")
    head = [
        "learners",
        "req/s",
        "save p50/p95/p99",
        "submit p50/p95/p99",
        "start p95",
        "page p95",
        "shed",
        "failed",
        "gunicorn",
        "celery",
        "postgres",
        "redis",
        "locust",
        "load avg after",
        "drain s",
    ]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for s in stages:
        served = sum(1 for r in s.records if r[4] in ("ok", "failed", "shed"))

        def trio(kind: str, s: Stage = s) -> str:
            lat = s.latencies(kind)
            return "/".join(ms(pct(lat, q)) for q in (50, 95, 99))

        cores = {name: seconds / s.wall for name, seconds in s.cpu.items()}
        row = [
            str(s.learners),
            f"{served / s.seconds:.1f}",
            trio("save"),
            trio("submit"),
            ms(s.p95("start")),
            ms(s.p95("page")),
            str(s.count(None, "shed")),
            str(s.failures),
            f"{cores.get('gunicorn', 0):.2f}",
            f"{cores.get('celery', 0):.2f}",
            f"{cores.get('postgres', 0):.2f}",
            f"{cores.get('redis', 0):.2f}",
            f"{cores.get('load generator', 0):.2f}",
            s.load_after,
            f"{s.drain_seconds:.0f}" if s.drain_seconds == s.drain_seconds else "not drained",
        ]
        print("| " + " | ".join(row) + " |")
    good = [s.learners for s in stages if s.passed]
    print(
        f"\nHighest cohort with save and submit p95 < {P95_GOAL_MS:.0f} ms, no failure and "
        f"nothing lost: {max(good) if good else 'none of those tried'}"
    )


# =========================================================================== main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default=None, help=f"cohort sizes (default {DEFAULT_CURVE})")
    parser.add_argument("--quick", action="store_true", help="smoke run: small cohorts, fast")
    parser.add_argument("--saves", type=int, default=None, help="saves per learner (8)")
    parser.add_argument("--save-interval", default=None, help="seconds between saves (5,15)")
    parser.add_argument("--spread", type=float, default=None, help="start window in s (60)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, s")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--worker-nice", default=None, help="WORKER_NICE for the worker")
    parser.add_argument("--shed-wait-ms", default=None, help="WEB_SHED_WAIT_MS for gunicorn")
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--pg-admin-url", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the database and folder")
    args = parser.parse_args(argv)
    quick = args.quick
    args.curve = [
        int(n) for n in (args.users or (QUICK_CURVE if quick else DEFAULT_CURVE)).split(",")
    ]
    args.saves = args.saves or (3 if quick else 8)
    interval = args.save_interval or ("1,3" if quick else "5,15")
    args.save_interval = [float(v) for v in interval.split(",")]
    args.spread = args.spread if args.spread is not None else (5.0 if quick else 60.0)
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    files = raise_open_files()
    work = Path(tempfile.mkdtemp(prefix="skillmap-burst-"))
    work.chmod(0o755)  # the sandbox's uid reads the worker's toolchain files here
    env_db = os.environ.get("DATABASE_URL", "")
    admin = args.pg_admin_url or (
        _with_db(env_db, "postgres") if env_db.startswith("postgres") else DEFAULT_PG_ADMIN_URL
    )
    admin = admin.replace("postgres://", "postgresql://", 1)
    redis_port, web_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "ENV_FILE", "DEBUG"}
    }
    env.update(production_env(work, f"redis://127.0.0.1:{redis_port}/0"))
    if args.worker_nice is not None:
        env["WORKER_NICE"] = str(args.worker_nice)
    if args.shed_wait_ms is not None:
        env["WEB_SHED_WAIT_MS"] = str(args.shed_wait_ms)
    services: list[Service] = []
    backends = None
    try:
        env["DATABASE_URL"] = prepare_database(admin)
        os.environ.update(env)
        (work / "var").mkdir(mode=0o755)
        redis = Service(
            "redis",
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(work),
                "--maxclients",
                "20000",
            ],
            work / "redis.log",
            env,
        ).start()
        services.append(redis)
        wait_until(lambda: _redis_ping(redis_port), timeout=20, what="Redis")

        import django

        django.setup()
        log(f"open files: {files}; load average {loadavg()}; preparing {BURST_DB}")
        slug, references = load_content()
        sessions = make_learners(max(args.curve))
        from django.db import connections

        connections.close_all()
        log(f"{len(sessions)} learners with sessions; starting gunicorn and the worker")
        gunicorn = Service(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:config.gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                str(args.web_workers),
            ],
            work / "gunicorn.log",
            env,
        ).start()
        services.append(gunicorn)
        worker = Service(
            "celery",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "grading,default",
                "--concurrency",
                str(args.worker_concurrency),
                "--loglevel",
                "INFO",
                "--hostname",
                f"burst-{os.getpid()}@%h",
            ],
            work / "worker.log",
            env,
        ).start()
        services.append(worker)
        host = f"http://127.0.0.1:{web_port}"
        wait_until(lambda: http_ok(f"{host}/healthz"), timeout=60, what="gunicorn")
        from quizzes.models import WorkerHeartbeat

        wait_until(
            lambda: WorkerHeartbeat.objects.filter(hostname__startswith="burst-").exists(),
            timeout=120,
            what=f"the worker's heartbeat\n{worker.tail()}",
        )
        backends = postgres_backends(admin)
        groups = {
            "gunicorn": lambda: descendants(gunicorn.pid),
            "celery": lambda: descendants(worker.pid),
            "postgres": backends,
            "redis": lambda: [redis.pid],
        }
        common = {
            "args": args,
            "work": work,
            "host": host,
            "slug": slug,
            "references": references,
            "sessions": sessions,
            "groups": groups,
            "env": env,
        }
        print("Exam burst (bench/exam_burst.py)")
        print(f"  machine: {NCPU} cores, load average {loadavg()} before the warm-up")
        print(
            f"  gunicorn {args.web_workers} sync workers; celery --concurrency "
            f"{args.worker_concurrency}, WORKER_NICE {env.get('WORKER_NICE', 'default')}; "
            f"WEB_SHED_WAIT_MS {env.get('WEB_SHED_WAIT_MS', 'default')}"
        )
        print(
            f"  each learner: starts within {args.spread:.0f} s, {args.saves} saves every "
            f"{args.save_interval[0]:g}-{args.save_interval[1]:g} s, submits with code"
        )
        warm = argparse.Namespace(
            **{**vars(args), "saves": 2, "save_interval": [0.5, 1.0], "spread": 2.0}
        )
        run_stage(min(10, max(args.curve)), **{**common, "args": warm}, report=False)
        log("warm-up done")
        stages: list[Stage] = []
        for n in args.curve:
            log(f"{n} learners; load average {loadavg()}")
            stages.append(run_stage(n, **common))
            for service in (gunicorn, worker, redis):
                if not service.alive():
                    raise SystemExit(f"{service.name} died:\n{service.tail()}")
        print_curve(stages)
        return 0
    finally:
        for service in reversed(services):
            service.stop()
        if backends is not None:
            backends.close()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if args.keep:
            log(f"kept {work} and database {BURST_DB}")
        else:
            drop_database(admin)
            shutil.rmtree(work, ignore_errors=True)


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
