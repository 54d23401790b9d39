"""Per-group sufficient statistics of a coded score, computed in one vectorised pass.

For each group: ``n`` (responses), ``sw = Σw``, ``sw2 = Σw²``, ``swy = Σw·y`` and the centred
``ssd = Σw·(y − ȳ)²`` (a second pass, so variances do not lose digits to cancellation). Weights
default to 1, which makes every formula reduce exactly to its textbook unweighted form.

Survey weights enter intervals through Kish's effective sample size ``n_eff = (Σw)² / Σw²``: the
weighted point estimate is used with the variance it would have under simple random sampling of
``n_eff`` responses. This is the usual design-effect approximation for post-stratification weights
(Kish 1965, *Survey Sampling*, §11.7); it ignores any correlation between weights and scores, which
a full linearisation or replicate-weight variance would capture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import ScoreError
from ._spec import FloatArray, Spec, as_float_array

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Sums:
    n: IntArray
    sw: FloatArray
    sw2: FloatArray
    swy: FloatArray
    ssd: FloatArray

    @property
    def n_eff(self) -> FloatArray:
        if self.sw2 is self.sw:  # unit weights, given as one array: (Σw)²/Σw² = Σw = n
            return self.sw.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.sw2 > 0, self.sw * self.sw / np.where(self.sw2 > 0, self.sw2, 1.0), 0.0)

    @property
    def mean(self) -> FloatArray:
        """The weighted mean of y per group (NaN for empty groups; callers mask with ``n > 0``)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.swy / self.sw

    @property
    def var(self) -> FloatArray:
        """The weighted population variance of y per group, ``Σw(y − ȳ)² / Σw``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.maximum(self.ssd / self.sw, 0.0)

    def take(self, index: npt.NDArray[np.intp]) -> Sums:
        return Sums(self.n[index], self.sw[index], self.sw2[index], self.swy[index], self.ssd[index])


def kish_effective_n(weights: Any) -> float:
    """Kish's effective sample size of survey weights: ``(Σw)² / Σw²``.

    It is ``n`` when all weights are equal and smaller the more unequal they are; the design effect of
    the weighting is ``n / n_eff``. Missing weights are not allowed; zero weights count as absent.
    """
    w = as_float_array(weights, "weights")
    _check_weights(w)
    sw2 = float(np.dot(w, w))
    return float(w.sum()) ** 2 / sw2 if sw2 > 0 else 0.0


def _check_weights(w: FloatArray) -> None:
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"weights at position {i} must be a non-negative number, got {w[i]!r}")


def prepare(
    spec: Spec, scores: Any, weights: Any = None
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Scores, weights and the mask of rows that count (a score and a positive weight).

    Raises :class:`ScoreError` for the first invalid score and ``ValueError`` for a bad weight.
    """
    x = as_float_array(scores, "scores")
    present = ~np.isnan(x)
    invalid = np.zeros_like(present)
    invalid[present] = spec.invalid(x[present])
    if invalid.any():
        i = int(np.flatnonzero(invalid)[0])
        raise ScoreError(i, _py(x[i]), spec.expected)
    if weights is None:
        w = np.ones_like(x)
    else:
        w = as_float_array(weights, "weights")
        if w.shape != x.shape:
            raise ValueError(f"weights has {w.shape[0]} values but scores has {x.shape[0]}")
        _check_weights(w[present])
    keep = present & (w > 0)
    return x, w, keep


def _py(v: float) -> float | int:
    return int(v) if np.isfinite(v) and float(v).is_integer() else float(v)


def group_sums(y: FloatArray, w: FloatArray, codes: IntArray, n_groups: int) -> Sums:
    """Sufficient statistics per group; ``codes`` in ``0..n_groups-1`` (rows already filtered)."""
    n = np.bincount(codes, minlength=n_groups).astype(np.int64)
    sw = np.bincount(codes, weights=w, minlength=n_groups)
    sw2 = np.bincount(codes, weights=w * w, minlength=n_groups)
    swy = np.bincount(codes, weights=w * y, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(sw > 0, swy / np.where(sw > 0, sw, 1.0), 0.0)
    d = y - mean[codes]
    ssd = np.bincount(codes, weights=w * d * d, minlength=n_groups)
    return Sums(n, sw, sw2, swy, ssd)


def single_sums(spec: Spec, scores: Any, weights: Any = None) -> Sums:
    x, w, keep = prepare(spec, scores, weights)
    y = spec.code(x[keep])
    return group_sums(y, w[keep], np.zeros(y.shape[0], dtype=np.int64), 1)
