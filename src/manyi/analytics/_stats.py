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

from manyi.metrics import Comparison, Estimate
from manyi.metrics._compare import compare_arrays, to_comparisons
from manyi.metrics._intervals import estimate, to_estimates
from manyi.metrics._metrics import ces_spec, csat_spec, mean_score_spec, nps_spec, top_box_spec
from manyi.metrics._spec import Spec
from manyi.metrics._sums import Sums

from .query import MetricQuery


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
    return mean_score_spec(query.scale_min, query.scale_max)


def sums_from_counts(rows: Sequence[tuple[int, float, float]]) -> Sums:
    """Unweighted ``Sums`` from ``(n, Σy, Σy²)`` per group; the centred ``Σ(y − ȳ)²`` is
    ``Σy² − (Σy)²/n``, exact for the integer sums of every headline metric."""
    n = np.array([r[0] for r in rows], dtype=np.int64)
    s1 = np.array([r[1] for r in rows], dtype=np.float64)
    s2 = np.array([r[2] for r in rows], dtype=np.float64)
    w = n.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ssd = np.where(n > 0, np.maximum(s2 - s1 * s1 / np.where(n > 0, w, 1.0), 0.0), 0.0)
    return Sums(n, w, w.copy(), s1, ssd)


def estimates(spec: Spec, s: Sums, confidence: float, min_n: int) -> list[Estimate]:
    return to_estimates(spec, s, estimate(spec, s, confidence), confidence, min_n)


def compare(spec: Spec, a: Sums, b: Sums, confidence: float, min_n: int) -> list[Comparison]:
    """``a − b`` per group, with the comparison ``manyi.metrics`` makes for the metric."""
    ea = estimates(spec, a, confidence, min_n)
    eb = estimates(spec, b, confidence, min_n)
    return to_comparisons(spec, compare_arrays(spec, a, b, confidence), ea, eb, confidence)
