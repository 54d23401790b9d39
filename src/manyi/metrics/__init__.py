"""Satisfaction metrics with honest uncertainty: pure Python (NumPy and SciPy), no Django.

Every figure comes with its n, an interval and a small-n flag; every comparison with an interval
and a p-value::

    >>> from manyi import metrics
    >>> est = metrics.nps(df.ltr, weights=df.weight)          # NPS −100..100, adjusted-Wald CI
    >>> est.value, est.ci_low, est.ci_high, est.n, est.suppressed
    >>> metrics.compare_nps(this_month.ltr, last_month.ltr)   # delta, interval, p-value
    >>> metrics.by_group(metrics.csat, df.q_csat, df.store)   # {store: Estimate}, vectorised
    >>> metrics.benjamini_hochberg([c.p_value for c in comparisons])
    >>> metrics.detect_anomalies(weekly_values, weekly_ses, season=52)  # STL or SE control limits

Units: NPS in points (−100..100), percentages in 0..100, means in scale units. Missing scores
(NaN/None) are unanswered questions and left out; invalid ones raise :class:`ScoreError`. Survey
weights are accepted everywhere; intervals then use Kish's effective sample size. Figures with
``n < min_n`` (default 30) are flagged ``suppressed=True`` but still computed.

The submodules are imported on first use, so ``import manyi.metrics`` (and the ``manyi`` command
that registers ``manyi metrics``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._csi import csi as csi
    from ._errors import ScoreError as ScoreError
    from ._fdr import benjamini_hochberg as benjamini_hochberg
    from ._groups import by_group as by_group
    from ._metrics import ces as ces
    from ._metrics import ces_easy as ces_easy
    from ._metrics import compare_means as compare_means
    from ._metrics import compare_nps as compare_nps
    from ._metrics import compare_top_box as compare_top_box
    from ._metrics import csat as csat
    from ._metrics import csat_mean as csat_mean
    from ._metrics import mean_score as mean_score
    from ._metrics import nps as nps
    from ._metrics import top_box as top_box
    from ._results import Comparison as Comparison
    from ._results import Estimate as Estimate
    from ._sums import kish_effective_n as kish_effective_n
    from ._trends import TrendPoint as TrendPoint
    from ._trends import detect_anomalies as detect_anomalies

__all__ = [
    "Comparison",
    "Estimate",
    "ScoreError",
    "TrendPoint",
    "benjamini_hochberg",
    "by_group",
    "ces",
    "ces_easy",
    "compare_means",
    "compare_nps",
    "compare_top_box",
    "csat",
    "csat_mean",
    "csi",
    "detect_anomalies",
    "kish_effective_n",
    "mean_score",
    "nps",
    "top_box",
]

_WHERE = {
    "Comparison": "_results",
    "Estimate": "_results",
    "ScoreError": "_errors",
    "TrendPoint": "_trends",
    "detect_anomalies": "_trends",
    "benjamini_hochberg": "_fdr",
    "by_group": "_groups",
    "ces": "_metrics",
    "ces_easy": "_metrics",
    "compare_means": "_metrics",
    "compare_nps": "_metrics",
    "compare_top_box": "_metrics",
    "csat": "_metrics",
    "csat_mean": "_metrics",
    "csi": "_csi",
    "kish_effective_n": "_sums",
    "mean_score": "_metrics",
    "nps": "_metrics",
    "top_box": "_metrics",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    value.__module__ = __name__  # as httpx does: reprs and docs show the public path
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
