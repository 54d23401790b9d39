"""The import loop shared by every kind: read, check each row, write valid rows in batches.

A batch is written in one transaction. If the database refuses a batch, the batch is retried one
row at a time so that one bad row costs only itself; a row and its answers are always written
together or not at all. Rows that fail a check go to the error file with row, column, value and
reason, and never stop the rows around them.
"""

from __future__ import annotations

import csv
import gc
import queue
import sys
import threading
import time
from collections.abc import Callable, KeysView
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from django.db import DatabaseError, connection, connections, transaction

from ._errors import ImportFailed, RowError
from ._mapping import load_mapping
from ._read import open_sheet

BATCH_SIZE = 10_000
FIRST_BATCH = 1_000  # the first batch is this small, and each next one twice as big up to BATCH_SIZE
SWITCH_INTERVAL = 0.0005  # seconds: how long a thread waits for the GIL before asking for it
ERROR_COLUMNS = ("row", "column", "value", "reason")
Progress = Callable[[int, int, int], None]  # (rows read, position, total) — position/total in bytes or rows


@dataclass
class ImportSummary:
    """The JSON summary of an import: ``{read, created, updated, unchanged, rejected, seconds}``."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    errors: list[RowError] = field(default_factory=list, repr=False)  # the first few, for messages

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("errors")
        d["seconds"] = round(self.seconds, 3)
        return d


@dataclass
class Written:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


class Record(Protocol):
    row: int
    key: str


class Importer(Protocol):
    """One kind of record: checks a row into a record, and writes a batch of records."""

    def check(self, row: int, cells: list[Any]) -> Record | list[RowError]: ...

    def write(self, records: list[Any], *, dry_run: bool) -> Written: ...

    # Optional: ``prepare(records) -> records`` runs on the reading thread once a batch is complete
    # and returns what ``write`` gets (the same records, perhaps sorted, perhaps carrying more).


ImporterFactory = Callable[[list[str], dict[str, str], Any], Importer]
KEEP_ERRORS = 50


def run_import(
    factory: ImporterFactory,
    path: Path,
    *,
    mapping_path: Path | None = None,
    dry_run: bool = False,
    errors_path: Path | None = None,
    user: Any = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    threaded: bool | None = None,
) -> ImportSummary:
    """Import one file; raise ImportFailed when the file as a whole cannot be read.

    Unless the caller holds a transaction (``threaded`` None), batches are written on a second
    thread with its own connection while the next batch is read and checked.
    """
    t0 = time.perf_counter()
    mapping = load_mapping(mapping_path)
    sheet = open_sheet(Path(path))
    summary = ImportSummary()
    err_file: IO[str] | None = None
    err_writer: Any = None
    roomy = _RoomySqliteCache()
    switch = sys.getswitchinterval()
    # Records hold no reference cycles, but making millions of them sets off the cyclic garbage
    # collector every few thousand: 15 % of the reading thread's time. It is off while the file
    # is read (for the whole process: the writing threads make few objects) and back on after.
    collecting = gc.isenabled()
    gc.disable()
    lock = threading.Lock()
    writer: _BatchWriter | None = None
    try:
        importer = factory(mapping.rename(sheet.header), mapping.defaults, user)
        if errors_path is not None:
            err_file = open(errors_path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            err_writer = csv.writer(err_file)
            err_writer.writerow(ERROR_COLUMNS)

        def reject(errors: list[RowError]) -> None:
            with lock:  # the reading thread and the writing thread both reject rows
                summary.rejected += 1
                if len(summary.errors) < KEEP_ERRORS:
                    summary.errors.extend(errors[: KEEP_ERRORS - len(summary.errors)])
                if err_writer is not None:
                    err_writer.writerows(errors)

        def flush(batch: list[Any]) -> None:
            for written in _write(importer, batch, dry_run):
                with lock:
                    summary.created += written.created
                    summary.updated += written.updated
                    summary.unchanged += written.unchanged
                by_row: dict[int, list[RowError]] = {}
                for e in written.errors:
                    by_row.setdefault(e.row, []).append(e)
                for errs in by_row.values():
                    reject(errs)
            if progress is not None:
                with lock:
                    progress(summary.read, sheet.position(), sheet.total)

        # Repeats are caught within a batch; a repeat in a later batch updates the earlier row like
        # a second import would, which keeps memory flat however long the file is.
        seen: dict[str, int] = {}
        batch: list[Any] = []
        # The writer can start only once the first batch is read: a small one gets it going sooner.
        limit = min(batch_size, FIRST_BATCH)
        check = importer.check
        # An importer may turn a complete batch into the form it writes while still on this thread.
        prepare: Callable[[list[Any]], list[Any]] = getattr(importer, "prepare", lambda b: b)
        writer = _BatchWriter(
            flush,
            not connection.in_atomic_block if threaded is None else threaded,
            writers=getattr(importer, "writers", 1),
        )
        if writer.threads:
            # The writing thread gives up the GIL for each statement the database runs and then
            # waits for the reading thread to hand it back: after 5 ms by default, which was a
            # quarter of the writer's time. 0.5 ms keeps it busy.
            sys.setswitchinterval(SWITCH_INTERVAL)
        for rownum, cells in sheet.rows:
            summary.read += 1
            rec = check(rownum, cells)
            if isinstance(rec, list):
                reject(rec)
                continue
            first = seen.get(rec.key)
            if first is not None:
                reject(
                    [
                        RowError(
                            rownum,
                            "external_id",
                            getattr(rec, "external_id", rec.key),
                            f"repeats row {first}",
                        )
                    ]
                )
                continue
            seen[rec.key] = rownum
            batch.append(rec)
            if len(batch) >= limit:
                writer.put(prepare(batch), seen.keys())
                limit = min(batch_size, limit * 2)
                batch = []
                seen = {}
        writer.put(prepare(batch) if batch else batch, seen.keys())
        writer.finish()
    finally:
        if writer is not None:
            writer.stop()
        sys.setswitchinterval(switch)
        if collecting:
            gc.enable()
        roomy.restore()
        sheet.close()
        if err_file is not None:
            err_file.close()
    summary.seconds = time.perf_counter() - t0
    return summary


class _BatchWriter:
    """Writes batches on other threads, each with its own connection, while the next batch is read.

    With several writing threads (PostgreSQL: the server checks and indexes two batches on two
    cores), a batch that shares a key with one still being written waits for it, so a repeat further
    down the file is still written last, and two transactions never race for the same row.
    """

    def __init__(self, flush: Callable[[list[Any]], None], threaded: bool, writers: int = 1) -> None:
        self.flush = flush
        self.threaded = threaded
        self.error: BaseException | None = None
        self.queue: queue.Queue[tuple[int, list[Any]] | None] = queue.Queue(maxsize=1)
        self.in_flight: dict[int, KeysView[str]] = {}
        self.done = threading.Condition()
        self.count = 0
        self.threads: list[threading.Thread] = []
        if threaded:
            for i in range(max(1, writers)):
                thread = threading.Thread(target=self._run, name=f"manyi-import-writer-{i}", daemon=True)
                thread.start()
                self.threads.append(thread)

    def _run(self) -> None:
        roomy = _RoomySqliteCache()  # this thread has its own connection
        try:
            while (item := self.queue.get()) is not None:
                number, batch = item
                try:
                    if self.error is None:
                        self.flush(batch)
                except BaseException as exc:  # handed to the reading thread, which re-raises it
                    self.error = exc
                finally:
                    with self.done:
                        del self.in_flight[number]
                        self.done.notify_all()
        finally:
            roomy.restore()
            connections.close_all()  # only this thread's connections

    def put(self, batch: list[Any], keys: KeysView[str]) -> None:
        if not self.threaded:
            self.flush(batch)
            return
        if self.error is not None:
            raise self.error
        with self.done:
            if len(self.threads) > 1:  # one thread writes in order anyway
                while any(not keys.isdisjoint(other) for other in self.in_flight.values()):
                    self.done.wait()
            self.count += 1
            self.in_flight[self.count] = keys
        self.queue.put((self.count, batch))

    def finish(self) -> None:
        self.stop()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        alive = [t for t in self.threads if t.is_alive()]
        for _thread in alive:
            self.queue.put(None)
        for thread in alive:
            thread.join()
        self.threads = []


class _RoomySqliteCache:
    """While the import runs on SQLite: a 32 MB page cache, so the indexes being appended to stay in
    memory, and checkpoints every WAL_CHECKPOINT_PAGES instead of every 1,000 pages, so index pages
    that every batch touches are copied into the database file (and synced) once a while, not after
    every batch."""

    def __init__(self) -> None:
        self.before: tuple[int, int] | None = None
        if connection.vendor == "sqlite":
            with connection.cursor() as cur:
                cur.execute("PRAGMA cache_size")
                cache = int(cur.fetchone()[0])
                cur.execute("PRAGMA wal_autocheckpoint")
                self.before = (cache, int(cur.fetchone()[0]))
                cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
                cur.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")

    def restore(self) -> None:
        if self.before is not None:
            with connection.cursor() as cur:
                cur.execute(f"PRAGMA cache_size={self.before[0]}")
                cur.execute(f"PRAGMA wal_autocheckpoint={self.before[1]}")
                if not connection.in_atomic_block:
                    # Copy what this import left in the WAL now, not in the next web request that commits.
                    cur.execute("PRAGMA wal_checkpoint(PASSIVE)")


WAL_CHECKPOINT_PAGES = 25_000  # 100 MB of WAL between checkpoints
CACHE_KIB = 32_768  # the writing connection's page cache while it imports


def _write(importer: Importer, batch: list[Any], dry_run: bool) -> list[Written]:
    if not batch:
        return []
    try:
        with transaction.atomic():
            return [importer.write(batch, dry_run=dry_run)]
    except DatabaseError as exc:
        if len(batch) > 1:
            return [w for rec in batch for w in _write(importer, [rec], dry_run)]
        # A single row the database refuses (a race with another writer, a value out of its range).
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        rec = batch[0]
        ext = getattr(rec, "external_id", rec.key)
        return [
            Written(errors=[RowError(rec.row, "external_id", ext, f"was refused by the database: {reason}")])
        ]


def fail_on_missing(header: list[str], defaults: dict[str, str], required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in header and c not in defaults]
    if missing:
        raise ImportFailed(
            "missing column(s): {m}; the file has: {h}".format(
                m=", ".join(missing), h=", ".join(header) or "(nothing)"
            )
        )
