"""The SQL each engine receives, snapshotted: a change to the generated SQL shows up in review.

Regenerate after an intended change with ``MANYI_UPDATE_SNAPSHOTS=1 uv run pytest tests/analytics``.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from manyi.analytics import Filters, MetricQuery
from manyi.analytics.sql import DUCKDB, Dialect, compile_query, operational_dialect

SNAPSHOTS = Path(__file__).parent / "snapshots"
SCOPE = ["/1/4/", "/1/9/"]


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


DIALECTS: dict[str, Dialect] = {
    "duckdb": DUCKDB,
    "sqlite": operational_dialect("sqlite", _iso),
    "postgresql": operational_dialect("postgresql", _iso),
}
QUERIES = {
    "nps_by_region_by_month": MetricQuery(
        "nps",
        filters=Filters(date_from=date(2026, 1, 1), date_to=date(2026, 6, 30)),
        group_by=("region",),
        period="month",
    ),
    "top_box_by_question_in_a_subtree": MetricQuery(
        "top_box", filters=Filters(units=("/1/4/",), questions=("csat", "q_speed")), group_by=("question",)
    ),
    "ces_by_unit_for_one_survey": MetricQuery(
        "ces", filters=Filters(surveys=(3,)), group_by=("unit",), period="quarter"
    ),
}


def render(dialect: Dialect, query: MetricQuery) -> str:
    compiled = compile_query(query, query.filters, dialect, SCOPE)
    sql = (
        compiled.sql.replace(") SELECT ", ")\nSELECT ")
        .replace(" WHERE f.", "\nWHERE f.")
        .replace(" GROUP BY ", "\nGROUP BY ")
    )
    return f"{sql}\n-- params: {compiled.params!r}\n-- labels: {list(compiled.labels)!r}\n"


@pytest.mark.parametrize("engine", sorted(DIALECTS))
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_compiled_sql_matches_its_snapshot(engine: str, name: str) -> None:
    got = render(DIALECTS[engine], QUERIES[name])
    path = SNAPSHOTS / f"{name}.{engine}.sql"
    if os.environ.get("MANYI_UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")
