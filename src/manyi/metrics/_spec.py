"""What a metric is: which scores are valid, how a score is coded, and which estimator applies.

Every metric reduces to the (weighted) mean of a coded score ``y``:

- NPS: ``y = +1`` for a promoter (9–10), ``0`` for a passive (7–8), ``−1`` for a detractor (0–6);
  the mean of ``y`` is ``pP − pD`` and its variance is ``pP + pD − (pP − pD)²``.
- a box proportion (CSAT top-k, % easy): ``y = 1`` when the score is in the box, else ``0``;
- a mean: ``y`` is the score itself.

So one set of sufficient statistics per group (see ``_sums``) serves all of them, and grouped,
pooled and single-group figures come from the same formulas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ._errors import ScoreError

Kind = Literal["nps", "proportion", "mean"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Spec:
    metric: str
    kind: Kind
    scale_min: float | None = None
    scale_max: float | None = None
    whole: bool = False
    box_from: float | None = None  # proportion: a score counts when score >= box_from

    @property
    def expected(self) -> str:
        """How a valid score reads in an error message, e.g. ``a whole number 0–10``."""
        what = "a whole number" if self.whole else "a number"
        if self.scale_min is not None and self.scale_max is not None:
            return f"{what} {_fmt(self.scale_min)}–{_fmt(self.scale_max)}"
        if self.scale_min is not None:
            return f"{what} ≥ {_fmt(self.scale_min)}"
        if self.scale_max is not None:
            return f"{what} ≤ {_fmt(self.scale_max)}"
        return what

    @property
    def scale(self) -> float:
        """Reported units per unit of the coded mean: points/percent for NPS and boxes, 1 for means."""
        return 1.0 if self.kind == "mean" else 100.0

    def invalid(self, x: FloatArray) -> npt.NDArray[np.bool_]:
        """Which of the (non-missing) scores are not valid on this scale."""
        bad = ~np.isfinite(x)
        if self.scale_min is not None:
            bad |= x < self.scale_min
        if self.scale_max is not None:
            bad |= x > self.scale_max
        if self.whole:
            bad |= x != np.round(x)
        return bad

    def code(self, x: FloatArray) -> FloatArray:
        if self.kind == "nps":
            return (x >= 9).astype(np.float64) - (x <= 6).astype(np.float64)
        if self.kind == "proportion":
            assert self.box_from is not None
            return (x >= self.box_from).astype(np.float64)
        return x.astype(np.float64, copy=False)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def nps_spec() -> Spec:
    return Spec("nps", "nps", 0, 10, whole=True)


def box_spec(metric: str, scale_min: float, scale_max: float, top_k: int) -> Spec:
    if scale_max <= scale_min:
        raise ValueError(f"scale_max ({scale_max}) must be above scale_min ({scale_min})")
    points = int(scale_max - scale_min) + 1
    if not 1 <= top_k <= points:
        raise ValueError(
            f"top_k must be 1–{points} on a {_fmt(scale_min)}–{_fmt(scale_max)} scale, got {top_k}"
        )
    return Spec(metric, "proportion", scale_min, scale_max, whole=True, box_from=scale_max - top_k + 1)


def mean_spec(metric: str, scale_min: float | None, scale_max: float | None, whole: bool = False) -> Spec:
    if scale_min is not None and scale_max is not None and scale_max <= scale_min:
        raise ValueError(f"scale_max ({scale_max}) must be above scale_min ({scale_min})")
    return Spec(metric, "mean", scale_min, scale_max, whole=whole)


def as_float_array(values: Any, what: str = "scores") -> FloatArray:
    """A 1-D float array with NaN for missing values (``None``, ``pd.NA``, NaN).

    Anything that is neither a number nor missing (text, say) raises :class:`ScoreError` for scores
    and :class:`ValueError` otherwise; nothing is coerced silently.
    """
    to_numpy = getattr(values, "to_numpy", None)
    if to_numpy is not None:  # pandas and pyarrow-backed columns, nullable integers included
        try:
            arr = np.asarray(to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if arr is not None:
            return _one_d(arr, what)
    raw = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if raw.dtype.kind in "fiub":
        return _one_d(raw.astype(np.float64), what)
    flat = raw.ravel()
    out = np.empty(flat.shape, dtype=np.float64)
    for i, v in enumerate(flat):
        if v is None or (isinstance(v, float) and math.isnan(v)) or _is_na(v):
            out[i] = np.nan
        elif isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            if what == "scores":
                raise ScoreError(i, v, "a number")
            raise ValueError(f"{what} at position {i} must be a number, got {v!r}")
        else:
            out[i] = float(v)
    return _one_d(out.reshape(raw.shape), what)


def _is_na(v: object) -> bool:
    return type(v).__name__ in {"NAType", "NaTType"}


def _one_d(arr: FloatArray, what: str) -> FloatArray:
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {arr.shape}")
    return arr
