"""The rollups in the operational database (PostgreSQL): built and kept up to date by the store's sync.

The tables (:mod:`manyi.analytics.models`) hold the histograms the store's ``rollup_day`` and
``rollup_month`` hold, computed by PostgreSQL from its own facts: a store sync recomputes the rows
of the (unit, day) keys it copied, counting the fact rows up to the ids it copied (its watermarks),
then those keys' months from the day rows; ``manyi analytics rebuild`` (or a version change)
recomputes everything. The marks are stored with them (``analytics_rollupstate``), and the runner
adds the fact rows above them in the same statement, so a query is as fresh as one on the facts.

Every function takes a DB-API cursor with ``%s`` placeholders and runs inside the caller's
transaction, so the benchmark can call them on a plain psycopg connection as the product does on
Django's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .sql import HEADLINE_QUESTION_IDS, HISTOGRAM_HIGH, HISTOGRAM_LOW

#: Bumped when the shape or meaning of these rollups changes: the next sync rebuilds them.
DB_ROLLUP_VERSION = 1
HISTOGRAM = range(HISTOGRAM_LOW, HISTOGRAM_HIGH + 1)
#: PostgreSQL's ``work_mem`` for a full build (this transaction only).
FULL_WORK_MEM_MB = 256


@dataclass(frozen=True, slots=True)
class Tables:
    """Where the facts and the rollups live (Manyi's table names by default)."""

    responses: str = "responses_response"
    answers: str = "responses_answer"
    day: str = "analytics_rollupday"
    month: str = "analytics_rollupmonth"
    questions: str = "analytics_rollupquestion"
    state: str = "analytics_rollupstate"

    @property
    def rollups(self) -> tuple[str, str, str, str]:
        """For :func:`manyi.analytics.sql.operational_dialect`."""
        return (self.day, self.month, self.questions, self.state)


TABLES = Tables()


def enabled(connection: Any) -> bool:
    """Whether this Django connection keeps rollups: PostgreSQL, unless
    ``settings.MANYI_ANALYTICS_DATABASE_ROLLUPS`` is False."""
    from django.conf import settings

    return connection.vendor == "postgresql" and bool(
        getattr(settings, "MANYI_ANALYTICS_DATABASE_ROLLUPS", True)
    )


def state(cursor: Any, tables: Tables = TABLES) -> dict[str, int]:
    """The stored marks (``responses``, ``answers``) and version (``rollups``); empty when unbuilt."""
    cursor.execute(f"SELECT fact, last_id FROM {tables.state}")
    return {str(fact): int(last) for fact, last in cursor.fetchall()}


def is_built(cursor: Any, tables: Tables = TABLES) -> bool:
    return state(cursor, tables).get("rollups") == DB_ROLLUP_VERSION


def _histogram(col: str) -> str:
    return ", ".join(f"count(*) FILTER (WHERE {col} = {v})" for v in HISTOGRAM)


def _utc_day(col: str) -> str:
    return f"CAST(({col} AT TIME ZONE 'UTC') AS DATE)"


def _day_rows(t: Tables, keyed: bool) -> str:
    """``SELECT`` of day rows counting the facts up to the marks (``%(answers)s``,
    ``%(responses)s``), of every key or of the keys in ``_rollup_keys``."""
    odd = "NOT (f.number BETWEEN 0 AND 10 AND f.number = floor(f.number))"
    join = (
        " JOIN _rollup_keys k ON k.unit_id = r.unit_id AND r.submitted_at >= k.t0 AND r.submitted_at < k.t1"
        if keyed
        else ""
    )
    parts = [
        f"SELECT r.unit_id, {_utc_day('r.submitted_at')}, r.survey_id, q.question_id,"
        f" count(*) FILTER (WHERE {odd}), {_histogram('f.number')}"
        f" FROM {t.answers} f JOIN {t.responses} r ON r.id = f.response_id{join}"
        f" JOIN {t.questions} q ON q.code = f.question_code"
        " WHERE f.number IS NOT NULL AND f.id <= %(answers)s GROUP BY 1, 2, 3, 4"
    ]
    for metric, qid in HEADLINE_QUESTION_IDS.items():
        parts.append(
            f"SELECT r.unit_id, {_utc_day('r.submitted_at')}, r.survey_id, {qid}, 0, {_histogram('r.' + metric)}"
            f" FROM {t.responses} r{join} WHERE r.{metric} IS NOT NULL AND r.id <= %(responses)s"
            " GROUP BY 1, 2, 3"
        )
    return " UNION ALL ".join(parts)


COUNTS = ", ".join(f"c{v}" for v in HISTOGRAM)
DAY_COLUMNS = f"unit_id, day, survey_id, question_id, n_odd, {COUNTS}"
MONTH_COLUMNS = f"unit_id, month, question_id, n_odd, {COUNTS}"


def _month_rows(t: Tables, keyed: bool) -> str:
    month = "CAST(date_trunc('month', d.day) AS DATE)"
    sums = ", ".join(f"sum(d.c{v})" for v in HISTOGRAM)
    # A range on (unit_id, day), which the key's unique index answers.
    join = (
        " JOIN _rollup_months k ON k.unit_id = d.unit_id AND d.day >= k.month AND d.day < k.month_end"
        if keyed
        else ""
    )
    return (
        f"SELECT d.unit_id, {month}, d.question_id, sum(d.n_odd), {sums}"
        f" FROM {t.day} d{join} GROUP BY 1, 2, 3"
    )


def refresh(
    cursor: Any,
    marks: dict[str, int],
    keys: tuple[list[int], list[date]] | None,
    questions: list[tuple[int, str]],
    tables: Tables = TABLES,
) -> int:
    """Recompute the rollups of the (unit, day) ``keys`` (all of them when None, or when the
    stored version is not the current one) from the facts up to ``marks`` (``responses``,
    ``answers``: the highest ids the store copied); returns how many keys were recomputed.

    ``questions`` are the store's (id, code) pairs, so both sides number questions alike.
    """
    t = tables
    full = keys is None or not is_built(cursor, t)
    ids = {"responses": int(marks.get("responses", 0)), "answers": int(marks.get("answers", 0))}
    # Ids only grow in the store (a rebuild renumbers, and rebuilds these too): add what is new.
    cursor.execute(f"SELECT question_id, code FROM {t.questions}")
    known = {str(code): int(qid) for qid, code in cursor.fetchall()}
    if any(known.get(code, qid) != qid for qid, code in questions):
        full = True
        cursor.execute(f"DELETE FROM {t.questions}")
        known = {}
    new = [(qid, code) for qid, code in questions if code not in known]
    if new:
        cursor.executemany(f"INSERT INTO {t.questions} (question_id, code) VALUES (%s, %s)", new)
    if full:
        # One pass over every fact: room to aggregate in memory rather than in sorted runs on disk.
        cursor.execute(f"SET LOCAL work_mem = '{int(FULL_WORK_MEM_MB)}MB'")
        cursor.execute(f"DELETE FROM {t.day}")
        cursor.execute(f"DELETE FROM {t.month}")
        cursor.execute(
            f"INSERT INTO {t.day} ({DAY_COLUMNS}) {_day_rows(t, keyed=False)}",
            ids,
        )
        cursor.execute(f"INSERT INTO {t.month} ({MONTH_COLUMNS}) {_month_rows(t, keyed=False)}")
        cursor.execute(f"ANALYZE {t.day}")
        cursor.execute(f"ANALYZE {t.month}")
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {t.day} GROUP BY unit_id, day) k")
        count = int(cursor.fetchone()[0])
    else:
        assert keys is not None
        units, days = keys
        count = len(units)
        if count:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS _rollup_keys"
                " (unit_id integer, day date, t0 timestamptz, t1 timestamptz)"
            )
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS _rollup_months (unit_id integer, month date, month_end date)"
            )
            cursor.execute("DELETE FROM _rollup_keys")
            cursor.execute("DELETE FROM _rollup_months")
            cursor.execute(
                "INSERT INTO _rollup_keys SELECT u, d, (d::timestamp AT TIME ZONE 'UTC'),"
                " ((d + 1)::timestamp AT TIME ZONE 'UTC') FROM unnest(%s::integer[], %s::date[]) AS k(u, d)",
                [list(units), list(days)],
            )
            cursor.execute(
                "INSERT INTO _rollup_months SELECT unit_id, m, CAST(m + interval '1 month' AS DATE) FROM"
                " (SELECT DISTINCT unit_id, CAST(date_trunc('month', day) AS DATE) AS m FROM _rollup_keys) k"
            )
            cursor.execute("ANALYZE _rollup_keys")
            cursor.execute("ANALYZE _rollup_months")
            cursor.execute(
                f"DELETE FROM {t.day} d USING _rollup_keys k WHERE d.unit_id = k.unit_id AND d.day = k.day"
            )
            cursor.execute(
                f"INSERT INTO {t.day} ({DAY_COLUMNS}) {_day_rows(t, keyed=True)}",
                ids,
            )
            cursor.execute(
                f"DELETE FROM {t.month} m USING _rollup_months k WHERE m.unit_id = k.unit_id AND m.month = k.month"
            )
            cursor.execute(f"INSERT INTO {t.month} ({MONTH_COLUMNS}) {_month_rows(t, keyed=True)}")
    cursor.execute(f"DELETE FROM {t.state}")
    cursor.executemany(
        f"INSERT INTO {t.state} (fact, last_id) VALUES (%s, %s)",
        [("responses", ids["responses"]), ("answers", ids["answers"]), ("rollups", DB_ROLLUP_VERSION)],
    )
    return count
