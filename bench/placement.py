"""The skill model on simulated learners: calibration recovery and adaptive placement.

    .venv/bin/python bench/placement.py                  # default sizes (a few minutes)
    .venv/bin/python bench/placement.py --quick          # 300 placements, 500 and 2,000 calibrated
    .venv/bin/python bench/placement.py --learners 2000 --calibration 500,2000,10000
    .venv/bin/python bench/placement.py --se-target 0.55 --randomesque 1   # try other settings

Learners have 11 stage abilities, standard normal with correlation 0.6 between any two
stages. A bank's items have discrimination lognormal(0, 0.3) and difficulty normal(0, 1),
drawn per stage, and an author difficulty 1..5 from the true difficulty plus noise (for
the calibration priors). Answers are right with the 2PL probability of the learner's true
ability (0/1 scores). Two banks: the real bank's size (objective items per stage, from
fixtures/questions/stage-*.yaml: every type but python and sql, which placement cannot
ask) and 50 items per stage.

It prints:

1. the starting-stage cut: the cut on theta for which the true starting stages (the first
   stage below the cut, 11 if none) are most evenly spread, with their distribution. The
   aim is that no stage holds more than 25 % of learners; the bench says when no cut can;
2. calibration recovery: ``calibrate`` on N learners answering every item of the
   real-size bank (default N = 500, 2,000 and 10,000): the correlation and RMSE of the
   true and estimated discriminations and difficulties, the EM cycles and the time taken
   (building the responses, then calibrating);
3. placement, per bank, every column scored by ``estimate_abilities``:
   - adaptive: ``next_item`` at its default ``PlacementSettings`` (or the flags), with the
     bank's true parameters (as if perfectly calibrated) and each item's exposure tracked
     across the simulated placements;
   - fixed, best items: a content-balanced fixed form of the same length (the mean number
     of items the adaptive test used, split evenly over the stages) with spread difficulty:
     in each stage, for evenly spread points of N(0, 1), the item most informative there
     (so it prefers discriminating items, as a test assembler would). The goals use this
     one;
   - fixed, nearest b: the same, taking the item whose difficulty is nearest each point;
   - oracle: the placement's stage choice, but every item the most informative at the
     learner's true ability, without exposure control: a ceiling for any item selection;
   with mean items, RMSE (pooled over stages, and per stage), level-classification
   accuracy, starting-stage agreement (exact, within one stage, Cohen's kappa, and the
   accuracy of always guessing the most common stage) and the highest item exposure;
4. the starting-stage agreement a given measurement error allows (every stage measured
   with independent normal error), to show what the within-one goal needs;
5. the goals, PASS or FAIL: at equal length the adaptive test's RMSE at most 0.85 x the
   fixed form's (pooled, and in every stage), and the starting stage within one stage for
   at least 85 % of learners on the 50-per-stage bank.

OPENBLAS_NUM_THREADS defaults to 1 here (see below). Prints figures only; nothing in
``make test`` runs it.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import NormalDist

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
# The matrices here are small: OpenBLAS's threads only spin against each other (and against
# anything else on the machine), which made calibration ten times slower on 2 busy cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from quizzes.skill import (  # noqa: E402
    CalibrationResponse,
    Candidate,
    Estimate,
    ItemParams,
    PlacementSettings,
    Response,
    calibrate,
    estimate_abilities,
    information,
    level_for,
    next_item,
    prior_params,
    recommend_start,
)
from quizzes.skill.placement import choose_stage  # noqa: E402

STAGES = list(range(1, 12))
CORRELATION = 0.6
CHALLENGE_TYPES = {"code", "sql"}  # asked in quizzes, never in placement
MAX_START_SHARE = 0.25
RMSE_GOAL = 0.85
WITHIN_ONE_GOAL = 0.85


@dataclass(frozen=True)
class BankItem:
    item: int
    stage: int
    a: float
    b: float
    author_difficulty: int

    @property
    def params(self) -> ItemParams:
        return ItemParams(a=self.a, b=self.b, calibrated=True)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _numeric(text: str) -> bool:
    try:
        float(text.rstrip("%").replace(",", ""))
    except ValueError:
        return False
    return True


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print()
    print(title)
    print(line)
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print(line)
    for row in rows:
        cells = [
            str(c).rjust(w) if _numeric(str(c)) else str(c).ljust(w)
            for c, w in zip(row, widths, strict=True)
        ]
        print("| " + " | ".join(cells) + " |")
    print(line)


def real_bank_sizes() -> list[int]:
    """Objective items per stage in fixtures/questions/stage-*.yaml, in stage order."""
    sizes = {}
    for path in sorted((BASE_DIR / "fixtures/questions").glob("stage-*.yaml")):
        data = yaml.safe_load(path.read_text())
        items = data["items"]
        sizes[int(data["stage"])] = sum(1 for i in items if i["type"] not in CHALLENGE_TYPES)
    return [sizes.get(stage, 0) for stage in STAGES]


def covariance() -> np.ndarray:
    n = len(STAGES)
    return np.full((n, n), CORRELATION) + (1 - CORRELATION) * np.eye(n)


def population(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.multivariate_normal(np.zeros(len(STAGES)), covariance(), size=n)


def make_bank(sizes: Sequence[int], rng: np.random.Generator) -> list[BankItem]:
    bank = []
    for stage, size in zip(STAGES, sizes, strict=True):
        a = rng.lognormal(0.0, 0.3, size)
        b = rng.normal(0.0, 1.0, size)
        # The author's 1..5 guess: the true difficulty seen through noise.
        noisy = b + rng.normal(0.0, 0.6, size)
        author = np.clip(np.round(3 + noisy / 0.8), 1, 5).astype(int)
        for k in range(size):
            bank.append(BankItem(len(bank), stage, float(a[k]), float(b[k]), int(author[k])))
    return bank


def true_starts(thetas: np.ndarray, cut: float) -> np.ndarray:
    below = thetas < cut
    first = np.argmax(below, axis=1) + 1
    return np.where(below.any(axis=1), first, STAGES[-1])


def choose_cut(rng: np.random.Generator) -> tuple[float, Counter[int]]:
    """The cut whose true starting stages are most evenly spread (smallest largest share)."""
    thetas = population(200_000, rng)
    best: tuple[float, float] | None = None
    for cut in np.arange(-2.0, 1.0001, 0.01):
        counts = np.bincount(true_starts(thetas, float(cut)), minlength=12)[1:]
        largest = counts.max() / len(thetas)
        if best is None or largest < best[1]:
            best = (round(float(cut), 2), float(largest))
    assert best is not None
    starts = true_starts(thetas, best[0])
    return best[0], Counter(int(s) for s in starts)


# --- calibration recovery -------------------------------------------------------------------
def calibration_recovery(sizes: list[int], counts: list[int], seed: int) -> None:
    rows = []
    for n in counts:
        rng = np.random.default_rng(seed + n)
        bank = make_bank(sizes, rng)
        thetas = population(n, rng)
        a = np.array([i.a for i in bank])
        b = np.array([i.b for i in bank])
        stage_index = np.array([i.stage - 1 for i in bank])
        right = rng.random((n, len(bank))) < 1 / (1 + np.exp(-a * (thetas[:, stage_index] - b)))
        started = time.perf_counter()
        item_ids = [i.item for i in bank]
        stages = [i.stage for i in bank]
        scores = (0.0, 1.0)
        responses = [
            CalibrationResponse(person, item_ids[k], stages[k], scores[value])
            for person, row in enumerate(right.tolist())
            for k, value in enumerate(row)
        ]
        built = time.perf_counter() - started
        priors = {i.item: prior_params(i.author_difficulty) for i in bank}
        started = time.perf_counter()
        result = calibrate(responses, priors, {})
        took = time.perf_counter() - started
        est_a = np.array([result.params[i.item].a for i in bank])
        est_b = np.array([result.params[i.item].b for i in bank])
        rows.append(
            [
                f"{n:,}",
                f"{len(responses):,}",
                f"{np.corrcoef(a, est_a)[0, 1]:.3f}",
                f"{np.sqrt(np.mean((a - est_a) ** 2)):.3f}",
                f"{np.corrcoef(b, est_b)[0, 1]:.3f}",
                f"{np.sqrt(np.mean((b - est_b) ** 2)):.3f}",
                f"{result.iterations}",
                "yes" if result.converged else "no",
                f"{built:.1f}",
                f"{took:.1f}",
            ]
        )
        log(f"calibrated {n} learners in {took:.1f} s")
    table(
        f"Calibration recovery: real-size bank ({sum(sizes)} items), every learner answers "
        "every item",
        [
            "learners",
            "answers",
            "r(a)",
            "RMSE a",
            "r(b)",
            "RMSE b",
            "EM cycles",
            "converged",
            "build s",
            "calibrate s",
        ],
        rows,
    )


# --- placement ------------------------------------------------------------------------------
@dataclass
class Run:
    estimates: list[dict[int, Estimate]]
    lengths: list[int]
    max_exposure: float


def answer(rng: random.Random, theta: float, item: BankItem) -> float:
    p = 1.0 / (1.0 + math.exp(-item.a * (theta - item.b)))
    return 1.0 if rng.random() < p else 0.0


def run_adaptive(
    bank: list[BankItem], thetas: np.ndarray, settings: PlacementSettings, seed: int
) -> Run:
    by_id = {i.item: i for i in bank}
    params = {i.item: i.params for i in bank}
    used = Counter[int]()
    select_rng = random.Random(seed)
    answer_rng = random.Random(seed + 1)
    estimates, lengths = [], []
    for n, theta in enumerate(thetas):
        candidates = [
            Candidate(i.item, i.stage, params[i.item], exposure=used[i.item] / n if n else 0.0)
            for i in bank
        ]
        responses: list[Response] = []
        while True:
            chosen = next_item(responses, candidates, params, STAGES, settings, select_rng)
            if chosen is None:
                break
            item = by_id[chosen]
            score = answer(answer_rng, float(theta[item.stage - 1]), item)
            responses.append(Response(item.item, item.stage, score))
        used.update(r.item for r in responses)
        estimates.append(
            estimate_abilities(responses, params, STAGES, correlation=settings.correlation)
        )
        lengths.append(len(responses))
    exposure = max(used.values()) / len(thetas) if used else 0.0
    return Run(estimates, lengths, exposure)


def fixed_form(bank: list[BankItem], length: int, *, best: bool = True) -> list[BankItem]:
    """A content-balanced form: ``length`` split evenly over the stages, spread difficulty.

    In each stage the targets are evenly spread points of N(0, 1) (the quantiles
    ``(k + 0.5) / count``). With ``best``, each target gets the item most informative there
    (so well-discriminating items are preferred, as a test assembler would); otherwise the
    item whose difficulty is nearest.
    """
    per_stage = [length // len(STAGES)] * len(STAGES)
    extra = length % len(STAGES)
    for k in range(extra):
        per_stage[(k * len(STAGES)) // extra] += 1
    form = []
    for stage, count in zip(STAGES, per_stage, strict=True):
        pool = [i for i in bank if i.stage == stage]
        for k in range(min(count, len(pool))):
            target = NormalDist().inv_cdf((k + 0.5) / count)
            if best:
                chosen = max(pool, key=lambda i, t=target: information(t, i.params))
            else:
                chosen = min(pool, key=lambda i, t=target: abs(i.b - t))
            pool.remove(chosen)
            form.append(chosen)
    return form


def run_oracle(bank: list[BankItem], thetas: np.ndarray, length: int, seed: int) -> Run:
    """A ceiling: the placement's stage choice, items most informative at the true ability.

    No exposure control and no randomesque: the best any item selection could do for
    ``estimate_abilities`` at this length.
    """
    params = {i.item: i.params for i in bank}
    answer_rng = random.Random(seed + 1)
    estimates = []
    for theta in thetas:
        left = {stage: [i for i in bank if i.stage == stage] for stage in STAGES}
        responses: list[Response] = []
        current = estimate_abilities(responses, params, STAGES)
        while len(responses) < length and any(left.values()):
            stage = choose_stage(current, [s for s in STAGES if left[s]])
            truth = float(theta[stage - 1])
            chosen = max(left[stage], key=lambda i, t=truth: information(t, i.params))
            left[stage].remove(chosen)
            responses.append(Response(chosen.item, stage, answer(answer_rng, truth, chosen)))
            current = estimate_abilities(responses, params, STAGES)
        estimates.append(current)
    return Run(estimates, [length] * len(thetas), 1.0)


def run_fixed(form: list[BankItem], thetas: np.ndarray, correlation: float, seed: int) -> Run:
    answer_rng = random.Random(seed + 1)
    params = {i.item: i.params for i in form}
    estimates = []
    for theta in thetas:
        responses = [
            Response(i.item, i.stage, answer(answer_rng, float(theta[i.stage - 1]), i))
            for i in form
        ]
        estimates.append(estimate_abilities(responses, params, STAGES, correlation=correlation))
    return Run(estimates, [len(form)] * len(thetas), 1.0)


@dataclass(frozen=True)
class Scores:
    mean_items: float
    rmse: list[float]
    pooled_rmse: float
    level_accuracy: float
    start_exact: float
    start_within_one: float
    kappa: float
    majority: float
    max_exposure: float


def cohen_kappa(truth: Sequence[int], guess: Sequence[int]) -> float:
    n = len(truth)
    observed = sum(t == g for t, g in zip(truth, guess, strict=True)) / n
    ct, cg = Counter(truth), Counter(guess)
    expected = sum(ct[k] * cg[k] for k in ct) / (n * n)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def score(run: Run, thetas: np.ndarray, cut: float) -> Scores:
    est = np.array([[e[s].theta for s in STAGES] for e in run.estimates])
    rmse = np.sqrt(np.mean((est - thetas) ** 2, axis=0))
    levels = np.mean(
        [
            level_for(float(x)) == level_for(float(t))
            for x, t in zip(est.flat, thetas.flat, strict=True)
        ]
    )
    truth = [int(s) for s in true_starts(thetas, cut)]
    guess = [recommend_start(e, cut=cut) for e in run.estimates]
    exact = np.mean([t == g for t, g in zip(truth, guess, strict=True)])
    within = np.mean([abs(t - g) <= 1 for t, g in zip(truth, guess, strict=True)])
    majority = Counter(truth).most_common(1)[0][1] / len(truth)
    return Scores(
        mean_items=float(np.mean(run.lengths)),
        rmse=[float(r) for r in rmse],
        pooled_rmse=float(np.sqrt(np.mean((est - thetas) ** 2))),
        level_accuracy=float(levels),
        start_exact=float(exact),
        start_within_one=float(within),
        kappa=cohen_kappa(truth, guess),
        majority=majority,
        max_exposure=run.max_exposure,
    )


@dataclass(frozen=True)
class Outcome:
    adaptive: Scores
    fixed: Scores  # the best-items fixed form: the comparison the goal uses
    nearest: Scores  # the nearest-difficulty fixed form
    oracle: Scores


def placement(
    name: str,
    sizes: list[int],
    learners: int,
    settings: PlacementSettings,
    cut: float,
    seed: int,
) -> Outcome:
    rng = np.random.default_rng(seed)
    bank = make_bank(sizes, rng)
    thetas = population(learners, rng)
    started = time.perf_counter()
    adaptive_run = run_adaptive(bank, thetas, settings, seed)
    took = time.perf_counter() - started
    log(f"{name}: {learners} placements in {took:.1f} s")
    adaptive = score(adaptive_run, thetas, cut)
    length = round(adaptive.mean_items)
    fixed = score(
        run_fixed(fixed_form(bank, length), thetas, settings.correlation, seed), thetas, cut
    )
    nearest = score(
        run_fixed(fixed_form(bank, length, best=False), thetas, settings.correlation, seed),
        thetas,
        cut,
    )
    oracle = score(run_oracle(bank, thetas, length, seed), thetas, cut)
    log(f"{name}: fixed forms and oracle done")
    runs = (adaptive, fixed, nearest, oracle)
    pct = "{:.1%}".format

    def row(label: str, values: list[str]) -> list[str]:
        return [label, *values]

    rows = [
        row("items (mean)", [f"{r.mean_items:.1f}" for r in runs]),
        row("RMSE, pooled", [f"{r.pooled_rmse:.3f}" for r in runs]),
        row("  / fixed, best items", [f"{r.pooled_rmse / fixed.pooled_rmse:.3f}" for r in runs]),
        *[
            row(f"RMSE, stage {s}", [f"{r.rmse[k]:.3f}" for r in runs])
            for k, s in enumerate(STAGES)
        ],
        row("level accuracy", [pct(r.level_accuracy) for r in runs]),
        row("start: exact", [pct(r.start_exact) for r in runs]),
        row("start: within 1", [pct(r.start_within_one) for r in runs]),
        row("start: Cohen's kappa", [f"{r.kappa:.3f}" for r in runs]),
        row("start: majority guess", [pct(r.majority) for r in runs]),
        row("highest item exposure", [pct(adaptive.max_exposure), "100.0%", "100.0%", "-"]),
    ]
    table(
        f"Placement, {name} ({sum(sizes)} items, {learners:,} learners, "
        f"{took / learners * 1000:.0f} ms per adaptive placement)",
        [
            "",
            "adaptive",
            f"fixed, best items ({length})",
            f"fixed, nearest b ({length})",
            f"oracle ({length})",
        ],
        rows,
    )
    return Outcome(adaptive, fixed, nearest, oracle)


def noise_ceiling(cut: float, rng: np.random.Generator) -> None:
    """Starting-stage agreement if every stage were measured with independent error SD."""
    thetas = population(100_000, rng)
    truth = true_starts(thetas, cut)
    rows = []
    for sd in (0.5, 0.4, 0.3, 0.25, 0.2):
        guess = true_starts(thetas + rng.normal(0.0, sd, thetas.shape), cut)
        rows.append(
            [
                f"{sd:.2f}",
                f"{np.mean(guess == truth):.1%}",
                f"{np.mean(abs(guess - truth) <= 1):.1%}",
            ]
        )
    table(
        "Starting stage vs measurement error (every stage = truth + independent normal error)",
        ["error SD", "exact", "within 1"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=None, help="placements per bank (1000)")
    parser.add_argument(
        "--calibration",
        default=None,
        help="comma-separated learner counts to calibrate (500,2000,10000); 0 skips",
    )
    parser.add_argument("--quick", action="store_true", help="300 placements, 500,2000")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--se-target", type=float, default=None, help="override the default")
    parser.add_argument("--randomesque", type=int, default=None, help="override the default")
    parser.add_argument("--max-items", type=int, default=None, help="override the default")
    args = parser.parse_args()
    learners = args.learners or (300 if args.quick else 1000)
    calibration = args.calibration or ("500,2000" if args.quick else "500,2000,10000")
    counts = [int(c) for c in calibration.split(",") if int(c) > 0]

    settings = PlacementSettings()
    overrides = {
        "se_target": args.se_target,
        "randomesque": args.randomesque,
        "max_items": args.max_items,
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    sizes = real_bank_sizes()
    print(f"Real bank, objective items per stage: {sizes} ({sum(sizes)} in all)")
    print(f"Placement settings: {settings}")

    cut, starts = choose_cut(np.random.default_rng(args.seed))
    total = sum(starts.values())
    largest = max(starts.values()) / total
    print(f"\nStarting-stage cut: theta < {cut:+.2f} (score {150 + 50 * cut:.0f})")
    print(
        "True starting stages: "
        + ", ".join(f"{s}: {starts[s] / total:.1%}" for s in STAGES)
        + f"  (largest {largest:.1%}, limit {MAX_START_SHARE:.0%})"
    )
    if largest > MAX_START_SHARE:
        print(
            f"  No cut keeps every stage within {MAX_START_SHARE:.0%}: stage 1 holds "
            "P(theta_1 < cut) and stage 11 at least P(no stage below the cut), and these "
            "move in opposite directions; this cut makes the largest share smallest."
        )

    if counts:
        calibration_recovery(sizes, counts, args.seed)

    results = {}
    for name, bank_sizes in (("real-size bank", sizes), ("50 per stage", [50] * len(STAGES))):
        results[name] = placement(name, bank_sizes, learners, settings, cut, args.seed)
    noise_ceiling(cut, np.random.default_rng(args.seed + 1))

    print("\nGoals (adaptive at its default settings vs the best-items fixed form, same length)")
    passed = True
    for name, outcome in results.items():
        adaptive, fixed = outcome.adaptive, outcome.fixed
        ratio = adaptive.pooled_rmse / fixed.pooled_rmse
        worst = max(a / f for a, f in zip(adaptive.rmse, fixed.rmse, strict=True))
        ok = ratio <= RMSE_GOAL and worst <= RMSE_GOAL
        passed &= ok
        print(
            f"  {'PASS' if ok else 'FAIL'}  {name}: RMSE adaptive / fixed = {ratio:.3f} pooled, "
            f"{worst:.3f} in the worst stage (goal <= {RMSE_GOAL}); against the "
            f"nearest-b form {adaptive.pooled_rmse / outcome.nearest.pooled_rmse:.3f}; "
            f"the oracle reaches {outcome.oracle.pooled_rmse / fixed.pooled_rmse:.3f}"
        )
    within = results["50 per stage"].adaptive.start_within_one
    ok = within >= WITHIN_ONE_GOAL
    passed &= ok
    print(
        f"  {'PASS' if ok else 'FAIL'}  50 per stage: starting stage within 1 for "
        f"{within:.1%} of learners (goal >= {WITHIN_ONE_GOAL:.0%}; the oracle "
        f"{results['50 per stage'].oracle.start_within_one:.1%})"
    )
    print(f"\n{'All goals met.' if passed else 'Some goals missed.'}")


if __name__ == "__main__":
    main()
