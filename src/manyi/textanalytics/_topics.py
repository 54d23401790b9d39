"""Emerging topics: terms and aspects whose share of comments rises against a baseline window.

Each term is tested with a one-sided two-proportion z-test (pooled variance) on the share of
comments that mention it, and the p-values are adjusted with Benjamini–Hochberg across all terms
tested, so a list of 5,000 candidate terms does not produce dozens of false alarms.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from manyi.metrics import benjamini_hochberg


@dataclass(frozen=True, slots=True)
class EmergingTopic:
    """A term whose share of comments rose significantly; shares are 0..1, ``q`` is BH-adjusted."""

    term: str
    current_count: int
    current_n: int
    baseline_count: int
    baseline_n: int
    current_share: float
    baseline_share: float
    lift: float
    z: float
    p_value: float
    q_value: float


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def emerging_topics(
    current: Iterable[Iterable[str]],
    baseline: Iterable[Iterable[str]],
    *,
    alpha: float = 0.05,
    min_count: int = 5,
    min_lift: float = 1.5,
) -> list[EmergingTopic]:
    """Terms (or aspect keys) mentioned by a significantly larger share of ``current`` comments.

    Both arguments hold one collection of terms per comment. A term is tested only when at least
    ``min_count`` current comments mention it; it is reported when its BH-adjusted p-value is at
    most ``alpha`` and its share grew by at least ``min_lift`` times (with +1 smoothing of the
    baseline count so new terms get a finite lift). Sorted by q-value, then by lift.
    """
    cur_docs = [set(d) for d in current]
    base_docs = [set(d) for d in baseline]
    n1, n0 = len(cur_docs), len(base_docs)
    if n1 == 0 or n0 == 0:
        return []
    c1 = Counter(t for d in cur_docs for t in d)
    c0 = Counter(t for d in base_docs for t in d)
    rows = []
    for term, x1 in c1.items():
        if x1 < min_count:
            continue
        x0 = c0.get(term, 0)
        p1, p0 = x1 / n1, x0 / n0
        pooled = (x1 + x0) / (n1 + n0)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        z = (p1 - p0) / se if se > 0 else 0.0
        lift = p1 / ((x0 + 1) / (n0 + 1))
        rows.append((term, x1, x0, p1, p0, z, _norm_sf(z), lift))
    if not rows:
        return []
    q = benjamini_hochberg([r[6] for r in rows])
    out = [
        EmergingTopic(
            term, x1, n1, x0, n0, round(p1, 4), round(p0, 4), round(lift, 3), round(z, 3), p, float(qv)
        )
        for (term, x1, x0, p1, p0, z, p, lift), qv in zip(rows, q, strict=True)
        if qv <= alpha and lift >= min_lift
    ]
    return sorted(out, key=lambda t: (t.q_value, -t.lift))
