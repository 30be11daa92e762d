"""Agreement with a reference implementation: girth's 2PL MML and EAP (tests only).

girth 0.8 calibrates with the N(0, 1) latent density on 41 Gauss-Legendre nodes over
[-4.5, 4.5] and no item priors; ``ability_eap`` uses the same grid. Ours integrates over
61 nodes on [-6, 6]; with ``regularise=False`` our calibration is pure marginal maximum
likelihood too, so the two must agree up to the grids and the convergence criteria.
"""

from __future__ import annotations

import numpy as np
import pytest

from quizzes.skill import ItemParams, calibrate_matrix, estimate_ability_eap
from tests.quizzes.skill.simulation import answer_matrix, draw_items

girth = pytest.importorskip("girth")

LEARNERS, ITEMS = 2000, 20


@pytest.fixture(scope="module")
def dataset():
    rng = np.random.default_rng(2024)
    a, b = draw_items(rng, ITEMS)
    return answer_matrix(rng, rng.normal(0, 1, LEARNERS), a, b)


def test_calibration_agrees_with_girth(dataset):
    ours = calibrate_matrix(dataset, [ItemParams(1.0, 0.0)] * ITEMS, regularise=False)
    theirs = girth.twopl_mml(dataset.T.astype(int), {"max_iteration": 200})
    assert ours.converged
    rms_a = np.sqrt(np.mean((ours.a - theirs["Discrimination"]) ** 2))
    rms_b = np.sqrt(np.mean((ours.b - theirs["Difficulty"]) ** 2))
    assert rms_a <= 0.1
    assert rms_b <= 0.05


def test_eap_abilities_agree_with_girth(dataset):
    rng = np.random.default_rng(7)
    a, b = rng.lognormal(0, 0.3, ITEMS), rng.normal(0, 1, ITEMS)
    params = [ItemParams(float(x), float(y)) for x, y in zip(a, b, strict=True)]
    theirs = girth.ability_eap(dataset.T.astype(int), b, a)
    ours = np.array([estimate_ability_eap(list(row), params).theta for row in dataset])
    assert np.max(np.abs(ours - theirs)) <= 0.02
    assert np.sqrt(np.mean((ours - theirs) ** 2)) <= 0.005
