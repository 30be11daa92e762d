"""Two worker hosts on one database and broker: each worker runs in a network namespace
of its own (a test host made with `ip netns` and a veth pair) and reaches PostgreSQL and
the broker only through socat on the host side of its link. One host is SIGKILLed while
it grades; the other takes its submission over, and every submission gets exactly one
result. The test prints the CPU each worker spent per submission it graded.

It needs root, `ip` (iproute2) and `socat` (`make setup-test` installs both as root),
PostgreSQL and a network broker (Redis or RabbitMQ); otherwise it is skipped with the
reason. The namespaces, links and forwarders are removed whatever happens."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.models import (
    AttemptEvent,
    AttemptStatus,
    EventKind,
    QuizPool,
    Submission,
    SubmissionStatus,
    WorkerHeartbeat,
)
from quizzes.pipeline.grading import submissions_sweep
from tests.conftest import WorkerProcess, free_port, shared_database_url, wait_for
from tests.factories import QuizFactory, UserFactory
from tests.samples import PYTHON, load_sample_items

pytestmark = [pytest.mark.worker, pytest.mark.sandbox, pytest.mark.slow]

SUBMISSIONS = 24
# Right, and slow on purpose (0.2 s a test, 3 tests): a worker is always mid-run.
SLOW_RIGHT = "import time\n\ndef add(a, b):\n    time.sleep(0.2)\n    return a + b\n"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def why_it_cannot_run() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create network namespaces (ip netns)"
    for tool, package in (("ip", "iproute2"), ("socat", "socat")):
        if shutil.which(tool) is None:
            return f"needs `{tool}` (Debian's {package}; `make setup-test` installs it as root)"
    if connection.vendor != "postgresql":
        return (
            "needs PostgreSQL (DATABASE_URL=postgres://…): hosts share a database over the "
            "network, not a SQLite file"
        )
    if not settings.CELERY_BROKER_URL.startswith(("redis", "amqp")):
        return "needs a network broker (REDIS_URL or CELERY_BROKER_URL), not the folder broker"
    return None


def run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=30)


def reachable(host: str, port: int, *, netns: str | None = None) -> bool:
    if netns is None:
        try:
            socket.create_connection((host, port), timeout=1).close()
        except OSError:
            return False
        return True
    probe = f"import socket; socket.create_connection(({host!r}, {port}), timeout=1).close()"
    result = subprocess.run(
        ["ip", "netns", "exec", netns, "python3", "-c", probe],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return result.returncode == 0


@dataclass
class TestHost:
    """A network namespace linked to this machine by a veth pair: ``address`` is the
    host's side of the link, the only address the namespace can reach."""

    __test__ = False  # not a test class

    label: str
    netns: str
    address: str
    forwards: dict[tuple[str, int], int] = field(default_factory=dict)

    def url(self, url: str) -> str:
        """``url`` with its host and port replaced by this test host's forwarder to them."""
        parts = urlsplit(url)
        port = self.forwards[(parts.hostname or "", parts.port or default_port(parts.scheme))]
        auth = parts.netloc.rpartition("@")[0]
        netloc = f"{auth}@{self.address}:{port}" if auth else f"{self.address}:{port}"
        return urlunsplit(parts._replace(netloc=netloc))


def default_port(scheme: str) -> int:
    return {"postgres": 5432, "redis": 6379, "amqp": 5672}.get(scheme, 0)


def make_host(stack: ExitStack, label: str, index: int, services: set[tuple[str, int]]) -> TestHost:
    """A namespace, its veth link (a /30 in 10.231.<pid>.0/24) and a socat per service."""
    tag = f"{os.getpid() % 100000}{label}"
    netns, outside, inside = f"skillmap-{tag}", f"smh{tag}", f"smn{tag}"
    subnet = f"10.231.{os.getpid() % 250}"
    host_ip, ns_ip = f"{subnet}.{4 * index + 1}", f"{subnet}.{4 * index + 2}"
    run("ip", "netns", "add", netns)
    stack.callback(subprocess.run, ["ip", "netns", "del", netns], check=False, timeout=30)
    run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
    stack.callback(subprocess.run, ["ip", "link", "del", outside], capture_output=True,
                   check=False, timeout=30)  # fmt: skip
    run("ip", "link", "set", inside, "netns", netns)
    run("ip", "addr", "add", f"{host_ip}/30", "dev", outside)
    run("ip", "link", "set", outside, "up")
    run("ip", "-n", netns, "addr", "add", f"{ns_ip}/30", "dev", inside)
    run("ip", "-n", netns, "link", "set", inside, "up")
    run("ip", "-n", netns, "link", "set", "lo", "up")
    host = TestHost(label=label, netns=netns, address=host_ip)
    for target_host, target_port in sorted(services):
        port = free_port()
        proc = subprocess.Popen(
            ["socat", f"TCP-LISTEN:{port},bind={host_ip},fork,reuseaddr",
             f"TCP:{target_host}:{target_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        stack.callback(kill_group, proc)
        host.forwards[(target_host, target_port)] = port
        wait_for(lambda p=port: reachable(host_ip, p), timeout=10, what=f"socat on {port}")
    return host


def kill_group(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def group_cpu_seconds(pgid: int) -> float:
    """CPU time of every live process in the group, with the children each has reaped
    (a worker's sandboxes are reaped by its pool process)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / CLOCK_TICKS


def graded_by(worker: WorkerProcess) -> set[int]:
    """Submissions this worker logged as graded (its own JSON log)."""
    graded = set()
    for line in worker.log_text().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("outcome") == "graded":
                graded.add(int(record["submission_id"]))
    return graded


@pytest.fixture
def two_hosts(transactional_db: None, tmp_path: Path) -> Iterator[list[TestHost]]:
    reason = why_it_cannot_run()
    if reason:
        pytest.skip(reason)
    urls = [shared_database_url(), settings.CELERY_BROKER_URL]
    if settings.REDIS_URL:
        urls.append(settings.REDIS_URL)
    services = {
        (urlsplit(u).hostname or "", urlsplit(u).port or default_port(urlsplit(u).scheme))
        for u in urls
    }
    with ExitStack() as stack:
        yield [make_host(stack, label, i, services) for i, label in enumerate("ab")]


def test_a_killed_host_s_submission_is_taken_over_and_each_graded_once(
    two_hosts: list[TestHost], topic: Any, tmp_path: Path, settings: Any, capsys: Any
) -> None:
    # The sweeper runs here, in the test, on the shared database; a message lost with the
    # killed host (none is expected: it prefetches nothing beyond its one run) is re-sent.
    settings.GRADING_REQUEUE_AFTER_SECONDS = 30
    db = urlsplit(shared_database_url())
    db_service = (db.hostname or "", db.port or 5432)
    for host in two_hosts:  # each host reaches the database only through its link
        assert not reachable(*db_service, netns=host.netns)
        assert reachable(host.address, host.forwards[db_service], netns=host.netns)

    workers = {}
    for host in two_hosts:
        env = {
            "DATABASE_URL": host.url(shared_database_url()),
            "CELERY_BROKER_URL": host.url(settings.CELERY_BROKER_URL),
            "GRADING_LEASE_SECONDS": "5",
        }
        if settings.REDIS_URL:
            env["REDIS_URL"] = host.url(settings.REDIS_URL)
        workers[host.label] = WorkerProcess(
            extra_env=env,
            prefix=["ip", "netns", "exec", host.netns],
            log_path=tmp_path / f"worker-{host.label}.log",
            hostname=f"host-{host.label}-{os.getpid()}@%h",
        ).start()
    try:
        _run_the_scenario(workers, topic, capsys)
    finally:
        for worker in workers.values():
            worker.stop()


def _run_the_scenario(workers: dict[str, WorkerProcess], topic: Any, capsys: Any) -> None:
    a, b = workers["a"], workers["b"]
    wait_for(
        lambda: WorkerHeartbeat.objects.filter(hostname__startswith="host-").count() == 2,
        timeout=90,
        what=f"both hosts' heartbeats\nA:\n{a.log_text()[-2000:]}\nB:\n{b.log_text()[-2000:]}",
    )
    assert a.proc is not None and b.proc is not None
    idle = {"a": group_cpu_seconds(a.proc.pid), "b": group_cpu_seconds(b.proc.pid)}

    [challenge] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge)
    attempts = []
    for _ in range(SUBMISSIONS):
        attempt = attempt_start(learner=UserFactory(), quiz=quiz)
        attempt_answer_save(attempt=attempt, position=1, answer={"code": SLOW_RIGHT}, revision=1)
        attempts.append(attempt)
    for attempt in attempts:
        attempt_submit(attempt=attempt)
    ids = set(Submission.objects.values_list("pk", flat=True))
    assert len(ids) == SUBMISSIONS

    # Kill host A once it has graded a few and both hosts are busy: A is mid-run.
    def a_busy_mid_run() -> bool:
        running = Submission.objects.filter(status=SubmissionStatus.RUNNING).count()
        return len(graded_by(a)) >= 3 and running == 2

    wait_for(a_busy_mid_run, timeout=120, interval=0.02, what="host A to be busy grading")
    cpu_a = group_cpu_seconds(a.proc.pid) - idle["a"]
    graded_a = graded_by(a)
    a.kill(signal.SIGKILL)
    killed_at = time.monotonic()

    taken_over: list[int] = []

    def all_graded() -> bool:
        report = submissions_sweep()
        taken_over.extend(report.requeued_expired)
        return not Submission.objects.exclude(status=SubmissionStatus.GRADED).exists()

    wait_for(
        all_graded, timeout=180, interval=0.5, what=f"host B to finish\n{b.log_text()[-3000:]}"
    )
    recovered_in = time.monotonic() - killed_at

    def b_logged_the_rest() -> set[int] | None:
        graded = graded_by(b)
        return graded if graded | graded_a == ids else None

    graded_b = wait_for(b_logged_the_rest, timeout=15, what="host B's log")
    cpu_b = group_cpu_seconds(b.proc.pid) - idle["b"]

    # Host A died holding a claimed submission; the sweeper released it and B graded it.
    assert taken_over, "host A held no claimed submission when it was killed"
    assert set(taken_over) <= graded_b and not set(taken_over) & graded_a
    # Exactly one result per submission: one worker logged each as graded, each attempt
    # has one GRADED event and no REGRADED.
    assert graded_a and graded_b and not graded_a & graded_b
    assert graded_a | graded_b == ids
    for submission in Submission.objects.all():
        assert submission.score == 1.0 and submission.status == SubmissionStatus.GRADED
    for attempt in attempts:
        attempt.refresh_from_db()
        assert attempt.status == AttemptStatus.GRADED
        events = AttemptEvent.objects.filter(attempt=attempt)
        assert events.filter(kind=EventKind.GRADED).count() == 1
        assert not events.filter(kind=EventKind.REGRADED).exists()

    with capsys.disabled():
        print(
            f"\ntwo hosts, {SUBMISSIONS} submissions ({len(PYTHON['challenge']['tests'])} tests, "
            f"0.2 s sleep each), one slot per host, load average {os.getloadavg()[0]:.2f}:"
        )
        for label, graded, cpu in (("A (killed)", graded_a, cpu_a), ("B", graded_b, cpu_b)):
            print(
                f"  host {label}: graded {len(graded)}, CPU {cpu:.2f} s, "
                f"{1000 * cpu / len(graded):.0f} ms per submission (sandbox included)"
            )
        print(
            f"  taken over from A: {sorted(taken_over)}; everything graded "
            f"{recovered_in:.1f} s after the kill"
        )
