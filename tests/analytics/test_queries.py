"""The runner: scope applied to every query, empty groups, and queries that make no sense refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from manyi.analytics import DatabaseEngine, Filters, MetricQuery, run, store_engine
from manyi.analytics.sql import DUCKDB, compile_query
from manyi.org.models import OrgUnit
from manyi.org.scoping import scope_paths
from manyi.responses.models import Response

pytestmark = pytest.mark.django_db


def test_store_manager_sees_only_their_store_in_every_grouping(demo_store: Path) -> None:
    manager = get_user_model().objects.get(username="demo-store")
    scope = scope_paths(manager)
    assert scope and len(scope) == 1
    (store_unit,) = OrgUnit.objects.filter(path=scope[0])
    own = Response.objects.filter(unit__path__startswith=scope[0], nps__isnull=False).count()
    with store_engine(demo_store) as duck:
        for engine in (duck, DatabaseEngine()):
            by_unit = run(MetricQuery("nps", group_by=("unit",)), engine, scope=scope).rows
            assert [r.group["unit"] for r in by_unit] == [store_unit.pk]
            overall = run(MetricQuery("nps"), engine, scope=scope).rows[0].estimate
            assert overall.n == own > 0
            by_region = run(MetricQuery("nps", group_by=("region",)), engine, scope=scope).rows
            assert sum(r.estimate.n for r in by_region) == own


def test_filtering_units_outside_the_scope_gives_nothing(demo_store: Path) -> None:
    manager = get_user_model().objects.get(username="demo-store")
    scope = scope_paths(manager)
    other = OrgUnit.objects.filter(kind="store").exclude(path__in=scope).order_by("id").first()
    assert other is not None
    query = MetricQuery("nps", filters=Filters(units=(other.path,)))
    with store_engine(demo_store) as duck:
        assert run(query, duck, scope=scope).rows[0].estimate.n == 0
    assert run(query, DatabaseEngine(), scope=None).rows[0].estimate.n > 0


def test_empty_scope_sees_nothing_and_no_scope_sees_everything(demo_store: Path) -> None:
    with store_engine(demo_store) as duck:
        assert run(MetricQuery("csat"), duck, scope=[]).rows[0].estimate.n == 0
        assert run(MetricQuery("csat", group_by=("unit",)), duck, scope=[]).rows == []
        assert run(MetricQuery("csat"), duck, scope=None).rows[0].estimate.n > 0


def test_scope_is_in_the_sql_of_every_compiled_query() -> None:
    query = MetricQuery("nps", group_by=("region",), period="month")
    compiled = compile_query(query, query.filters, DUCKDB, ["/1/4/"])
    assert "u.path LIKE ?" in compiled.sql and "/1/4/%" in compiled.params


@pytest.mark.parametrize("metric", ["nps", "csat", "ces", "top_box", "mean"])
def test_empty_group_gives_n_zero_and_no_value_rather_than_nan(demo_store: Path, metric: str) -> None:
    future = Filters(date_from=date(2030, 1, 1), date_to=date(2030, 1, 31))
    query = MetricQuery(metric, filters=future, compare_previous=True)  # type: ignore[arg-type]
    with store_engine(demo_store) as duck:
        for engine in (duck, DatabaseEngine()):
            (row,) = run(query, engine, scope=None).rows
            assert row.estimate.n == 0
            assert row.estimate.value is None and row.estimate.ci_low is None and row.estimate.se is None
            assert (
                row.comparison is not None and row.comparison.delta is None and row.comparison.p_value is None
            )


def test_a_group_present_in_only_one_period_is_compared_with_an_empty_one(demo_store: Path) -> None:
    first = Response.objects.order_by("submitted_at").values_list("submitted_at", flat=True).first()
    assert first is not None
    day = first.date()
    query = MetricQuery(
        "nps", filters=Filters(date_from=day, date_to=day), group_by=("unit",), compare_previous=True
    )
    with store_engine(demo_store) as duck:
        rows = run(query, duck, scope=None).rows
    assert rows and all(
        r.previous is not None and r.previous.n == 0 and r.previous.value is None for r in rows
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "nps", "compare_previous": True}, "date_from and date_to"),
        ({"metric": "nps", "group_by": ("question",)}, "not a question.s score"),
        ({"metric": "nps", "group_by": ("region", "city")}, "at most one level"),
        ({"metric": "rating"}, "metric must be one of"),
        ({"metric": "nps", "filters": Filters(units=("1/4",))}, "unit paths look like"),
    ],
)
def test_a_query_that_makes_no_sense_is_refused_with_the_reason(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MetricQuery(**kwargs)
