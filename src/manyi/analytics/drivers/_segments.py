"""Drivers per segment (travel purpose, customer tier, region…), and which differences are real.

Each segment gets its own analysis with its own bootstrap. Two segments are compared on

- each attribute's **share** of importance: the difference of the two bootstrap distributions (the
  segments are independent samples) gives a percentile interval and the bootstrap standard error of
  the difference, and the p-value is the two-sided normal test of difference / standard error (a
  continuous p-value, not one floored at 1 / resamples);
- each attribute's **performance** (mean rating) and the **outcome** mean: Welch's t-test.

All p-values of one analysis are Benjamini–Hochberg adjusted together, and a difference is called
significant when its adjusted p-value is below 1 − confidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._core import DriverResult, as_matrix, key_drivers, min_rows, numeric_column
from ._errors import DriverInputError

#: More segments than this is a listing, not a comparison.
MAX_SEGMENTS = 30


@dataclass(frozen=True, slots=True)
class SegmentDifference:
    measure: str  # "share", "performance" or "outcome"
    attribute: str | None  # None for the outcome
    segment_a: str
    segment_b: str
    value_a: float
    value_b: float
    difference: float  # a − b
    ci_low: float | None
    ci_high: float | None
    p_value: float  # BH-adjusted
    significant: bool

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None or not math.isfinite(v) else round(float(v), 6)

        return {
            "measure": self.measure,
            "attribute": self.attribute,
            "segment_a": self.segment_a,
            "segment_b": self.segment_b,
            "value_a": r(self.value_a),
            "value_b": r(self.value_b),
            "difference": r(self.difference),
            "ci_low": r(self.ci_low),
            "ci_high": r(self.ci_high),
            "p_value": r(self.p_value),
            "significant": self.significant,
        }


@dataclass(frozen=True, slots=True)
class SegmentAnalysis:
    column: str
    groups: dict[str, DriverResult]  # segment value → its analysis, in order of size
    skipped: dict[str, str]  # segment value → why it has no analysis
    differences: list[SegmentDifference]  # significant ones first

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for label, result in self.groups.items():
            d = result.to_dict()
            d.pop("ipa", None)
            out[label] = d
        for label, why in self.skipped.items():
            out[label] = {"skipped": why}
        return out


def segment_labels(values: Any) -> list[str | None]:
    to_numpy = getattr(values, "to_numpy", None)
    raw = to_numpy() if to_numpy is not None else np.asarray(values, dtype=object)
    out: list[str | None] = []
    for v in raw.tolist():
        if v is None or (isinstance(v, float) and v != v) or type(v).__name__ in {"NAType", "NaTType"}:
            out.append(None)
            continue
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        s = str(v).strip()
        out.append(s or None)
    return out


def segment_drivers(
    attributes: Any,
    outcome: Any,
    segments: Any,
    *,
    names: Sequence[str] | None = None,
    segment_name: str = "segment",
    outcome_name: str = "outcome",
    outcome_type: str = "rating",
    method: str = "relative-weights",
    na_values: Sequence[float] = (),
    n_boot: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> SegmentAnalysis:
    """One driver analysis per segment value, and the tested differences between segments."""
    from scipy import stats

    from manyi.metrics import benjamini_hochberg

    x, names = as_matrix(attributes, names)
    y = numeric_column(outcome, outcome_name)
    labels = segment_labels(segments)
    if len(labels) != x.shape[0]:
        raise DriverInputError(
            f"the segment column has {len(labels)} values but the data has {x.shape[0]} rows"
        )
    counts: dict[str, int] = {}
    for s in labels:
        if s is not None:
            counts[s] = counts.get(s, 0) + 1
    if not counts:
        raise DriverInputError(f"segment column `{segment_name}` is empty", column=segment_name)
    if len(counts) > MAX_SEGMENTS:
        raise DriverInputError(
            f"segment column `{segment_name}` has {len(counts)} different values; at most {MAX_SEGMENTS} "
            "segments can be compared (group them first)",
            column=segment_name,
        )
    if na_values:
        x = np.where(np.isin(x, [float(v) for v in na_values]), np.nan, x)
    lab = np.array([s if s is not None else "" for s in labels], dtype=object)
    groups: dict[str, DriverResult] = {}
    skipped: dict[str, str] = {}
    need = min_rows(len(names))
    for label in sorted(counts, key=lambda s: (-counts[s], s)):
        rows = lab == label
        try:
            groups[label] = key_drivers(
                x[rows],
                y[rows],
                names=names,
                outcome_name=outcome_name,
                outcome_type=outcome_type,
                method=method,
                n_boot=n_boot,
                confidence=confidence,
                seed=seed,
            )
        except DriverInputError as exc:
            skipped[label] = str(exc) if counts[label] >= need else f"{counts[label]} rows, fewer than {need}"

    alpha = 1 - confidence
    q = [alpha / 2, 1 - alpha / 2]
    raw: list[tuple[str, str | None, str, str, float, float, float | None, float | None, float]] = []
    analysed = list(groups)
    for i, a in enumerate(analysed):
        for b in analysed[i + 1 :]:
            ra, rb = groups[a], groups[b]
            sa, sb = ra.shares(), rb.shares()
            for j, name in enumerate(names):
                lo = hi = None
                p = math.nan
                if ra.boot_shares is not None and rb.boot_shares is not None:
                    m = min(ra.boot_shares.shape[0], rb.boot_shares.shape[0])
                    if m:
                        d = ra.boot_shares[:m, j] - rb.boot_shares[:m, j]
                        lo, hi = (float(v) for v in np.quantile(d, q))
                        se = float(d.std(ddof=1)) if m > 1 else 0.0
                        diff = sa[name] - sb[name]
                        p = 1.0 if diff == 0 else 0.0  # no spread: only an exact tie is no difference
                        if se > 0:
                            p = float(stats.norm.sf(abs(diff) / se) * 2)
                raw.append(("share", name, a, b, sa[name], sb[name], lo, hi, p))
            rows_a, rows_b = lab == a, lab == b
            for j, name in enumerate(names):
                xa, xb = x[rows_a, j], x[rows_b, j]
                raw.append(
                    ("performance", name, a, b, *_welch(xa[~np.isnan(xa)], xb[~np.isnan(xb)], q, stats))
                )
            ya, yb = y[rows_a], y[rows_b]
            raw.append(("outcome", None, a, b, *_welch(ya[~np.isnan(ya)], yb[~np.isnan(yb)], q, stats)))
    adjusted = benjamini_hochberg([r[8] for r in raw]) if raw else np.empty(0)
    diffs = [
        SegmentDifference(
            measure,
            attr,
            a,
            b,
            va,
            vb,
            va - vb,
            lo,
            hi,
            float(pa) if pa == pa else math.nan,
            bool(pa == pa and pa < alpha),
        )
        for (measure, attr, a, b, va, vb, lo, hi, _), pa in zip(raw, adjusted, strict=True)
    ]
    diffs.sort(key=lambda d: (not d.significant, d.p_value if d.p_value == d.p_value else 2.0))
    return SegmentAnalysis(segment_name, groups, skipped, diffs)


def _welch(
    a: Any, b: Any, q: list[float], stats: Any
) -> tuple[float, float, float | None, float | None, float]:
    ma = float(a.mean()) if a.size else math.nan
    mb = float(b.mean()) if b.size else math.nan
    if a.size < 2 or b.size < 2:
        return ma, mb, None, None, math.nan
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return ma, mb, ma - mb, ma - mb, (1.0 if ma == mb else 0.0)
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    t = (ma - mb) / se
    crit = float(stats.t.ppf(q[1], dof))
    p = float(2 * stats.t.sf(abs(t), dof))
    return ma, mb, ma - mb - crit * se, ma - mb + crit * se, p
