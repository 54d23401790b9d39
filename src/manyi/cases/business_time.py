"""Business-hours arithmetic: add working time to an instant, and measure working time between two.

Pure Python (no Django): a ``Calendar`` holds working hours per weekday in a time zone, public
holidays (no work) and make-up workdays (调休: a weekend day worked like a normal weekday).
Instants are aware datetimes; results come back in UTC.

    cal = Calendar.standard("Asia/Shanghai")
    due = add_business(cal, opened_at, 4 * 3600)            # 4 business hours later
    business_seconds(cal, opened_at, due) == 4 * 3600       # always, whatever the calendar
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

__all__ = [
    "Calendar",
    "CalendarError",
    "add_business",
    "business_seconds",
    "elapsed_percent",
    "parse_hours",
    "resume_due",
]

Interval = tuple[time, time]
# A calendar with no working time in this many days is refused rather than searched for ever.
_MAX_DAYS = 800


class CalendarError(ValueError):
    """A calendar that cannot be used: bad hours, or no working time at all."""


def _parse_time(text: str) -> time:
    if text in ("24:00", "24:00:00"):
        return time.max
    try:
        return time.fromisoformat(text)
    except (TypeError, ValueError):
        raise CalendarError(f"{text!r} is not a time of day like 09:00") from None


def parse_hours(raw: Mapping[str, Iterable[Iterable[str]]]) -> dict[int, tuple[Interval, ...]]:
    """{"1": [["09:00", "18:00"]], …} (ISO weekdays) -> {1: ((09:00, 18:00),), …}, checked."""
    week: dict[int, tuple[Interval, ...]] = {d: () for d in range(1, 8)}
    for key, spans in raw.items():
        try:
            day = int(key)
        except (TypeError, ValueError):
            raise CalendarError(f"weekday {key!r} must be 1 (Monday) to 7 (Sunday)") from None
        if day not in week:
            raise CalendarError(f"weekday {key!r} must be 1 (Monday) to 7 (Sunday)")
        parsed: list[Interval] = []
        for span in spans:
            pair = list(span)
            if len(pair) != 2:
                raise CalendarError(f"weekday {day}: each span is [start, end], got {pair!r}")
            start, end = _parse_time(pair[0]), _parse_time(pair[1])
            if end <= start:
                raise CalendarError(f"weekday {day}: {pair[0]}–{pair[1]} ends before it starts")
            parsed.append((start, end))
        parsed.sort()
        for (_s1, e1), (s2, _e2) in pairwise(parsed):
            if s2 < e1:
                raise CalendarError(f"weekday {day}: working spans overlap")
        week[day] = tuple(parsed)
    return week


@dataclass(frozen=True)
class Calendar:
    """Working hours per ISO weekday in a time zone, with holidays and make-up workdays."""

    tz: str
    week: Mapping[int, tuple[Interval, ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # raises for an unknown zone
        if not any(self.week.get(d) for d in range(1, 8)) and not self.workdays:
            raise CalendarError("the calendar has no working hours on any day")

    @classmethod
    def standard(cls, tz: str = "Asia/Shanghai", **kw: frozenset[date]) -> Calendar:
        """Monday to Friday, 09:00–18:00."""
        nine_to_six = ((time(9), time(18)),)
        return cls(tz=tz, week={d: nine_to_six if d <= 5 else () for d in range(1, 8)}, **kw)

    def spans_on(self, day: date) -> tuple[Interval, ...]:
        """Working spans of a local calendar day."""
        if day in self.holidays:
            return ()
        if day in self.workdays:
            spans = self.week.get(day.isoweekday()) or ()
            if spans:
                return spans
            # A make-up workday is worked like the first working weekday (Monday, usually).
            for d in range(1, 8):
                if self.week.get(d):
                    return self.week[d]
            return ((time(9), time(18)),)
        return self.week.get(day.isoweekday()) or ()

    def _segments(self, day: date) -> list[tuple[datetime, datetime]]:
        zone = ZoneInfo(self.tz)
        out = []
        for start, end in self.spans_on(day):
            s = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
            if end == time.max:
                e = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
            else:
                e = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
            if e > s:
                out.append((s, e))
        return out

    def segments_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working segments (UTC) that end after ``instant``, clipped to start at it, in order."""
        day = instant.astimezone(ZoneInfo(self.tz)).date() - timedelta(days=1)
        idle = 0
        while True:
            found = False
            for s, e in self._segments(day):
                if e > instant:
                    found = True
                    yield max(s, instant), e
            idle = 0 if found else idle + 1
            if idle > _MAX_DAYS:
                raise CalendarError(f"no working time within {_MAX_DAYS} days of {instant:%Y-%m-%d}")
            day += timedelta(days=1)

    def segments_before(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working segments (UTC) that start before ``instant``, clipped to end at it, newest first."""
        day = instant.astimezone(ZoneInfo(self.tz)).date() + timedelta(days=1)
        idle = 0
        while True:
            found = False
            for s, e in reversed(self._segments(day)):
                if s < instant:
                    found = True
                    yield s, min(e, instant)
            idle = 0 if found else idle + 1
            if idle > _MAX_DAYS:
                raise CalendarError(f"no working time within {_MAX_DAYS} days of {instant:%Y-%m-%d}")
            day -= timedelta(days=1)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("business-time arithmetic needs aware datetimes")
    return instant.astimezone(UTC)


def add_business(cal: Calendar, start: datetime, seconds: float) -> datetime:
    """The instant ``seconds`` of working time after ``start`` (before it, when negative).

    Zero from outside working hours stays where it is; a positive amount is counted from the next
    working moment, so a case opened on Saturday with 4 h due is due Monday 13:00.
    """
    start = _aware(start)
    if seconds == 0:
        return start
    if seconds > 0:
        left = float(seconds)
        for s, e in cal.segments_from(start):
            length = (e - s).total_seconds()
            if left <= length:
                return s + timedelta(seconds=left)
            left -= length
    else:
        left = -float(seconds)
        for s, e in cal.segments_before(start):
            length = (e - s).total_seconds()
            if left <= length:
                return e - timedelta(seconds=left)
            left -= length
    raise AssertionError("unreachable: the segment generators never end")  # pragma: no cover


def business_seconds(cal: Calendar, start: datetime, end: datetime) -> float:
    """Working seconds between two instants; negative when ``end`` is before ``start``."""
    start, end = _aware(start), _aware(end)
    if end < start:
        return -business_seconds(cal, end, start)
    total = 0.0
    for s, e in cal.segments_from(start):
        if s >= end:
            break
        total += (min(e, end) - s).total_seconds()
    return total


def elapsed_percent(cal: Calendar, now: datetime, due: datetime, target_seconds: float) -> float:
    """How much of a target is used at ``now``, in percent, given the instant it falls due.

    100 at ``due``; 50 when half the target's working time is left; 150 when half a target past it.
    """
    if target_seconds <= 0:
        return 100.0 if now >= due else 0.0
    remaining = business_seconds(cal, now, due)
    return 100.0 * (1.0 - remaining / target_seconds)


def resume_due(cal: Calendar, due: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
    """Where a due instant moves after the clock was stopped from ``paused_at`` to ``resumed_at``.

    The working time that was left when the clock stopped is left again when it restarts; a due
    instant already passed when the clock stopped moves by the working time of the pause.
    """
    left = business_seconds(cal, paused_at, due)
    if left >= 0:
        return add_business(cal, resumed_at, left)
    return add_business(cal, due, business_seconds(cal, paused_at, resumed_at))
