"""Simulated learners and items for the skill model's tests."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from quizzes.skill import CalibrationResponse, ItemParams


def draw_items(
    rng: np.random.Generator, count: int, *, sd_log_a: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """Discriminations lognormal(0, sd_log_a) and difficulties N(0, 1)."""
    return rng.lognormal(0.0, sd_log_a, count), rng.normal(0.0, 1.0, count)


def answer_matrix(
    rng: np.random.Generator, thetas: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """0/1 answers, learners x items, under the 2PL."""
    p = 1.0 / (1.0 + np.exp(-a[None, :] * (thetas[:, None] - b[None, :])))
    return (rng.random(p.shape) < p).astype(np.float64)


def correlated_abilities(
    rng: np.random.Generator, count: int, stages: int, correlation: float, mean: float = 0.0
) -> np.ndarray:
    cov = np.full((stages, stages), correlation) + (1 - correlation) * np.eye(stages)
    return rng.multivariate_normal(np.full(stages, mean), cov, size=count)


def responses_from(
    matrix: np.ndarray,
    *,
    persons: Sequence[Hashable],
    items: Sequence[Hashable],
    stage: int,
) -> list[CalibrationResponse]:
    """Calibration responses for every non-NaN cell of a learners x items matrix."""
    return [
        CalibrationResponse(persons[i], items[j], stage, float(matrix[i, j]))
        for i in range(matrix.shape[0])
        for j in range(matrix.shape[1])
        if not np.isnan(matrix[i, j])
    ]


def flat_priors(items: Sequence[Hashable]) -> dict[Hashable, ItemParams]:
    return {item: ItemParams(a=1.0, b=0.0) for item in items}
