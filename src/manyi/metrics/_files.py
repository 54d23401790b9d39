"""Reading survey exports for ``manyi metrics``: CSV in any common encoding, XLSX/XLS/ODS, Parquet.

Cells are read as they are: CSV fields as text, spreadsheet cells as their typed values, Parquet
columns in their own types. Turning them into numbers and dates happens in ``cli`` with one problem
reported per bad cell, so nothing is coerced silently here.

Row numbers are the ones a person looks up: for CSV and spreadsheets the line or sheet row, the
header being row 1 (so the first data row is row 2); for Parquet the 1-based record number.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd


class FileProblem(Exception):
    """A file that cannot be read as asked; the message is meant for the person running the command."""


@dataclass(frozen=True, slots=True)
class Table:
    frame: pd.DataFrame  # only the requested columns, in the file's row order
    columns: list[str]  # every column the file has
    row_numbers: npt.NDArray[np.int64]  # the row number to show for each row of ``frame``
    kind: str  # "csv", "xlsx" or "parquet"
    encoding: str | None = None  # for CSV: the encoding it was read in


def read_table(path: Path, needed: list[str]) -> Table:
    data_head = path.open("rb").read(8)
    if data_head.startswith(b"PAR1") or path.suffix.lower() in {".parquet", ".pq"}:
        return _read_parquet(path, needed)
    if data_head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) or path.suffix.lower() in {
        ".xlsx",
        ".xlsm",
        ".xls",
        ".xlsb",
        ".ods",
    }:
        return _read_spreadsheet(path, needed)
    return _read_csv(path, needed)


def _missing_columns(needed: list[str], available: list[str]) -> None:
    absent = [c for c in dict.fromkeys(needed) if c not in available]
    if absent:
        listing = ", ".join(f"`{c}`" for c in available) or "none"
        what = "column" if len(absent) == 1 else "columns"
        names = ", ".join(f"`{c}`" for c in absent)
        raise FileProblem(f"{what} {names} not found; the file has {listing}")


# --- CSV ---------------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """Text and the name of its encoding.

    A byte-order mark decides (UTF-8, UTF-16); then strict UTF-8; then GB18030, the superset of GBK
    and GB2312 that Chinese Excel and WPS exports use, when the bytes are valid GB18030; then
    whatever charset-normalizer finds most likely. GB18030 goes before detection because detection
    guesses poorly on short Chinese files (it takes GBK for Big5).
    """
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(name), name
    for name in ("utf-8", "gb18030"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise FileProblem("cannot tell the text encoding of the file; save it as UTF-8 and try again")
    return str(best), best.encoding


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_csv(path: Path, needed: list[str]) -> Table:
    text, encoding = decode(path.read_bytes())
    first_line = text.split("\n", 1)[0]
    sep = _delimiter(first_line)
    header = next(csv.reader([first_line], delimiter=sep), [])
    columns = [c.strip() for c in header]
    _missing_columns(needed, columns)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            header=0,
            names=columns,
            usecols=list(dict.fromkeys(needed)),
            engine="c",
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise FileProblem(f"cannot read the file as CSV: {exc}") from exc
    rows = np.arange(len(frame), dtype=np.int64) + 2
    blank = np.ones(len(frame), dtype=bool)
    for c in frame.columns:
        blank &= frame[c].str.strip().eq("").to_numpy()
    if blank.any():  # empty lines are layout, not data
        frame, rows = frame.loc[~blank].reset_index(drop=True), rows[~blank]
    return Table(frame, columns, rows, "csv", encoding)


# --- spreadsheets --------------------------------------------------------------------------------


def _read_spreadsheet(path: Path, needed: list[str]) -> Table:
    import python_calamine

    try:
        sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        cells = sheet.to_python(skip_empty_area=True)
    except Exception as exc:  # calamine raises its own zoo of errors for damaged files
        raise FileProblem(f"cannot read the file as a spreadsheet: {exc}") from exc
    if not cells:
        raise FileProblem("the first sheet of the spreadsheet is empty")
    first_row = sheet.start[0] + 1 if sheet.start else 1  # 1-based sheet row of the header
    columns = [_header(v) for v in cells[0]]
    _missing_columns(needed, columns)
    body = cells[1:]
    wanted = list(dict.fromkeys(needed))
    index = {c: columns.index(c) for c in wanted}
    frame = pd.DataFrame(
        {
            c: pd.Series([_cell(r[i]) if i < len(r) else None for r in body], dtype=object)
            for c, i in index.items()
        }
    )
    rows = np.arange(len(body), dtype=np.int64) + first_row + 1
    if len(frame):
        blank = frame.isna().all(axis=1).to_numpy()
        if blank.any():
            frame, rows = frame.loc[~blank].reset_index(drop=True), rows[~blank]
    return Table(frame, columns, rows, "xlsx")


def _header(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _cell(v: Any) -> Any:
    """Spreadsheet cell → value: blank text becomes missing, whole floats become ints."""
    if isinstance(v, str):
        return v if v.strip() else None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


# --- Parquet --------------------------------------------------------------------------------------


def _read_parquet(path: Path, needed: list[str]) -> Table:
    import pyarrow.parquet as pq

    try:
        columns = list(pq.read_schema(path).names)
        _missing_columns(needed, columns)
        frame = pq.read_table(path, columns=list(dict.fromkeys(needed))).to_pandas()
    except FileProblem:
        raise
    except Exception as exc:
        raise FileProblem(f"cannot read the file as Parquet: {exc}") from exc
    return Table(frame.reset_index(drop=True), columns, np.arange(len(frame), dtype=np.int64) + 1, "parquet")
