"""A response changed or deleted after it was copied leaves the store and the rollups at the next sync,
without a rebuild, when its writer records it (``record_changed_responses``).

Each test compares the store (facts and rollups) after incremental syncs with a store rebuilt from
scratch, and, on PostgreSQL, the operational database's rollups likewise.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.db import connection

from manyi.analytics import MetricQuery, dbrollups, run, store, store_engine
from manyi.analytics.actions import record_changed_responses
from manyi.analytics.models import FactChange
from manyi.responses.actions import check_submit_response
from manyi.responses.models import Answer, Response
from manyi.surveys.models import SurveyLink
from tests.conftest import csi_answers

pytestmark = pytest.mark.django_db


def submit(link: SurveyLink, nps: int) -> None:
    check_submit_response(
        link=link, submission_id=uuid.uuid4(), data=csi_answers(nps=nps), language="zh-hans"
    )


def contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every fact and rollup row of the store, question ids replaced by codes."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        code = "(SELECT code FROM questions q WHERE q.question_id = t.question_id)"
        return {
            "responses": con.execute("SELECT * FROM responses ORDER BY ALL").fetchall(),
            "feedback": con.execute("SELECT * FROM feedback ORDER BY ALL").fetchall(),
            "answers": con.execute(
                f"SELECT answer_id, response_id, unit_id, day, {code}, number FROM answers t ORDER BY ALL"
            ).fetchall(),
            **{
                table: con.execute(
                    f"SELECT * EXCLUDE (question_id), coalesce({code}, CAST(question_id AS VARCHAR)) AS q"
                    f" FROM {table} t ORDER BY ALL"
                ).fetchall()
                for table in ("rollup_day", "rollup_month", "rollup_total")
            },
        }
    finally:
        con.close()


def database_rollups() -> list[list[tuple[Any, ...]]]:
    if not dbrollups.enabled(connection):
        return []
    out = []
    with connection.cursor() as cursor:
        for table in (dbrollups.TABLES.day, dbrollups.TABLES.month):
            cursor.execute(f"SELECT * FROM {table}")
            out.append(sorted(row[1:] for row in cursor.fetchall()))  # without the surrogate id
    return out


def assert_same_as_a_rebuild(path: Path, tmp_path: Path) -> None:
    incremental, incremental_db = contents(path), database_rollups()
    fresh = tmp_path / "rebuilt.duckdb"
    store.rebuild(fresh)
    assert contents(fresh) == incremental
    assert database_rollups() == incremental_db


def test_a_changed_headline_score_replaces_the_stores_copy_at_the_next_sync(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "changed.duckdb"
    submit(org.link_a, 10)
    submit(org.link_b, 9)
    store.sync(path)
    first = Response.objects.order_by("id").first()
    assert first is not None
    Response.objects.filter(pk=first.pk).update(nps=0)
    assert record_changed_responses([first.pk]) == 1
    report = store.sync(path)
    assert report.changed == 1
    with store_engine(path, rollups=True) as rolled:
        estimate = run(MetricQuery("nps"), rolled, scope=None).rows[0].estimate
    assert (estimate.n, estimate.value) == (2, 0.0)  # one promoter, one detractor
    assert_same_as_a_rebuild(path, tmp_path)
    assert store.sync(path).changed == 0  # applied once


def test_answers_replaced_by_a_reimport_are_not_counted_twice(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "reimport.duckdb"
    submit(org.link_a, 8)
    store.sync(path)
    response = Response.objects.get()
    numeric = list(Answer.objects.filter(response=response, number__isnull=False).order_by("id"))
    # As the importer updates a response: its answers deleted and written again (new ids).
    Answer.objects.filter(response=response).delete()
    Answer.objects.bulk_create(
        [Answer(response=response, question_code=a.question_code, number=2.0) for a in numeric]
    )
    record_changed_responses([response.pk])
    assert store.sync(path).changed == 1
    with store_engine(path) as engine:
        copied = engine.con.execute("SELECT count(*), min(number), max(number) FROM answers").fetchall()[0]
    assert copied == (len(numeric), 2.0, 2.0)
    assert_same_as_a_rebuild(path, tmp_path)


def test_a_deleted_response_leaves_the_store_and_the_rollups(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "deleted.duckdb"
    submit(org.link_a, 10)
    submit(org.link_c, 3)
    store.sync(path)
    gone = Response.objects.get(unit=org.store_c)
    record_changed_responses([gone.pk])
    gone.delete()
    assert store.sync(path).changed == 1
    with store_engine(path, rollups=True) as rolled:
        result = run(MetricQuery("nps", group_by=("unit",)), rolled, scope=None)
    assert [(r.group["unit"], r.estimate.n) for r in result.rows] == [(org.store_a.pk, 1)]
    assert_same_as_a_rebuild(path, tmp_path)


def test_a_new_store_takes_the_database_as_it_is_and_skips_older_change_records(
    org: Any, tmp_path: Path
) -> None:
    submit(org.link_a, 10)
    record_changed_responses(Response.objects.values_list("id", flat=True))
    report = store.sync(tmp_path / "new.duckdb")
    assert report.changed == 0 and report.rows["responses"] == 1
    assert FactChange.objects.count() == 1  # kept: only applied entries are pruned
