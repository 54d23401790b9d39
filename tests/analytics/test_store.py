"""The DuckDB store rebuilt from the demo company: complete, and the same however often it is rebuilt."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from manyi.analytics import MetricQuery, run, store, store_engine
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


def test_rebuild_copies_every_fact_row_with_integer_keys(demo_store: Path) -> None:
    counts = store.counts(demo_store)
    assert {k: counts[k] for k in store.FACTS} == operational_counts()
    assert counts["units"] > 0 and counts["questions"] > 0
    assert store.watermarks(demo_store)["responses"] == max(Response.objects.values_list("id", flat=True))


def test_rebuilding_twice_gives_the_same_store(demo_store: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.duckdb"
    first = store.rebuild(again)
    second = store.rebuild(again)
    assert first.rows == second.rows == operational_counts()
    assert store.counts(again) == store.counts(demo_store)
    query = MetricQuery("nps", group_by=("region",), period="month")
    with store_engine(demo_store) as a:
        before = run(query, a, scope=None).rows
    with store_engine(again) as b:
        assert run(query, b, scope=None).rows == before


def test_sync_after_rebuild_copies_nothing(demo_store: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    store.rebuild(path)
    assert store.sync(path).rows == dict.fromkeys(store.FACTS, 0)
    assert store.counts(path) == store.counts(demo_store)


def test_reading_a_store_that_was_never_built_says_how_to_build_it(tmp_path: Path) -> None:
    with (
        pytest.raises(FileNotFoundError, match="manyi analytics rebuild"),
        store_engine(tmp_path / "none.duckdb"),
    ):
        pass
