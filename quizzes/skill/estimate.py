"""Learners' abilities: one per stage, estimated together.

``estimate_abilities`` finds the posterior mode (MAP) of the stage abilities under

- a multivariate normal prior: every stage has mean 0 and variance 1 (the population's
  scale, as set by calibration), and any two stages are correlated ``correlation``. A stage
  with few answers is pulled toward what the learner's other stages say, not only toward the
  population mean; a stage with many answers is governed by them;
- the 2PL likelihood of every answer, with **partial credit as a fractional Bernoulli**: a
  score ``x`` in [0, 1] with weight ``w`` contributes ``w [x log P + (1 - x) log(1 - P)]``.
  A half-credit answer counts as half a right and half a wrong answer. This keeps one model
  for every item type without inventing category thresholds for each; it is exactly the
  2PL for 0/1 scores, and its estimate is monotone in every score;
- recency: ``weight`` (``recency_weight``) scales an answer's log-likelihood, so an old
  answer counts as a fraction of a fresh one.

The log posterior is strictly concave (the prior's precision is positive definite and each
answer's term is concave in its stage's ability), so the mode is unique and always finite,
even for a learner with every answer right or wrong. It is found by Newton's method with a
step cap and backtracking. The standard error is the Laplace approximation's: the square
root of the diagonal of the inverse negative Hessian at the mode.

A stage with no answers gets the prior's conditional estimate given the other stages, and
``n = 0``: callers show "not assessed" rather than its number. With no answers at all every
stage is ``Estimate(0.0, 1.0, 0)``.

With a non-negative correlation, the estimate of every stage never decreases when any score
rises (the posterior is supermodular), and a right answer to a harder item raises it at
least as much as one to an easier item of the same discrimination.

``estimate_ability_eap`` is the one-dimensional expected a posteriori estimate (the
posterior mean and standard deviation by quadrature), used where a single stage is scored on
its own: the reference comparison and the bench.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quizzes.skill.irt import FloatArray, ItemParams, log_sigmoid, sigmoid

# A recency weight never falls below this, so an old answer keeps a sliver of evidence and
# every weight stays in (0, 1].
MIN_WEIGHT = 1e-6
# Newton's step on any stage is capped at this many logits, then halved until the
# posterior rises.
MAX_STEP = 1.0
MAX_NEWTON_STEPS = 100
# The EAP grid spans the prior mean plus or minus this many prior standard deviations.
EAP_SPAN_SD = 6.0


@dataclass(frozen=True, slots=True)
class Response:
    """One scored answer: ``score`` is the fraction of credit, ``weight`` its recency."""

    item: Hashable
    stage: int
    score: float
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], not {self.score!r}")
        if not 0.0 < self.weight <= 1.0:
            raise ValueError(f"weight must be in (0, 1], not {self.weight!r}")


@dataclass(frozen=True, slots=True)
class Estimate:
    """A stage ability on the logit scale, its standard error, and the answers behind it.

    ``n == 0`` means the stage was not assessed: ``theta`` is then only what the other
    stages (or the population) suggest, and callers show "not assessed", never a score.
    """

    theta: float
    se: float
    n: int


def recency_weight(age_days: float, half_life_days: float) -> float:
    """The weight of an answer ``age_days`` old: ``0.5 ** (age_days / half_life_days)``.

    An answer loses half its weight every half-life. A negative age (a clock running ahead)
    counts as a fresh answer, an infinite half-life means no decay, and the weight never
    falls below ``MIN_WEIGHT``.
    """
    if math.isnan(age_days) or math.isnan(half_life_days) or half_life_days <= 0:
        raise ValueError("the age must be a number and the half-life positive")
    if math.isinf(half_life_days):
        return 1.0
    return max(MIN_WEIGHT, math.pow(0.5, max(age_days, 0.0) / half_life_days))


def prior_precision(size: int, correlation: float) -> FloatArray:
    """The inverse of the prior covariance: unit variances, equal correlations."""
    if not 0.0 <= correlation < 1.0:
        raise ValueError(f"correlation must be in [0, 1), not {correlation!r}")
    covariance = np.full((size, size), correlation) + (1.0 - correlation) * np.eye(size)
    return np.asarray(np.linalg.inv(covariance))


def _log_posterior(
    theta: FloatArray,
    dims: npt.NDArray[np.intp],
    a: FloatArray,
    b: FloatArray,
    x: FloatArray,
    w: FloatArray,
    precision: FloatArray,
) -> float:
    z = a * (theta[dims] - b)
    loglik = np.sum(w * (x * log_sigmoid(z) + (1.0 - x) * log_sigmoid(-z)))
    return float(loglik - 0.5 * theta @ precision @ theta)


def posterior_mode(
    dims: npt.NDArray[np.intp],
    a: FloatArray,
    b: FloatArray,
    x: FloatArray,
    w: FloatArray,
    precision: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """The MAP abilities and their Laplace standard errors, from arrays.

    Answer ``i`` is of dimension ``dims[i]`` with item parameters ``a[i]``, ``b[i]``, score
    ``x[i]`` and weight ``w[i]``; ``precision`` is the prior's inverse covariance.
    """
    size = precision.shape[0]
    theta = np.zeros(size)
    current = _log_posterior(theta, dims, a, b, x, w, precision)
    for _ in range(MAX_NEWTON_STEPS):
        p = sigmoid(a * (theta[dims] - b))
        gradient = np.bincount(dims, w * a * (x - p), minlength=size) - precision @ theta
        info = np.bincount(dims, w * a * a * p * (1.0 - p), minlength=size)
        step = np.linalg.solve(precision + np.diag(info), gradient)
        largest = float(np.max(np.abs(step)))
        if largest > MAX_STEP:
            step *= MAX_STEP / largest
        scale = 1.0
        while True:
            candidate = theta + scale * step
            value = _log_posterior(candidate, dims, a, b, x, w, precision)
            # The Newton direction is an ascent direction (the negative Hessian is positive
            # definite), so a short enough step always rises, up to rounding.
            if value >= current - 1e-12 * (1.0 + abs(current)) or scale < 1e-6:
                break
            scale *= 0.5
        theta, current = candidate, value
        if largest * scale < 1e-10:
            break
    p = sigmoid(a * (theta[dims] - b))
    info = np.bincount(dims, w * a * a * p * (1.0 - p), minlength=size)
    covariance = np.linalg.inv(precision + np.diag(info))
    return theta, np.sqrt(np.diag(covariance))


def estimate_abilities(
    responses: Sequence[Response],
    params: Mapping[Hashable, ItemParams],
    stages: Sequence[int],
    *,
    correlation: float = 0.6,
) -> dict[int, Estimate]:
    """Every stage's ability from all of a learner's answers (see the module docstring).

    ``stages`` lists the stages to estimate (repeats are ignored); answers of other stages
    are left out. Every answered item must be in ``params`` (``KeyError`` otherwise).
    ``correlation`` must be in [0, 1).
    """
    order = list(dict.fromkeys(stages))
    index = {stage: k for k, stage in enumerate(order)}
    precision = prior_precision(len(order), correlation)
    used = [r for r in responses if r.stage in index]
    try:
        item_params = [params[r.item] for r in used]
    except KeyError as exc:
        raise KeyError(f"no item parameters for item {exc.args[0]!r}") from None
    dims = np.array([index[r.stage] for r in used], dtype=np.intp)
    a = np.array([p.a for p in item_params], dtype=np.float64)
    b = np.array([p.b for p in item_params], dtype=np.float64)
    x = np.array([r.score for r in used], dtype=np.float64)
    w = np.array([r.weight for r in used], dtype=np.float64)
    if not used:  # the prior itself, exactly
        return {stage: Estimate(theta=0.0, se=1.0, n=0) for stage in order}
    theta, se = posterior_mode(dims, a, b, x, w, precision)
    counts = np.bincount(dims, minlength=len(order))
    return {
        stage: Estimate(theta=float(theta[k]), se=float(se[k]), n=int(counts[k]))
        for stage, k in index.items()
    }


def eap_grid(
    prior_mean: float = 0.0, prior_sd: float = 1.0, quadrature: int = 61
) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes over the prior mean ± 6 SD and their log prior weights.

    The weights (the Legendre weights times the normal density) are normalised to sum to 1.
    """
    if quadrature < 3 or not prior_sd > 0:
        raise ValueError("the quadrature needs at least 3 nodes and a positive prior SD")
    unit, legendre = np.polynomial.legendre.leggauss(quadrature)
    half = EAP_SPAN_SD * prior_sd
    nodes = prior_mean + half * unit
    log_weights = np.log(legendre * half) - 0.5 * ((nodes - prior_mean) / prior_sd) ** 2
    log_weights -= np.logaddexp.reduce(log_weights)
    return np.asarray(nodes), np.asarray(log_weights)


def eap_matrix(
    scores: FloatArray,
    a: FloatArray,
    b: FloatArray,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    quadrature: int = 61,
) -> tuple[FloatArray, FloatArray]:
    """EAP abilities and posterior SDs for many learners at once.

    ``scores`` is learners x items, NaN where a learner did not answer; ``a`` and ``b`` are
    the items' parameters. Returns the posterior means and standard deviations.
    """
    nodes, log_prior = eap_grid(prior_mean, prior_sd, quadrature)
    answered = ~np.isnan(scores)
    x = np.where(answered, scores, 0.0)
    z = a[:, None] * (nodes[None, :] - b[:, None])
    loglik = x @ log_sigmoid(z) + (answered - x) @ log_sigmoid(-z)
    log_post = loglik + log_prior
    log_post -= np.max(log_post, axis=1, keepdims=True)
    post = np.exp(log_post)
    post /= post.sum(axis=1, keepdims=True)
    mean = post @ nodes
    variance = post @ nodes**2 - mean**2
    return mean, np.sqrt(np.maximum(variance, 0.0))


def estimate_ability_eap(
    scores: Sequence[float],
    params_list: Sequence[ItemParams],
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    quadrature: int = 61,
) -> Estimate:
    """One dimension's EAP estimate: posterior mean and SD under a normal prior.

    ``scores[i]`` (in [0, 1], fractional credit as in ``estimate_abilities``) answers the
    item ``params_list[i]``. The posterior is integrated with ``quadrature`` Gauss-Legendre
    nodes over the prior mean ± 6 prior SDs.
    """
    if len(scores) != len(params_list):
        raise ValueError("one score per item")
    if any(not 0.0 <= s <= 1.0 for s in scores):
        raise ValueError("scores must be in [0, 1]")
    matrix = np.array([list(scores)], dtype=np.float64).reshape(1, len(scores))
    a = np.array([p.a for p in params_list], dtype=np.float64)
    b = np.array([p.b for p in params_list], dtype=np.float64)
    mean, sd = eap_matrix(
        matrix, a, b, prior_mean=prior_mean, prior_sd=prior_sd, quadrature=quadrature
    )
    return Estimate(theta=float(mean[0]), se=float(sd[0]), n=len(scores))
