"""A Customer Satisfaction Index whose dimension weights come from driver importance."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._core import DriverResult, as_matrix
from ._errors import DriverInputError


@dataclass(frozen=True, slots=True)
class DriverCsi:
    """The index (0–100) with its interval, the weights it used, and how much the weights move it.

    ``ci_low``/``ci_high`` are the bootstrap interval over respondents with the weights held fixed
    (:func:`manyi.metrics.csi`); ``weights_ci_low``/``weights_ci_high`` show how far the index moves
    when the weights are taken from each resample of the driver analysis instead.
    """

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    weights: dict[str, float]  # attribute → weight, summing to 1
    weights_ci_low: float | None
    weights_ci_high: float | None
    scale_min: float
    scale_max: float

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None or not math.isfinite(v) else round(float(v), 4)

        return {
            "value": r(self.value),
            "ci_low": r(self.ci_low),
            "ci_high": r(self.ci_high),
            "n": self.n,
            "weights": {a: round(w, 6) for a, w in self.weights.items()},
            "weights_ci_low": r(self.weights_ci_low),
            "weights_ci_high": r(self.weights_ci_high),
            "scale_min": self.scale_min,
            "scale_max": self.scale_max,
        }


def driver_csi(
    ratings: Any,
    drivers: DriverResult,
    *,
    scale_min: float = 1,
    scale_max: float = 5,
    na_values: tuple[float, ...] = (),
    n_boot: int = 1000,
    seed: int = 0,
) -> DriverCsi:
    """CSI over the attributes of ``drivers``, each weighted by its share of the explained variance.

    ``ratings`` holds the same attribute columns (respondents × attributes, names as in the analysis);
    values in ``na_values`` and NaN are missing.
    """
    from manyi.metrics import ScoreError, csi

    names = drivers.attributes
    x, got = as_matrix(ratings, None if hasattr(ratings, "columns") or isinstance(ratings, dict) else names)
    if hasattr(ratings, "columns") or isinstance(ratings, dict):
        missing = [a for a in names if a not in got]
        if missing:
            raise DriverInputError(f"ratings have no column `{missing[0]}`", column=missing[0])
        x = x[:, [got.index(a) for a in names]]
    if na_values:
        x = np.where(np.isin(x, [float(v) for v in na_values]), np.nan, x)
    shares = drivers.shares()
    weights = {a: shares[a] / 100 for a in names}
    try:
        est = csi(
            x, [weights[a] for a in names], scale_min=scale_min, scale_max=scale_max, n_boot=n_boot, seed=seed
        )
    except ScoreError as exc:
        raise DriverInputError(f"a rating is outside {scale_min:g}–{scale_max:g}: {exc}") from None
    lo = hi = None
    if drivers.boot_shares is not None and drivers.boot_shares.size:
        answered = ~np.isnan(x)
        means = np.where(
            answered.any(axis=0), np.nansum(x, axis=0) / np.maximum(answered.sum(axis=0), 1), np.nan
        )
        m01 = (means - scale_min) / (scale_max - scale_min)
        ok = ~np.isnan(m01)
        w = drivers.boot_shares[:, ok]
        index = 100 * (w @ m01[ok]) / w.sum(axis=1)
        lo, hi = (float(v) for v in np.quantile(index, [0.025, 0.975]))
    return DriverCsi(est.value, est.ci_low, est.ci_high, est.n, weights, lo, hi, scale_min, scale_max)
