"""The bridge from SQL counts to :mod:`manyi.metrics` estimates and comparisons.

``manyi.metrics`` computes every estimate from per-group sufficient statistics (its ``Sums``); its
public functions build them from raw scores. The store already has them as counts from SQL, so this
module builds ``Sums`` directly and calls the same estimators, which keeps one implementation of the
statistics. It is the only module that reaches into ``metrics``' private modules; a public
``metrics.from_sums`` would let it stop doing so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from manyi.metrics import Comparison, Estimate
from manyi.metrics._compare import DiffArrays, compare_arrays, to_comparisons
from manyi.metrics._intervals import Arrays, estimate, to_estimates
from manyi.metrics._metrics import ces_spec, csat_spec, mean_score_spec, nps_spec, top_box_spec
from manyi.metrics._spec import Spec, box_spec, mean_spec
from manyi.metrics._sums import Sums

from .query import MetricQuery

__all__ = [
    "Arrays",
    "DiffArrays",
    "Spec",
    "Sums",
    "compare",
    "compare_arrays",
    "comparisons",
    "estimate_arrays",
    "estimates",
    "spec_for",
    "sums",
    "sums_from_counts",
]


def spec_for(query: MetricQuery) -> Spec:
    """What the metric is, as ``manyi.metrics`` defines it."""
    if query.metric == "nps":
        return nps_spec()
    if query.metric == "csat":
        return csat_spec(1, 5, 2)
    if query.metric == "ces":
        return ces_spec(1, 7)
    if query.metric == "top_box":
        return top_box_spec(query.scale_min, query.scale_max, query.top_k)
    if query.metric == "negative_share":
        return box_spec("negative_share", 0, 1, 1)
    if query.metric == "sentiment_mean":
        return mean_spec("sentiment_mean", -1, 1)
    return mean_score_spec(query.scale_min, query.scale_max)


def sums(n: npt.NDArray[np.int64], s1: npt.NDArray[np.float64], s2: npt.NDArray[np.float64]) -> Sums:
    """Unweighted ``Sums`` from ``n``, ``Σy`` and ``Σy²`` per group; the centred ``Σ(y − ȳ)²`` is
    ``Σy² − (Σy)²/n``, exact for the integer sums of every headline metric."""
    w = n.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ssd = np.where(n > 0, np.maximum(s2 - s1 * s1 / np.where(n > 0, w, 1.0), 0.0), 0.0)
    return Sums(n, w, w, s1, ssd)  # Σw² is Σw: one array, which ``n_eff`` recognises


def sums_from_counts(rows: Sequence[tuple[int, float, float]]) -> Sums:
    """:func:`sums` from ``(n, Σy, Σy²)`` tuples."""
    return sums(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.float64),
        np.array([r[2] for r in rows], dtype=np.float64),
    )


def estimate_arrays(spec: Spec, s: Sums, confidence: float) -> Arrays:
    """Value, interval and standard error of every group at once (NaN where there is none)."""
    return estimate(spec, s, confidence)


def estimates(
    spec: Spec, s: Sums, confidence: float, min_n: int, arrays: Arrays | None = None
) -> list[Estimate]:
    """One :class:`Estimate` per group (``None``, never NaN, where there is nothing to estimate)."""
    return to_estimates(spec, s, arrays or estimate(spec, s, confidence), confidence, min_n)


def comparisons(
    spec: Spec, d: DiffArrays, a: list[Estimate], b: list[Estimate], confidence: float
) -> list[Comparison]:
    return to_comparisons(spec, d, a, b, confidence)


def compare(spec: Spec, a: Sums, b: Sums, confidence: float, min_n: int) -> list[Comparison]:
    """``a − b`` per group, with the comparison ``manyi.metrics`` makes for the metric."""
    ea = estimates(spec, a, confidence, min_n)
    eb = estimates(spec, b, confidence, min_n)
    return to_comparisons(spec, compare_arrays(spec, a, b, confidence), ea, eb, confidence)
