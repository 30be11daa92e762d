"""How long `check_bank` takes without the sandbox, and its near-duplicate search on a bank
of about 600 objective items (what the roadmap bank grows to).

    .venv/bin/python bench/bank_check.py [--items 600] [--repeat 3]

Prints, best of --repeat runs each:

1. the whole check of fixtures/questions with the bank standard, sandbox skipped;
2. ``near_duplicates`` on the real bank's objective items;
3. ``near_duplicates`` on --items synthetic items: the real items, plus copies of them
   with 40 % of their words replaced by words of the bank (a hard case: every copy shares
   most of its vocabulary with its original, so few pairs are skipped cheaply);
4. the same number of items of unrelated text (the easy case).

Prints figures only; never run as a timed test.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from quizzes.bank.check import check_bank, near_duplicates, roadmap_topics  # noqa: E402
from quizzes.bank.loader import BankFileError, bank_files, read_bank_file  # noqa: E402
from quizzes.itemtypes import handler_for  # noqa: E402

BANK_DIR = BASE_DIR / "fixtures/questions"
ROADMAP = BASE_DIR / "fixtures/roadmap.yaml"


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def real_texts() -> list[tuple[str, str]]:
    topics = roadmap_topics(ROADMAP)
    texts = []
    for path in bank_files(BANK_DIR):
        try:
            bank = read_bank_file(path, topics_by_stage=topics)
        except BankFileError as exc:
            print(f"  ({path.name} left out: {len(exc.problems)} problems)")
            continue
        texts += [
            (i["slug"], f"{i['title']} {i['body']}")
            for i in bank.items
            if not handler_for(i["type"]).needs_sandbox
        ]
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")

    def whole() -> Any:
        return check_bank(
            paths=bank_files(BANK_DIR),
            roadmap_path=ROADMAP,
            run_sandbox=False,
            policy_dir=BANK_DIR,
            whole_bank=True,
        )

    seconds, result = best_of(args.repeat, whole)
    print(f"check_bank --no-sandbox, bank standard on: {seconds:.2f} s")
    print("  problems by check: " + ", ".join(f"{k} {n}" for k, n in result.counts.items()))

    texts = real_texts()
    seconds, pairs = best_of(args.repeat, lambda: near_duplicates(texts))
    print(f"near_duplicates, real bank ({len(texts)} items): {seconds:.2f} s, {len(pairs)} pairs")

    rng = random.Random(1)
    words = [w for _, text in texts for w in text.split()]
    hard = list(texts)
    while len(hard) < args.items:
        original = rng.choice(texts)[1].split()
        copy = [w if rng.random() < 0.6 else rng.choice(words) for w in original]
        hard.append((f"copy-{len(hard)}", " ".join(copy)))
    seconds, pairs = best_of(args.repeat, lambda: near_duplicates(hard))
    print(
        f"near_duplicates, {len(hard)} items, 60 % copies (hard): {seconds:.2f} s, "
        f"{len(pairs)} pairs"
    )

    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(3000)]
    easy = [
        (f"i{n}", " ".join(rng.choice(vocabulary) for _ in range(rng.randint(40, 120))))
        for n in range(args.items)
    ]
    seconds, pairs = best_of(args.repeat, lambda: near_duplicates(easy))
    print(f"near_duplicates, {len(easy)} unrelated items: {seconds:.2f} s, {len(pairs)} pairs")


if __name__ == "__main__":
    main()
