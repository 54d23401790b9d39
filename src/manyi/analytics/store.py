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
from datetime import UTC, datetime
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
            t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
            for t in ("units", "questions", *FACTS)
        }


# --- copying -----------------------------------------------------------------------------------


def _day(ts: datetime) -> Any:
    return ts.astimezone(UTC).date()


def _copy_new(
    con: duckdb.DuckDBPyConnection, marks: dict[str, int], progress: Callable[[str], None] | None
) -> SyncReport:
    """Copy units, then every fact row with an id above its watermark, in batches; one transaction."""
    from manyi.feedback.models import FeedbackRecord
    from manyi.org.models import OrgUnit
    from manyi.responses.models import Answer, Response

    say = progress or (lambda _m: None)
    report = SyncReport()
    con.execute("BEGIN TRANSACTION")
    try:
        units = list(
            OrgUnit.objects.order_by("id").values_list("id", "parent_id", "path", "depth", "kind", "code")
        )
        con.execute("DELETE FROM units")
        if units:
            con.executemany("INSERT INTO units VALUES (?, ?, ?, ?, ?, ?)", units)
        report.units = len(units)

        questions: dict[str, int] = dict(con.execute("SELECT code, question_id FROM questions").fetchall())
        n_questions = len(questions)

        def question_id(code: str) -> int:
            qid = questions.get(code)
            if qid is None:
                qid = questions[code] = len(questions) + 1
            return qid

        report.rows["responses"] = _copy_fact(
            con,
            "responses",
            "response_id",
            Response.objects.values_list("id", "survey_id", "unit_id", "submitted_at", "nps", "csat", "ces"),
            lambda r: (r[0], r[1], r[2], _day(r[3]), r[4], r[5], r[6]),
            ["response_id", "survey_id", "unit_id", "day", "nps", "csat", "ces"],
            marks.get("responses", 0),
            say,
        )
        report.rows["answers"] = _copy_fact(
            con,
            "answers",
            "answer_id",
            Answer.objects.filter(number__isnull=False).values_list(
                "id",
                "response_id",
                "response__survey_id",
                "response__unit_id",
                "response__submitted_at",
                "question_code",
                "number",
            ),
            lambda r: (r[0], r[1], r[2], r[3], _day(r[4]), question_id(r[5]), r[6]),
            ["answer_id", "response_id", "survey_id", "unit_id", "day", "question_id", "number"],
            marks.get("answers", 0),
            say,
        )
        report.rows["feedback"] = _copy_fact(
            con,
            "feedback",
            "feedback_id",
            FeedbackRecord.objects.values_list(
                "id", "unit_id", "occurred_at", "response_id", "channel", "rating"
            ),
            lambda r: (r[0], r[1], _day(r[2]), r[3], r[4], r[5]),
            ["feedback_id", "unit_id", "day", "response_id", "channel", "rating"],
            marks.get("feedback", 0),
            say,
        )
        new_questions = sorted((qid, code) for code, qid in questions.items() if qid > n_questions)
        if new_questions:
            con.executemany("INSERT INTO questions VALUES (?, ?)", new_questions)
        report.questions = len(questions)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return report


def _copy_fact(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: str,
    rows: Any,
    convert: Callable[[tuple[Any, ...]], tuple[Any, ...]],
    columns: list[str],
    mark: int,
    say: Callable[[str], None],
) -> int:
    """Copy rows with ``id > mark − LATE_WINDOW`` that the store lacks, in id order and in batches."""
    import pyarrow as pa

    existing = (
        {
            r[0]
            for r in con.execute(
                f"SELECT {key} FROM {table} WHERE {key} > ?", [mark - LATE_WINDOW]
            ).fetchall()
        }
        if mark
        else set()
    )
    last = max(mark - LATE_WINDOW, 0) if mark else 0
    copied = 0
    top = mark
    while True:
        batch = list(rows.filter(id__gt=last).order_by("id")[:BATCH])
        if not batch:
            break
        last = batch[-1][0]
        fresh = [convert(r) for r in batch if r[0] not in existing]
        if fresh:
            arrow = pa.table({c: list(v) for c, v in zip(columns, zip(*fresh, strict=True), strict=True)})
            con.register("_batch", arrow)
            con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM _batch")
            con.unregister("_batch")
            copied += len(fresh)
            top = max(top, last)
            say(f"analytics: {table}: {copied} rows copied")
    con.execute("DELETE FROM sync_state WHERE fact = ?", [table])
    con.execute("INSERT INTO sync_state VALUES (?, ?)", [table, top])
    return copied
