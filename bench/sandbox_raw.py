"""Raw sandbox throughput: graded runs per second of a bank-style challenge (10 tests:
6 visible, 4 hidden, one sandbox run each), at concurrency 1 and 2 (one process per worker
slot, like a prefork Celery worker), with p50/p95/p99 latency per run.

    .venv/bin/python bench/sandbox_raw.py [--seconds 5]
    .venv/bin/python bench/sandbox_raw.py --steps [--repeat 60]

``--steps`` measures what one sandbox start is made of, one layer added at a time, each
run ``--repeat`` times at concurrency 1 on a quiet slot: the worker starting a process,
bubblewrap's namespaces and mounts, the seccomp filter, the interpreter, the harness's
imports and loading the solution, the tests, and the hand-over of the hidden inputs. Each
row is measured (wall time of the call, and the CPU of the processes it started and
reaped, from ``os.times``); the difference to the row above is that layer's cost.

This workload (``CHALLENGE``) is also the one ``bench/grading.py --jobe-like`` grades
end to end. Prints figures only; never run as a timed test.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quizzes.grading.languages.python import PythonLanguage, python_harness
from quizzes.grading.runner import grade_python
from quizzes.grading.sandbox import (
    Limits,
    SandboxRun,
    check_sandbox,
    run_sandboxed,
)
from quizzes.grading.spec import PythonChallengeSpec, spec_from_dict

SOURCE = """\
def merge_intervals(intervals):
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged
"""

# One function against 10 tests (6 visible, 4 hidden): the bank's format, so that
# bench/grading.py --jobe-like can store it as an item and grade it end to end.
CHALLENGE: dict[str, Any] = {
    "entry_point": "merge_intervals",
    "kind": "function",
    "signature": {
        "params": [{"name": "intervals", "type": "list<list<int>>"}],
        "returns": "list<list<int>>",
    },
    "starter": "def merge_intervals(intervals):\n    ...\n",
    "reference_solution": SOURCE,
    "wrong_solutions": ["def merge_intervals(intervals):\n    return intervals\n"],
    "tests": [
        {"name": f"case {i}", "visible": i < 6, "args": [intervals], "expect": expected}
        for i, (intervals, expected) in enumerate(
            [
                ([[1, 3], [2, 6], [8, 10]], [[1, 6], [8, 10]]),
                ([[1, 4], [4, 5]], [[1, 5]]),
                ([], []),
                ([[5, 7]], [[5, 7]]),
                ([[1, 10], [2, 3], [4, 5]], [[1, 10]]),
                ([[6, 8], [1, 2]], [[1, 2], [6, 8]]),
                ([[1, 2], [3, 4], [5, 6]], [[1, 2], [3, 4], [5, 6]]),
                ([[0, 0], [0, 0]], [[0, 0]]),
                (
                    [[i, i + 2] for i in range(0, 300, 3)],
                    [[i, i + 2] for i in range(0, 300, 3)],
                ),
                ([[3, 5], [1, 4], [6, 9], [9, 12]], [[1, 5], [6, 12]]),
            ]
        )
    ],
}
SPEC = spec_from_dict("python", CHALLENGE)


def graded_run(slot: int) -> float:
    assert isinstance(SPEC, PythonChallengeSpec)
    started = time.perf_counter()
    report = grade_python(SPEC, SOURCE, slot=slot)
    elapsed = time.perf_counter() - started
    if report.score != 1.0:
        raise SystemExit(f"unexpected result: {report.to_dict()}")
    return elapsed


def bare_run(slot: int) -> float:
    started = time.perf_counter()
    run = run_sandboxed(
        files={}, argv=["/usr/bin/python3", "-I", "-S", "-c", "pass"], limits=Limits(), slot=slot
    )
    elapsed = time.perf_counter() - started
    if run.exit_code != 0:
        raise SystemExit(f"unexpected run: {run}")
    return elapsed


def worker(kind: str, slot: int, seconds: float, queue: multiprocessing.Queue[list[float]]) -> None:
    run = graded_run if kind == "graded" else bare_run
    for _ in range(3):  # warm up (seccomp compile, page cache)
        run(slot)
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        latencies.append(run(slot))
    queue.put(latencies)


@dataclass(frozen=True)
class RawRate:
    kind: str
    concurrency: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def line(self) -> str:
        quantiles = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return (
            f"{self.kind:>6} concurrency={self.concurrency}: {self.rate:6.1f} runs/s  "
            f"p50={quantiles[49] * 1000:5.1f} ms  p95={quantiles[94] * 1000:5.1f} ms  "
            f"p99={quantiles[98] * 1000:5.1f} ms  (n={len(self.latencies)})"
        )


def measure(kind: str, concurrency: int, seconds: float) -> RawRate:
    """``kind`` runs ("graded" or "bare") from ``concurrency`` forked processes, one per
    slot, for ``seconds`` after a warm-up of three runs each."""
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[list[float]] = context.Queue()
    processes = [
        context.Process(target=worker, args=(kind, slot, seconds, queue))
        for slot in range(concurrency)
    ]
    for process in processes:
        process.start()
    latencies = [value for _ in processes for value in queue.get()]
    for process in processes:
        process.join()
    return RawRate(kind, concurrency, seconds, sorted(latencies))


# --------------------------------------------------------------------------- --steps


@dataclass(frozen=True)
class Step:
    name: str
    what: str
    wall_ms: float  # median per call
    cpu_ms: float  # mean CPU of the reaped children per call (user + system)
    self_cpu_ms: float  # mean CPU of this process per call


def _timed(call: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    for _ in range(3):
        call()
    walls = []
    before = os.times()
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        walls.append(time.perf_counter() - started)
    after = os.times()
    children = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    own = (after.user - before.user) + (after.system - before.system)
    return statistics.median(walls) * 1000, children / repeat * 1000, own / repeat * 1000


def _expect(run: SandboxRun, what: str) -> SandboxRun:
    if run.exit_code != 0:
        raise SystemExit(f"{what}: unexpected run: {run}")
    return run


def _bwrap_only_argv() -> list[str]:
    """The sandbox's own bwrap command line with its seccomp filter left out (bench only:
    the product never runs bwrap without it)."""
    from quizzes.grading import sandbox

    argv = sandbox._bwrap_argv(
        bwrap=sandbox._bwrap_path(None),
        work_dir="/usr/share",
        limits=Limits(),
        seccomp_fd=-1,
        result_fd=1,
        info_fd=2,
    )
    at = argv.index("--seccomp")
    del argv[at : at + 2]
    at = argv.index("--info-fd")
    del argv[at : at + 2]
    return argv


def measure_steps(repeat: int) -> list[Step]:
    assert isinstance(SPEC, PythonChallengeSpec)
    python = PythonLanguage()
    limits = python.limits(SPEC)
    harness_files, harness_argv = python_harness(0)
    empty_config = python.config(SPEC, [], 0)
    all_visible = replace(SPEC, tests=tuple(replace(t, visible=True) for t in SPEC.tests))
    bwrap_argv = _bwrap_only_argv()

    def plain(argv: list[str]) -> Callable[[], object]:
        def call() -> object:
            return subprocess.run(argv, check=True, env={}, close_fds=True)

        return call

    def sandboxed(argv: list[str], files: dict[str, bytes] | None = None) -> Callable[[], object]:
        def call() -> object:
            return _expect(
                run_sandboxed(files=files or {}, argv=argv, limits=limits), " ".join(argv)
            )

        return call

    def graded(spec: PythonChallengeSpec) -> Callable[[], object]:
        def call() -> object:
            report = grade_python(spec, SOURCE)
            if report.score != 1.0:
                raise SystemExit(f"unexpected result: {report.to_dict()}")
            return report

        return call

    harness_only = {
        **harness_files,
        "input.bin": __import__("marshal").dumps(empty_config),
        "solution.py": SOURCE.encode(),
    }
    rows = [
        (
            "spawn /usr/bin/true",
            "the worker starting a process (subprocess, no sandbox)",
            plain(["/usr/bin/true"]),
        ),
        (
            "bwrap -> true, no seccomp",
            "+ namespaces, mounts, bwrap's own start",
            plain([*bwrap_argv, "/usr/bin/true"]),
        ),
        (
            "run_sandboxed -> true",
            "+ seccomp filter, rlimits, work dir, pipes, supervision, reaping",
            sandboxed(["/usr/bin/true"]),
        ),
        (
            "run_sandboxed -> python -c pass",
            "+ interpreter start (-I -S)",
            sandboxed(["/usr/bin/python3", "-I", "-S", "-c", "pass"]),
        ),
        (
            "harness, no tests",
            "+ harness imports, config, loading the solution",
            sandboxed(list(harness_argv), harness_only),
        ),
        (
            "grade_python, 10 visible",
            "+ 10 tests run, records parsed and judged in the worker",
            graded(all_visible),
        ),
        (
            "grade_python, 6 visible + 4 hidden",
            "+ the hidden-input exchange (stdin after the visible records)",
            graded(SPEC),
        ),
    ]
    return [Step(name, what, *_timed(call, repeat)) for name, what, call in rows]


def print_steps(steps: list[Step], repeat: int) -> None:
    print(f"sandbox start, step by step ({repeat} runs each, concurrency 1):")
    print(
        f"  {'step':<36} {'wall p50':>9} {'+layer':>8} {'child CPU':>10} {'+layer':>8} "
        f"{'own CPU':>8}  what the layer adds"
    )
    previous: Step | None = None
    for step in steps:
        wall_delta = step.wall_ms - previous.wall_ms if previous else step.wall_ms
        cpu_delta = step.cpu_ms - previous.cpu_ms if previous else step.cpu_ms
        print(
            f"  {step.name:<36} {step.wall_ms:7.2f}ms {wall_delta:+7.2f} {step.cpu_ms:8.2f}ms "
            f"{cpu_delta:+7.2f} {step.self_cpu_ms:6.2f}ms  {step.what}"
        )
        previous = step


def load_worker_modules() -> None:
    """Import what a worker's pool process holds (Django, the app, the tasks), under a
    throwaway VAR_DIR; nothing touches a database."""
    import tempfile

    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="skillmap-bench-")
    os.environ.setdefault("DEBUG", "true")
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    import config.celery  # noqa: F401
    import quizzes.pipeline.tasks  # noqa: F401


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--steps", action="store_true", help="the cost of each sandbox layer")
    parser.add_argument("--repeat", type=int, default=60, help="runs per step (--steps)")
    parser.add_argument(
        "--as-worker",
        action="store_true",
        help="--steps: load Django and the grading tasks first, so that this process is the "
        "size of a worker's pool process (a fork() copies all of it)",
    )
    args = parser.parse_args()
    if args.as_worker:
        load_worker_modules()
    health = check_sandbox()
    if not health.available:
        raise SystemExit(f"sandbox unavailable: {health.reason}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.steps:
        print(f"this process: {rss_mib():.0f} MiB resident")
        print_steps(measure_steps(args.repeat), args.repeat)
    else:
        print(
            f"{os.cpu_count()} CPUs; challenge: {len(SPEC.tests)} tests; {args.seconds:g} s per row"
        )
        for kind in ("bare", "graded"):
            for concurrency in (1, 2):
                print(measure(kind, concurrency, args.seconds).line())
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
