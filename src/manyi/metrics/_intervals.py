"""Point estimates and intervals for many groups at once, from their sufficient statistics.

All functions take :class:`~._sums.Sums` arrays and return arrays in the reported units, with NaN
where a group has nothing to estimate; :func:`to_estimates` turns NaN into ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ._results import Estimate
from ._spec import FloatArray, Spec
from ._sums import Sums

#: Pseudo-observations of the adjusted-Wald NPS interval (Rocks 2016): 3/4 each to promoters and
#: detractors, 3/2 to passives, 3 in all.
NPS_ADD_EACH = 0.75
NPS_ADD_TOTAL = 3.0


@dataclass(frozen=True, slots=True)
class Arrays:
    value: FloatArray
    lo: FloatArray
    hi: FloatArray
    se: FloatArray
    method: str


def check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}")
    return float(confidence)


def z_quantile(confidence: float) -> float:
    return float(special.ndtri((1 + confidence) / 2))


def estimate(spec: Spec, s: Sums, confidence: float) -> Arrays:
    if spec.kind == "nps":
        return nps_arrays(s, confidence)
    if spec.kind == "proportion":
        return wilson_arrays(s, confidence)
    return mean_arrays(s, confidence, spec.scale_min, spec.scale_max)


def nps_parts(s: Sums) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per group: the NPS as a fraction (pP − pD), pP and pD."""
    m = s.mean
    q = s.var + m * m  # pP + pD, the mean of y² for y in {−1, 0, 1}
    return m, (q + m) / 2, (q - m) / 2


def _nps_core(s: Sums) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per group, each computed once: the NPS fraction ``m = pP − pD``, the multinomial variance
    ``pP + pD − m²`` (the variance of y), ``n_eff``, and the adjusted NPS and its variance.

    With ``q = pP + pD`` (the mean of y²), the adjusted shares are ``(pP·n + ¾)/(n + 3)`` and
    ``(pD·n + ¾)/(n + 3)``, so their difference is ``m·n/(n + 3)`` and their sum
    ``(q·n + 3/2)/(n + 3)``: no share needs to be formed separately.
    """
    ne = s.n_eff
    with np.errstate(divide="ignore", invalid="ignore"):
        m = s.swy / s.sw
        var = np.maximum(s.ssd / s.sw, 0.0)
        m2 = m * m
        total = ne + NPS_ADD_TOTAL
        a_nps = m * ne
        a_nps /= total
        a_var = (var + m2) * ne
        a_var += 2 * NPS_ADD_EACH
        a_var /= total
        a_var -= a_nps * a_nps
        a_var /= total
    return m, var, ne, a_nps, a_var


def adjusted_nps(s: Sums) -> tuple[FloatArray, FloatArray]:
    """Per group: the adjusted NPS fraction and its variance (Rocks 2016's adjusted Wald)."""
    _, _, _, a_nps, a_var = _nps_core(s)
    return a_nps, a_var


def nps_arrays(s: Sums, confidence: float) -> Arrays:
    """NPS in points with the adjusted-Wald interval.

    ``se`` is the plain standard error from the multinomial variance,
    ``√((pP + pD − (pP − pD)²) / n_eff)``. The interval is the adjusted Wald of Rocks (2016):
    3/4 of an observation is added to the promoters and to the detractors (3/2 to the passives, so
    ``n + 3``), the adjusted NPS ± z·√(adjusted variance / (n + 3)), clipped to ±100. With very
    few responses the adjustment can pull the interval past the observed NPS (n = 1 promoter gives
    a 95 % interval up to 98.5); it is then widened to include it, so the interval always contains
    the point estimate.

    Computed for every group at once, each intermediate array once and in place where it can be
    (100,000 groups cost a few milliseconds).
    """
    z = z_quantile(confidence)
    m, var, ne, a_nps, a_var = _nps_core(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        var /= ne
        se = np.sqrt(var, out=var)
        half = np.sqrt(np.maximum(a_var, 0.0, out=a_var), out=a_var)
        half *= z
        lo = np.subtract(a_nps, half)
        np.clip(lo, -1.0, 1.0, out=lo)
        np.minimum(lo, m, out=lo)
        hi = np.add(a_nps, half, out=a_nps)
        np.clip(hi, -1.0, 1.0, out=hi)
        np.maximum(hi, m, out=hi)
    return _masked(s, 100 * m, 100 * lo, 100 * hi, 100 * se, "adjusted-wald")


def wilson_bounds(p: FloatArray, ne: FloatArray, z: float) -> tuple[FloatArray, FloatArray]:
    """Wilson (1927) score interval of a proportion, with ``n_eff`` in place of n."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = z * z
        denom = 1 + z2 / ne
        centre = (p + z2 / (2 * ne)) / denom
        half = z / denom * np.sqrt(np.maximum(p * (1 - p) / ne + z2 / (4 * ne * ne), 0.0))
        lo = np.minimum(np.clip(centre - half, 0.0, 1.0), p)
        hi = np.maximum(np.clip(centre + half, 0.0, 1.0), p)
    return lo, hi


def wilson_arrays(s: Sums, confidence: float) -> Arrays:
    z = z_quantile(confidence)
    p = s.mean
    lo, hi = wilson_bounds(p, s.n_eff, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(np.maximum(p * (1 - p), 0.0) / s.n_eff)
    return _masked(s, 100 * p, 100 * lo, 100 * hi, 100 * se, "wilson")


def mean_sd(s: Sums) -> tuple[FloatArray, FloatArray]:
    """Per group: the weighted mean and the standard deviation with ``n_eff − 1`` degrees of freedom."""
    ne = s.n_eff
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(ne > 1, s.var * ne / (ne - 1), np.nan)
    return s.mean, np.sqrt(var)


def mean_arrays(
    s: Sums, confidence: float, scale_min: float | None = None, scale_max: float | None = None
) -> Arrays:
    """The mean with a Student t interval on ``n_eff − 1`` degrees of freedom, clipped to the scale."""
    m, sd = mean_sd(s)
    ne = s.n_eff
    with np.errstate(divide="ignore", invalid="ignore"):
        se = sd / np.sqrt(ne)
        t = special.stdtrit(np.where(ne > 1, ne - 1, np.nan), (1 + confidence) / 2)
        lo = m - t * se
        hi = m + t * se
    if scale_min is not None:
        lo = np.maximum(lo, scale_min)
    if scale_max is not None:
        hi = np.minimum(hi, scale_max)
    out = _masked(s, m, lo, hi, se, "t")
    nan = s.n < 2
    return Arrays(
        out.value,
        np.where(nan, np.nan, out.lo),
        np.where(nan, np.nan, out.hi),
        np.where(nan, np.nan, out.se),
        "t",
    )


def _masked(
    s: Sums, value: FloatArray, lo: FloatArray, hi: FloatArray, se: FloatArray, method: str
) -> Arrays:
    """The arrays with NaN for the groups that have nothing to estimate (modified in place: the
    callers pass arrays of their own)."""
    empty = (s.n == 0) | ~(s.sw > 0)
    if empty.any():
        for a in (value, lo, hi, se):
            a[empty] = np.nan
    return Arrays(value, lo, hi, se, method)


def opt(v: float) -> float | None:
    """A Python float, or ``None`` for NaN: results never carry NaN."""
    return None if np.isnan(v) else float(v)


def to_estimates(spec: Spec, s: Sums, a: Arrays, confidence: float, min_n: int) -> list[Estimate]:
    ne = s.n_eff
    return [
        Estimate(
            metric=spec.metric,
            value=opt(a.value[i]),
            ci_low=opt(a.lo[i]),
            ci_high=opt(a.hi[i]),
            se=opt(a.se[i]),
            n=int(s.n[i]),
            n_eff=float(ne[i]),
            confidence=confidence,
            method=a.method,
            suppressed=bool(s.n[i] < min_n),
        )
        for i in range(s.n.shape[0])
    ]


def check_min_n(min_n: int) -> int:
    if min_n < 0:
        raise ValueError(f"min_n must be 0 or more, got {min_n}")
    return int(min_n)
