"""Appending many rows at once, without model instances: COPY on PostgreSQL, multi-row VALUES on SQLite.

Both take rows that the reading thread has already put in the form the database reads, so the
writing thread only adds the ids it allocated and hands the batch over:

- PostgreSQL: lines of COPY's text format (:func:`copy_text` escapes a field), sent in a few large
  writes.
- SQLite: one flat list of values bound to ``INSERT … SELECT * FROM (VALUES (…), (…), …)``
  statements of :data:`VALUES_PARAMS` parameters each. Binding is done in C and SQLite runs the statement
  without Python's GIL, so the reading thread keeps checking rows meanwhile. (Rows given as one
  JSON array read back with ``json_each`` cost twice as much: SQLite before 3.45 parses a row's
  JSON again for each ``->>``.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from django.db import connection

NULL = "\\N"  # COPY's text format
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
VALUES_PARAMS = 32_000  # parameters per SQLite statement (the default limit is 32,766)
COPY_LINES = 1000  # lines per write to the COPY stream


def copy_text(value: str) -> str:
    """A string as a field of COPY's text format: backslash, tab and line breaks escaped."""
    return value.translate(_COPY_ESCAPES)


def copy_num(value: float | None) -> str:
    return NULL if value is None else repr(value)


def insert_copy(table: str, cols: tuple[str, ...], lines: Iterable[str]) -> None:
    """PostgreSQL: append the rows given as lines of COPY text (each ending in a line break)."""
    qn = connection.ops.quote_name
    names = ", ".join(qn(col) for col in cols)
    with (
        connection.cursor() as cur,
        connection.wrap_database_errors,
        cur.cursor.copy(f"COPY {qn(table)} ({names}) FROM STDIN") as copy,
    ):
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= COPY_LINES:
                copy.write("".join(chunk))
                chunk = []
        if chunk:
            copy.write("".join(chunk))


def insert_values(table: str, cols: tuple[str, ...], flat: list[Any], *, offset: int | None = None) -> None:
    """SQLite: append the rows given as one flat list of values, ``len(cols)`` per row; with
    ``offset``, the first column of each row is written plus ``offset``.

    Every statement has the same shape, the last one padded with rows of NULLs that its WHERE
    leaves out (the first column, an id, is never NULL): sqlite3 keeps each prepared statement
    of another shape in its cache, about 3 MB for one of 6,000 rows, and the last part of a
    batch has another length each time.
    """
    width = len(cols)
    if len(flat) % width:
        raise ValueError(f"{len(flat)} values do not make rows of {width}")
    qn = connection.ops.quote_name
    step = max(1, VALUES_PARAMS // width) * width
    picked = (
        "*" if offset is None else ", ".join(["column1 + ?", *(f"column{i}" for i in range(2, width + 1))])
    )
    sql = (
        f"INSERT INTO {qn(table)} ({', '.join(qn(col) for col in cols)}) SELECT {picked} "
        f"FROM (VALUES {','.join(['(' + ','.join('?' * width) + ')'] * (step // width))}) "
        "WHERE column1 IS NOT NULL"
    )
    with connection.cursor() as cur, connection.wrap_database_errors:
        # sqlite3's own execute: "?" marks as they are, not Django's rewriting of a long statement.
        execute = sqlite3.Cursor.execute
        for lo in range(0, len(flat), step):
            part = flat[lo : lo + step]
            if len(part) < step:
                part = part + [None] * (step - len(part))
            execute(cur.cursor, sql, part if offset is None else [offset, *part])
