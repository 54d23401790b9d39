"""Typed analytics queries: what is asked, independent of the engine that answers it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal, get_args

Metric = Literal["nps", "csat", "ces", "top_box", "mean", "negative_share", "sentiment_mean"]
#: Grouping dimensions. ``unit`` is the unit a response belongs to; ``company``/``region``/``city``/
#: ``store`` are its ancestor (or itself) of that kind, so each is a roll-up pooled from the leaves.
Dimension = Literal["unit", "company", "region", "city", "store", "survey", "question", "aspect"]
Period = Literal["day", "month", "quarter", "year"]

#: Where each metric's scores live: the headline columns of a response, or numeric answers.
HEADLINE: dict[str, str] = {"nps": "nps", "csat": "csat", "ces": "ces"}
#: Metrics of the text models' readings: the share of aspect mentions that are negative (percent,
#: per aspect when grouped by ``aspect``), and the mean sentiment score of the texts (−1..1).
TEXT_METRICS = ("negative_share", "sentiment_mean")
KIND_DIMENSIONS = ("company", "region", "city", "store")


@dataclass(frozen=True, slots=True)
class Filters:
    """Which rows count. Dates are inclusive UTC calendar days; ``units`` are subtree paths."""

    date_from: date | None = None
    date_to: date | None = None
    units: tuple[str, ...] = ()
    surveys: tuple[int, ...] = ()
    questions: tuple[str, ...] = ()

    def previous(self) -> Filters:
        """The same filters over the equally long range that ends the day before ``date_from``."""
        if self.date_from is None or self.date_to is None:
            raise ValueError("compare_previous needs both date_from and date_to")
        days = (self.date_to - self.date_from).days + 1
        return replace(
            self, date_from=self.date_from - timedelta(days=days), date_to=self.date_from - timedelta(days=1)
        )


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One metric, filtered, grouped and bucketed by ``period``, optionally against the previous range.

    ``nps``, ``csat`` (top-2 box of 1–5) and ``ces`` (mean of 1–7) read the response's headline
    scores; ``top_box`` and ``mean`` read numeric answers (restrict with ``filters.questions`` or
    group by ``question``), on the scale given by ``scale_min``/``scale_max``/``top_k``.
    ``negative_share`` reads the aspects found in enriched texts (group by ``aspect``) and
    ``sentiment_mean`` the sentiment score of every enriched text.
    """

    metric: Metric
    filters: Filters = field(default_factory=Filters)
    group_by: tuple[Dimension, ...] = ()
    period: Period | None = None
    compare_previous: bool = False
    scale_min: int = 1
    scale_max: int = 5
    top_k: int = 2
    confidence: float = 0.95
    min_n: int = 30

    def __post_init__(self) -> None:
        if self.metric not in get_args(Metric):
            raise ValueError(f"metric must be one of {', '.join(get_args(Metric))}, got {self.metric!r}")
        for dim in self.group_by:
            if dim not in get_args(Dimension):
                raise ValueError(f"group_by must use {', '.join(get_args(Dimension))}, got {dim!r}")
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("group_by names a dimension twice")
        if sum(d in KIND_DIMENSIONS for d in self.group_by) > 1:
            raise ValueError("group_by takes at most one level of the org tree")
        if self.period is not None and self.period not in get_args(Period):
            raise ValueError(f"period must be one of {', '.join(get_args(Period))}, got {self.period!r}")
        if "question" in self.group_by and not self.on_answers:
            raise ValueError(
                f"{self.metric} is not a question's score; group by question with top_box or mean"
            )
        if "aspect" in self.group_by and self.metric != "negative_share":
            raise ValueError("group by aspect with negative_share")
        if self.metric in TEXT_METRICS:
            if "survey" in self.group_by:
                raise ValueError(
                    f"{self.metric} counts texts, some without a survey; filter by survey instead"
                )
            if self.filters.questions:
                raise ValueError(f"{self.metric} counts texts; filter questions with top_box or mean")
        if self.compare_previous:
            if self.period is not None:
                raise ValueError("compare_previous compares whole date ranges; leave period empty")
            self.filters.previous()  # raises without a date range
        for path in self.filters.units:
            if not (path.startswith("/") and path.endswith("/")):
                raise ValueError(f"unit paths look like /1/4/, got {path!r}")

    @property
    def on_answers(self) -> bool:
        return self.metric in ("top_box", "mean")

    @property
    def on_text(self) -> bool:
        return self.metric in TEXT_METRICS
