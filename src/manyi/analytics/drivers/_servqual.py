"""SERVQUAL gaps (Parasuraman, Zeithaml & Berry 1988): perception minus expectation.

Each respondent rates what they expected and what they got for the same attribute. The gap per
attribute is the mean of the paired differences P − E over the respondents who gave both; per
dimension it is the mean over respondents of their mean gap on that dimension's attributes. A
negative gap is a shortfall. Each gap has a t interval and a paired t-test against 0, with p-values
Benjamini–Hochberg adjusted across the attributes (and, separately, across the dimensions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._core import FloatArray, as_matrix
from ._errors import DriverInputError

DIMENSIONS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")


@dataclass(frozen=True, slots=True)
class Gap:
    """One gap: perception minus expectation, with its interval and test."""

    name: str  # attribute or dimension
    dimension: str | None  # the attribute's dimension (None for a dimension row)
    n: int  # respondents with both ratings
    perception: float | None
    expectation: float | None
    gap: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None  # paired t-test of gap = 0, BH-adjusted
    significant: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dimension": self.dimension,
            "n": self.n,
            "perception": _r(self.perception),
            "expectation": _r(self.expectation),
            "gap": _r(self.gap),
            "ci_low": _r(self.ci_low),
            "ci_high": _r(self.ci_high),
            "p_value": _r(self.p_value),
            "significant": self.significant,
        }


@dataclass(frozen=True, slots=True)
class Servqual:
    attributes: list[Gap]
    dimensions: list[Gap]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "confidence": self.confidence,
            "attributes": [g.to_dict() for g in self.attributes],
            "dimensions": [g.to_dict() for g in self.dimensions],
        }


def _r(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 6)


def _t_summary(
    d: FloatArray, confidence: float
) -> tuple[int, float | None, float | None, float | None, float | None]:
    """n, mean, interval and two-sided p of a one-sample t-test of mean 0."""
    from scipy import stats

    d = d[~np.isnan(d)]
    n = int(d.size)
    if n == 0:
        return 0, None, None, None, None
    mean = float(d.mean())
    if n < 2:
        return n, mean, None, None, None
    sd = float(d.std(ddof=1))
    if sd == 0:
        return n, mean, mean, mean, (1.0 if mean == 0 else 0.0)
    se = sd / math.sqrt(n)
    t = float(stats.t.ppf(1 - (1 - confidence) / 2, n - 1))
    p = float(2 * stats.t.sf(abs(mean / se), n - 1))
    return n, mean, mean - t * se, mean + t * se, p


def servqual_gaps(
    perception: Any,
    expectation: Any,
    *,
    names: Sequence[str] | None = None,
    dimensions: Mapping[str, str] | None = None,
    na_values: Sequence[float] = (),
    confidence: float = 0.95,
) -> Servqual:
    """Gaps per attribute and per dimension.

    ``perception`` and ``expectation`` are respondents × attributes in the same column order (the
    attribute names from ``names`` or the perception columns). ``dimensions`` maps an attribute to its
    SERVQUAL dimension; attributes without one are left out of the dimension rows.
    """
    from manyi.metrics import benjamini_hochberg

    if not 0 < confidence < 1:
        raise DriverInputError(f"confidence must be between 0 and 1, got {confidence}")
    p, p_names = as_matrix(perception, names)
    e, _ = as_matrix(expectation)  # paired with perception by column position
    if p.shape != e.shape:
        raise DriverInputError(
            f"perception has {p.shape[0]} × {p.shape[1]} ratings but expectation has {e.shape[0]} × {e.shape[1]}"
        )
    if na_values:
        na = [float(v) for v in na_values]
        p = np.where(np.isin(p, na), np.nan, p)
        e = np.where(np.isin(e, na), np.nan, e)
    d = p - e
    dims = dict(dimensions or {})
    unknown = [a for a in dims if a not in p_names]
    if unknown:
        raise DriverInputError(
            f"dimension given for `{unknown[0]}`, which is not an attribute", column=unknown[0]
        )

    rows = []
    for j, a in enumerate(p_names):
        both = ~np.isnan(d[:, j])
        n, mean, lo, hi, pv = _t_summary(d[:, j], confidence)
        rows.append((a, dims.get(a), n, _mean(p[both, j]), _mean(e[both, j]), mean, lo, hi, pv))
    adjusted = benjamini_hochberg([np.nan if r[8] is None else r[8] for r in rows])
    alpha = 1 - confidence
    attr_gaps = [
        Gap(a, dim, n, pm, em, g, lo, hi, _opt(q), bool(q == q and q < alpha))
        for (a, dim, n, pm, em, g, lo, hi, _), q in zip(rows, adjusted, strict=True)
    ]

    dim_rows = []
    order = [x for x in DIMENSIONS if x in dims.values()] + sorted(set(dims.values()) - set(DIMENSIONS))
    for dim in order:
        cols = [j for j, a in enumerate(p_names) if dims.get(a) == dim]
        sub = d[:, cols]
        answered = ~np.isnan(sub)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_respondent = np.where(
                answered.any(axis=1), np.nansum(sub, axis=1) / answered.sum(axis=1), np.nan
            )
        n, mean, lo, hi, pv = _t_summary(per_respondent, confidence)
        mask = ~np.isnan(sub)
        pm = _mean(np.where(mask, p[:, cols], np.nan).ravel())
        em = _mean(np.where(mask, e[:, cols], np.nan).ravel())
        dim_rows.append((dim, n, pm, em, mean, lo, hi, pv))
    adjusted_d: Any = (
        benjamini_hochberg([np.nan if r[7] is None else r[7] for r in dim_rows]) if dim_rows else []
    )
    dim_gaps = [
        Gap(dim, None, n, pm, em, g, lo, hi, _opt(q), bool(q == q and q < alpha))
        for (dim, n, pm, em, g, lo, hi, _), q in zip(dim_rows, adjusted_d, strict=True)
    ]
    return Servqual(attr_gaps, dim_gaps, confidence)


def _mean(v: FloatArray) -> float | None:
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else None


def _opt(q: float) -> float | None:
    return None if q != q else float(q)
