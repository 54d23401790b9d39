"""Dates and times in the formats people's systems write them, or a clear reason why not.

Accepted: ISO 8601 (``2026-11-03``, ``2026-11-03 14:05``, ``2026-11-03T14:05:00+08:00``, ``…Z``),
``2026/11/03 14:05``, ``2026.11.03``, ``2026年11月3日 14:05``, Excel date cells, and day-first or
month-first dates (``03/11/2026``) only when the day is over 12 so that the order is certain.
A time without a zone is in the org unit's time zone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ._errors import Reject

_YMD = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2})[:时點点](\d{1,2})(?:[:分](\d{1,2})(?:\.(\d{1,6}))?)?秒?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_DMY = re.compile(
    r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
EXAMPLE = "2026-11-03 14:05 or 2026-11-03T14:05:00+08:00"


def parse_when(value: object, tz: ZoneInfo) -> datetime:
    """An aware datetime from a cell; naive values are taken to be in ``tz``; Reject otherwise."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=tz)
    if isinstance(value, (int, float)):
        raise Reject(f"must be a date and time such as {EXAMPLE}")
    text = str(value).strip()
    if not text:
        raise Reject("is required")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        dt = _parse_other(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


def _parse_other(text: str) -> datetime:
    m = _YMD.match(text)
    if m:
        y, mo, d, hh, mi, ss, frac, zone = m.groups()
        return _build(int(y), int(mo), int(d), hh, mi, ss, frac, zone)
    m = _DMY.match(text)
    if m:
        a, b, y, hh, mi, ss, zone = m.groups()
        first, second = int(a), int(b)
        if first > 12 and second > 12:
            raise Reject(
                f"is not a real date (neither {first} nor {second} is a month); write it as {EXAMPLE}"
            )
        if first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first:
            day, month = second, first
        elif first == second:
            day = month = first
        else:
            raise Reject(f"is ambiguous (day and month could be either way round); write it as {EXAMPLE}")
        return _build(int(y), month, day, hh, mi, ss, None, zone)
    raise Reject(f"is not a date and time; expected e.g. {EXAMPLE}")


def _build(
    y: int,
    mo: int,
    d: int,
    hh: str | None,
    mi: str | None,
    ss: str | None,
    frac: str | None,
    zone: str | None,
) -> datetime:
    try:
        micro = int((frac or "0").ljust(6, "0")) if frac else 0
        dt = datetime(y, mo, d, int(hh or 0), int(mi or 0), int(ss or 0), micro)  # noqa: DTZ001 - zone added below
    except ValueError as exc:
        raise Reject(f"is not a real date and time ({exc})") from None
    if zone:
        from datetime import timezone as dt_timezone

        if zone == "Z":
            return dt.replace(tzinfo=UTC)
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return dt.replace(tzinfo=dt_timezone(sign * offset))
    return dt
