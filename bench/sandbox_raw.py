"""Raw sandbox throughput: graded runs per second of a bank-style challenge (10 tests:
6 visible, 4 hidden, one sandbox run each), at concurrency 1 and 2 (one process per worker
slot, like a prefork Celery worker), with p50/p95/p99 latency per run.

    .venv/bin/python bench/sandbox_raw.py [--seconds 5]

Prints figures only; never run as a timed test.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quizzes.grading.runner import grade_python
from quizzes.grading.sandbox import Limits, check_sandbox, run_sandboxed
from quizzes.grading.spec import PythonChallengeSpec, spec_from_dict

SPEC = spec_from_dict(
    "python",
    {
        "entry_point": "merge_intervals",
        "kind": "function",
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
    },
)
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


def measure(kind: str, concurrency: int, seconds: float) -> None:
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
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    print(
        f"{kind:>6} concurrency={concurrency}: {len(latencies) / seconds:6.1f} runs/s  "
        f"p50={quantiles[49] * 1000:5.1f} ms  p95={quantiles[94] * 1000:5.1f} ms  "
        f"p99={quantiles[98] * 1000:5.1f} ms  (n={len(latencies)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    health = check_sandbox()
    if not health.available:
        raise SystemExit(f"sandbox unavailable: {health.reason}")
    print(f"{os.cpu_count()} CPUs; challenge: {len(SPEC.tests)} tests; {args.seconds:g} s per row")
    for kind in ("bare", "graded"):
        for concurrency in (1, 2):
            measure(kind, concurrency, args.seconds)


if __name__ == "__main__":
    main()
