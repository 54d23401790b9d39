"""Rollups on the demo company: every query they answer gives exactly the figures of the raw facts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from manyi.analytics import Filters, MetricQuery, run, store_engine
from manyi.analytics.engines import DuckDBEngine
from manyi.analytics.runner import QueryResult
from manyi.analytics.sql import DUCKDB, month_spans, rollup_for
from tests.analytics.test_parity import _id, queries

pytestmark = pytest.mark.django_db

OCTOBER = Filters(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))
MID_OCTOBER = Filters(date_from=date(2026, 10, 5), date_to=date(2026, 10, 19))
#: Whole April to June with days of March and July around them (three quarters of the range in
#: whole months, as the month rollup needs); the range before it has whole December to February,
#: and a comparison's split falls inside March.
RAGGED = Filters(date_from=date(2026, 3, 10), date_to=date(2026, 7, 6))


def rollup_queries() -> list[MetricQuery]:
    return [
        *queries(),
        MetricQuery("nps", filters=OCTOBER, group_by=("region",)),
        MetricQuery("nps", filters=MID_OCTOBER, group_by=("unit",), period="day"),
        MetricQuery("csat", filters=OCTOBER, group_by=("city",), compare_previous=True),
        MetricQuery("ces", filters=MID_OCTOBER, group_by=("survey",), compare_previous=True),
        MetricQuery("top_box", filters=OCTOBER, group_by=("question", "store"), scale_min=0, scale_max=10),
        MetricQuery("mean", filters=MID_OCTOBER, group_by=("question",), scale_max=5),
        MetricQuery("nps", filters=RAGGED),
        MetricQuery("nps", filters=RAGGED, group_by=("unit",), compare_previous=True),
        MetricQuery("csat", filters=RAGGED, group_by=("region",), period="month"),
        MetricQuery("ces", filters=RAGGED, group_by=("company",), compare_previous=True),
        MetricQuery("top_box", filters=RAGGED, group_by=("question", "unit"), compare_previous=True),
        MetricQuery("mean", filters=RAGGED, group_by=("question",), scale_max=5),
        MetricQuery("nps", filters=Filters(date_to=date(2026, 10, 15)), group_by=("city",), period="quarter"),
    ]


def assert_same_counts(a: QueryResult, b: QueryResult) -> None:
    assert a.labels == b.labels
    for ka, kb in zip(a.keys, b.keys, strict=True):
        assert ka.tolist() == kb.tolist()
    for side_a, side_b in ((a.sums, b.sums), (a.previous_sums, b.previous_sums)):
        if side_a is None or side_b is None:
            assert side_a is side_b
            continue
        np.testing.assert_array_equal(side_a.n, side_b.n)
        np.testing.assert_array_equal(side_a.swy, side_b.swy)
        np.testing.assert_array_equal(side_a.ssd, side_b.ssd)
    assert [r.estimate for r in a.rows] == [r.estimate for r in b.rows]
    assert [r.comparison for r in a.rows] == [r.comparison for r in b.rows]


@pytest.mark.parametrize("query", rollup_queries(), ids=_id)
def test_query_gives_exactly_the_same_figures_from_the_rollups_as_from_the_facts(
    demo_store: Path, query: MetricQuery
) -> None:
    with store_engine(demo_store, rollups=True) as rolled, store_engine(demo_store, rollups=False) as raw:
        from_rollups = run(query, rolled, scope=None)
        from_facts = run(query, raw, scope=None)
    if not query.on_answers:  # answers may hold scores the rollups cannot place; headline scores never
        assert all(s.startswith("rollup_") for s in from_rollups.sources), from_rollups.sources
    assert from_facts.sources[0] == "facts"
    assert_same_counts(from_rollups, from_facts)


def test_whole_months_read_the_month_rollup_and_other_ranges_the_day_rollup() -> None:
    assert rollup_for(MetricQuery("nps"), Filters(), DUCKDB) == "month"
    assert rollup_for(MetricQuery("nps", filters=OCTOBER), OCTOBER, DUCKDB) == "month"
    assert rollup_for(MetricQuery("nps", filters=MID_OCTOBER), MID_OCTOBER, DUCKDB) == "day"
    assert rollup_for(MetricQuery("nps", filters=RAGGED), RAGGED, DUCKDB) == "month"
    assert rollup_for(MetricQuery("nps", filters=RAGGED), RAGGED, DUCKDB, scope=None) == "month"
    # Whole months under three quarters of the range: the day rollup (or the facts) alone.
    mostly_days = Filters(date_from=date(2026, 8, 17), date_to=date(2026, 11, 10))
    assert rollup_for(MetricQuery("nps", filters=mostly_days), mostly_days, DUCKDB) == "day"
    assert rollup_for(MetricQuery("nps", period="day"), Filters(), DUCKDB) == "day"
    by_survey = Filters(surveys=(1,))
    assert rollup_for(MetricQuery("nps", filters=by_survey), by_survey, DUCKDB) == "day"
    assert rollup_for(MetricQuery("nps", group_by=("survey",)), Filters(), DUCKDB) == "day"
    wide = MetricQuery("mean", scale_min=0, scale_max=100)
    assert rollup_for(wide, Filters(), DUCKDB) is None


def test_only_an_unscoped_query_without_units_reads_the_company_wide_rollup() -> None:
    everything: list[str] | None = None
    assert rollup_for(MetricQuery("nps"), Filters(), DUCKDB, scope=everything) == "total"
    by_month = MetricQuery("top_box", group_by=("question",), period="month")
    assert rollup_for(by_month, Filters(), DUCKDB, scope=everything) == "total"
    assert rollup_for(MetricQuery("nps"), Filters(), DUCKDB, scope=["/1/"]) == "month"
    assert (
        rollup_for(MetricQuery("nps", group_by=("region",)), Filters(), DUCKDB, scope=everything) == "month"
    )
    assert rollup_for(MetricQuery("nps", group_by=("unit",)), Filters(), DUCKDB, scope=everything) == "month"
    in_subtree = Filters(units=("/1/2/",))
    assert rollup_for(MetricQuery("nps", filters=in_subtree), in_subtree, DUCKDB, scope=everything) == "month"
    assert rollup_for(MetricQuery("nps", filters=MID_OCTOBER), MID_OCTOBER, DUCKDB, scope=everything) == "day"


@pytest.mark.parametrize(
    "query",
    [
        MetricQuery("nps"),
        MetricQuery("csat", period="month"),
        MetricQuery("ces", filters=OCTOBER, compare_previous=True),
        MetricQuery("top_box", group_by=("question",), period="quarter"),
        MetricQuery("mean", filters=OCTOBER, group_by=("question",), scale_max=5),
    ],
    ids=_id,
)
def test_the_company_wide_rollup_gives_exactly_the_figures_of_the_facts(
    demo_store: Path, query: MetricQuery
) -> None:
    with store_engine(demo_store, rollups=True) as rolled, store_engine(demo_store, rollups=False) as raw:
        from_total = run(query, rolled, scope=None)
        from_facts = run(query, raw, scope=None)
    if not query.on_answers:  # (a compared range that is not whole months reads the day rollup)
        assert from_total.sources[0] == "rollup_total"
    assert_same_counts(from_total, from_facts)


def test_scoped_rollup_queries_stay_inside_the_readers_subtree(demo_store: Path) -> None:
    with store_engine(demo_store, rollups=True) as rolled, store_engine(demo_store, rollups=False) as raw:
        scope = [
            str(rolled.con.execute("SELECT path FROM units WHERE kind = 'store' LIMIT 1").fetchall()[0][0])
        ]
        query = MetricQuery("nps", group_by=("unit",), period="month")
        a = run(query, rolled, scope=scope)
        b = run(query, raw, scope=scope)
    assert a.sources == ("rollup_month",)
    assert_same_counts(a, b)
    assert len({r.group["unit"] for r in a.rows}) == 1


def test_by_default_a_rollup_is_read_only_when_it_is_much_smaller_than_the_facts(demo_store: Path) -> None:
    with store_engine(demo_store) as auto:
        rows = dict(auto.con.execute("SELECT table_name, estimated_size FROM duckdb_tables()").fetchall())
        result = run(MetricQuery("nps"), auto, scope=None)
    smaller = rows["rollup_total"] <= auto.WORTH * (rows["responses"] + rows["answers"])
    assert result.sources == (("rollup_total",) if smaller else ("facts",))


def test_a_range_splits_into_its_whole_months_and_the_days_around_them() -> None:
    assert month_spans(Filters(date_from=date(2026, 8, 17), date_to=date(2026, 11, 10))) == (
        [(date(2026, 9, 1), date(2026, 10, 31))],
        [(date(2026, 8, 17), date(2026, 8, 31)), (date(2026, 11, 1), date(2026, 11, 10))],
    )
    assert month_spans(OCTOBER) == ([(date(2026, 10, 1), date(2026, 10, 31))], [])
    assert month_spans(MID_OCTOBER) == ([], [(date(2026, 10, 5), date(2026, 10, 19))])
    assert month_spans(Filters(date_to=date(2026, 10, 15))) == (
        [(None, date(2026, 9, 30))],
        [(date(2026, 10, 1), date(2026, 10, 15))],
    )
    assert month_spans(Filters()) == ([(None, None)], [])


def test_a_comparison_split_inside_a_month_counts_that_month_from_its_days() -> None:
    both = Filters(date_from=date(2026, 7, 5), date_to=date(2026, 12, 31))
    months, days = month_spans(both, split_at=date(2026, 10, 3))
    assert months == [(date(2026, 8, 1), date(2026, 9, 30)), (date(2026, 11, 1), date(2026, 12, 31))]
    # October straddles the split: its days on both sides are counted one by one.
    assert days == [(date(2026, 7, 5), date(2026, 7, 31)), (date(2026, 10, 1), date(2026, 10, 31))]
    assert month_spans(OCTOBER, split_at=date(2026, 10, 1)) == ([(date(2026, 10, 1), date(2026, 10, 31))], [])


class _DaysFromFacts(DuckDBEngine):
    """The store's engine when its day rollup is not worth reading (as long as the facts)."""

    def worth(self, rollup: str) -> bool:
        return rollup != "day"


@pytest.mark.parametrize(
    "query",
    [
        MetricQuery("nps", filters=RAGGED, group_by=("unit",), compare_previous=True),
        MetricQuery("csat", filters=RAGGED, group_by=("region",), period="month"),
        MetricQuery("top_box", filters=RAGGED, group_by=("question",), compare_previous=True),
        MetricQuery("nps", filters=Filters(date_to=date(2026, 10, 15)), period="quarter"),
    ],
    ids=_id,
)
def test_whole_months_from_the_month_rollup_and_the_days_around_them_give_the_figures_of_the_facts(
    demo_store: Path, query: MetricQuery
) -> None:
    with store_engine(demo_store, rollups=True) as rolled, store_engine(demo_store, rollups=False) as raw:
        from_day_rollup = run(query, rolled, scope=None)
        from_facts_around = run(query, _DaysFromFacts(rolled.con, rollups=True), scope=None)
        from_facts = run(query, raw, scope=None)
    if not query.on_answers:  # (answers may hold scores the rollups cannot place)
        assert set(from_day_rollup.sources) == {"rollup_month+rollup_day"}
        assert set(from_facts_around.sources) == {"rollup_month+facts"}
    assert_same_counts(from_day_rollup, from_facts)
    assert_same_counts(from_facts_around, from_facts)
