"""Skill pages at cohort scale: seed learners with graded attempts, run the skill model's
real tasks, then time the learner dashboard and a page of the cohort heatmap.

    .venv/bin/python bench/dashboard.py                  # embedded default: an SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/skillmap_bench \
        .venv/bin/python bench/dashboard.py              # PostgreSQL: that database
    .venv/bin/python bench/dashboard.py --learners 600 --small 150 --attempts 20   # quick run

Options: --learners N (the full cohort, default 5000), --small N (the first, smaller cohort
measured, default 500), --attempts N (graded attempts per learner, default 40), --warm N
and --cold N (timed requests per page, default 50 and 20), --min-responses N (calibrate an
item from N answers; default the setting, SKILL_MIN_RESPONSES), --seed, --keep (keep the
database and the temporary folder), --debug (run with DEBUG=true instead of production
settings).

What it does:

1. A fresh temporary VAR_DIR (SQLite file, cache, static files), never the developer's
   var/. With a postgres DATABASE_URL, that database (its name must contain "bench") is
   dropped and created, and dropped again at the end unless --keep. REDIS_URL is ignored.
   Django runs with production settings (DEBUG off, static files collected) unless --debug.
2. ``migrate``, ``load_roadmap``, ``load_bank`` (the real roadmap and bank) and the default
   quizzes (one stage quiz per stage).
3. Seeds the small cohort with ``bulk_create``: each learner has a true ability per stage
   (correlation 0.6 between stages), reaches a random stage 1 to 11 on the roadmap and
   spreads ``--attempts`` graded stage-quiz attempts uniformly over the stages up to it,
   over the last year. An attempt has 1, 2 or 3 items (probabilities 0.6, 0.3, 0.1: 1.5 on
   average, so 5,000 x 40 attempts hold about 300,000 answers), drawn from the stage's
   published items; each answer is right with the 2PL probability of the learner's
   ability under the item's true parameters (its author's difficulty, jittered), and
   scores all or nothing. A right answer to a choice item stores the key (so picks can be
   counted); other answers store none. Then ``ANALYZE``, as autovacuum would after a bulk
   load (again after the tasks have written the estimates).
4. Runs ``skill_calibrate`` (the periodic calibration task's body: items with enough
   answers are calibrated, and the estimates of the learners who answered them are
   recomputed), then the estimate task (``update_learner``) for every learner, timing both.
5. Measures, with Django's test Client against this database: the learner dashboard
   (/dashboard/) and a heatmap page sorted by a stage's score. "Cold": each request on a
   new database connection, for a learner (or a heatmap page) not requested before.
   "First": a learner (or page) not requested before, on an open connection (production
   keeps connections open: CONN_MAX_AGE). "Warm": requested before, on an open
   connection. Queries are counted on every timed request (an execute wrapper, which
   neither opens a connection nor adds a debug cursor).
6. Seeds the rest of the cohort, runs both tasks again (for everyone), measures again.
7. Prints the figures and the verdicts: query counts the same at both cohort sizes, p95
   under 150 ms (dashboard) and 300 ms (heatmap page) at the full size.

Prints figures only; never run as a timed test.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

DASHBOARD_P95_MS = 150.0
HEATMAP_P95_MS = 300.0
STAGE_CORRELATION = 0.6
ITEMS_PER_ATTEMPT = ((1, 0.6), (2, 0.3), (3, 0.1))


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print()
    print(title)
    print(line)
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print(line)
    for row in rows:
        print("| " + " | ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print(line)


# --------------------------------------------------------------------------- environment


@dataclass
class Backend:
    name: str
    var_dir: Path
    admin_url: str | None = None
    dbname: str | None = None

    def describe(self) -> str:
        if self.name == "sqlite":
            return f"SQLite file under {self.var_dir} (the embedded default)"
        return f"PostgreSQL database {self.dbname} (dropped and created for this run)"


def prepare(args: argparse.Namespace) -> Backend:
    var_dir = Path(tempfile.mkdtemp(prefix="skillmap-bench-dashboard-"))
    url = os.environ.get("DATABASE_URL", "")
    os.environ.pop("REDIS_URL", None)  # the file cache under VAR_DIR; never a shared Redis
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if args.debug:
        os.environ["DEBUG"] = "true"
    else:
        os.environ["DEBUG"] = "false"
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
        os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
        os.environ["SECURE_SSL_REDIRECT"] = "false"
    if urlsplit(url).scheme not in {"postgres", "postgresql", "pgsql"}:
        os.environ.pop("DATABASE_URL", None)
        return Backend("sqlite", var_dir)
    import psycopg

    parts = urlsplit(url)
    dbname = parts.path.lstrip("/")
    if "bench" not in dbname:
        raise SystemExit(f"refusing to drop {dbname!r}: the database name must contain 'bench'")
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return Backend("postgres", var_dir, admin, dbname)


def teardown(backend: Backend, *, keep: bool) -> None:
    try:
        from django.db import connections

        connections.close_all()
    except Exception as exc:  # django may not be set up
        log(f"closing connections: {exc!r}")
    if keep:
        log(
            f"kept: {backend.var_dir}"
            + (f" and database {backend.dbname}" if backend.dbname else "")
        )
        return
    if backend.admin_url and backend.dbname:
        try:
            import psycopg

            with psycopg.connect(backend.admin_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{backend.dbname}" WITH (FORCE)')
        except Exception as exc:
            log(f"could not drop {backend.dbname}: {exc}")
    shutil.rmtree(backend.var_dir, ignore_errors=True)


def load_content(*, debug: bool) -> None:
    from django.core.management import call_command

    from quizzes.bank.quizzes import default_quizzes_sync

    quiet = open(os.devnull, "w")  # noqa: SIM115
    call_command("migrate", verbosity=0, interactive=False)
    if not debug:
        call_command("collectstatic", verbosity=0, interactive=False)
    call_command("load_roadmap", stdout=quiet)
    call_command("load_bank", stdout=quiet)
    default_quizzes_sync()


# --------------------------------------------------------------------------- seeding


@dataclass
class BankItem:
    item_id: int
    version_id: int
    points: float
    a: float  # true parameters the simulated answers follow
    b: float
    layout: dict[str, Any]
    key: dict[str, Any] | None  # the key in the layout's tokens (choice items only)


@dataclass
class Seeder:
    rng: random.Random
    attempts_per_learner: int
    stages: dict[int, Any] = field(default_factory=dict)  # number -> Stage
    quizzes: dict[int, Any] = field(default_factory=dict)  # number -> stage quiz
    items: dict[int, list[BankItem]] = field(default_factory=dict)  # number -> items
    seeded: int = 0
    answers: int = 0
    attempts: int = 0

    def setup(self) -> None:
        from quizzes.itemtypes import handler_for
        from quizzes.models import Item, ItemStatus, Quiz, QuizKind, Stage

        self.stages = {s.number: s for s in Stage.objects.active()}
        for quiz in Quiz.objects.filter(kind=QuizKind.STAGE).select_related("stage"):
            if quiz.stage is not None:
                self.quizzes.setdefault(quiz.stage.number, quiz)
        items = Item.objects.filter(status=ItemStatus.PUBLISHED).select_related(
            "current_version", "stage"
        )
        for item in items.order_by("pk"):
            version = item.current_version
            if version is None:
                continue
            handler = handler_for(item.type)
            layout = handler.layout(version.data, random.Random(version.pk), shuffle=False)
            key = (
                handler.to_tokens(handler.key_answer(version.data), layout)
                if handler.has_choices
                else None
            )
            self.items.setdefault(item.stage.number, []).append(
                BankItem(
                    item_id=item.pk,
                    version_id=version.pk,
                    points=float(version.points),
                    a=math.exp(self.rng.gauss(0.0, 0.3)),
                    b=(version.difficulty - 3) * 0.8 + self.rng.gauss(0.0, 0.5),
                    layout=layout,
                    key=key,
                )
            )
        missing = sorted(set(self.stages) - set(self.quizzes) - set(self.items))
        if missing:
            raise SystemExit(f"stages without a stage quiz or items: {missing}")

    def learners(self, count: int) -> list[int]:
        """``count`` new learner accounts (bulk), in the learner group; their ids."""
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group

        from accounts.models import User

        password = make_password(None)  # unusable: nobody logs in with it
        start = self.seeded
        users = [
            User(email=f"learner{k:05d}@bench.example", password=password, display_name=f"L{k}")
            for k in range(start, start + count)
        ]
        User.objects.bulk_create(users, batch_size=1000)
        ids = list(
            User.objects.filter(email__in=[u.email for u in users]).values_list("pk", flat=True)
        )
        group = Group.objects.get(name="learner")
        through = User.groups.through
        through.objects.bulk_create(
            [through(user_id=pk, group_id=group.pk) for pk in ids], batch_size=2000
        )
        self.seeded += count
        return sorted(ids)

    def attempts_for(self, learner_ids: list[int], now: Any) -> None:
        """Graded attempts and their answers for these learners (see the docstring)."""
        from quizzes.models import Attempt, AttemptItem, AttemptStatus

        numbers = sorted(self.stages)
        shared_weight = math.sqrt(STAGE_CORRELATION)
        own_weight = math.sqrt(1 - STAGE_CORRELATION)
        sizes = [k for k, _ in ITEMS_PER_ATTEMPT]
        weights = [w for _, w in ITEMS_PER_ATTEMPT]
        chunk = 200
        for offset in range(0, len(learner_ids), chunk):
            attempts: list[Any] = []
            answers: list[list[Any]] = []
            for learner_id in learner_ids[offset : offset + chunk]:
                general = self.rng.gauss(0, 1)
                ability = {
                    n: shared_weight * general + own_weight * self.rng.gauss(0, 1) for n in numbers
                }
                reach = self.rng.randint(1, len(numbers))
                days = sorted(self.rng.uniform(0, 365) for _ in range(self.attempts_per_learner))
                taken: Counter[int] = Counter()
                for age in reversed(days):  # oldest first, so attempt numbers follow time
                    stage = numbers[self.rng.randrange(reach)]
                    quiz = self.quizzes[stage]
                    taken[stage] += 1
                    drawn = self.rng.sample(
                        self.items[stage],
                        min(len(self.items[stage]), self.rng.choices(sizes, weights)[0]),
                    )
                    graded_at = now - timedelta(days=age)
                    score = max_score = 0.0
                    rows = []
                    for position, item in enumerate(drawn, start=1):
                        p = 1.0 / (1.0 + math.exp(-item.a * (ability[stage] - item.b)))
                        right = self.rng.random() < p
                        got = item.points if right else 0.0
                        score += got
                        max_score += item.points
                        rows.append(
                            AttemptItem(
                                item_version_id=item.version_id,
                                position=position,
                                layout=item.layout,
                                answer=item.key if right else None,
                                answer_revision=1 if right and item.key else 0,
                                locked=True,
                                score=got,
                                max_score=item.points,
                                is_correct=right,
                                graded_at=graded_at,
                            )
                        )
                    attempts.append(
                        Attempt(
                            quiz_id=quiz.pk,
                            learner_id=learner_id,
                            number=taken[stage],
                            status=AttemptStatus.GRADED,
                            seed=self.rng.getrandbits(31),
                            submitted_at=graded_at - timedelta(seconds=30),
                            graded_at=graded_at,
                            score=score,
                            max_score=max_score,
                            passed=score * 100 >= quiz.pass_mark_percent * max_score,
                        )
                    )
                    answers.append(rows)
            Attempt.objects.bulk_create(attempts, batch_size=2000)
            if attempts and attempts[0].pk is None:
                raise SystemExit("bulk_create returned no primary keys on this database")
            flat = []
            for attempt, rows in zip(attempts, answers, strict=True):
                for row in rows:
                    row.attempt_id = attempt.pk
                    flat.append(row)
            AttemptItem.objects.bulk_create(flat, batch_size=5000)
            self.attempts += len(attempts)
            self.answers += len(flat)


def analyze() -> None:
    """Refresh the planner's statistics after bulk loading, as autovacuum (PostgreSQL) would
    soon do by itself; without them the planner takes 300,000 rows for a handful."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --------------------------------------------------------------------------- the tasks


@dataclass
class TaskTimes:
    cohort: int
    calibrate_seconds: float
    calibrate_report: Any
    estimate_seconds: list[float]


def run_tasks(learner_ids: list[int], cohort: int) -> TaskTimes:
    from quizzes.analytics.skill import skill_calibrate
    from quizzes.analytics.tasks import update_learner

    log(f"calibrating ({cohort} learners)")
    t0 = time.perf_counter()
    report = skill_calibrate()
    calibrate_seconds = time.perf_counter() - t0
    log(
        f"calibration: {calibrate_seconds:.1f} s, {report.items_calibrated} items, "
        f"{report.learners_updated} learners updated; the estimate task for each learner"
    )
    per_learner = []
    for k, learner_id in enumerate(learner_ids, start=1):
        t = time.perf_counter()
        update_learner(learner_id)  # the Celery task's body, run in this process
        per_learner.append(time.perf_counter() - t)
        if k % 1000 == 0:
            log(f"  {k} of {len(learner_ids)} learners")
    return TaskTimes(cohort, calibrate_seconds, report, per_learner)


# --------------------------------------------------------------------------- requests


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def add(self, seconds: float, queries: int, status: int) -> None:
        self.seconds.append(seconds)
        self.queries.append(queries)
        self.statuses[status] += 1

    def p(self, q: int) -> float:
        return pct(self.seconds, q) * 1000

    def query_text(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


@contextmanager
def counting() -> Iterator[list[int]]:
    """Counts the SQL statements run inside (without opening a connection)."""
    from django.db import connection

    count = [0]

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def timed_get(client: Any, path: str, sample: Sample, *, cold: bool) -> None:
    from django.db import connections

    if cold:
        connections.close_all()
    with counting() as count:
        t0 = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - t0
    sample.add(elapsed, count[0], response.status_code)


# cold: a new database connection, for a learner (or a heatmap page) not requested before;
# first: such a learner or page on an open connection; warm: repeated, on an open connection.
KINDS = ("cold", "first", "warm")


@dataclass
class PageFigures:
    cold: Sample = field(default_factory=Sample)
    first: Sample = field(default_factory=Sample)
    warm: Sample = field(default_factory=Sample)

    def kind(self, name: str) -> Sample:
        sample: Sample = getattr(self, name)
        return sample


def client_for(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def measure(args: argparse.Namespace, rng: random.Random, used: set[int]) -> dict[str, PageFigures]:
    from accounts.models import User
    from accounts.roles import user_create
    from quizzes.analytics.selectors import HEATMAP_PAGE_SIZE
    from quizzes.models import SkillEstimate

    with_estimates = list(
        SkillEstimate.objects.filter(topic__isnull=True)
        .values_list("learner_id", flat=True)
        .distinct()
        .order_by("learner_id")
    )
    fresh = [pk for pk in with_estimates if pk not in used]
    chosen = rng.sample(fresh, min(2 * args.cold, len(fresh)))
    used.update(chosen)
    clients = [client_for(u) for u in User.objects.filter(pk__in=chosen)]
    cold_learners, first_learners = clients[: args.cold], clients[args.cold :] or clients
    instructor = User.objects.filter(email="instructor@bench.example").first()
    if instructor is None:
        instructor = user_create(
            user=User(email="instructor@bench.example", display_name="Instructor"),
            role="instructor",
        )
    staff = client_for(instructor)
    cohort = User.objects.filter(email__endswith="@bench.example").count() - 1
    pages = max(1, math.ceil(cohort / HEATMAP_PAGE_SIZE))

    def random_page() -> str:
        return (
            f"/author/analytics/heatmap?sort=stage-{rng.randint(1, 11)}"
            f"&order={rng.choice(['asc', 'desc'])}&page={rng.randint(1, pages)}"
        )

    warm_heatmap = f"/author/analytics/heatmap?sort=stage-5&order=desc&page={min(3, pages)}"
    figures = {"dashboard": PageFigures(), "heatmap": PageFigures()}
    for client in cold_learners:
        timed_get(client, "/dashboard/", figures["dashboard"].cold, cold=True)
    for _ in range(args.cold):
        timed_get(staff, random_page(), figures["heatmap"].cold, cold=True)
    staff.get("/author/analytics/heatmap")  # open the connection again
    for client in first_learners:
        timed_get(client, "/dashboard/", figures["dashboard"].first, cold=False)
    for _ in range(args.cold):
        timed_get(staff, random_page(), figures["heatmap"].first, cold=False)
    staff.get(warm_heatmap)  # warm-up
    for k in range(args.warm):
        client = clients[k % len(clients)]
        timed_get(client, "/dashboard/", figures["dashboard"].warm, cold=False)
        timed_get(staff, warm_heatmap, figures["heatmap"].warm, cold=False)
    for name, page in figures.items():
        statuses = sum((page.kind(k).statuses for k in KINDS), Counter())
        bad = {s: n for s, n in statuses.items() if s != 200}
        if bad:
            raise SystemExit(f"{name}: unexpected responses {bad}")
    return figures


def item_page_figures() -> list[tuple[str, float, int]]:
    """For information: the items page (item statistics), one warm request each, for the
    whole bank (no picks) and for stage 1 (with the picks per option)."""
    from accounts.models import User

    client = client_for(User.objects.get(email="instructor@bench.example"))
    found = []
    for path in ("/author/items/", "/author/items/?stage=1"):
        client.get(path)
        sample = Sample()
        timed_get(client, path, sample, cold=False)
        found.append((path, sample.seconds[0] * 1000, sample.queries[0]))
    return found


# --------------------------------------------------------------------------- report


def report(
    args: argparse.Namespace,
    backend: Backend,
    seeder: Seeder,
    seeding: dict[int, float],
    tasks: dict[int, TaskTimes],
    figures: dict[int, dict[str, PageFigures]],
    items_pages: list[tuple[str, float, int]],
    load: tuple[float, float],
) -> bool:
    from django.conf import settings

    print()
    print("Skill pages at cohort scale (bench/dashboard.py)")
    print(f"  database: {backend.describe()}")
    print(f"  settings: {'DEBUG=true' if args.debug else 'production (DEBUG off)'}")
    print(
        f"  cohort: {args.small} then {args.learners} learners x {args.attempts} graded "
        f"attempts, 1-3 items each (p = 0.6/0.3/0.1); {seeder.attempts} attempts and "
        f"{seeder.answers} answers in all; {sum(len(v) for v in seeder.items.values())} "
        f"published items in {len(seeder.items)} stages"
    )
    print(
        f"  SKILL_MIN_RESPONSES = {settings.SKILL_MIN_RESPONSES}; load average "
        f"{load[0]:.2f} before, {load[1]:.2f} after; {os.cpu_count()} CPUs"
    )
    table(
        "Seeding and the skill tasks",
        ["cohort", "seed s", "calibrate s", "items cal.", "learners upd.", "estimates s",
         "per learner mean ms", "p50 ms", "p95 ms"],
        [
            [
                str(size),
                f"{seeding[size]:.1f}",
                f"{t.calibrate_seconds:.1f}",
                str(t.calibrate_report.items_calibrated),
                str(t.calibrate_report.learners_updated),
                f"{sum(t.estimate_seconds):.1f}",
                f"{statistics.fmean(t.estimate_seconds) * 1000:.1f}",
                f"{pct(t.estimate_seconds, 50) * 1000:.1f}",
                f"{pct(t.estimate_seconds, 95) * 1000:.1f}",
            ]
            for size, t in sorted(tasks.items())
        ],
    )  # fmt: skip
    print("  (seed s: the new learners only; the tasks run over the whole cohort so far)")
    rows = []
    for size, pages in sorted(figures.items()):
        for name, page in pages.items():
            for kind in KINDS:
                sample = page.kind(kind)
                rows.append(
                    [
                        str(size),
                        name,
                        kind,
                        str(len(sample.seconds)),
                        sample.query_text(),
                        f"{sample.p(50):.1f}",
                        f"{sample.p(95):.1f}",
                        f"{max(sample.seconds) * 1000:.1f}",
                    ]
                )
    table(
        "Requests (Django test Client, this database)",
        ["cohort", "page", "kind", "n", "queries", "p50 ms", "p95 ms", "max ms"],
        rows,
    )
    print("  cold: a new database connection, for a learner or page not requested before")
    print("  first: a learner or page not requested before, on an open connection")
    print("  warm: requested before, on an open connection")
    print("  dashboard: /dashboard/ of learners with estimates")
    print("  heatmap: cold and first = random stage-sorted pages;")
    print("           warm = ?sort=stage-5&order=desc&page=3")
    for path, milliseconds, queries in items_pages:
        print(f"  items page {path} (item statistics, one warm request, information only): "
              f"{milliseconds:.0f} ms, {queries} queries")  # fmt: skip

    small, full = figures[args.small], figures[args.learners]
    ok = True
    print()
    print("Verdicts")
    for name in ("dashboard", "heatmap"):
        counts_small = "/".join(small[name].kind(k).query_text() for k in KINDS)
        counts_full = "/".join(full[name].kind(k).query_text() for k in KINDS)
        same = counts_small == counts_full
        ok = ok and same
        print(
            f"  {'PASS' if same else 'FAIL'}  {name}: queries independent of the cohort "
            f"(cold/first/warm {counts_small} at {args.small}, {counts_full} at {args.learners})"
        )
    for name, limit in (("dashboard", DASHBOARD_P95_MS), ("heatmap", HEATMAP_P95_MS)):
        for kind in KINDS:
            p95 = full[name].kind(kind).p(95)
            passed = p95 < limit
            ok = ok and passed
            print(
                f"  {'PASS' if passed else 'FAIL'}  {name} {kind} p95 {p95:.1f} ms "
                f"< {limit:g} ms at {args.learners} learners"
            )
    print(f"  {'PASS' if ok else 'FAIL'}  overall", flush=True)
    return ok


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=5000, help="the full cohort")
    parser.add_argument("--small", type=int, default=500, help="the first cohort measured")
    parser.add_argument("--attempts", type=int, default=40, help="graded attempts per learner")
    parser.add_argument("--warm", type=int, default=50, help="warm requests per page")
    parser.add_argument("--cold", type=int, default=20, help="cold requests per page")
    parser.add_argument("--min-responses", type=int, default=None, help="SKILL_MIN_RESPONSES")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--keep", action="store_true", help="keep the database and folder")
    parser.add_argument("--debug", action="store_true", help="DEBUG=true, not production")
    args = parser.parse_args()
    if not 0 < args.small < args.learners:
        parser.error("--small must be positive and below --learners")
    if args.cold < 1 or args.warm < 1 or args.attempts < 1:
        parser.error("--cold, --warm and --attempts must be positive")

    backend = prepare(args)
    # A SIGTERM still drops the database and removes the folder (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.utils import timezone

        if args.min_responses is not None:
            settings.SKILL_MIN_RESPONSES = args.min_responses
        log(f"database: {backend.describe()}")
        log("migrating, loading the roadmap, the bank and the default quizzes")
        load_content(debug=args.debug)
        load_before = os.getloadavg()[0]
        rng = random.Random(args.seed)
        seeder = Seeder(random.Random(args.seed + 1), args.attempts)
        seeder.setup()
        now = timezone.now()
        seeding: dict[int, float] = {}
        tasks: dict[int, TaskTimes] = {}
        figures: dict[int, dict[str, PageFigures]] = {}
        everyone: list[int] = []
        used: set[int] = set()
        for size in (args.small, args.learners):
            log(f"seeding {size - len(everyone)} learners")
            t0 = time.perf_counter()
            new = seeder.learners(size - len(everyone))
            seeder.attempts_for(new, now)
            seeding[size] = time.perf_counter() - t0
            everyone += new
            analyze()
            log(
                f"seeded in {seeding[size]:.1f} s: {seeder.attempts} attempts, "
                f"{seeder.answers} answers in all"
            )
            tasks[size] = run_tasks(everyone, size)
            analyze()
            log(f"measuring the pages at {size} learners")
            figures[size] = measure(args, rng, used)
        items_pages = item_page_figures()
        ok = report(
            args, backend, seeder, seeding, tasks, figures, items_pages,
            (load_before, os.getloadavg()[0]),
        )  # fmt: skip
    finally:
        teardown(backend, keep=args.keep)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
