"""Every query type gives the same n and the same figures on the DuckDB store and on the operational
database (SQLite here; PostgreSQL when the suite runs with MANYI_DATABASE_URL=postgres://…)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest
from django.db.models import Count

from manyi import metrics
from manyi.analytics import DatabaseEngine, Filters, MetricQuery, run, store_engine
from manyi.analytics.query import Dimension, Metric, Period
from manyi.org.models import OrgUnit
from manyi.responses.models import Response
from manyi.surveys.models import Survey

pytestmark = pytest.mark.django_db

LAST_QUARTER = Filters(date_from=date(2026, 8, 1), date_to=date(2026, 10, 31))


def queries() -> list[MetricQuery]:
    out: list[MetricQuery] = []
    metrics_: list[Metric] = ["nps", "csat", "ces"]
    groupings: list[tuple[Dimension, ...]] = [
        (),
        ("unit",),
        ("region",),
        ("city",),
        ("company",),
        ("survey",),
    ]
    periods: list[Period | None] = [None, "month", "quarter"]
    for metric in metrics_:
        for group_by in groupings:
            for period in periods:
                out.append(MetricQuery(metric, group_by=group_by, period=period))
        out.append(MetricQuery(metric, filters=LAST_QUARTER, group_by=("store",), compare_previous=True))
    out += [
        MetricQuery(
            "nps", period="day", filters=Filters(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))
        ),
        MetricQuery("nps", period="year"),
        MetricQuery("top_box", group_by=("question", "region")),
        MetricQuery("top_box", group_by=("question",), period="month", scale_max=7, top_k=3),
        MetricQuery("mean", group_by=("question", "survey"), scale_min=0, scale_max=10),
        MetricQuery(
            "top_box", filters=Filters(questions=("csat",)), group_by=("region",), compare_previous=False
        ),
        MetricQuery("mean", filters=LAST_QUARTER, group_by=("question",), compare_previous=True, scale_max=7),
    ]
    return out


def _id(q: MetricQuery) -> str:
    return "-".join([q.metric, *q.group_by, q.period or "all", "cmp" if q.compare_previous else ""]).strip(
        "-"
    )


def _same(a: float | None, b: float | None) -> bool:
    return a == b or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12))


@pytest.mark.parametrize("query", queries(), ids=_id)
def test_query_gives_identical_n_and_figures_on_store_and_operational_database(
    demo_store: Path, query: MetricQuery
) -> None:
    with store_engine(demo_store) as duck:
        on_store = run(query, duck, scope=None)
    on_db = run(query, DatabaseEngine(), scope=None)
    assert [(r.group, r.period) for r in on_store.rows] == [(r.group, r.period) for r in on_db.rows]
    assert on_store.rows, "the demo data must give every query something to compare"
    for s, d in zip(on_store.rows, on_db.rows, strict=True):
        assert s.estimate.n == d.estimate.n
        for field in ("value", "ci_low", "ci_high", "se"):
            assert _same(getattr(s.estimate, field), getattr(d.estimate, field)), (s, d)
        if query.compare_previous:
            assert s.comparison is not None and d.comparison is not None
            assert s.comparison.b.n == d.comparison.b.n
            for field in ("delta", "ci_low", "ci_high", "p_value"):
                assert _same(getattr(s.comparison, field), getattr(d.comparison, field)), (s, d)


def test_unfiltered_queries_cover_every_response_with_a_score(demo_store: Path) -> None:
    with store_engine(demo_store) as duck:
        result = run(MetricQuery("nps"), duck, scope=None)
    assert result.rows[0].estimate.n == Response.objects.filter(nps__isnull=False).count() > 0


def test_overall_nps_equals_what_manyi_metrics_computes_from_the_scores(demo_store: Path) -> None:
    scores = list(Response.objects.filter(nps__isnull=False).values_list("nps", flat=True))
    expected = metrics.nps(scores)
    with store_engine(demo_store) as duck:
        got = run(MetricQuery("nps"), duck, scope=None).rows[0].estimate
    assert got.n == expected.n
    for field in ("value", "ci_low", "ci_high", "se"):
        assert _same(getattr(got, field), getattr(expected, field))


def test_region_figure_is_pooled_from_its_stores_responses_not_averaged_from_their_figures(
    demo_store: Path,
) -> None:
    region = OrgUnit.objects.filter(kind="region").order_by("id").first()
    assert region is not None
    scores = list(
        Response.objects.filter(unit__path__startswith=region.path, nps__isnull=False).values_list(
            "nps", flat=True
        )
    )
    with store_engine(demo_store) as duck:
        by_region = {
            r.group["region"]: r.estimate
            for r in run(MetricQuery("nps", group_by=("region",)), duck, scope=None).rows
        }
        stores = run(
            MetricQuery("nps", filters=Filters(units=(region.path,)), group_by=("unit",)), duck, scope=None
        ).rows
    pooled = metrics.nps(scores)
    assert by_region[region.pk].n == pooled.n == sum(r.estimate.n for r in stores)
    assert _same(by_region[region.pk].value, pooled.value)
    mean_of_stores = sum(r.estimate.value or 0 for r in stores) / len(stores)
    assert not _same(by_region[region.pk].value, mean_of_stores)


def test_survey_filter_keeps_only_that_surveys_responses(demo_store: Path) -> None:
    survey = Survey.objects.annotate(k=Count("responses")).filter(k__gt=0).order_by("id").first()
    assert survey is not None
    n = Response.objects.filter(survey=survey, nps__isnull=False).count()
    query = MetricQuery("nps", filters=Filters(surveys=(survey.pk,)))
    with store_engine(demo_store) as duck:
        assert run(query, duck, scope=None).rows[0].estimate.n == n
    assert run(query, DatabaseEngine(), scope=None).rows[0].estimate.n == n
