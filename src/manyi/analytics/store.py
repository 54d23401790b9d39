"""The analytics store: an embedded DuckDB file with a columnar copy of the response facts.

The operational database stays the source of truth. The store holds, keyed by integers:

- ``units``: the org-unit dimension with its materialised ``path`` (``/1/4/17/``) and ``kind``, for
  scoping and roll-ups by path prefix (rewritten whole on every sync: it is small);
- ``questions``: question codes as small integers;
- ``responses``: one row per response with its headline ``nps``/``csat``/``ces`` scores;
- ``answers``: one row per numeric answer, denormalised with the response's unit, survey and day;
- ``feedback``: one row per feedback record with its rating;
- ``sync_state``: the highest operational id copied per fact table (the watermark);
- ``text_facts`` and ``aspect_facts``: one row per enriched text (feedback record or open-text
  answer) with its sentiment, and one per aspect found in it with the aspect's sentiment, so that
  sentiment and aspects slice like scores. Enrichments are rewritten when a new model version
  re-reads a text, so they are copied by ``enriched_at`` (watermark ``text`` in microseconds, with
  a window for late commits) and replaced by ``enrichment_id``, not appended by id;
- ``rollup_day`` (unit × day × survey × question) and ``rollup_month`` (unit × month × question,
  all surveys together, for the dashboards' long ranges), each a histogram of the
  integer scores 0–10 (``c0`` … ``c10``) and ``n_odd``, the count of scores that are not (fractions,
  numbers past 10). The headline scores of responses are in them under the reserved question ids
  of :data:`HEADLINE_QUESTION_IDS`. Every NPS, box share and mean on a 0–10 scale, with its
  interval, is a function of these counts, so a query summed from the rollups gives exactly the
  figures of the raw rows (see :func:`manyi.analytics.sql.compile_query`);
- ``rollup_total`` (month × question over every unit, from the month rows) for unscoped queries
  that involve no unit: each row's 0–10 counts in one ``histogram`` array, read as they are and
  weighed by the runner (a handful of rows per question, so what costs is the statement itself).

Rollups are kept up to date incrementally: a sync records the (unit, day) keys of the rows it
appends and recomputes only those keys' day rows from the raw facts, then only the touched
(unit, month) rows from the day rows. Recomputing, rather than adding to, the counts keeps a sync
idempotent and makes rows that committed late below the watermark count once.

``day`` is the UTC calendar date of ``submitted_at`` (``occurred_at`` for feedback); the
operational engine buckets by the same UTC date, so both engines agree.

Concurrency: DuckDB allows one process to open a file for writing and no reader meanwhile, so all
access goes through two ``flock`` locks beside the file: ``.write.lock`` lets one writer (rebuild
or sync) run at a time, and ``.access.lock`` is taken shared by readers and exclusive for the
time a sync appends (only the new rows, so briefly). A rebuild writes a new file and swaps it in atomically, so
readers see the old store until the new one is complete.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .sql import HEADLINE_QUESTION_IDS, HISTOGRAM_HIGH, HISTOGRAM_LOW

if TYPE_CHECKING:
    import duckdb

FACTS = ("responses", "answers", "feedback")
#: Rows fetched from the operational database per round trip.
BATCH = 50_000
#: Ids below the watermark that a sync looks at again: under concurrent writers a row with a
#: smaller id can commit after one with a larger id; re-reading a window catches it.
LATE_WINDOW = 1_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS units (
    unit_id INTEGER NOT NULL, parent_id INTEGER, path VARCHAR NOT NULL, depth SMALLINT NOT NULL,
    kind VARCHAR NOT NULL, code VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS questions (question_id INTEGER NOT NULL, code VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS responses (
    response_id BIGINT NOT NULL, survey_id INTEGER NOT NULL, unit_id INTEGER NOT NULL, day DATE NOT NULL,
    nps TINYINT, csat TINYINT, ces TINYINT
);
CREATE TABLE IF NOT EXISTS answers (
    answer_id BIGINT NOT NULL, response_id BIGINT NOT NULL, survey_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL, day DATE NOT NULL, question_id INTEGER NOT NULL, number DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    feedback_id BIGINT NOT NULL, unit_id INTEGER NOT NULL, day DATE NOT NULL, response_id BIGINT,
    channel VARCHAR NOT NULL, rating DOUBLE
);
CREATE TABLE IF NOT EXISTS sync_state (fact VARCHAR NOT NULL, last_id BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS text_facts (
    enrichment_id BIGINT NOT NULL, source VARCHAR NOT NULL, unit_id INTEGER NOT NULL, survey_id INTEGER,
    day DATE NOT NULL, lang VARCHAR NOT NULL, sentiment VARCHAR NOT NULL, sentiment_score DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS aspect_facts (
    aspect_row_id BIGINT NOT NULL, enrichment_id BIGINT NOT NULL, unit_id INTEGER NOT NULL, survey_id INTEGER,
    day DATE NOT NULL, aspect VARCHAR NOT NULL, sentiment VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS rollup_day (
    unit_id INTEGER NOT NULL, day DATE NOT NULL, survey_id INTEGER NOT NULL, question_id INTEGER NOT NULL,
    n_odd INTEGER NOT NULL, {counts}
);
CREATE TABLE IF NOT EXISTS rollup_month (
    unit_id INTEGER NOT NULL, month DATE NOT NULL, question_id INTEGER NOT NULL,
    n_odd INTEGER NOT NULL, {counts}
);
CREATE TABLE IF NOT EXISTS rollup_total (
    month DATE NOT NULL, question_id INTEGER NOT NULL, n_odd INTEGER NOT NULL,
    histogram INTEGER[{bins}] NOT NULL
);
""".format(
    counts=", ".join(f"c{v} INTEGER NOT NULL" for v in range(HISTOGRAM_LOW, HISTOGRAM_HIGH + 1)),
    bins=HISTOGRAM_HIGH - HISTOGRAM_LOW + 1,
)

#: Scores counted one by one in the rollups (``c0`` … ``c10``).
HISTOGRAM = range(HISTOGRAM_LOW, HISTOGRAM_HIGH + 1)
#: Bumped when the rollups' shape or meaning changes: a sync then rebuilds them from the facts.
ROLLUP_VERSION = 4


def default_path() -> Path:
    """``settings.DATA_DIR / "analytics.duckdb"``."""
    from django.conf import settings

    return Path(settings.DATA_DIR) / "analytics.duckdb"


@contextmanager
def _flock(path: Path, exclusive: bool) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _lock_path(path: Path, kind: str) -> Path:
    return path.with_name(f"{path.name}.{kind}.lock")


@contextmanager
def read_connection(path: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the store, holding the shared access lock while open."""
    import duckdb

    path = path or default_path()
    with _flock(_lock_path(path, "access"), exclusive=False):
        if not path.exists():
            raise FileNotFoundError(f"no analytics store at {path}; run `manyi analytics rebuild`")
        con = duckdb.connect(str(path), read_only=True)
        try:
            yield con
        finally:
            con.close()


@contextmanager
def _write_connection(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    import duckdb

    with _flock(_lock_path(path, "access"), exclusive=True):
        con = duckdb.connect(str(path))
        try:
            con.execute(SCHEMA)
            yield con
        finally:
            con.close()


@dataclass
class SyncReport:
    """What a rebuild or sync copied: rows per fact table, and how long it took."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FACTS, 0))
    units: int = 0
    questions: int = 0
    #: (unit, day) keys whose rollups were recomputed; every key on a rebuild.
    rollup_keys: int = 0
    #: Enriched texts copied (new or re-enriched).
    texts: int = 0
    #: (unit, day) keys recomputed in the operational database's rollups (None: it keeps none).
    database_rollup_keys: int | None = None
    #: Responses changed or deleted in the operational database whose copies were replaced.
    changed: int = 0
    seconds: float = 0.0
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "rows": dict(self.rows),
            "units": self.units,
            "questions": self.questions,
            "rollup_keys": self.rollup_keys,
            "texts": self.texts,
            "database_rollup_keys": self.database_rollup_keys,
            "changed": self.changed,
            "seconds": round(self.seconds, 3),
        }


def rebuild(path: Path | None = None, progress: Callable[[str], None] | None = None) -> SyncReport:
    """Rebuild the store from scratch from the operational database, then swap it in atomically."""
    path = path or default_path()
    tmp = path.with_name(f"{path.name}.rebuild")
    t0 = time.monotonic()
    with _flock(_lock_path(path, "write"), exclusive=True):
        for stale in (tmp, tmp.with_name(f"{tmp.name}.wal")):
            stale.unlink(missing_ok=True)
        import duckdb

        con = duckdb.connect(str(tmp))
        try:
            con.execute(SCHEMA)
            report = _copy_new(con, {}, progress, full_rollups=True)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        with _flock(_lock_path(path, "access"), exclusive=True):
            os.replace(tmp, path)
            path.with_name(f"{path.name}.wal").unlink(missing_ok=True)
    report.seconds = time.monotonic() - t0
    report.path = str(path)
    return report


def sync(path: Path | None = None, progress: Callable[[str], None] | None = None) -> SyncReport:
    """Append the operational rows not yet in the store (ids above the watermark); idempotent.

    Creates the store when it does not exist. Responses changed or deleted in the operational
    database after they were copied are replaced (or removed) when their writer recorded them with
    :func:`manyi.analytics.actions.record_changed_responses`; anything else changed behind the
    store's back is picked up by :func:`rebuild`.
    """
    path = path or default_path()
    t0 = time.monotonic()
    with _flock(_lock_path(path, "write"), exclusive=True), _write_connection(path) as con:
        marks = dict(con.execute("SELECT fact, last_id FROM sync_state").fetchall())
        # A store written before the rollups existed (or with an older shape) gets them whole.
        report = _copy_new(con, marks, progress, full_rollups=marks.get("rollups") != ROLLUP_VERSION)
    if report.changed:
        prune_changes(path)
    report.seconds = time.monotonic() - t0
    report.path = str(path)
    return report


def watermarks(path: Path | None = None) -> dict[str, int]:
    """The highest operational id copied, per fact table (0 when none)."""
    with read_connection(path) as con:
        marks = dict(con.execute("SELECT fact, last_id FROM sync_state").fetchall())
    return {fact: int(marks.get(fact, 0)) for fact in FACTS}


def counts(path: Path | None = None) -> dict[str, int]:
    """Rows per table in the store."""
    with read_connection(path) as con:
        return {
            t: int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0])
            for t in ("units", "questions", *FACTS, "text_facts", "aspect_facts")
        }


# --- copying -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Fact:
    """How one fact table is read from the operational database and written to the store."""

    table: str
    key: str
    select: str  # columns in store order, the question code in place of ``question_id``
    from_sql: str
    where: str
    columns: tuple[str, ...]


def _facts(day: Callable[[str], str]) -> list[_Fact]:
    from manyi.feedback.models import FeedbackRecord
    from manyi.responses.models import Answer, Response

    resp, ans, fb = Response._meta.db_table, Answer._meta.db_table, FeedbackRecord._meta.db_table
    return [
        _Fact(
            "responses",
            "f.id",
            f"f.id, f.survey_id, f.unit_id, {day('f.submitted_at')}, f.nps, f.csat, f.ces",
            f"{resp} f",
            "",
            ("response_id", "survey_id", "unit_id", "day", "nps", "csat", "ces"),
        ),
        _Fact(
            "answers",
            "f.id",
            f"f.id, f.response_id, r.survey_id, r.unit_id, {day('r.submitted_at')}, f.question_code, f.number",
            f"{ans} f JOIN {resp} r ON r.id = f.response_id",
            " AND f.number IS NOT NULL",
            ("answer_id", "response_id", "survey_id", "unit_id", "day", "question_code", "number"),
        ),
        _Fact(
            "feedback",
            "f.id",
            f"f.id, f.unit_id, {day('f.occurred_at')}, f.response_id, f.channel, f.rating",
            f"{fb} f",
            "",
            ("feedback_id", "unit_id", "day", "response_id", "channel", "rating"),
        ),
    ]


def _copy_new(
    con: duckdb.DuckDBPyConnection,
    marks: dict[str, int],
    progress: Callable[[str], None] | None,
    *,
    full_rollups: bool,
) -> SyncReport:
    """Copy units, then every fact row with an id above its watermark, in batches, then refresh
    the rollups of what was appended (all of them when ``full_rollups``); one transaction.

    Rows are read with plain SQL on Django's connection (the UTC day computed by the database, as
    the query engine does) and inserted through Arrow; question codes become integers in DuckDB.
    """
    from manyi.org.models import OrgUnit

    from .engines import DatabaseEngine

    engine = DatabaseEngine()
    say = progress or (lambda _m: None)
    report = SyncReport()
    con.execute("BEGIN TRANSACTION")
    try:
        units = list(
            OrgUnit.objects.order_by("id").values_list("id", "parent_id", "path", "depth", "kind", "code")
        )
        con.execute("DELETE FROM units")
        if units:
            import pyarrow as pa

            names = ("unit_id", "parent_id", "path", "depth", "kind", "code")
            con.register(
                "_units", pa.table({c: list(v) for c, v in zip(names, zip(*units, strict=True), strict=True)})
            )
            try:
                con.execute(f"INSERT INTO units SELECT {', '.join(names)} FROM _units").fetchall()
            finally:
                con.unregister("_units")
        report.units = len(units)
        start_touched(con)
        for fact in _facts(engine.dialect.day):
            report.rows[fact.table] = _copy_fact(con, engine, fact, marks.get(fact.table, 0), say)
        # Responses changed or deleted since they were copied: a new store has them as they are.
        report.changed = _apply_changes(con, engine, marks.get("changes", 0), applied=bool(marks), say=say)
        report.questions = int(con.execute("SELECT count(*) FROM questions").fetchall()[0][0])
        keys = None if full_rollups else touched_keys(con)
        report.rollup_keys = refresh_rollups(con, full=full_rollups)
        report.texts = _copy_texts(con, marks.get("text", 0), say)
        say(f"analytics: rollups: {report.rollup_keys} (unit, day) keys refreshed")
        # The operational database's rollups, from its own facts up to the ids just copied; before
        # the store commits, so that a failure there leaves both to the next sync.
        report.database_rollup_keys = refresh_database_rollups(con, keys)
        if report.database_rollup_keys is not None:
            say(f"analytics: database rollups: {report.database_rollup_keys} (unit, day) keys refreshed")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return report


def _copy_fact(
    con: duckdb.DuckDBPyConnection, engine: Any, fact: _Fact, mark: int, say: Callable[[str], None]
) -> int:
    """Copy rows with ``id > mark − LATE_WINDOW`` that the store lacks, in id order and in batches."""
    import pyarrow as pa

    last = max(mark - LATE_WINDOW, 0)
    sql = (
        f"SELECT {fact.select} FROM {fact.from_sql} WHERE {fact.key} > ?{fact.where}"
        f" ORDER BY {fact.key} LIMIT {int(BATCH)}"
    )
    first = fact.columns[0]
    if fact.table == "answers":
        out_cols = [c if c != "question_code" else "question_id" for c in fact.columns]
        select = ", ".join(c if c != "question_code" else "q.question_id" for c in fact.columns)
        insert_from = "_batch b JOIN questions q ON q.code = b.question_code"
    else:
        out_cols = list(fact.columns)
        select = ", ".join(fact.columns)
        insert_from = "_batch b"
    new_only = f" WHERE b.{first} NOT IN (SELECT {first} FROM {fact.table} WHERE {first} > ?)" if mark else ""
    copied = 0
    top = mark
    while True:
        batch = engine.fetch(sql, [last])
        if not batch:
            break
        last = batch[-1][0]
        columns = list(zip(*batch, strict=True))
        arrow = pa.table({c: list(v) for c, v in zip(fact.columns, columns, strict=True)})
        con.register("_batch", arrow)
        try:
            if fact.table in ROLLED_UP:
                # Before the insert, so that ``new_only`` still tells the new rows from the re-read.
                con.execute(
                    f"INSERT INTO _touched SELECT DISTINCT b.unit_id, CAST(b.day AS DATE) FROM _batch b{new_only}",
                    [mark - LATE_WINDOW] if mark else [],
                ).fetchall()
            if fact.table == "answers":
                con.execute(
                    "INSERT INTO questions SELECT (SELECT coalesce(max(question_id), 0) FROM questions)"
                    " + row_number() OVER (ORDER BY code), code FROM (SELECT DISTINCT question_code AS code"
                    " FROM _batch WHERE question_code NOT IN (SELECT code FROM questions))"
                ).fetchall()
            inserted = con.execute(
                f"INSERT INTO {fact.table} ({', '.join(out_cols)}) SELECT {select} FROM {insert_from}{new_only}",
                [mark - LATE_WINDOW] if mark else [],
            ).fetchall()
            added = int(inserted[0][0]) if inserted else 0
        finally:
            con.unregister("_batch")
        copied += added
        top = max(top, last)
        say(f"analytics: {fact.table}: {copied} rows copied")
    con.execute("DELETE FROM sync_state WHERE fact = ?", [fact.table])
    con.execute("INSERT INTO sync_state VALUES (?, ?)", [fact.table, top])
    return copied


def _apply_changes(
    con: duckdb.DuckDBPyConnection, engine: Any, mark: int, *, applied: bool, say: Callable[[str], None]
) -> int:
    """Replace the store's rows of the responses recorded in ``FactChange`` above ``mark`` with
    the operational database's rows (none for a deleted response), recording the (unit, day) keys
    they had and have in ``_touched``; returns how many responses. With ``applied`` False (a new
    store, copied whole just now) the entries are only marked as seen."""
    import pyarrow as pa

    from .models import FactChange

    top = FactChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
    changed: list[int] = []
    if applied and top > mark:
        # Entries just below the mark are read again (a writer's transaction may commit late);
        # replacing a response's rows twice is harmless.
        since = max(mark - LATE_WINDOW, 0)
        changed = sorted(
            set(FactChange.objects.filter(id__gt=since, id__lte=top).values_list("response_id", flat=True))
        )
    facts = {f.table: f for f in _facts(engine.dialect.day)}
    marks = dict(con.execute("SELECT fact, last_id FROM sync_state").fetchall())
    for start in range(0, len(changed), BATCH):
        ids = changed[start : start + BATCH]
        con.register("_changed", pa.table({"response_id": pa.array(ids, pa.int64())}))
        try:
            for table in ROLLED_UP:  # the keys they had
                con.execute(
                    f"INSERT INTO _touched SELECT unit_id, day FROM {table}"
                    " WHERE response_id IN (SELECT response_id FROM _changed)"
                )
            for table in ("answers", "responses", "feedback"):
                con.execute(f"DELETE FROM {table} WHERE response_id IN (SELECT response_id FROM _changed)")
        finally:
            con.unregister("_changed")
        marks_in = ", ".join("?" for _ in ids)
        for table, by in (("responses", "f.id"), ("answers", "f.response_id"), ("feedback", "f.response_id")):
            fact = facts[table]
            # Rows above the watermark are the next sync's (they are new); the rest are re-read.
            rows = engine.fetch(
                f"SELECT {fact.select} FROM {fact.from_sql} WHERE {by} IN ({marks_in}){fact.where}"
                f" AND f.id <= ? ORDER BY f.id",
                [*ids, int(marks.get(table, 0))],
            )
            if rows:
                _insert_rows(con, fact, rows)
    con.execute("DELETE FROM sync_state WHERE fact = 'changes'")
    con.execute("INSERT INTO sync_state VALUES ('changes', ?)", [max(top, mark)])
    if changed:
        say(f"analytics: {len(changed)} changed or deleted responses replaced")
    return len(changed)


def _insert_rows(con: duckdb.DuckDBPyConnection, fact: _Fact, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows read with ``fact.select`` (re-read, so known to be absent), recording their keys."""
    import pyarrow as pa

    columns = list(zip(*rows, strict=True))
    con.register("_batch", pa.table({c: list(v) for c, v in zip(fact.columns, columns, strict=True)}))
    try:
        if fact.table in ROLLED_UP:
            con.execute("INSERT INTO _touched SELECT DISTINCT b.unit_id, CAST(b.day AS DATE) FROM _batch b")
        if fact.table == "answers":
            con.execute(
                "INSERT INTO questions SELECT (SELECT coalesce(max(question_id), 0) FROM questions)"
                " + row_number() OVER (ORDER BY code), code FROM (SELECT DISTINCT question_code AS code"
                " FROM _batch WHERE question_code NOT IN (SELECT code FROM questions))"
            )
            out = [c if c != "question_code" else "question_id" for c in fact.columns]
            select = ", ".join(c if c != "question_code" else "q.question_id" for c in fact.columns)
            con.execute(
                f"INSERT INTO answers ({', '.join(out)}) SELECT {select}"
                " FROM _batch b JOIN questions q ON q.code = b.question_code"
            )
        else:
            con.execute(f"INSERT INTO {fact.table} ({', '.join(fact.columns)}) SELECT * FROM _batch")
    finally:
        con.unregister("_batch")


def prune_changes(path: Path | None = None) -> int:
    """Delete the ``FactChange`` entries the store has applied (but the last :data:`LATE_WINDOW`,
    which a sync may read again); returns how many."""
    from .models import FactChange

    with read_connection(path) as con:
        rows = con.execute("SELECT last_id FROM sync_state WHERE fact = 'changes'").fetchall()
    if not rows:
        return 0
    deleted, _ = FactChange.objects.filter(id__lte=int(rows[0][0]) - LATE_WINDOW).delete()
    return int(deleted)


# --- rollups -----------------------------------------------------------------------------------------

#: The fact tables whose rows the rollups count.
ROLLED_UP = ("responses", "answers")


def start_touched(con: duckdb.DuckDBPyConnection) -> None:
    """An empty ``_touched (unit_id, day)`` temp table: appends record their keys in it."""
    con.execute("CREATE OR REPLACE TEMP TABLE _touched (unit_id INTEGER NOT NULL, day DATE NOT NULL)")


def touched_keys(con: duckdb.DuckDBPyConnection) -> tuple[list[int], list[Any]]:
    """The distinct (unit, day) keys in ``_touched``, as two lists."""
    rows = con.execute("SELECT DISTINCT unit_id, day FROM _touched ORDER BY 1, 2").fetchall()
    return [int(r[0]) for r in rows], [r[1] for r in rows]


def refresh_database_rollups(
    con: duckdb.DuckDBPyConnection, keys: tuple[list[int], list[Any]] | None
) -> int | None:
    """Recompute the operational database's rollups (PostgreSQL) of ``keys`` (all when None) up to
    the store's watermarks; None when that database keeps none (SQLite)."""
    from django.db import connection, transaction

    from . import dbrollups

    if not dbrollups.enabled(connection):
        return None
    marks = {str(f): int(v) for f, v in con.execute("SELECT fact, last_id FROM sync_state").fetchall()}
    questions = [
        (int(q), str(c)) for q, c in con.execute("SELECT question_id, code FROM questions").fetchall()
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        return dbrollups.refresh(cursor, marks, keys, questions)


def _histogram(col: str) -> str:
    return ", ".join(f"CAST(count(*) FILTER (WHERE {col} = {v}) AS INTEGER) AS c{v}" for v in HISTOGRAM)


def _day_rows(keyed: bool, question: int | None = None) -> str:
    """``SELECT`` of rollup_day rows from the raw facts: of every key, or of the keys in ``_keys``
    (then with two ``?`` per part for the day range, so that DuckDB skips the row groups outside it);
    with ``question``, of that question (or headline) only."""
    join = " JOIN _keys k ON k.unit_id = f.unit_id AND k.day = f.day" if keyed else ""
    days = " AND f.day BETWEEN ? AND ?" if keyed else ""
    odd = "NOT (f.number BETWEEN 0 AND 10 AND f.number = floor(f.number))"
    parts = []
    if question is None or question not in HEADLINE_QUESTION_IDS.values():
        one = "" if question is None else f" AND f.question_id = {int(question)}"
        parts.append(
            f"SELECT f.unit_id, f.day, f.survey_id, f.question_id,"
            f" CAST(count(*) FILTER (WHERE {odd}) AS INTEGER) AS n_odd, {_histogram('f.number')}"
            f" FROM answers f{join} WHERE true{one}{days} GROUP BY f.unit_id, f.day, f.survey_id, f.question_id"
        )
    for metric, qid in HEADLINE_QUESTION_IDS.items():
        if question is not None and question != qid:
            continue
        parts.append(
            f"SELECT f.unit_id, f.day, f.survey_id, {qid} AS question_id, 0 AS n_odd, {_histogram('f.' + metric)}"
            f" FROM responses f{join} WHERE f.{metric} IS NOT NULL{days} GROUP BY f.unit_id, f.day, f.survey_id"
        )
    return " UNION ALL ".join(parts)


def _month_rows(keyed: bool) -> str:
    sums = ", ".join(f"sum(d.c{v})" for v in HISTOGRAM)
    month = "CAST(date_trunc('month', d.day) AS DATE)"
    join = f" JOIN _mkeys k ON k.unit_id = d.unit_id AND k.month = {month}" if keyed else ""
    days = " WHERE d.day BETWEEN ? AND ?" if keyed else ""
    return (
        f"SELECT d.unit_id, {month} AS month, d.question_id, sum(d.n_odd), {sums}"
        f" FROM rollup_day d{join}{days} GROUP BY 1, 2, 3"
    )


def _total_rows(keyed: bool) -> str:
    """``SELECT`` of company-wide month rows (every unit) from the month rows: of every month, or
    of the months in ``_mkeys``."""
    sums = ", ".join(f"sum(m.c{v})" for v in HISTOGRAM)
    where = " WHERE m.month IN (SELECT DISTINCT month FROM _mkeys)" if keyed else ""
    return (
        f"SELECT m.month, m.question_id, CAST(sum(m.n_odd) AS INTEGER), CAST([{sums}] AS INTEGER[{len(HISTOGRAM)}])"
        f" FROM rollup_month m{where} GROUP BY 1, 2"
    )


def refresh_rollups(con: duckdb.DuckDBPyConnection, *, full: bool) -> int:
    """Recompute the rollups of the (unit, day) keys in ``_touched`` (every key when ``full``) from
    the raw facts, and their months from the day rows; returns how many (unit, day) keys.

    Runs inside the caller's transaction, after the new rows are in the fact tables.
    """
    if full:
        # Recreated rather than emptied: a store of an older rollup version may have another shape.
        con.execute("DROP TABLE IF EXISTS rollup_day")
        con.execute("DROP TABLE IF EXISTS rollup_month")
        con.execute("DROP TABLE IF EXISTS rollup_total")
        con.execute(SCHEMA)
        # Ordered by question, then time: a headline or question filter and a date range each
        # read a narrow run of row groups (DuckDB skips the others by their min/max). One question
        # at a time, in order: sorting all day rows at once (14.6 million at 10 million answers)
        # needed more than 768 MB and could fail under a memory limit.
        questions = {int(q) for (q,) in con.execute("SELECT DISTINCT question_id FROM answers").fetchall()}
        for question in sorted(questions | set(HEADLINE_QUESTION_IDS.values())):
            con.execute(
                f"INSERT INTO rollup_day SELECT * FROM ({_day_rows(False, question)}) ORDER BY day, unit_id"
            )
        con.execute(
            f"INSERT INTO rollup_month SELECT * FROM ({_month_rows(False)}) ORDER BY question_id, month, unit_id"
        )
        con.execute(
            f"INSERT INTO rollup_total SELECT * FROM ({_total_rows(False)}) ORDER BY question_id, month"
        )
        keys = int(
            con.execute("SELECT count(*) FROM (SELECT DISTINCT unit_id, day FROM rollup_day)").fetchall()[0][
                0
            ]
        )
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _keys AS SELECT DISTINCT unit_id, day FROM _touched")
        keys, first, last = con.execute("SELECT count(*), min(day), max(day) FROM _keys").fetchall()[0]
        keys = int(keys)
        if keys:
            con.execute(
                "DELETE FROM rollup_day USING _keys k WHERE rollup_day.unit_id = k.unit_id AND rollup_day.day = k.day"
            )
            con.execute(
                f"INSERT INTO rollup_day {_day_rows(True)}", [first, last] * (1 + len(HEADLINE_QUESTION_IDS))
            )
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _mkeys AS"
                " SELECT DISTINCT unit_id, CAST(date_trunc('month', day) AS DATE) AS month FROM _keys"
            )
            con.execute(
                "DELETE FROM rollup_month USING _mkeys k"
                " WHERE rollup_month.unit_id = k.unit_id AND rollup_month.month = k.month"
            )
            month_first = first.replace(day=1)
            month_last = (last.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            con.execute(f"INSERT INTO rollup_month {_month_rows(True)}", [month_first, month_last])
            con.execute("DELETE FROM rollup_total WHERE month IN (SELECT DISTINCT month FROM _mkeys)")
            con.execute(f"INSERT INTO rollup_total {_total_rows(True)}")
        con.execute("DELETE FROM _touched")
    con.execute("DELETE FROM sync_state WHERE fact = 'rollups'")
    con.execute("INSERT INTO sync_state VALUES ('rollups', ?)", [ROLLUP_VERSION])
    return keys


def append_facts(con: duckdb.DuckDBPyConnection, responses: Any, answers: Any) -> int:
    """Append Arrow tables of new responses and answers (``question_code`` in place of the id)
    and refresh the rollups of their keys, in one transaction; returns the answers appended.

    The fast path for rows that are known to be new (a bulk import, the benchmark); a sync does
    the same through :func:`sync`, reading the rows from the operational database.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        start_touched(con)
        for table in (responses, answers):
            con.register("_batch", table)
            try:
                con.execute(
                    "INSERT INTO _touched SELECT DISTINCT unit_id, CAST(day AS DATE) FROM _batch"
                ).fetchall()
            finally:
                con.unregister("_batch")
        con.register("_batch", responses)
        try:
            con.execute(
                "INSERT INTO responses (response_id, survey_id, unit_id, day, nps, csat, ces)"
                " SELECT response_id, survey_id, unit_id, day, nps, csat, ces FROM _batch"
            ).fetchall()
        finally:
            con.unregister("_batch")
        con.register("_batch", answers)
        try:
            con.execute(
                "INSERT INTO questions SELECT (SELECT coalesce(max(question_id), 0) FROM questions)"
                " + row_number() OVER (ORDER BY code), code FROM (SELECT DISTINCT question_code AS code"
                " FROM _batch WHERE question_code NOT IN (SELECT code FROM questions))"
            ).fetchall()
            added = con.execute(
                "INSERT INTO answers SELECT b.answer_id, b.response_id, b.survey_id, b.unit_id, b.day,"
                " q.question_id, b.number FROM _batch b JOIN questions q ON q.code = b.question_code"
            ).fetchall()
        finally:
            con.unregister("_batch")
        refresh_rollups(con, full=False)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(added[0][0]) if added else 0


def has_rollups(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store's rollups are built and of the current shape."""
    try:
        rows = con.execute("SELECT last_id FROM sync_state WHERE fact = 'rollups'").fetchall()
    except Exception:  # a file that is not a store has no rollups
        return False
    return bool(rows) and int(rows[0][0]) == ROLLUP_VERSION


# --- enriched texts ----------------------------------------------------------------------------------

#: Enrichments written this long before the watermark are read again (late commits).
TEXT_LATE_WINDOW_US = 120 * 1_000_000


def _copy_texts(con: duckdb.DuckDBPyConnection, mark_us: int, say: Callable[[str], None]) -> int:
    """Copy enrichments written since the ``text`` watermark (microseconds since the epoch),
    replacing the store's rows of each copied enrichment; returns how many were copied."""
    from datetime import UTC, datetime

    import pyarrow as pa

    from manyi.enrichment.models import EnrichedAspect, TextEnrichment

    since = datetime.fromtimestamp(max(mark_us - TEXT_LATE_WINDOW_US, 0) / 1e6, tz=UTC)
    rows = TextEnrichment.objects.filter(enriched_at__gte=since) if mark_us else TextEnrichment.objects.all()
    copied = 0
    top = mark_us
    last_id = 0
    while True:
        batch = list(
            rows.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list(
                "pk",
                "source",
                "unit_id",
                "survey_id",
                "occurred_at",
                "lang",
                "sentiment",
                "sentiment_score",
                "enriched_at",
            )[:BATCH]
        )
        if not batch:
            break
        last_id = batch[-1][0]
        ids = [r[0] for r in batch]
        days = {r[0]: r[4].astimezone(UTC).date() for r in batch}
        texts = pa.table(
            {
                "enrichment_id": pa.array(ids, pa.int64()),
                "source": [r[1] for r in batch],
                "unit_id": pa.array([r[2] for r in batch], pa.int32()),
                "survey_id": pa.array([r[3] for r in batch], pa.int32()),
                "day": pa.array([days[r[0]] for r in batch], pa.date32()),
                "lang": [r[5] for r in batch],
                "sentiment": [r[6] for r in batch],
                "sentiment_score": pa.array([float(r[7]) for r in batch], pa.float64()),
            }
        )
        unit_of = {r[0]: (r[2], r[3]) for r in batch}
        aspects = list(
            EnrichedAspect.objects.filter(enrichment_id__in=ids)
            .order_by("pk")
            .values_list("pk", "enrichment_id", "aspect", "sentiment")
        )
        aspect_table = pa.table(
            {
                "aspect_row_id": pa.array([a[0] for a in aspects], pa.int64()),
                "enrichment_id": pa.array([a[1] for a in aspects], pa.int64()),
                "unit_id": pa.array([unit_of[a[1]][0] for a in aspects], pa.int32()),
                "survey_id": pa.array([unit_of[a[1]][1] for a in aspects], pa.int32()),
                "day": pa.array([days[a[1]] for a in aspects], pa.date32()),
                "aspect": pa.array([a[2] for a in aspects], pa.string()),
                "sentiment": pa.array([a[3] for a in aspects], pa.string()),
            }
        )
        con.register("_ids", pa.table({"enrichment_id": pa.array(ids, pa.int64())}))
        try:
            con.execute("DELETE FROM text_facts WHERE enrichment_id IN (SELECT enrichment_id FROM _ids)")
            con.execute("DELETE FROM aspect_facts WHERE enrichment_id IN (SELECT enrichment_id FROM _ids)")
        finally:
            con.unregister("_ids")
        for table, arrow in (("text_facts", texts), ("aspect_facts", aspect_table)):
            con.register("_batch", arrow)
            try:
                con.execute(f"INSERT INTO {table} SELECT * FROM _batch").fetchall()
            finally:
                con.unregister("_batch")
        copied += len(batch)
        top = max(top, *(int(r[8].timestamp() * 1_000_000) for r in batch))
        say(f"analytics: texts: {copied} enrichments copied")
    con.execute("DELETE FROM sync_state WHERE fact = 'text'")
    con.execute("INSERT INTO sync_state VALUES ('text', ?)", [top])
    return copied
