"""The analytics store: an embedded DuckDB file with a columnar copy of the response facts.

The operational database stays the source of truth. The store holds, keyed by integers:

- ``units``: the org-unit dimension with its materialised ``path`` (``/1/4/17/``) and ``kind``, for
  scoping and roll-ups by path prefix (rewritten whole on every sync: it is small);
- ``questions``: question codes as small integers;
- ``responses``: one row per response with its headline ``nps``/``csat``/``ces`` scores;
- ``answers``: one row per numeric answer, denormalised with the response's unit, survey and day;
- ``feedback``: one row per feedback record with its rating;
- ``sync_state``: the highest operational id copied per fact table (the watermark).

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
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
"""


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
    seconds: float = 0.0
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "rows": dict(self.rows),
            "units": self.units,
            "questions": self.questions,
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
            report = _copy_new(con, {}, progress)
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

    Creates the store when it does not exist. Rows changed or deleted in the operational database
    after they were copied are only picked up by :func:`rebuild`.
    """
    path = path or default_path()
    t0 = time.monotonic()
    with _flock(_lock_path(path, "write"), exclusive=True), _write_connection(path) as con:
        marks = dict(con.execute("SELECT fact, last_id FROM sync_state").fetchall())
        report = _copy_new(con, marks, progress)
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
            for t in ("units", "questions", *FACTS)
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
    con: duckdb.DuckDBPyConnection, marks: dict[str, int], progress: Callable[[str], None] | None
) -> SyncReport:
    """Copy units, then every fact row with an id above its watermark, in batches; one transaction.

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
        for fact in _facts(engine.dialect.day):
            report.rows[fact.table] = _copy_fact(con, engine, fact, marks.get(fact.table, 0), say)
        report.questions = int(con.execute("SELECT count(*) FROM questions").fetchall()[0][0])
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
