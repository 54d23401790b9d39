"""The SQL each engine receives, snapshotted: a change to the generated SQL shows up in review.

Regenerate after an intended change with ``MANYI_UPDATE_SNAPSHOTS=1 uv run pytest tests/analytics``.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from manyi.analytics import Filters, MetricQuery, dbrollups
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


#: The last 90 days of a year against the 90 before, per unit, from the rollups: the whole months
#: from the month rollup, the days around them (and the month the split falls in) from the day
#: rollup, plus on PostgreSQL the facts above the rollups' mark.
RAGGED_COMPARISON = MetricQuery(
    "nps",
    filters=Filters(date_from=date(2026, 10, 3), date_to=date(2026, 12, 31)),
    group_by=("unit",),
    compare_previous=True,
)
ROLLED_DIALECTS: dict[str, Dialect] = {
    "duckdb": DUCKDB,
    "postgresql": operational_dialect("postgresql", _iso, rollups=dbrollups.TABLES.rollups),
}


@pytest.mark.parametrize("edges", ["day", "facts"])
@pytest.mark.parametrize("engine", sorted(ROLLED_DIALECTS))
def test_a_comparison_from_whole_months_and_the_days_around_them_matches_its_snapshot(
    engine: str, edges: str
) -> None:
    query = RAGGED_COMPARISON
    assert query.filters.date_from is not None
    both = Filters(date_from=query.filters.previous().date_from, date_to=query.filters.date_to)
    compiled = compile_query(
        query,
        both,
        ROLLED_DIALECTS[engine],
        None,
        "month",
        split_at=query.filters.date_from,
        edges="day" if edges == "day" else None,
    )
    sql = compiled.sql.replace(" UNION ALL ", "\nUNION ALL\n").replace(" WHERE f.", "\nWHERE f.")
    got = f"{sql}\n-- params: {compiled.params!r}\n-- labels: {list(compiled.labels)!r}\n"
    path = SNAPSHOTS / f"nps_by_unit_ragged_comparison_{edges}.{engine}.sql"
    if os.environ.get("MANYI_UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")
    assert compiled.repeated
    assert compiled.edges == ("rollup_day" if edges == "day" else "facts")
