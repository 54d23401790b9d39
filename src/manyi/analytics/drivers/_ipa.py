"""Importance–performance analysis (Martilla & James 1977): four quadrants around stated cut points.

Importance is on the horizontal axis (a driver's share, or any importance), performance on the
vertical one (the attribute's mean rating). An attribute at or above a cut counts as high.

============================  ==================  ===================
quadrant                      importance          performance
============================  ==================  ===================
``concentrate_here``          high                low
``keep_up``                   high                high
``low_priority``              low                 low
``possible_overkill``         low                 high
============================  ==================  ===================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import DriverInputError

QUADRANTS = ("concentrate_here", "keep_up", "low_priority", "possible_overkill")

#: English labels, for tables; the console translates its own.
QUADRANT_LABELS = {
    "concentrate_here": "concentrate here",
    "keep_up": "keep up the good work",
    "low_priority": "low priority",
    "possible_overkill": "possible overkill",
}


@dataclass(frozen=True, slots=True)
class IpaPoint:
    attribute: str
    importance: float
    performance: float
    quadrant: str


@dataclass(frozen=True, slots=True)
class Ipa:
    """Chart-ready importance–performance grid: the points, the two cut points and how they were set."""

    points: list[IpaPoint]
    importance_cut: float
    performance_cut: float
    rule: str  # how the cut points were chosen, in words

    def to_dict(self) -> dict[str, Any]:
        return {
            "importance_cut": round(self.importance_cut, 6),
            "performance_cut": round(self.performance_cut, 6),
            "rule": self.rule,
            "points": [
                {
                    "attribute": p.attribute,
                    "importance": round(p.importance, 6),
                    "performance": round(p.performance, 6),
                    "quadrant": p.quadrant,
                }
                for p in self.points
            ],
        }

    def quadrant_of(self, attribute: str) -> str:
        return next(p.quadrant for p in self.points if p.attribute == attribute)


def quadrant(importance: float, performance: float, importance_cut: float, performance_cut: float) -> str:
    high_i = importance >= importance_cut
    high_p = performance >= performance_cut
    if high_i:
        return "keep_up" if high_p else "concentrate_here"
    return "possible_overkill" if high_p else "low_priority"


def ipa(
    importance: Any,
    performance: Any,
    names: Sequence[str],
    *,
    importance_cut: float | None = None,
    performance_cut: float | None = None,
) -> Ipa:
    """Place each attribute in a quadrant.

    Without explicit cuts, the importance cut is the mean importance (for shares: 100 / k, the share
    every attribute would have if all mattered equally) and the performance cut is the mean of the
    attributes' mean ratings (the data-centred grid of Bacon 2003).
    """
    imp = np.asarray(importance, dtype=np.float64)
    perf = np.asarray(performance, dtype=np.float64)
    if imp.shape != perf.shape or imp.ndim != 1 or imp.size != len(names):
        raise DriverInputError("importance, performance and names must have one value per attribute")
    if imp.size == 0:
        raise DriverInputError("importance–performance analysis needs at least one attribute")
    if not (np.isfinite(imp).all() and np.isfinite(perf).all()):
        raise DriverInputError("importance and performance must be finite numbers")
    rules = []
    if importance_cut is None:
        importance_cut = float(imp.mean())
        rules.append(f"importance cut = mean importance ({importance_cut:.3g})")
    else:
        rules.append(f"importance cut = {importance_cut:g} (given)")
    if performance_cut is None:
        performance_cut = float(perf.mean())
        rules.append(f"performance cut = mean of the attribute means ({performance_cut:.3g})")
    else:
        rules.append(f"performance cut = {performance_cut:g} (given)")
    points = [
        IpaPoint(str(a), float(i), float(p), quadrant(float(i), float(p), importance_cut, performance_cut))
        for a, i, p in zip(names, imp, perf, strict=True)
    ]
    return Ipa(
        points,
        float(importance_cut),
        float(performance_cut),
        "; ".join(rules) + "; at or above a cut is high",
    )
