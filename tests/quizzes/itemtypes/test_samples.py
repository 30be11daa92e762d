"""Typed-answer samples on numeric and short-text entries, checked through the real
loader (whose line numbers sit in every mapping, the samples included)."""

from __future__ import annotations

from pathlib import Path

from quizzes.bank.loader import BankFileError, read_bank_file

HEADER = "stage: 2\nitems:\n"
ENTRY = """  - slug: t-retry
    type: short_text
    topic: rest
    difficulty: 2
    cognitive: judgement
    title: Come back later
    body: Which header tells a throttled client when to retry?
    explanation: It is Retry-After.
    accepted: [Retry-After]
    samples:
      accept: [{accept}]
      reject: [{reject}]
"""


def read(tmp_path: Path, accept: str, reject: str) -> list[str]:
    path = tmp_path / "stage-02.yaml"
    path.write_text(HEADER + ENTRY.format(accept=accept, reject=reject))
    try:
        read_bank_file(path, topics_by_stage={2: {"rest"}})
    except BankFileError as exc:
        return [p.message for p in exc.problems]
    return []


def test_samples_that_hold_pass(tmp_path: Path) -> None:
    assert read(tmp_path, '"retry-after", "Retry-After "', '"Retry", "Expires"') == []


def test_a_sample_the_key_does_not_accept_is_reported(tmp_path: Path) -> None:
    problems = read(tmp_path, '"Retry"', '"Expires"')
    assert any("'Retry' is not accepted" in p for p in problems), problems


def test_a_near_miss_the_key_accepts_is_reported(tmp_path: Path) -> None:
    problems = read(tmp_path, '"retry-after"', '"RETRY-AFTER"')
    assert any("'RETRY-AFTER' is accepted" in p for p in problems), problems


def test_a_number_json_cannot_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stage-02.yaml"
    path.write_text(
        HEADER
        + ENTRY.format(accept='"Retry-After"', reject='"Retry"').replace(
            "    accepted: [Retry-After]\n", "    accepted: [Retry-After]\n    points: .inf\n"
        )
    )
    try:
        read_bank_file(path, topics_by_stage={2: {"rest"}})
    except BankFileError as exc:
        messages = [p.message for p in exc.problems]
    else:
        messages = []
    assert any("infinite or NaN" in m for m in messages), messages
