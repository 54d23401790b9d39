"""A forward-only XLSX reader for workbooks too big to hold: one row in memory at a time.

python-calamine reads a whole sheet into native memory before the first row comes out, which is
fine for everyday files and not for a million rows. This reader walks the sheet's XML with expat,
keeping only the shared-string table and the cell formats, and yields rows with the same Python
types calamine gives (str, float, int, bool, datetime).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any
from xml.etree.ElementTree import iterparse

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - spreadsheet serial dates have no zone
BUILTIN_DATE_FORMATS = {*range(14, 23), *range(45, 48)}
_DATE_CODE = re.compile(r"[dmyhs]", re.I)
_COL = re.compile(r"([A-Z]+)")


def _first_sheet(zf: zipfile.ZipFile) -> str:
    rid = None
    for _ev, el in iterparse(zf.open("xl/workbook.xml")):
        if el.tag == f"{NS}sheet":
            rid = el.get(f"{REL_NS}id")
            break
    if rid:
        for _ev, el in iterparse(zf.open("xl/_rels/workbook.xml.rels")):
            if el.get("Id") == rid:
                target = el.get("Target", "")
                return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return "xl/worksheets/sheet1.xml"


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in zf.namelist():
        return []
    out: list[str] = []
    for _ev, el in iterparse(zf.open("xl/sharedStrings.xml")):
        if el.tag == f"{NS}si":
            out.append("".join(t.text or "" for t in el.iter(f"{NS}t")))
            el.clear()
    return out


def _date_styles(zf: zipfile.ZipFile) -> set[int]:
    """Indexes of cell formats that show a number as a date or time."""
    if "xl/styles.xml" not in zf.namelist():
        return set()
    custom: dict[int, str] = {}
    dates: set[int] = set()
    in_xfs = False
    index = 0
    for ev, el in iterparse(zf.open("xl/styles.xml"), events=("start", "end")):
        if ev == "start" and el.tag == f"{NS}cellXfs":
            in_xfs = True
        elif ev == "end" and el.tag == f"{NS}cellXfs":
            in_xfs = False
        elif ev == "end" and el.tag == f"{NS}numFmt":
            code = re.sub(r'"[^"]*"|\[[^\]]*\]', "", el.get("formatCode", ""))
            custom[int(el.get("numFmtId", "0"))] = code
        elif ev == "end" and in_xfs and el.tag == f"{NS}xf":
            fmt = int(el.get("numFmtId", "0"))
            if fmt in BUILTIN_DATE_FORMATS or (fmt in custom and _DATE_CODE.search(custom[fmt])):
                dates.add(index)
            index += 1
    return dates


def _col_index(ref: str) -> int:
    n = 0
    for ch in _COL.match(ref).group(1):  # type: ignore[union-attr]
        n = n * 26 + ord(ch) - 64
    return n - 1


def iter_xlsx_rows(path: str) -> Generator[list[Any]]:
    """Rows of the first sheet, padded where cells are missing; empty rows come out as []."""
    zf = zipfile.ZipFile(path)
    try:
        strings = _shared_strings(zf)
        dates = _date_styles(zf)
        expected = 1
        row: list[Any] = []
        sheet_data = None
        for ev, el in iterparse(zf.open(_first_sheet(zf)), events=("start", "end")):
            tag = el.tag
            if ev == "start":
                if tag == f"{NS}sheetData":
                    sheet_data = el
                continue
            if tag == f"{NS}c":
                ref = el.get("r")
                col = _col_index(ref) if ref else len(row)
                kind = el.get("t")
                v = el.find(f"{NS}v")
                text = v.text if v is not None else None
                value: Any
                if kind == "s":
                    value = strings[int(text)] if text is not None else ""
                elif kind == "inlineStr":
                    value = "".join(t.text or "" for t in el.iter(f"{NS}t"))
                elif kind in ("str", "e"):
                    value = text or ""
                elif kind == "b":
                    value = text == "1"
                elif text is None:
                    value = ""
                else:
                    num = float(text)
                    if int(el.get("s", "0")) in dates:
                        value = EPOCH + timedelta(milliseconds=round(num * 86_400_000))
                    else:
                        value = num  # calamine gives every number as a float too
                if col > len(row):
                    row.extend([""] * (col - len(row)))
                row.append(value)
                el.clear()
            elif tag == f"{NS}row":
                number = int(el.get("r", expected))
                while expected < number:  # rows with no cells at all
                    yield []
                    expected += 1
                yield row
                expected = number + 1
                row = []
                if sheet_data is not None:
                    sheet_data.clear()  # drop the rows already read, or the tree grows with the file
    finally:
        zf.close()
