"""PostgreSQL keeps rollups of its own, built by the store's rebuild and sync, and the runner reads them
there as it reads the store's: every query gives the figures of the raw facts, fresh to the last row.

Run with MANYI_DATABASE_URL=postgres://…; on SQLite (which keeps no rollups) the tests are skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from manyi.analytics import DatabaseEngine, MetricQuery, run, store_engine
from tests.analytics.test_parity import _id
from tests.analytics.test_rollups import assert_same_counts, rollup_queries

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the operational database keeps rollups on PostgreSQL"
    ),
]


@pytest.mark.parametrize("query", rollup_queries(), ids=_id)
def test_query_gives_the_same_figures_from_postgresql_rollups_as_from_its_facts_and_the_store(
    demo_store: Path, query: MetricQuery
) -> None:
    rolled = DatabaseEngine(rollups=True)
    assert rolled.rollups, "the store's rebuild builds PostgreSQL's rollups too"
    from_rollups = run(query, rolled, scope=None)
    from_facts = run(query, DatabaseEngine(rollups=False), scope=None)
    if not query.on_answers:
        assert all(s.startswith("rollup_") for s in from_rollups.sources), from_rollups.sources
    assert from_facts.sources[0] == "facts"
    assert_same_counts(from_rollups, from_facts)
    with store_engine(demo_store, rollups=True) as duck:
        on_store = run(query, duck, scope=None)
    assert [r.estimate for r in on_store.rows] == [r.estimate for r in from_rollups.rows]
    assert [r.comparison for r in on_store.rows] == [r.comparison for r in from_rollups.rows]


def test_scoped_queries_on_postgresql_rollups_stay_inside_the_readers_subtree(demo_store: Path) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT path FROM org_orgunit WHERE kind = 'region' ORDER BY id LIMIT 1")
        scope = [cursor.fetchone()[0]]
    for query in (MetricQuery("nps", group_by=("store",), period="month"), MetricQuery("csat")):
        assert_same_counts(
            run(query, DatabaseEngine(rollups=True), scope=scope),
            run(query, DatabaseEngine(rollups=False), scope=scope),
        )
