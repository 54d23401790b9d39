"""The public estimators (NPS, CSAT, CES, means) and their two-group comparisons.

Every function takes a 1-D array-like of scores (list, NumPy array, pandas Series); missing values
(NaN, ``None``, ``pd.NA``) are unanswered questions and are left out; an invalid score raises
:class:`ScoreError`. ``weights`` are optional survey (post-stratification) weights, one per score;
the intervals then use Kish's effective sample size (see :func:`kish_effective_n`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ._compare import compare_arrays, to_comparisons
from ._intervals import check_confidence, check_min_n, estimate, to_estimates
from ._results import Comparison, Estimate
from ._spec import Spec, box_spec, mean_spec, nps_spec
from ._sums import single_sums


def _one(spec: Spec, scores: Any, weights: Any, confidence: float, min_n: int) -> Estimate:
    confidence = check_confidence(confidence)
    s = single_sums(spec, scores, weights)
    return to_estimates(spec, s, estimate(spec, s, confidence), confidence, check_min_n(min_n))[0]


def _two(spec: Spec, a: Any, b: Any, wa: Any, wb: Any, confidence: float, min_n: int) -> Comparison:
    confidence = check_confidence(confidence)
    min_n = check_min_n(min_n)
    sa, sb = single_sums(spec, a, wa), single_sums(spec, b, wb)
    ea = to_estimates(spec, sa, estimate(spec, sa, confidence), confidence, min_n)
    eb = to_estimates(spec, sb, estimate(spec, sb, confidence), confidence, min_n)
    return to_comparisons(spec, compare_arrays(spec, sa, sb, confidence), ea, eb, confidence)[0]


def top_box_spec(scale_min: float = 1, scale_max: float = 5, top_k: int = 2) -> Spec:
    return box_spec("topbox", scale_min, scale_max, top_k)


def csat_spec(scale_min: float = 1, scale_max: float = 5, top_k: int = 2) -> Spec:
    return box_spec("csat", scale_min, scale_max, top_k)


def mean_score_spec(scale_min: float | None = None, scale_max: float | None = None) -> Spec:
    return mean_spec("mean", scale_min, scale_max)


def csat_mean_spec(scale_min: float = 1, scale_max: float = 5) -> Spec:
    return mean_spec("csat_mean", scale_min, scale_max, whole=True)


def ces_spec(scale_min: float = 1, scale_max: float = 7) -> Spec:
    return mean_spec("ces", scale_min, scale_max, whole=True)


def ces_easy_spec(scale_min: float = 1, scale_max: float = 7, easy_from: float | None = None) -> Spec:
    if easy_from is None:
        easy_from = math.floor((scale_min + scale_max) / 2) + 1
    if not scale_min < easy_from <= scale_max:
        raise ValueError(f"easy_from must be above {scale_min} and at most {scale_max}, got {easy_from}")
    return box_spec("ces_easy", scale_min, scale_max, int(scale_max - easy_from) + 1)


# --- single groups -----------------------------------------------------------------------------


def nps(scores: Any, *, weights: Any = None, confidence: float = 0.95, min_n: int = 30) -> Estimate:
    """Net Promoter Score in points (−100..100) from 0–10 likelihood-to-recommend answers.

    Promoters answer 9–10, detractors 0–6; NPS = 100 · (pP − pD). ``se`` is the standard error from
    the multinomial (trinomial) variance ``Var = (pP + pD − (pP − pD)²) / n``. The interval is the
    adjusted Wald interval, which adds 3/4 of a response to the promoters and to the detractors
    (3 to n) before applying the same variance formula; Rocks found it to have the best coverage of
    the methods he compared, including at small n:

        Rocks, B. (2016). Interval Estimation for the "Net Promoter Score".
        *The American Statistician*, 70(4), 365–372. doi:10.1080/00031305.2016.1158741

    With fewer than a handful of responses the adjustment can pull the interval past the observed
    score; it is then widened to include it. With ``weights``, pP and pD are weighted shares and n is
    Kish's effective sample size.

    >>> nps([10, 9, 8, 3], min_n=1).value
    25.0
    """
    return _one(nps_spec(), scores, weights, confidence, min_n)


def top_box(
    scores: Any,
    *,
    scale_min: float = 1,
    scale_max: float = 5,
    top_k: int = 2,
    weights: Any = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> Estimate:
    """The percentage (0..100) of answers in the top ``top_k`` points of a whole-number scale.

    Top-2 box on a 1–5 scale counts 4 and 5. The interval is Wilson's score interval (Wilson 1927,
    *JASA* 22:209–212), which keeps good coverage near 0 % and 100 % and at small n, with Kish's
    effective sample size in place of n when weighted.
    """
    return _one(top_box_spec(scale_min, scale_max, top_k), scores, weights, confidence, min_n)


def csat(
    scores: Any,
    *,
    scale_min: float = 1,
    scale_max: float = 5,
    top_k: int = 2,
    weights: Any = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> Estimate:
    """CSAT as a top-box percentage, by default the top 2 of a 1–5 scale (4 "satisfied" and 5 "very
    satisfied"), with a Wilson interval. See :func:`top_box`; :func:`csat_mean` gives the mean."""
    return _one(csat_spec(scale_min, scale_max, top_k), scores, weights, confidence, min_n)


def mean_score(
    scores: Any,
    *,
    scale_min: float | None = None,
    scale_max: float | None = None,
    weights: Any = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> Estimate:
    """The (weighted) mean with a Student t interval on n − 1 degrees of freedom (n_eff − 1 when
    weighted). When the scale is given, scores outside it are errors and the interval is clipped to
    it. One response has no spread, so its interval is ``None``."""
    return _one(mean_score_spec(scale_min, scale_max), scores, weights, confidence, min_n)


def csat_mean(
    scores: Any,
    *,
    scale_min: float = 1,
    scale_max: float = 5,
    weights: Any = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> Estimate:
    """CSAT as the mean rating on a whole-number scale (default 1–5) with a t interval."""
    return _one(csat_mean_spec(scale_min, scale_max), scores, weights, confidence, min_n)


def ces(
    scores: Any,
    *,
    scale_min: float = 1,
    scale_max: float = 7,
    weights: Any = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> Estimate:
    """Customer Effort Score as the mean agreement with "… made it easy to handle my issue", by
    default on the 1–7 scale of CES 2.0 (higher is easier), with a t interval."""
    return _one(ces_spec(scale_min, scale_max), scores, weights, confidence, min_n)


def ces_easy(
    scores: Any,
    *,
    scale_min: float = 1,
    scale_max: float = 7,
    easy_from: float | None = None,
    weights: Any = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> Estimate:
    """CES as the percentage (0..100) of "easy" answers, those at or above ``easy_from`` (default:
    every point above the middle of the scale, 5–7 on 1–7 and 4–5 on 1–5), with a Wilson interval."""
    return _one(ces_easy_spec(scale_min, scale_max, easy_from), scores, weights, confidence, min_n)


# --- two groups ---------------------------------------------------------------------------------


def compare_nps(
    a: Any,
    b: Any,
    *,
    weights_a: Any = None,
    weights_b: Any = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> Comparison:
    """The NPS difference ``a − b`` in points between two independent samples (two periods, two
    units), through the multinomial variance of each side: the adjusted-Wald difference of Rocks
    (2016) with ``SE = √(Var_a + Var_b)``, a z interval and a two-sided z test."""
    return _two(nps_spec(), a, b, weights_a, weights_b, confidence, min_n)


def compare_top_box(
    a: Any,
    b: Any,
    *,
    scale_min: float = 1,
    scale_max: float = 5,
    top_k: int = 2,
    weights_a: Any = None,
    weights_b: Any = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> Comparison:
    """The top-box difference ``a − b`` in percentage points, with Newcombe's hybrid score interval
    (Newcombe 1998, *Statistics in Medicine* 17:873–890, method 10) and the pooled two-proportion
    z test."""
    return _two(top_box_spec(scale_min, scale_max, top_k), a, b, weights_a, weights_b, confidence, min_n)


def compare_means(
    a: Any,
    b: Any,
    *,
    scale_min: float | None = None,
    scale_max: float | None = None,
    weights_a: Any = None,
    weights_b: Any = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> Comparison:
    """The difference of means ``a − b`` with Welch's t interval and test (unequal variances,
    Welch–Satterthwaite degrees of freedom; Welch 1947, *Biometrika* 34:28–35)."""
    return _two(mean_score_spec(scale_min, scale_max), a, b, weights_a, weights_b, confidence, min_n)


#: Each single-group estimator and the builder of its :class:`Spec` from the same scale options.
SPECS: dict[Callable[..., Estimate], Callable[..., Spec]] = {
    nps: nps_spec,
    top_box: top_box_spec,
    csat: csat_spec,
    mean_score: mean_score_spec,
    csat_mean: csat_mean_spec,
    ces: ces_spec,
    ces_easy: ces_easy_spec,
}
