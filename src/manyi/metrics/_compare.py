"""Differences between two independent groups, vectorised over many pairs of groups.

- NPS: the adjusted-Wald difference of Rocks (2016): each side's adjusted NPS and variance as in
  :func:`~._intervals.nps_arrays`, ``SE = √(Var_a + Var_b)``, a z interval around the adjusted
  difference and a two-sided z test of that same statistic, so ``p < 1 − confidence`` exactly when
  the interval (before the small-n widening to include the observed difference) excludes 0.
- Proportions: Newcombe's (1998) hybrid score interval for the difference (his method 10, built from
  the two Wilson intervals) and the pooled two-proportion z test.
- Means: Welch's t, with the Welch–Satterthwaite degrees of freedom, for interval and test.

With survey weights each side uses its Kish effective sample size in place of n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ._intervals import adjusted_nps, mean_sd, nps_parts, opt, wilson_bounds, z_quantile
from ._results import Comparison, Estimate
from ._spec import FloatArray, Spec
from ._sums import Sums


@dataclass(frozen=True, slots=True)
class DiffArrays:
    delta: FloatArray
    lo: FloatArray
    hi: FloatArray
    se: FloatArray
    p: FloatArray
    method: str


def compare_arrays(spec: Spec, a: Sums, b: Sums, confidence: float) -> DiffArrays:
    """``a − b`` for each pair of groups; NaN where either side is empty (or, for means, n < 2)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if spec.kind == "nps":
            out = _nps_diff(a, b, confidence)
        elif spec.kind == "proportion":
            out = _prop_diff(a, b, confidence)
        else:
            out = _welch(a, b, confidence)
    need = 2 if spec.kind == "mean" else 1
    missing = (a.n < need) | (b.n < need) | ~(a.sw > 0) | ~(b.sw > 0)

    def mask(v: FloatArray) -> FloatArray:
        return np.where(missing, np.nan, v)

    return DiffArrays(mask(out.delta), mask(out.lo), mask(out.hi), mask(out.se), mask(out.p), out.method)


def _two_sided_normal(stat: FloatArray) -> FloatArray:
    return 2 * special.ndtr(-np.abs(stat))


def _nps_diff(a: Sums, b: Sums, confidence: float) -> DiffArrays:
    z = z_quantile(confidence)
    ma, pa_pro, pa_det = nps_parts(a)
    mb, pb_pro, pb_det = nps_parts(b)
    delta = ma - mb
    se = np.sqrt(
        np.maximum(pa_pro + pa_det - ma * ma, 0.0) / a.n_eff
        + np.maximum(pb_pro + pb_det - mb * mb, 0.0) / b.n_eff
    )
    adj_a, var_a = adjusted_nps(a)
    adj_b, var_b = adjusted_nps(b)
    adj_delta = adj_a - adj_b
    adj_se = np.sqrt(var_a + var_b)
    lo = np.minimum(np.clip(adj_delta - z * adj_se, -2.0, 2.0), delta)
    hi = np.maximum(np.clip(adj_delta + z * adj_se, -2.0, 2.0), delta)
    p = _two_sided_normal(adj_delta / adj_se)
    return DiffArrays(100 * delta, 100 * lo, 100 * hi, 100 * se, p, "adjusted-wald")


def _prop_diff(a: Sums, b: Sums, confidence: float) -> DiffArrays:
    z = z_quantile(confidence)
    pa, pb = a.mean, b.mean
    na, nb = a.n_eff, b.n_eff
    la, ua = wilson_bounds(pa, na, z)
    lb, ub = wilson_bounds(pb, nb, z)
    delta = pa - pb
    lo = delta - np.sqrt((pa - la) ** 2 + (ub - pb) ** 2)
    hi = delta + np.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
    se = np.sqrt(np.maximum(pa * (1 - pa), 0.0) / na + np.maximum(pb * (1 - pb), 0.0) / nb)
    pooled = (pa * na + pb * nb) / (na + nb)
    se0 = np.sqrt(np.maximum(pooled * (1 - pooled), 0.0) * (1 / na + 1 / nb))
    p = np.where(
        se0 > 0, _two_sided_normal(delta / np.where(se0 > 0, se0, 1.0)), np.where(delta == 0, 1.0, 0.0)
    )
    return DiffArrays(100 * delta, 100 * lo, 100 * hi, 100 * se, p, "newcombe")


def _welch(a: Sums, b: Sums, confidence: float) -> DiffArrays:
    ma, sa = mean_sd(a)
    mb, sb = mean_sd(b)
    va = sa * sa / a.n_eff
    vb = sb * sb / b.n_eff
    delta = ma - mb
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va * va / (a.n_eff - 1) + vb * vb / (b.n_eff - 1))
    degenerate = ~(se > 0)
    safe_df = np.where(degenerate, 1.0, df)
    t = np.where(degenerate, 0.0, delta / np.where(degenerate, 1.0, se))
    p = np.where(degenerate, np.where(delta == 0, 1.0, 0.0), 2 * special.stdtr(safe_df, -np.abs(t)))
    half = np.where(degenerate, 0.0, special.stdtrit(safe_df, (1 + confidence) / 2) * se)
    return DiffArrays(delta, delta - half, delta + half, se, p, "welch")


def to_comparisons(
    spec: Spec, d: DiffArrays, a: list[Estimate], b: list[Estimate], confidence: float
) -> list[Comparison]:
    return [
        Comparison(
            metric=spec.metric,
            a=a[i],
            b=b[i],
            delta=opt(d.delta[i]),
            ci_low=opt(d.lo[i]),
            ci_high=opt(d.hi[i]),
            se=opt(d.se[i]),
            p_value=opt(d.p[i]),
            confidence=confidence,
            method=d.method,
        )
        for i in range(len(a))
    ]
