"""The engines a query runs on: the DuckDB store, or the operational database through Django."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .sql import DUCKDB, Dialect, operational_dialect

if TYPE_CHECKING:
    import duckdb


class Engine(Protocol):
    """Runs a compiled counting statement (``?`` placeholders) and returns its rows."""

    @property
    def dialect(self) -> Dialect: ...

    def fetch(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]: ...


class DuckDBEngine:
    """The analytics store, on an open DuckDB connection."""

    dialect = DUCKDB

    #: A rollup is read only when it has at most this share of the rows of the facts it replaces
    #: (sparse data, e.g. a few responses per store and day, gives rollups as long as the facts).
    WORTH = 0.5

    def __init__(self, con: duckdb.DuckDBPyConnection, *, rollups: bool | None = None) -> None:
        """``rollups``: None (default) reads a rollup where it answers a query exactly and is much
        smaller than the facts; True reads it wherever it answers the query; False never."""
        from .store import has_rollups

        self.con = con
        self.rollups = has_rollups(con) if rollups is None else rollups
        self._auto = rollups is None
        self._sizes: dict[str, int] | None = None

    def worth(self, rollup: str) -> bool:
        """Whether reading ``rollup_<rollup>`` beats the facts (always, unless choosing automatically)."""
        if not self._auto:
            return True
        if self._sizes is None:
            rows = self.con.execute("SELECT table_name, estimated_size FROM duckdb_tables()").fetchall()
            self._sizes = {str(name): int(size or 0) for name, size in rows}
        facts = self._sizes.get("responses", 0) + self._sizes.get("answers", 0)
        return self._sizes.get(f"rollup_{rollup}", 0) <= self.WORTH * facts

    def fetch(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params).fetchall()

    def fetch_columns(self, sql: str, params: list[Any]) -> list[Any]:
        """The result as NumPy columns, without a Python object per value."""
        return list(self.con.execute(sql, params).fetchnumpy().values())


@contextmanager
def store_engine(path: Path | None = None, *, rollups: bool | None = None) -> Iterator[DuckDBEngine]:
    """The DuckDB engine on the store file (read-only, under the shared access lock)."""
    from .store import read_connection

    with read_connection(path) as con:
        yield DuckDBEngine(con, rollups=rollups)


class DatabaseEngine:
    """Manyi's operational tables on a Django connection (SQLite or PostgreSQL).

    On PostgreSQL it reads the rollups kept by the store's sync (:mod:`manyi.analytics.dbrollups`)
    as :class:`DuckDBEngine` reads the store's, plus the facts above their watermark in the same
    statement, so the figures are those of the facts.
    """

    #: As :attr:`DuckDBEngine.WORTH`.
    WORTH = 0.5

    def __init__(self, using: str = "default", *, rollups: bool | None = None) -> None:
        """``rollups``: None (default) reads the rollups where they answer a query exactly, are
        built and are much smaller than the facts; True wherever built; False never."""
        from django.db import connections

        from . import dbrollups

        self.connection = connections[using]
        keeps = dbrollups.enabled(self.connection)
        from manyi.enrichment.models import EnrichedAspect, TextEnrichment
        from manyi.org.models import OrgUnit
        from manyi.responses.models import Answer, Response

        self._dialect = operational_dialect(
            self.connection.vendor,
            self.connection.ops.adapt_datetimefield_value,
            units=OrgUnit._meta.db_table,
            responses=Response._meta.db_table,
            answers=Answer._meta.db_table,
            texts=TextEnrichment._meta.db_table,
            aspects=EnrichedAspect._meta.db_table,
            rollups=dbrollups.TABLES.rollups if keeps else None,
        )
        self._auto = rollups is None
        if not keeps or rollups is False:
            self.rollups = False
        else:
            with self.connection.cursor() as cursor:
                self.rollups = dbrollups.is_built(cursor)
        self._sizes: dict[str, float] | None = None

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    def worth(self, rollup: str) -> bool:
        """Whether reading the ``rollup`` (``day``/``month``) table beats the facts, by PostgreSQL's
        row estimates (always, unless choosing automatically)."""
        from . import dbrollups

        if not self._auto:
            return True
        t = dbrollups.TABLES
        if self._sizes is None:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT relname, reltuples FROM pg_class WHERE relname IN (%s, %s, %s, %s)",
                    [t.responses, t.answers, t.day, t.month],
                )
                self._sizes = {str(name): max(float(rows), 0.0) for name, rows in cursor.fetchall()}
        facts = self._sizes.get(t.responses, 0.0) + self._sizes.get(t.answers, 0.0)
        return self._sizes.get(t.day if rollup == "day" else t.month, 0.0) <= self.WORTH * facts

    def fetch(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        if self.connection.vendor != "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute(sql.replace("?", "%s"), params)
                return list(cursor.fetchall())
        from django.db import transaction

        # These statements scan and count: PostgreSQL's JIT would spend a few hundred milliseconds
        # compiling each (their estimated cost is high) to save less; off for this statement only.
        with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(sql.replace("?", "%s"), params)
            return list(cursor.fetchall())
