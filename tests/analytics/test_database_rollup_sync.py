"""PostgreSQL's rollups are kept by the store's sync, incrementally, and read fresh to the last row.

These tests build their own small organisation (no demo company); skipped on SQLite.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from manyi.analytics import DatabaseEngine, MetricQuery, dbrollups, run, store
from manyi.responses.actions import check_submit_response
from manyi.surveys.models import SurveyLink
from tests.analytics.test_rollups import assert_same_counts
from tests.conftest import csi_answers

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the operational database keeps rollups on PostgreSQL"
    ),
]


def submit(link: SurveyLink, nps: int) -> None:
    check_submit_response(
        link=link, submission_id=uuid.uuid4(), data=csi_answers(nps=nps), language="zh-hans"
    )


def table_rows(table: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY 2, 3, 4, 5")
        return [row[1:] for row in cursor.fetchall()]  # without the surrogate id


def test_rows_committed_after_the_last_sync_are_counted_from_the_facts_at_once(
    org: Any, tmp_path: Path
) -> None:
    path = tmp_path / "fresh.duckdb"
    submit(org.link_a, 10)
    submit(org.link_b, 3)
    assert store.sync(path).database_rollup_keys is not None
    submit(org.link_a, 0)  # not synced yet: above the rollups' mark
    query = MetricQuery("nps", group_by=("unit",))
    result = run(query, DatabaseEngine(rollups=True), scope=None)
    assert result.sources == ("rollup_month",)
    assert_same_counts(result, run(query, DatabaseEngine(rollups=False), scope=None))
    assert sum(r.estimate.n for r in result.rows) == 3


def test_a_sync_recomputes_only_the_touched_keys_and_matches_a_rebuild(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "incremental.duckdb"
    submit(org.link_a, 10)
    submit(org.link_c, 2)
    first = store.sync(path)
    assert first.database_rollup_keys == 2  # built whole: store a and store c, today
    submit(org.link_a, 9)
    submit(org.link_a, 6)
    assert store.sync(path).database_rollup_keys == 1  # only store a, today
    assert store.sync(path).database_rollup_keys == 0
    incremental = (table_rows(dbrollups.TABLES.day), table_rows(dbrollups.TABLES.month))
    store.rebuild(path)
    assert (table_rows(dbrollups.TABLES.day), table_rows(dbrollups.TABLES.month)) == incremental
    est = run(MetricQuery("nps"), DatabaseEngine(rollups=True), scope=None).rows[0].estimate
    assert (est.n, est.value) == (4, 0.0)


def test_without_database_rollups_the_engine_reads_the_facts(org: Any, tmp_path: Path) -> None:
    submit(org.link_a, 10)
    with override_settings(MANYI_ANALYTICS_DATABASE_ROLLUPS=False):
        assert store.sync(tmp_path / "off.duckdb").database_rollup_keys is None
        engine = DatabaseEngine()
        assert engine.rollups is False
        assert run(MetricQuery("nps"), engine, scope=None).sources == ("facts",)
