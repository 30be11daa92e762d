"""The response model: the two-parameter logistic (2PL) item response function.

A learner of ability ``theta`` answers an item of discrimination ``a`` and difficulty ``b``
correctly with probability ``P = 1 / (1 + exp(-a (theta - b)))``. ``b`` is the ability at
which the chance is one half, on the same logit scale as ``theta``; ``a`` is how sharply the
chance rises around ``b``. The Fisher information of one answer is ``a² P (1 - P)``: the
most informative items are those with a high ``a`` and a ``b`` close to the learner.

Until an item has been calibrated, its parameters are a prior built from the author's
difficulty (``prior_params``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Author difficulty 1..5 -> provisional difficulty on the logit scale: (d - 3) * 0.8, so
# 1 -> -1.6, 3 -> 0.0 and 5 -> +1.6, spread over the middle of a N(0, 1) population.
PRIOR_DIFFICULTY_STEP = 0.8
PRIOR_DISCRIMINATION = 1.0
AUTHOR_DIFFICULTIES = range(1, 6)


@dataclass(frozen=True, slots=True)
class ItemParams:
    """An item's 2PL parameters.

    ``calibrated`` is False for provisional parameters (the prior from the author's
    difficulty, or an item with too few responses to calibrate); ``se_a`` and ``se_b`` are
    the calibration's standard errors when known.
    """

    a: float
    b: float
    se_a: float | None = None
    se_b: float | None = None
    calibrated: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.a) and self.a > 0):
            raise ValueError(f"discrimination must be positive and finite, not {self.a!r}")
        if not math.isfinite(self.b):
            raise ValueError(f"difficulty must be finite, not {self.b!r}")


def prior_params(difficulty: int) -> ItemParams:
    """Provisional parameters from the author's difficulty (1 to 5).

    Discrimination 1.0 and difficulty ``(difficulty - 3) * 0.8`` on the logit scale, so the
    five author levels span -1.6 to +1.6 around the population mean. ``calibrated`` is
    False: calibration replaces these once the item has enough responses.
    """
    if isinstance(difficulty, bool) or difficulty not in AUTHOR_DIFFICULTIES:
        raise ValueError(f"author difficulty must be an integer from 1 to 5, not {difficulty!r}")
    return ItemParams(
        a=PRIOR_DISCRIMINATION, b=(difficulty - 3) * PRIOR_DIFFICULTY_STEP, calibrated=False
    )


def sigmoid(z: npt.ArrayLike) -> FloatArray:
    """The logistic function, without overflow for any finite input."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64))))


def log_sigmoid(z: npt.ArrayLike) -> FloatArray:
    """``log(sigmoid(z))``, accurate in both tails."""
    return np.asarray(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))


@overload
def probability(theta: float, params: ItemParams) -> float: ...
@overload
def probability(theta: FloatArray, params: ItemParams) -> FloatArray: ...
@overload
def probability(
    theta: float | FloatArray, params: tuple[npt.ArrayLike, npt.ArrayLike]
) -> FloatArray: ...
def probability(
    theta: float | FloatArray, params: ItemParams | tuple[npt.ArrayLike, npt.ArrayLike]
) -> float | FloatArray:
    """The 2PL probability of a correct answer.

    ``params`` is one item's ``ItemParams``, or a pair ``(a, b)`` of arrays that broadcast
    against ``theta`` (for example ``theta[:, None]`` against items along the last axis).
    A float ``theta`` with ``ItemParams`` gives a float; anything else gives an array.
    """
    if isinstance(params, ItemParams):
        a = np.asarray(params.a, dtype=np.float64)
        b = np.asarray(params.b, dtype=np.float64)
    else:
        a = np.asarray(params[0], dtype=np.float64)
        b = np.asarray(params[1], dtype=np.float64)
    p = sigmoid(a * (np.asarray(theta, dtype=np.float64) - b))
    if isinstance(params, ItemParams) and isinstance(theta, float | int):
        return float(p)
    return p


def information(theta: float, params: ItemParams) -> float:
    """Fisher information of one answer at ``theta``: ``a² P (1 - P)``."""
    p = probability(float(theta), params)
    return params.a * params.a * p * (1.0 - p)
