"""Pure timing and sampling rules: send windows, quota periods, the deterministic sample."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def in_window(local: time, start: time, end: time) -> bool:
    """True when ``local`` falls inside the window; a window may run past midnight (22:00–06:00)."""
    if start == end:
        return True
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_send_time(earliest: datetime, tz: str, start: time, end: time) -> datetime:
    """The first moment at or after ``earliest`` that lies in the send window of time zone ``tz``."""
    zone = ZoneInfo(tz)
    local = earliest.astimezone(zone)
    if in_window(local.time(), start, end):
        return earliest
    opening = datetime.combine(local.date(), start, tzinfo=zone)
    if opening <= local:
        opening = datetime.combine(local.date() + timedelta(days=1), start, tzinfo=zone)
    return opening.astimezone(UTC)


def period_bounds(at: datetime, tz: str, period: str) -> tuple[datetime, datetime]:
    """The day, ISO week (from Monday) or calendar month around ``at``, in the unit's time zone, as UTC."""
    zone = ZoneInfo(tz)
    d = at.astimezone(zone).date()
    if period == "week":
        first = d - timedelta(days=d.weekday())
        after = first + timedelta(days=7)
    elif period == "month":
        first = d.replace(day=1)
        after = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    else:
        first, after = d, d + timedelta(days=1)
    return (
        datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC),
        datetime.combine(after, time(0), tzinfo=zone).astimezone(UTC),
    )


def sample_point(source: str, external_id: str, rule_code: str) -> float:
    """A number in [0, 1) fixed by the event and the rule, so a retried event is sampled the same way."""
    digest = hashlib.sha256(f"{source}\x1f{external_id}\x1f{rule_code}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def local_text(at: datetime, tz: str) -> str:
    """``2026-11-24 09:00 Asia/Shanghai``: a time as the unit reads it."""
    return f"{at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M} {tz}"
