"""Reads that weigh histograms in NumPy or group in the runner give exactly the facts' figures, on a
small store written by hand (no database), where every edge case is placed on purpose."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from manyi.analytics import Filters, MetricQuery, run
from manyi.analytics.engines import DuckDBEngine
from manyi.analytics.runner import _dense_group_index, _group_index
from manyi.analytics.store import SCHEMA, refresh_rollups
from tests.analytics.test_rollups import assert_same_counts

START = date(2026, 1, 1)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two stores under a company; NPS on every day of 2026; question 1 answered 1–10 (its scores
    6–10 are off a 1–5 scale), question 2 answered only 7–9 (nothing on a 1–5 scale at all)."""
    path = tmp_path_factory.mktemp("histograms") / "store.duckdb"
    con = duckdb.connect(str(path))
    con.execute(SCHEMA)
    con.execute(
        "INSERT INTO units VALUES (1, NULL, '/1/', 0, 'company', 'co'), (2, 1, '/1/2/', 1, 'store', 'a'),"
        " (3, 1, '/1/3/', 1, 'store', 'b')"
    )
    con.execute("INSERT INTO questions VALUES (1, 'q_wide'), (2, 'q_high')")
    rows = []
    answers = []
    for i in range(365 * 3):
        day = START + timedelta(days=i % 365)
        unit = 2 + i % 2
        rows.append((i + 1, 1 + i % 2, unit, day, (i * 7) % 11, 1 + i % 5, 1 + i % 7))
        answers.append((2 * i + 1, i + 1, 1 + i % 2, unit, day, 1, float(1 + (i * 3) % 10)))
        answers.append((2 * i + 2, i + 1, 1 + i % 2, unit, day, 2, float(7 + i % 3)))
    con.executemany("INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.executemany("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)", answers)
    con.execute("BEGIN TRANSACTION")
    refresh_rollups(con, full=True)
    con.execute("COMMIT")
    con.close()
    return path


QUERIES = [
    MetricQuery("nps"),
    MetricQuery("nps", period="quarter"),
    MetricQuery(
        "nps", filters=Filters(date_from=date(2026, 4, 1), date_to=date(2026, 6, 30)), compare_previous=True
    ),
    MetricQuery("top_box", group_by=("question",)),
    MetricQuery("top_box", group_by=("question",), period="month"),
    MetricQuery("top_box", filters=Filters(questions=("q_high",))),
    MetricQuery("mean", group_by=("question",), scale_min=1, scale_max=5),
    MetricQuery(
        "nps", filters=Filters(date_from=date(2026, 2, 20), date_to=date(2026, 9, 3)), group_by=("unit",)
    ),
    MetricQuery(
        "csat",
        filters=Filters(date_from=date(2026, 5, 10), date_to=date(2026, 11, 2)),
        group_by=("unit",),
        compare_previous=True,
    ),
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.metric}-{'-'.join(q.group_by)}-{q.period}")
def test_rollup_reads_give_exactly_the_figures_of_the_facts(store: Path, query: MetricQuery) -> None:
    con = duckdb.connect(str(store), read_only=True)
    try:
        rolled = run(query, DuckDBEngine(con, rollups=True), scope=None)
        raw = run(query, DuckDBEngine(con, rollups=False), scope=None)
    finally:
        con.close()
    assert_same_counts(rolled, raw)


def test_the_company_wide_rollup_leaves_out_a_question_with_no_score_on_the_scale(store: Path) -> None:
    con = duckdb.connect(str(store), read_only=True)
    try:
        result = run(
            MetricQuery("top_box", group_by=("question",)), DuckDBEngine(con, rollups=True), scope=None
        )
    finally:
        con.close()
    assert result.sources == ("rollup_total",)
    # q_high's answers are 7–9, none on the 1–5 scale: no group, as counting the facts gives none.
    assert [r.group["question"] for r in result.rows] == ["q_wide"]


def test_groups_of_integer_labels_are_found_in_order_without_sorting() -> None:
    rng = np.random.default_rng(3)
    units = rng.integers(200, 5200, 5000)
    periods = rng.choice([202401, 202402, 202412, 202501], 5000)
    dense = _dense_group_index([units, periods], 5000)
    assert dense is not None
    keys, inverse, size = dense
    order = np.lexsort((periods, units))
    expected = sorted(set(zip(units.tolist(), periods.tolist(), strict=True)))
    assert list(zip(keys[0].tolist(), keys[1].tolist(), strict=True)) == expected
    assert size == len(expected)
    assert (keys[0][inverse] == units).all() and (keys[1][inverse] == periods).all()
    assert _group_index(2, [units[order], periods[order]])[2] == size
    # Labels spread too far apart are sorted instead.
    assert _dense_group_index([np.array([0, 10**12])], 2) is None
