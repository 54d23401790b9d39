"""Read CSV (any of UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16) and XLSX files row by row.

Rows come out as lists of cells with their row number as a spreadsheet shows it (the header is
row 1), so an error file can point at the line a person will look at. CSV is decoded as it is
read; XLSX goes through python-calamine, whose rows are converted to Python one at a time.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ._errors import ImportFailed

SAMPLE_BYTES = 1 << 20
STREAM_XLSX_BYTES = 8 << 20  # bigger workbooks are read forward-only (see _xlsx_stream)
_CHINESE = {"gb2312", "gbk", "gb18030", "hz", "hz_gb_2312", "big5", "cp936"}
csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class Sheet:
    """A tabular file opened for reading: its header, its rows, and how far reading has got."""

    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    encoding: str
    total: int  # bytes for CSV, rows for XLSX
    _position: Any = None
    _close: Any = None
    _keep: Any = None  # the text wrapper: when it is collected it closes the file under us

    def position(self) -> int:
        try:
            return int(self._position()) if self._position else 0
        except ValueError:  # closed: everything was read
            return self.total

    def close(self) -> None:
        if self._close:
            self._close()


def detect_encoding(sample: bytes) -> str:
    """The encoding of a text file from its first bytes; Chinese legacy encodings read as GB18030."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A sample cut inside a multi-byte character is still UTF-8.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    name = (best.encoding if best else "").lower()
    if not name or name in _CHINESE or name.startswith("gb"):
        # GB18030 is a superset of GBK and GB2312; check that it really reads.
        try:
            sample[: len(sample) - 4].decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            if not name:
                raise ImportFailed(
                    "cannot tell the file's text encoding; save it as UTF-8 or GB18030"
                ) from None
    return name


def open_sheet(path: Path) -> Sheet:
    """Open a CSV or XLSX file; raise ImportFailed with a reason a person can act on."""
    if not path.exists():
        raise ImportFailed(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        return _open_excel(path)
    if suffix in (".csv", ".txt", ".tsv", ""):
        return _open_csv(path)
    raise ImportFailed(f"unsupported file type {suffix!r}: use .csv or .xlsx")


def _open_csv(path: Path) -> Sheet:
    raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by Sheet.close
    sample = raw.read(SAMPLE_BYTES)
    raw.seek(0)
    encoding = detect_encoding(sample)
    text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
    first_line = sample.split(b"\n", 1)[0]
    delimiter = ","
    for cand in (b"\t", b";"):
        if first_line.count(cand) > first_line.count(b","):
            delimiter = cand.decode()
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raw.close()
        raise ImportFailed("the file is empty: expected a header row") from None
    except UnicodeDecodeError as exc:
        raw.close()
        raise ImportFailed(f"the file is not valid {encoding}: {exc.reason}") from None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        n = 1
        try:
            for row in reader:
                n += 1
                if row and any(row):
                    yield n, row
        except UnicodeDecodeError as exc:
            raise ImportFailed(
                f"row {n + 1}: the file is not valid {encoding} from here on ({exc.reason}); "
                "the rows before it were imported"
            ) from None
        except csv.Error as exc:
            raise ImportFailed(f"row {n + 1}: unreadable CSV ({exc})") from None

    return Sheet(
        header=[h.strip() for h in header],
        rows=rows(),
        encoding=encoding,
        total=os.path.getsize(path),
        _position=raw.tell,
        _close=text.close,
        _keep=text,
    )


def _open_excel(path: Path) -> Sheet:
    if path.suffix.lower() in (".xlsx", ".xlsm") and os.path.getsize(path) > STREAM_XLSX_BYTES:
        return _open_big_xlsx(path)
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_index(0)
    except (CalamineError, OSError, ValueError) as exc:
        raise ImportFailed(f"cannot read the workbook: {exc}") from None
    it = iter(sheet.iter_rows())
    try:
        header = [_cell_text(c).strip() for c in next(it)]
    except StopIteration:
        raise ImportFailed("the first sheet is empty: expected a header row") from None
    state = {"n": 1}

    def rows() -> Iterator[tuple[int, list[Any]]]:
        n = 1
        for row in it:
            n += 1
            state["n"] = n
            if any(c not in ("", None) for c in row):
                yield n, row

    return Sheet(
        header=header,
        rows=rows(),
        encoding="xlsx",
        total=int(sheet.height),
        _position=lambda: state["n"],
        _close=wb.close,
    )


def _open_big_xlsx(path: Path) -> Sheet:
    """Big workbooks: a forward-only XML reader, so memory stays flat (calamine holds the whole sheet)."""
    import zipfile
    from xml.etree.ElementTree import ParseError

    from ._xlsx_stream import iter_xlsx_rows

    it = iter_xlsx_rows(str(path))
    try:
        header = [_cell_text(c).strip() for c in next(it)]
    except StopIteration:
        raise ImportFailed("the first sheet is empty: expected a header row") from None
    except (zipfile.BadZipFile, KeyError, ParseError, ValueError) as exc:
        raise ImportFailed(f"cannot read the workbook: {exc}") from None
    state = {"n": 1}

    def rows() -> Iterator[tuple[int, list[Any]]]:
        n = 1
        try:
            for row in it:
                n += 1
                state["n"] = n
                if any(c not in ("", None) for c in row):
                    yield n, row
        except (ParseError, ValueError, KeyError) as exc:
            raise ImportFailed(f"row {n + 1}: cannot read the workbook ({exc})") from None

    return Sheet(
        header=header,
        rows=rows(),
        encoding="xlsx",
        total=0,  # unknown until the end: the progress bar counts rows
        _position=lambda: state["n"],
        _close=it.close,
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


cell_text = _cell_text
