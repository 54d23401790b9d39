"""A sync keeps the rollups up to date by recomputing only the (unit, day) keys it touched.

These tests build their own small organisation through the actions (no demo company)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest

from manyi.analytics import Filters, MetricQuery, run, store, store_engine
from manyi.responses.actions import check_submit_response
from manyi.responses.models import Response
from manyi.surveys.models import SurveyLink
from tests.analytics.test_rollups import assert_same_counts
from tests.conftest import csi_answers

pytestmark = pytest.mark.django_db


def submit(link: SurveyLink, nps: int) -> None:
    check_submit_response(
        link=link, submission_id=uuid.uuid4(), data=csi_answers(nps=nps), language="zh-hans"
    )


def rollup_total(path: Path, metric_id: int) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        counts = " + ".join(f"c{v}" for v in range(11))
        total = con.execute(
            f"SELECT sum({counts}) FROM rollup_day WHERE question_id = ?", [metric_id]
        ).fetchall()
        return int(total[0][0] or 0)
    finally:
        con.close()


def total_rows(path: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT * FROM rollup_total ORDER BY month, question_id").fetchall()
    finally:
        con.close()


def rebuilt_total_rows(path: Path, tmp_path: Path) -> list[tuple[Any, ...]]:
    fresh = tmp_path / "rebuilt.duckdb"
    store.rebuild(fresh)
    return total_rows(fresh)


def test_sync_recomputes_only_the_unit_days_it_touched(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "rollups.duckdb"
    submit(org.link_a, 10)
    submit(org.link_c, 2)
    first = store.sync(path)
    assert first.rollup_keys == 2  # store a and store c, today
    submit(org.link_a, 9)
    submit(org.link_a, 0)
    second = store.sync(path)
    assert second.rollup_keys == 1  # only store a, today
    assert store.sync(path).rollup_keys == 0
    assert rollup_total(path, -1) == 4
    assert total_rows(path) == rebuilt_total_rows(path, tmp_path)
    with store_engine(path, rollups=True) as rolled, store_engine(path, rollups=False) as raw:
        query = MetricQuery("nps", group_by=("unit",))
        assert_same_counts(run(query, rolled, scope=None), run(query, raw, scope=None))
        est = run(MetricQuery("nps"), rolled, scope=None).rows[0].estimate
    assert (est.n, est.value) == (4, 0.0)


def test_a_late_row_below_the_watermark_is_counted_once_in_the_rollups(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "late.duckdb"
    submit(org.link_a, 10)
    submit(org.link_b, 9)
    store.sync(path)
    late = Response.objects.order_by("id").first()
    assert late is not None
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM answers WHERE response_id = ?", [late.pk])
    con.execute("DELETE FROM responses WHERE response_id = ?", [late.pk])
    con.close()
    assert store.sync(path).rollup_keys == 1
    assert rollup_total(path, -1) == 2
    assert store.sync(path).rollup_keys == 0
    assert rollup_total(path, -1) == 2


def test_a_fractional_score_sends_the_query_to_the_facts_and_keeps_it_exact(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "odd.duckdb"
    submit(org.link_a, 8)
    store.sync(path)
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO answers SELECT 10**9, response_id, survey_id, unit_id, day, question_id, 3.5"
        " FROM answers WHERE question_id = (SELECT question_id FROM questions WHERE code = 'csat') LIMIT 1"
    )
    con.execute("BEGIN TRANSACTION")
    store.refresh_rollups(con, full=True)
    con.execute("COMMIT")
    con.close()
    query = MetricQuery("mean", filters=Filters(questions=("csat",)))
    with store_engine(path, rollups=True) as rolled:
        result = run(query, rolled, scope=None)
    assert result.sources == ("facts",)
    assert result.rows[0].estimate.n == 2
    assert result.rows[0].estimate.value == pytest.approx((4 + 3.5) / 2)


def test_a_store_written_before_rollups_existed_gets_them_on_the_next_sync(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    submit(org.link_a, 10)
    submit(org.link_b, 3)
    store.sync(path)
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE rollup_day")
    con.execute("DROP TABLE rollup_month")
    con.execute("DROP TABLE rollup_total")
    con.execute("DELETE FROM sync_state WHERE fact = 'rollups'")
    con.close()
    with store_engine(path) as old:
        assert old.rollups is False
        assert run(MetricQuery("nps"), old, scope=None).sources == ("facts",)
    report = store.sync(path)
    assert report.rows["responses"] == 0 and report.rollup_keys == 2
    with store_engine(path, rollups=True) as new:
        result = run(MetricQuery("nps"), new, scope=None)
    assert result.sources == ("rollup_total",)
    assert result.rows[0].estimate.n == 2
