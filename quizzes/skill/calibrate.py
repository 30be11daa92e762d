"""Item calibration: 2PL parameters from learners' answers, kept on one scale over time.

**Estimation.** Each stage is calibrated on its own, as a unidimensional 2PL, by marginal
maximum likelihood with the EM algorithm (Bock and Aitkin). Abilities are integrated out
over a fixed grid of Gauss-Legendre nodes on [-6, 6] weighted by the N(0, 1) density: the
population of each stage defines the scale, mean 0 and SD 1. Scores may be fractional
(the same fractional Bernoulli as ``estimate``). Each M-step is Fisher scoring on
(log a, b), item by item and vectorised across items, with backtracking so that every
M-step raises its objective (a generalised EM: the marginal posterior never falls).

**Priors.** Unless ``regularise=False``, each item's parameters get weak priors: log a is
normal around the log of the item's prior discrimination (SD 0.5), b is normal around the
item's prior difficulty (SD 2.0). With 200 or more answers they barely move an estimate,
but they keep an item everyone answered right (or wrong) finite. a is also clipped to
[0.2, 4] and b to [-6, 6], with or without priors, so EM can never diverge. With
``regularise=False`` the estimates are pure marginal maximum likelihood (within the clips).

**Who is calibrated.** Only an item answered by at least ``min_responses`` learners is
estimated (``calibrated=True``). Other items keep their parameters, the previous calibrated
ones if ``previous`` has them, else the author's prior from ``priors``, and take no part in
the estimation: their provisional parameters neither inform the abilities nor move. When a
learner answered an item more than once, the first answer given (in the order of
``responses``) is the one used, since later answers follow the item's feedback.

**Standard errors** come from the empirical (cross-product) information: the sum over
learners of the outer product of each learner's expected score vector for the item, plus the
prior's precision.

**Anchoring across calibrations.** Each calibration is free (every eligible item is
estimated, on the N(0, 1) scale of the learners in the data), then linked to the previous
scale through the items that ``previous`` holds as calibrated: the Stocking-Lord method
finds ``A`` and ``B`` such that ``theta_old = A * theta_new + B`` makes the test
characteristic curves of the common items agree (on a N(0, 1) grid of the old scale), and
every new parameter is put on the old scale (``a / A``, ``A * b + B``). With one common
item only the shift ``B`` is estimated (``A = 1``); with none the new scale stands
(``(1, 0)``). Free calibration plus linking keeps the scale from drifting when a new cohort
is abler or weaker than the first, while anchor items still improve with new data (a fixed
anchor would keep its first, noisier, estimate for ever). ``tests/quizzes/skill`` checks it:
a learner's estimate from unchanged answers moves by at most 0.15 (0.04 on average) when
1,000 more learners are added and the bank is recalibrated, whether they come from the same
population or are half an SD abler.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from quizzes.skill.irt import FloatArray, ItemParams, log_sigmoid, sigmoid

A_BOUNDS = (0.2, 4.0)
B_BOUNDS = (-6.0, 6.0)
PRIOR_LOG_A_SD = 0.5
PRIOR_B_SD = 2.0
QUADRATURE = 61
LATENT_BOUND = 6.0
# Fisher-scoring steps per M-step, and the largest step (in log a and in b) each may take.
M_STEPS = 4
MAX_M_STEP = 1.0


@dataclass(frozen=True, slots=True)
class CalibrationResponse:
    """One learner's scored answer to one item, as calibration sees it."""

    person: Hashable
    item: Hashable
    stage: int
    score: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], not {self.score!r}")


@dataclass(frozen=True)
class CalibrationResult:
    """The outcome of ``calibrate``.

    ``params`` has every item of ``priors``, of the responses and every calibrated item of
    ``previous``. ``iterations`` is the
    largest number of EM cycles any stage took, and ``converged`` is true when every stage
    converged. ``linking[stage] = (A, B)`` is the transformation applied to put the new
    calibration on the old scale: ``theta_old = A * theta_new + B``.
    """

    params: dict[Hashable, ItemParams]
    iterations: int
    converged: bool
    linking: dict[int, tuple[float, float]]


@dataclass(frozen=True)
class MatrixFit:
    """The outcome of ``calibrate_matrix``: one entry per column."""

    a: FloatArray
    b: FloatArray
    se_a: FloatArray
    se_b: FloatArray
    iterations: int
    converged: bool


@dataclass(frozen=True)
class StageData:
    """One stage's answers as a learners x items matrix (NaN where not answered)."""

    persons: list[Hashable]
    items: list[Hashable]
    scores: FloatArray


def stage_matrices(responses: Sequence[CalibrationResponse]) -> dict[int, StageData]:
    """Group answers by stage into matrices, keeping each learner's first answer to an item.

    An item must belong to one stage (``ValueError`` otherwise).
    """
    stage_of: dict[Hashable, int] = {}
    cells: dict[int, dict[tuple[Hashable, Hashable], float]] = {}
    for r in responses:
        known = stage_of.setdefault(r.item, r.stage)
        if known != r.stage:
            raise ValueError(f"item {r.item!r} is answered in stages {known} and {r.stage}")
        cells.setdefault(r.stage, {}).setdefault((r.person, r.item), r.score)
    result = {}
    for stage, answers in cells.items():
        persons = list(dict.fromkeys(person for person, _ in answers))
        items = list(dict.fromkeys(item for _, item in answers))
        row = {person: i for i, person in enumerate(persons)}
        col = {item: j for j, item in enumerate(items)}
        scores = np.full((len(persons), len(items)), np.nan)
        rows = np.fromiter((row[p] for p, _ in answers), dtype=np.intp, count=len(answers))
        cols = np.fromiter((col[i] for _, i in answers), dtype=np.intp, count=len(answers))
        scores[rows, cols] = np.fromiter(answers.values(), dtype=np.float64, count=len(answers))
        result[stage] = StageData(persons=persons, items=items, scores=scores)
    return result


def latent_grid(quadrature: int = QUADRATURE) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes on [-6, 6] and their log weights under N(0, 1), normalised."""
    unit, legendre = np.polynomial.legendre.leggauss(quadrature)
    nodes = LATENT_BOUND * unit
    log_weights = np.log(legendre * LATENT_BOUND) - 0.5 * nodes**2
    log_weights -= np.logaddexp.reduce(log_weights)
    return np.asarray(nodes), np.asarray(log_weights)


def _posterior(
    x: FloatArray,
    answered: FloatArray,
    a: FloatArray,
    b: FloatArray,
    nodes: FloatArray,
    log_prior: FloatArray,
) -> tuple[FloatArray, float]:
    """Each learner's posterior over the nodes, and the marginal log-likelihood."""
    z = a[:, None] * (nodes[None, :] - b[:, None])
    log_post = x @ log_sigmoid(z) + (answered - x) @ log_sigmoid(-z) + log_prior
    peak = np.max(log_post, axis=1, keepdims=True)
    post = np.exp(log_post - peak)
    total = post.sum(axis=1, keepdims=True)
    marginal = float(np.sum(np.log(total) + peak))
    return post / total, marginal


def _m_objective(
    log_a: FloatArray,
    b: FloatArray,
    right: FloatArray,
    seen: FloatArray,
    nodes: FloatArray,
    prior_log_a: FloatArray,
    prior_b: FloatArray,
    weight: float,
) -> FloatArray:
    z = np.exp(log_a)[:, None] * (nodes[None, :] - b[:, None])
    data = np.sum(right * log_sigmoid(z) + (seen - right) * log_sigmoid(-z), axis=1)
    prior = ((log_a - prior_log_a) / PRIOR_LOG_A_SD) ** 2 + ((b - prior_b) / PRIOR_B_SD) ** 2
    return np.asarray(data - 0.5 * weight * prior)


def _m_step(
    log_a: FloatArray,
    b: FloatArray,
    right: FloatArray,
    seen: FloatArray,
    nodes: FloatArray,
    prior_log_a: FloatArray,
    prior_b: FloatArray,
    weight: float,
) -> tuple[FloatArray, FloatArray]:
    """Fisher scoring on (log a, b) for every item at once, with backtracking and clips."""
    lo_log_a, hi_log_a = math.log(A_BOUNDS[0]), math.log(A_BOUNDS[1])
    args = (right, seen, nodes, prior_log_a, prior_b, weight)
    current = _m_objective(log_a, b, *args)
    for _ in range(M_STEPS):
        a = np.exp(log_a)
        dist = nodes[None, :] - b[:, None]
        p = sigmoid(a[:, None] * dist)
        resid = right - seen * p
        info = seen * p * (1.0 - p)
        g_la = a * np.sum(resid * dist, axis=1) - weight * (log_a - prior_log_a) / PRIOR_LOG_A_SD**2
        g_b = -a * np.sum(resid, axis=1) - weight * (b - prior_b) / PRIOR_B_SD**2
        f_la = a * a * np.sum(info * dist**2, axis=1) + weight / PRIOR_LOG_A_SD**2 + 1e-9
        f_b = a * a * np.sum(info, axis=1) + weight / PRIOR_B_SD**2 + 1e-9
        f_x = -a * a * np.sum(info * dist, axis=1)
        det = f_la * f_b - f_x * f_x
        det = np.where(det > 1e-12, det, 1e-12)
        step_la = np.clip((f_b * g_la - f_x * g_b) / det, -MAX_M_STEP, MAX_M_STEP)
        step_b = np.clip((f_la * g_b - f_x * g_la) / det, -MAX_M_STEP, MAX_M_STEP)
        scale = np.ones_like(b)
        pending = np.ones(b.shape, dtype=bool)
        new_la, new_b = log_a.copy(), b.copy()
        for _ in range(12):
            try_la = np.clip(log_a + scale * step_la, lo_log_a, hi_log_a)
            try_b = np.clip(b + scale * step_b, *B_BOUNDS)
            value = _m_objective(try_la, try_b, *args)
            better = pending & (value >= current - 1e-10 * (1.0 + np.abs(current)))
            new_la[better], new_b[better] = try_la[better], try_b[better]
            current = np.where(better, value, current)
            pending &= ~better
            if not pending.any():
                break
            scale = np.where(pending, scale * 0.5, scale)
        moved = max(float(np.max(np.abs(new_la - log_a), initial=0.0)), 0.0)
        moved = max(moved, float(np.max(np.abs(new_b - b), initial=0.0)))
        log_a, b = new_la, new_b
        if moved < 1e-8:
            break
    return log_a, b


def _standard_errors(
    x: FloatArray,
    answered: FloatArray,
    a: FloatArray,
    b: FloatArray,
    post: FloatArray,
    nodes: FloatArray,
    weight: float,
) -> tuple[FloatArray, FloatArray]:
    """SEs of (a, b) from the empirical cross-product information plus the priors'."""
    p = sigmoid(a[:, None] * (nodes[None, :] - b[:, None]))  # items x nodes
    mean_theta = post @ nodes  # learners
    expected_p = post @ p.T  # learners x items
    expected_p_dist = post @ (p * (nodes[None, :] - b[:, None])).T
    score_a = answered * (x * (mean_theta[:, None] - b[None, :]) - expected_p_dist)
    score_b = -a[None, :] * answered * (x - expected_p)
    i_aa = np.sum(score_a**2, axis=0) + weight / (PRIOR_LOG_A_SD * a) ** 2
    i_bb = np.sum(score_b**2, axis=0) + weight / PRIOR_B_SD**2
    i_ab = np.sum(score_a * score_b, axis=0)
    det = i_aa * i_bb - i_ab**2
    with np.errstate(divide="ignore", invalid="ignore"):
        se_a = np.sqrt(i_bb / det)
        se_b = np.sqrt(i_aa / det)
    bad = ~(det > 1e-12) | ~np.isfinite(se_a) | ~np.isfinite(se_b)
    return np.where(bad, np.nan, se_a), np.where(bad, np.nan, se_b)


def _start_values(
    x: FloatArray, answered: FloatArray, priors: Sequence[ItemParams]
) -> tuple[FloatArray, FloatArray]:
    """Start at the prior discrimination and the difficulty the proportion right implies."""
    a = np.clip(np.array([p.a for p in priors], dtype=np.float64), *A_BOUNDS)
    count = answered.sum(axis=0)
    right = (x.sum(axis=0) + 0.5) / (count + 1.0)
    # E[P] under N(0, 1) is about sigmoid(-a b / sqrt(1 + pi a² / 8)).
    b = -np.log(right / (1.0 - right)) * np.sqrt(1.0 + math.pi * a * a / 8.0) / a
    return a, np.clip(b, *B_BOUNDS)


def calibrate_matrix(
    scores: FloatArray,
    priors: Sequence[ItemParams],
    *,
    max_iterations: int = 200,
    tolerance: float = 1e-4,
    regularise: bool = True,
    quadrature: int = QUADRATURE,
) -> MatrixFit:
    """Calibrate one stage's items from a learners x items matrix (NaN = not answered).

    Every column is estimated, with ``priors[j]`` as its prior (see the module docstring);
    the scale is the N(0, 1) of these learners, with no linking. Converged means no
    parameter moved by more than ``tolerance`` in the last EM cycle.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] != len(priors):
        raise ValueError("scores must be learners x items, with one prior per item")
    answered = (~np.isnan(scores)).astype(np.float64)
    x = np.where(answered > 0, scores, 0.0)
    if np.any((x < 0) | (x > 1)):
        raise ValueError("scores must be in [0, 1]")
    keep = answered.sum(axis=1) > 0
    x, answered = x[keep], answered[keep]
    weight = 1.0 if regularise else 0.0
    prior_log_a = np.log(np.clip(np.array([p.a for p in priors], dtype=np.float64), *A_BOUNDS))
    prior_b = np.clip(np.array([p.b for p in priors], dtype=np.float64), *B_BOUNDS)
    nodes, log_prior = latent_grid(quadrature)
    a, b = _start_values(x, answered, priors)
    log_a = np.log(a)
    converged, iterations = len(priors) == 0, 0
    while not converged and iterations < max_iterations:
        iterations += 1
        post, _ = _posterior(x, answered, np.exp(log_a), b, nodes, log_prior)
        right = x.T @ post
        seen = answered.T @ post
        new_log_a, new_b = _m_step(log_a, b, right, seen, nodes, prior_log_a, prior_b, weight)
        change = max(
            float(np.max(np.abs(np.exp(new_log_a) - np.exp(log_a)))),
            float(np.max(np.abs(new_b - b))),
        )
        log_a, b = new_log_a, new_b
        converged = change < tolerance
    a = np.exp(log_a)
    if len(priors) and len(x):
        post, _ = _posterior(x, answered, a, b, nodes, log_prior)
        se_a, se_b = _standard_errors(x, answered, a, b, post, nodes, weight)
    else:
        se_a = se_b = np.full(len(priors), np.nan)
    return MatrixFit(a=a, b=b, se_a=se_a, se_b=se_b, iterations=iterations, converged=converged)


def stocking_lord(
    old: Sequence[ItemParams], new: Sequence[ItemParams], *, quadrature: int = 41
) -> tuple[float, float]:
    """``(A, B)`` with ``theta_old = A * theta_new + B`` for the common items ``old``/``new``.

    Minimises the squared difference of the common items' test characteristic curves over
    a N(0, 1)-weighted grid of the old scale, starting from mean-sigma. With one common item
    only the shift is estimated.
    """
    if len(old) != len(new) or not old:
        raise ValueError("linking needs the same common items, at least one")
    a_old = np.array([p.a for p in old])
    b_old = np.array([p.b for p in old])
    a_new = np.array([p.a for p in new])
    b_new = np.array([p.b for p in new])
    if len(old) == 1:
        return 1.0, float(b_old[0] - b_new[0])
    spread_new, spread_old = float(np.std(b_new)), float(np.std(b_old))
    slope = spread_old / spread_new if spread_new > 1e-6 and spread_old > 1e-6 else 1.0
    slope = min(max(slope, 0.2), 5.0)
    start = (slope, float(np.mean(b_old) - slope * np.mean(b_new)))
    grid = np.linspace(-4.0, 4.0, quadrature)
    density = np.exp(-0.5 * grid**2)
    density /= density.sum()
    target = sigmoid(a_old[None, :] * (grid[:, None] - b_old[None, :])).sum(axis=1)

    def loss(ab: FloatArray) -> float:
        scale, shift = float(ab[0]), float(ab[1])
        moved = sigmoid((a_new / scale)[None, :] * (grid[:, None] - (scale * b_new + shift)))
        return float(np.sum(density * (target - moved.sum(axis=1)) ** 2))

    found = optimize.minimize(
        loss, np.array(start), method="L-BFGS-B", bounds=[(0.2, 5.0), (-6.0, 6.0)]
    )
    best = np.asarray(found.x, dtype=np.float64) if np.all(np.isfinite(found.x)) else None
    if best is None or loss(best) > loss(np.array(start)):
        return start
    return float(best[0]), float(best[1])


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def calibrate(
    responses: Sequence[CalibrationResponse],
    priors: Mapping[Hashable, ItemParams],
    previous: Mapping[Hashable, ItemParams],
    *,
    min_responses: int = 200,
    max_iterations: int = 200,
    tolerance: float = 1e-4,
    regularise: bool = True,
) -> CalibrationResult:
    """Calibrate every stage and link it to the previous calibration's scale.

    See the module docstring for the method. ``priors`` must hold every answered item that
    ``previous`` does not hold as calibrated (``KeyError`` otherwise).
    """
    params: dict[Hashable, ItemParams] = dict(priors)
    for item, p in previous.items():
        if p.calibrated:
            params[item] = p
    iterations, converged = 0, True
    linking: dict[int, tuple[float, float]] = {}
    for stage, data in sorted(stage_matrices(responses).items()):
        missing = [item for item in data.items if item not in params]
        if missing:
            raise KeyError(f"no prior parameters for items {missing!r}")
        counts = np.sum(~np.isnan(data.scores), axis=0)
        free = [j for j, count in enumerate(counts) if count >= min_responses]
        linking[stage] = (1.0, 0.0)
        if not free:
            continue
        items = [data.items[j] for j in free]
        fit = calibrate_matrix(
            data.scores[:, free],
            [priors.get(item, params[item]) for item in items],
            max_iterations=max_iterations,
            tolerance=tolerance,
            regularise=regularise,
        )
        iterations = max(iterations, fit.iterations)
        converged = converged and fit.converged
        fresh = [ItemParams(a=float(a), b=float(b)) for a, b in zip(fit.a, fit.b, strict=True)]
        common = [
            k for k, item in enumerate(items) if item in previous and previous[item].calibrated
        ]
        if common:
            linking[stage] = stocking_lord(
                [previous[items[k]] for k in common], [fresh[k] for k in common]
            )
        scale, shift = linking[stage]
        for k, item in enumerate(items):
            params[item] = ItemParams(
                a=float(np.clip(fit.a[k] / scale, *A_BOUNDS)),
                b=float(np.clip(scale * fit.b[k] + shift, *B_BOUNDS)),
                se_a=_finite_or_none(fit.se_a[k] / scale),
                se_b=_finite_or_none(fit.se_b[k] * scale),
                calibrated=True,
            )
    return CalibrationResult(
        params=params, iterations=iterations, converged=converged, linking=linking
    )
