"""Business-hours arithmetic (pure): properties with Hypothesis, and the Chinese holiday calendar."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manyi.cases.business_time import (
    Calendar,
    CalendarError,
    add_business,
    business_seconds,
    elapsed_percent,
    parse_hours,
    resume_due,
)

SH = ZoneInfo("Asia/Shanghai")
HOLIDAYS_2026 = frozenset(date(2026, 2, 15) + timedelta(days=i) for i in range(9))
WORKDAYS_2026 = frozenset({date(2026, 2, 14), date(2026, 2, 28)})

CALENDARS = [
    Calendar.standard("Asia/Shanghai"),
    Calendar.standard("Asia/Shanghai", holidays=HOLIDAYS_2026, workdays=WORKDAYS_2026),
    # Split shifts, a weekend half day, in a zone with daylight saving time.
    Calendar(
        tz="Europe/Berlin",
        week=parse_hours(
            {
                "1": [["08:00", "12:00"], ["13:00", "17:30"]],
                "3": [["10:00", "22:00"]],
                "6": [["09:00", "13:00"]],
            }
        ),
    ),
    # A store open every day until midnight.
    Calendar(tz="Asia/Urumqi", week=parse_hours({str(d): [["10:00", "24:00"]] for d in range(1, 8)})),
]

# Hypothesis wants naive bounds and attaches the time zone itself.
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
durations = st.integers(min_value=0, max_value=400 * 3600)
calendars = st.sampled_from(CALENDARS)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@settings(max_examples=150, deadline=None)
@given(cal=calendars, start=instants, seconds=durations)
def test_adding_business_time_then_measuring_it_gives_the_duration_back(cal, start, seconds):
    end = add_business(cal, start, seconds)
    assert business_seconds(cal, start, end) == pytest.approx(seconds, abs=1e-3)


@settings(max_examples=150, deadline=None)
@given(cal=calendars, start=instants, a=durations, b=durations)
def test_adding_more_business_time_never_lands_earlier(cal, start, a, b):
    lo, hi = sorted((a, b))
    assert add_business(cal, start, lo) <= add_business(cal, start, hi)


@settings(max_examples=150, deadline=None)
@given(cal=calendars, a=instants, b=instants, c=instants)
def test_business_time_between_instants_adds_up(cal, a, b, c):
    a, b, c = sorted((a, b, c))
    total = business_seconds(cal, a, b) + business_seconds(cal, b, c)
    assert business_seconds(cal, a, c) == pytest.approx(total, abs=1e-3)
    assert 0 <= business_seconds(cal, a, c) <= (c - a).total_seconds()


@settings(max_examples=150, deadline=None)
@given(cal=calendars, start=instants, seconds=durations)
def test_going_back_measures_the_same_time_as_going_forward(cal, start, seconds):
    earlier = add_business(cal, start, -seconds)
    assert earlier <= start
    assert business_seconds(cal, earlier, start) == pytest.approx(seconds, abs=1e-3)


@settings(max_examples=150, deadline=None)
@given(
    cal=calendars,
    opened=instants,
    target=st.integers(3600, 200 * 3600),
    pause_at=durations,
    pause_len=durations,
)
def test_a_pause_leaves_the_remaining_working_time_unchanged(cal, opened, target, pause_at, pause_len):
    due = add_business(cal, opened, target)
    paused = opened + timedelta(seconds=pause_at)
    resumed = paused + timedelta(seconds=pause_len)
    new_due = resume_due(cal, due, paused, resumed)
    assert new_due >= due
    if paused <= due:
        # The working time left when the clock stopped is left when it restarts.
        left = business_seconds(cal, paused, due)
        assert business_seconds(cal, resumed, new_due) == pytest.approx(left, abs=1e-3)
    # Working time from opening to the new due instant, less the pause, is still the target.
    used = business_seconds(cal, opened, new_due) - business_seconds(cal, paused, resumed)
    assert used == pytest.approx(target, abs=1e-3)


@settings(max_examples=100, deadline=None)
@given(
    cal=calendars,
    opened=instants,
    target=st.integers(3600, 100 * 3600),
    level=st.sampled_from([50, 100, 150]),
)
def test_the_escalation_step_instant_is_at_its_percent_of_the_target(cal, opened, target, level):
    due = add_business(cal, opened, target)
    step = add_business(cal, due, (level - 100) / 100 * target)
    assert elapsed_percent(cal, step, due, target) == pytest.approx(level, abs=1e-6)


def test_four_business_hours_from_friday_afternoon_are_due_monday_morning():
    cal = Calendar.standard()
    assert add_business(cal, at(2026, 11, 20, 16), 4 * 3600) == at(2026, 11, 23, 11)


def test_a_case_opened_on_saturday_is_counted_from_monday_nine():
    cal = Calendar.standard()
    assert add_business(cal, at(2026, 11, 21, 10), 4 * 3600) == at(2026, 11, 23, 13)


def test_spring_festival_stops_the_clock_and_the_make_up_saturday_runs_it():
    cal = Calendar.standard(holidays=HOLIDAYS_2026, workdays=WORKDAYS_2026)
    # Friday 13 Feb 2026, 17:00, 2 h left: 1 h on Friday, then Saturday 14 Feb is a make-up workday.
    assert add_business(cal, at(2026, 2, 13, 17), 2 * 3600) == at(2026, 2, 14, 10)
    # From the make-up Saturday's end, the next working hour is Tuesday 24 Feb (15–23 are holidays).
    assert add_business(cal, at(2026, 2, 14, 18), 3600) == at(2026, 2, 24, 10)
    assert business_seconds(cal, at(2026, 2, 15), at(2026, 2, 24)) == 0


def test_hours_until_midnight_are_written_as_24_00():
    cal = Calendar(tz="Asia/Shanghai", week=parse_hours({"1": [["22:00", "24:00"]]}))
    assert add_business(cal, at(2026, 11, 23, 0), 2 * 3600) == at(2026, 11, 24, 0)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"8": [["09:00", "18:00"]]}, "weekday '8' must be 1 (Monday) to 7 (Sunday)"),
        ({"1": [["18:00", "09:00"]]}, "ends before it starts"),
        ({"1": [["9am", "18:00"]]}, "'9am' is not a time of day"),
        ({"1": [["09:00", "13:00"], ["12:00", "18:00"]]}, "working spans overlap"),
        ({"1": [["09:00"]]}, "each span is [start, end]"),
    ],
)
def test_bad_working_hours_are_refused_with_the_exact_problem(hours, message):
    with pytest.raises(CalendarError, match=re.escape(message)):
        parse_hours(hours)


def test_a_calendar_without_any_working_hours_is_refused():
    with pytest.raises(CalendarError, match="no working hours"):
        Calendar(tz="Asia/Shanghai", week=parse_hours({}))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_business(Calendar.standard(), datetime(2026, 1, 5, 9), 60)  # noqa: DTZ001


def test_the_module_imports_nothing_from_django():
    import ast
    from pathlib import Path

    import manyi.cases.business_time as bt

    tree = ast.parse(Path(bt.__file__).read_text())
    names = [
        n.module if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in (n.names if isinstance(n, ast.Import) else [n])  # type: ignore[attr-defined]
    ]
    assert not [n for n in names if n and (n.startswith("django") or n.startswith("manyi"))]


def test_working_spans_are_local_wall_clock_times():
    cal = Calendar.standard("Asia/Urumqi")  # UTC+6
    start = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 09:00 in Urumqi
    assert add_business(cal, start, 3600) == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert time(9) == start.astimezone(ZoneInfo("Asia/Urumqi")).time()
