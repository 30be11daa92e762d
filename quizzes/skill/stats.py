"""Item fit: does an item behave as its 2PL curve says?

``item_fit`` computes the RMSD item-fit statistic (as used in PISA and PIAAC): for each
stage, every learner's posterior over the ability grid is computed from all their answers
in the stage (with the given parameters and a N(0, 1) population); for each item, the
posterior-weighted observed proportion right at each grid node is compared with the model's
``P``, and the squared differences are averaged over the item's answerers' ability
distribution:

    RMSD = sqrt( sum_q f(q) * (observed(q) - P(q))² )

0 is a perfect fit; an item above ``threshold`` (0.1 by default, PISA's flag is 0.12) is
``poor``: its answers do not follow its curve (a miskeyed item, a trick question, an item
that measures something else). The statistic is noisy for items with few answers, so
callers should look at ``n`` before acting on it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from quizzes.skill.calibrate import CalibrationResponse, latent_grid, stage_matrices
from quizzes.skill.irt import ItemParams, log_sigmoid, sigmoid

RMSD_THRESHOLD = 0.1


@dataclass(frozen=True, slots=True)
class ItemFit:
    """An item's RMSD, the number of learners behind it, and whether it is flagged."""

    rmsd: float
    n: int
    poor: bool


def item_fit(
    responses: Sequence[CalibrationResponse],
    params: Mapping[Hashable, ItemParams],
    *,
    threshold: float = RMSD_THRESHOLD,
) -> dict[Hashable, ItemFit]:
    """The RMSD fit of every answered item (see the module docstring).

    Every answered item must be in ``params`` (``KeyError`` otherwise). A learner's first
    answer to an item is the one used, as in calibration.
    """
    nodes, log_prior = latent_grid()
    result: dict[Hashable, ItemFit] = {}
    for data in stage_matrices(responses).values():
        a = np.array([params[item].a for item in data.items], dtype=np.float64)
        b = np.array([params[item].b for item in data.items], dtype=np.float64)
        answered = (~np.isnan(data.scores)).astype(np.float64)
        x = np.where(answered > 0, data.scores, 0.0)
        z = a[:, None] * (nodes[None, :] - b[:, None])
        log_post = x @ log_sigmoid(z) + (answered - x) @ log_sigmoid(-z) + log_prior
        post = np.exp(log_post - np.max(log_post, axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)
        seen = answered.T @ post  # items x nodes: expected answerers at each node
        right = x.T @ post
        expected = sigmoid(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            observed = np.where(seen > 0, right / seen, expected)
        share = seen / np.maximum(seen.sum(axis=1, keepdims=True), 1e-300)
        rmsd = np.sqrt(np.sum(share * (observed - expected) ** 2, axis=1))
        counts = answered.sum(axis=0)
        for j, item in enumerate(data.items):
            value = float(rmsd[j])
            result[item] = ItemFit(rmsd=value, n=int(counts[j]), poor=value > threshold)
    return result
