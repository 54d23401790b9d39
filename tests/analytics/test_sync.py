"""Sync appends only what is new; the task and the CLI reach the store in the data dir.

These tests build their own small organisation through the actions (no demo company)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from manyi.analytics import MetricQuery, run, store, store_engine
from manyi.analytics.tasks import sync_store
from manyi.cli import app
from manyi.feedback.models import FeedbackRecord
from manyi.responses.actions import check_submit_response
from manyi.responses.models import Answer, Response
from manyi.surveys.models import SurveyLink
from tests.conftest import csi_answers

pytestmark = pytest.mark.django_db


def submit(link: SurveyLink, nps: int) -> None:
    check_submit_response(
        link=link, submission_id=uuid.uuid4(), data=csi_answers(nps=nps), language="zh-hans"
    )


def operational_counts() -> dict[str, int]:
    return {
        "responses": Response.objects.count(),
        "answers": Answer.objects.filter(number__isnull=False).count(),
        "feedback": FeedbackRecord.objects.count(),
    }


def test_sync_creates_a_missing_store_and_then_appends_only_new_responses(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    for score in (10, 9, 3):
        submit(org.link_a, score)
    first = store.sync(path)
    assert first.rows["responses"] == 3
    assert first.rows["answers"] == Answer.objects.filter(number__isnull=False).count() > 0

    submit(org.link_b, 0)
    second = store.sync(path)
    assert second.rows["responses"] == 1
    assert second.rows["answers"] == first.rows["answers"] // 3
    assert store.sync(path).rows == dict.fromkeys(store.FACTS, 0)
    with store_engine(path) as duck:
        est = run(MetricQuery("nps"), duck, scope=None).rows[0].estimate
    assert (est.n, est.value) == (4, 0.0)  # 2 promoters, 2 detractors


def test_sync_picks_up_a_row_that_committed_late_below_the_watermark(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "late.duckdb"
    submit(org.link_a, 10)
    submit(org.link_a, 9)
    store.sync(path)
    late = Response.objects.order_by("id").first()
    assert late is not None
    # A row the first sync could not see: drop it from the store, as if it had committed later.
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM responses WHERE response_id = ?", [late.pk])
    con.close()
    assert store.sync(path).rows["responses"] == 1
    assert store.counts(path)["responses"] == 2


def test_sync_task_appends_new_rows_and_is_idempotent(org: Any, tmp_path: Path, settings: Any) -> None:
    settings.DATA_DIR = tmp_path
    submit(org.link_a, 10)
    first = sync_store.call()
    assert first["rows"]["responses"] == 1
    assert sync_store.call()["rows"]["responses"] == 0
    assert first["path"] == str(tmp_path / "analytics.duckdb")


def test_cli_rebuild_prints_counts_and_seconds_as_json(org: Any, tmp_path: Path, settings: Any) -> None:
    settings.DATA_DIR = tmp_path
    submit(org.link_a, 7)
    result = CliRunner().invoke(app, ["analytics", "rebuild", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["rows"] == operational_counts()
    assert data["seconds"] >= 0 and data["units"] == 7
    assert "analytics: responses: 1 rows copied" in result.stderr
