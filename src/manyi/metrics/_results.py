"""The two result types: an :class:`Estimate` of one group and a :class:`Comparison` of two."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Estimate:
    """One figure with its sample size and its uncertainty.

    Units: NPS in points (−100..100); CSAT, top-box, % easy and CSI in percent (0..100); means in
    the units of the scale. ``value``, ``ci_low``, ``ci_high`` and ``se`` are ``None`` when there is
    nothing to estimate (``n == 0``; for a mean also ``n == 1``, which has no spread), never NaN.

    ``n`` counts the responses with a score (and a positive weight); ``n_eff`` is Kish's effective
    sample size of their weights, ``(Σw)² / Σw²``, which equals ``n`` without weights and is the
    sample size the interval uses. ``suppressed`` is true when ``n`` is below the ``min_n`` the
    figure was computed with: the figure is still there, flagged as too thin to act on.
    """

    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    n: int
    n_eff: float
    confidence: float
    method: str
    suppressed: bool

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.metric}: no value (n={self.n})"
        ci = "" if self.ci_low is None else f" [{self.ci_low:.1f}, {self.ci_high:.1f}]"
        flag = ", suppressed" if self.suppressed else ""
        return f"{self.metric} {self.value:.1f}{ci} (n={self.n}{flag})"


@dataclass(frozen=True, slots=True)
class Comparison:
    """The difference ``a − b`` between two independent groups (two periods or two units).

    ``delta`` is in the units of the metric (NPS points, percentage points, scale units), with an
    interval at ``confidence`` and a two-sided ``p_value`` for "no difference". ``significant`` is
    ``p_value < 1 − confidence``; when many comparisons are made at once, adjust the p-values with
    :func:`benjamini_hochberg` first. ``suppressed`` is true when either side is suppressed.
    Everything is ``None`` when a side has nothing to compare.
    """

    metric: str
    a: Estimate
    b: Estimate
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    p_value: float | None
    confidence: float
    method: str

    @property
    def suppressed(self) -> bool:
        return self.a.suppressed or self.b.suppressed

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 1 - self.confidence

    def __str__(self) -> str:
        if self.delta is None:
            return f"{self.metric} difference: not available (n={self.a.n} vs {self.b.n})"
        ci = "" if self.ci_low is None else f" [{self.ci_low:+.1f}, {self.ci_high:+.1f}]"
        return f"{self.metric} difference {self.delta:+.1f}{ci}, p={self.p_value:.3g}"
