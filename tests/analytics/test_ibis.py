"""The typed query through Ibis: the same figures as the SQL path on DuckDB, and ClickHouse SQL
compiled without a server."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest
import sqlglot

from manyi.analytics import Filters, MetricQuery, run, store_engine
from manyi.analytics.ibis_query import run_ibis, to_sql
from manyi.analytics.store import read_connection
from tests.analytics.test_parity import _id, _same, queries
from tests.analytics.test_rollups import assert_same_counts
from tests.analytics.test_text_parity import text_queries

pytestmark = pytest.mark.django_db

SCOPES: list[list[str] | None] = [None, ["/1/"], []]


@pytest.mark.parametrize("query", queries(), ids=_id)
def test_query_through_ibis_gives_the_same_figures_as_the_sql_path_on_duckdb(
    demo_store: Path, query: MetricQuery
) -> None:
    with store_engine(demo_store, rollups=False) as duck:
        expected = run(query, duck, scope=None)
    with read_connection(demo_store) as con:
        got = run_ibis(query, ibis.duckdb.from_connection(con), scope=None)
    assert got.sources[0] == "ibis"
    assert_same_counts(got, expected)


def test_scope_applies_through_ibis_as_through_sql(demo_store: Path) -> None:
    with read_connection(demo_store) as con:
        path = str(
            con.execute("SELECT path FROM units WHERE kind = 'region' ORDER BY unit_id LIMIT 1").fetchall()[
                0
            ][0]
        )
    query = MetricQuery("nps", group_by=("store",), period="month")
    with store_engine(demo_store) as duck:
        expected = run(query, duck, scope=[path])
        nothing = run(MetricQuery("nps"), duck, scope=[])
    with read_connection(demo_store) as con:
        backend = ibis.duckdb.from_connection(con)
        got = run_ibis(query, backend, scope=[path])
        empty = run_ibis(MetricQuery("nps"), backend, scope=[])
    assert_same_counts(got, expected)
    assert got.rows and empty.rows[0].estimate.n == nothing.rows[0].estimate.n == 0


@pytest.mark.parametrize("scope", SCOPES, ids=["everything", "subtree", "nothing"])
@pytest.mark.parametrize("query", queries(), ids=_id)
def test_every_query_compiles_to_clickhouse_sql(query: MetricQuery, scope: list[str] | None) -> None:
    sql = to_sql(query, "clickhouse", scope)
    parsed = sqlglot.parse_one(sql, read="clickhouse")
    assert parsed is not None
    assert "COUNT(" in sql and "SUM(" in sql
    if scope:
        assert "startsWith" in sql and "'/1/'" in sql
    if query.group_by or query.period:
        assert "GROUP BY" in sql


def test_clickhouse_sql_keeps_the_filters() -> None:
    from datetime import date

    query = MetricQuery(
        "top_box",
        filters=Filters(
            date_from=date(2026, 1, 1), date_to=date(2026, 3, 31), surveys=(3,), questions=("q_speed",)
        ),
        group_by=("region",),
        period="month",
    )
    sql = to_sql(query, "clickhouse", ["/1/4/"])
    for piece in ("'2026-01-01'", "'2026-03-31'", "'q_speed'", "'region'", "toMonth", "toYear"):
        assert piece in sql, piece


@pytest.mark.parametrize("query", text_queries(), ids=_id)
def test_text_query_through_ibis_gives_the_same_figures_as_the_sql_path(
    demo_store: Path, query: MetricQuery
) -> None:
    with store_engine(demo_store) as duck:
        expected = run(query, duck, scope=["/"])
    with read_connection(demo_store) as con:
        got = run_ibis(query, ibis.duckdb.from_connection(con), scope=["/"])
    assert len(got) == len(expected) > 0
    assert [r.group for r in got.rows] == [r.group for r in expected.rows]
    for a, b in zip(got.rows, expected.rows, strict=True):
        assert a.estimate.n == b.estimate.n
        assert _same(a.estimate.value, b.estimate.value) and _same(a.estimate.ci_low, b.estimate.ci_low)


@pytest.mark.parametrize("query", text_queries(), ids=_id)
def test_text_queries_compile_to_clickhouse_sql(query: MetricQuery) -> None:
    sql = to_sql(query, "clickhouse", ["/1/"])
    assert sqlglot.parse_one(sql, read="clickhouse") is not None
    assert ("aspect_facts" if query.metric == "negative_share" else "text_facts") in sql
