"""Anomalies in a time series of estimates, knowing about seasonality and about sampling noise.

A store's weekly NPS moves for three reasons: the season (December is not March; Saturdays are
not Mondays), sampling noise (40 responses give an interval of ±20 points), and real change. Only
the last is worth an alert. :func:`detect_anomalies` separates them in one of two ways:

- ``stl``: an STL decomposition (Cleveland et al. 1990, *STL: A Seasonal-Trend Decomposition
  Procedure Based on Loess*, J. Official Statistics 6(1)), robust to outliers, as implemented by
  statsmodels, with a seasonal smoother of at least 13 periods and a trend window of four seasons
  (a stable season and a slow trend, so that one bad period does not drag the fit to itself). The
  expected value of a point is its trend plus its seasonal component; the residual is judged
  against ``sqrt(se² + σ²)``, where ``se`` is the point's own standard error and ``σ`` the spread
  of all residuals, estimated robustly (``1.4826·MAD``). σ already holds the typical sampling noise,
  so a thin period counts its noise twice: deliberately conservative, because a false alarm costs a
  store manager's trust (on a simulated weekly pattern with noise, about 0.3 % of points exceed
  z = 3, the Gaussian rate). Needs two full seasons.
- ``control``: control limits from the metric's standard error (a Shewhart chart whose limits
  widen and narrow with n). The expected value is the inverse-variance weighted mean of the
  previous ``window`` points of the same season (lags ``season``, ``2·season``, …), with its own
  standard error; a point is out of control when ``|value − expected| > z·sqrt(se² + se_expected²)``.

``auto`` uses STL when there are two full seasons of points with a value and ``control`` otherwise.
Points without a value (``n = 0``) are never anomalous and, for STL, filled by interpolation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Method = Literal["auto", "stl", "control"]


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One point of a series: its value and standard error, what was expected, and the verdict.

    ``low``/``high`` are the limits around ``expected`` outside which the point is anomalous;
    ``score`` is the standardised residual ``(value − expected) / scale``; ``direction`` is −1 for
    an anomalous drop, +1 for a rise, 0 otherwise.
    """

    value: float | None
    se: float | None
    expected: float | None
    low: float | None
    high: float | None
    score: float | None
    anomaly: bool
    direction: int
    method: str


def _control(
    values: np.ndarray, ses: np.ndarray, season: int, window: int, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Expected values and their standard errors from the previous same-season points."""
    size = values.shape[0]
    expected = np.full(size, np.nan)
    expected_se = np.full(size, np.nan)
    lag = max(season, 1)
    for i in range(size):
        prev = [i - lag * k for k in range(1, window + 1) if i - lag * k >= 0]
        vals = values[prev] if prev else np.array([])
        errs = ses[prev] if prev else np.array([])
        ok = np.isfinite(vals) & np.isfinite(errs) & (errs > 0)
        if ok.sum() == 0:
            continue
        w = 1.0 / errs[ok] ** 2
        expected[i] = float(np.sum(w * vals[ok]) / np.sum(w))
        expected_se[i] = float(np.sqrt(1.0 / np.sum(w)))
    return expected, expected_se


def _stl(values: np.ndarray, ses: np.ndarray, season: int) -> tuple[np.ndarray, np.ndarray]:
    """Expected values (trend + season) and the irregular scale σ from a robust STL."""
    from statsmodels.tsa.seasonal import STL

    idx = np.arange(values.shape[0])
    have = np.isfinite(values)
    filled = np.interp(idx, idx[have], values[have])
    seasonal = max(13, season + (1 if season % 2 == 0 else 2))
    fit = STL(filled, period=season, seasonal=seasonal, trend=4 * season + 1, robust=True).fit()
    expected = np.asarray(fit.trend) + np.asarray(fit.seasonal)
    resid = (values - expected)[have]
    sigma = float(np.median(np.abs(resid - np.median(resid)))) * 1.4826
    return expected, np.full(values.shape[0], sigma)


def detect_anomalies(
    values: Sequence[float | None],
    ses: Sequence[float | None],
    *,
    season: int = 1,
    method: Method = "auto",
    z: float = 3.0,
    window: int = 4,
) -> list[TrendPoint]:
    """Judge every point of a series of estimates (oldest first) against what was expected.

    ``values`` and ``ses`` are the figures and standard errors of consecutive periods (``None``
    where a period has no value); ``season`` is the number of periods in a seasonal cycle (7 for
    days of the week, 12 for months, 1 for none); ``z`` sets how far out a point must be.
    """
    if len(values) != len(ses):
        raise ValueError(f"values and ses differ in length ({len(values)} vs {len(ses)})")
    if z <= 0:
        raise ValueError(f"z must be positive, got {z}")
    if season < 1:
        raise ValueError(f"season must be at least 1, got {season}")
    v = np.array([np.nan if x is None else float(x) for x in values], dtype=np.float64)
    s = np.array([np.nan if x is None else float(x) for x in ses], dtype=np.float64)
    have = np.isfinite(v)
    use_stl = method == "stl" or (method == "auto" and season >= 2 and int(have.sum()) >= 2 * season + 1)
    if use_stl:
        if season < 2:
            raise ValueError("STL needs a season of at least 2 periods")
        if int(have.sum()) < 2 * season + 1:
            raise ValueError(
                f"STL needs at least {2 * season + 1} points with a value, got {int(have.sum())}"
            )
        expected, spread = _stl(v, s, season)
        scale = np.sqrt(np.nan_to_num(s, nan=0.0) ** 2 + spread**2)
        used = "stl"
    else:
        expected, expected_se = _control(v, s, season, window, z)
        scale = np.sqrt(np.nan_to_num(s, nan=0.0) ** 2 + np.nan_to_num(expected_se, nan=0.0) ** 2)
        used = "control"
    out = []
    for i in range(v.shape[0]):
        if not (have[i] and np.isfinite(expected[i])):
            exp = float(expected[i]) if np.isfinite(expected[i]) else None
            out.append(TrendPoint(values[i], ses[i], exp, None, None, None, False, 0, used))
            continue
        sc = float(scale[i])
        resid = float(v[i] - expected[i])
        if sc > 0:
            score = resid / sc
            anomaly = abs(score) > z
        else:  # no noise at all: any departure is news, none is not
            score = 0.0 if resid == 0 else float(np.sign(resid)) * np.inf
            anomaly = resid != 0
        out.append(
            TrendPoint(
                value=float(v[i]),
                se=None if not np.isfinite(s[i]) else float(s[i]),
                expected=float(expected[i]),
                low=float(expected[i] - z * sc),
                high=float(expected[i] + z * sc),
                score=score,
                anomaly=bool(anomaly),
                direction=int(np.sign(resid)) if anomaly else 0,
                method=used,
            )
        )
    return out
