"""Anomaly detection on a series of estimates: seasonality is expected, sampling noise is not news."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manyi import metrics


def weekly_cycle(weeks: int, seed: int = 3) -> tuple[list[float], list[float]]:
    """Daily NPS with a strong weekday pattern (weekends 15 points lower) and sampling noise."""
    rng = np.random.default_rng(seed)
    days = weeks * 7
    pattern = np.array([40, 42, 41, 43, 40, 25, 26], dtype=float)
    se = np.full(days, 2.0)
    values = np.tile(pattern, weeks) + rng.normal(0, 2.0, days)
    return values.tolist(), se.tolist()


def test_stl_expects_the_weekly_pattern_and_flags_only_a_real_drop() -> None:
    values, ses = weekly_cycle(8)
    values[45] -= 30  # a Wednesday collapse
    points = metrics.detect_anomalies(values, ses, season=7)
    assert {p.method for p in points} == {"stl"}
    flagged = [i for i, p in enumerate(points) if p.anomaly]
    assert flagged == [45]
    assert points[45].direction == -1 and points[45].score is not None and points[45].score < -3


def test_weekends_are_not_anomalies_when_the_season_is_known_but_are_without_it() -> None:
    values, ses = weekly_cycle(8)
    with_season = metrics.detect_anomalies(values, ses, season=7)
    without = metrics.detect_anomalies(values, ses, season=1, method="control", window=3)
    assert not any(p.anomaly for p in with_season)
    assert any(p.anomaly for p in without)


def test_control_limits_widen_with_the_standard_error() -> None:
    values = [50.0] * 6 + [35.0]
    tight = metrics.detect_anomalies(values, [2.0] * 7, method="control")
    loose = metrics.detect_anomalies(values, [8.0] * 7, method="control")
    assert tight[-1].anomaly and tight[-1].direction == -1
    assert not loose[-1].anomaly
    assert tight[0].expected is None and not tight[0].anomaly  # nothing before the first point


def test_control_chart_compares_with_the_same_season_of_earlier_cycles() -> None:
    # Two-period season: odd periods sit 20 lower. A low odd period is expected, a low even one is not.
    values = [60.0, 40.0] * 4 + [60.0, 40.0, 40.0]
    points = metrics.detect_anomalies(values, [2.0] * len(values), season=2, method="control")
    assert not points[-2].anomaly and points[-1].anomaly


def test_periods_without_a_value_are_never_anomalous() -> None:
    values, ses = weekly_cycle(6)
    values_opt: list[float | None] = list(values)
    ses_opt: list[float | None] = list(ses)
    values_opt[10] = ses_opt[10] = None
    points = metrics.detect_anomalies(values_opt, ses_opt, season=7)
    assert not points[10].anomaly and points[10].value is None and points[10].score is None


def test_a_too_short_series_falls_back_to_control_limits_on_auto_and_refuses_stl() -> None:
    values, ses = weekly_cycle(1)
    assert {p.method for p in metrics.detect_anomalies(values, ses, season=7)} == {"control"}
    with pytest.raises(ValueError, match="STL needs at least 15 points"):
        metrics.detect_anomalies(values, ses, season=7, method="stl")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"z": 0}, "z must be positive"), ({"season": 0}, "season must be at least 1")],
)
def test_bad_arguments_are_refused_with_a_reason(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        metrics.detect_anomalies([1.0, 2.0], [1.0, 1.0], **kwargs)  # type: ignore[arg-type]


def test_values_and_standard_errors_must_pair_up() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        metrics.detect_anomalies([1.0, 2.0], [1.0])


series = st.lists(st.floats(-100, 100, allow_nan=False), min_size=2, max_size=30)


@settings(max_examples=60, deadline=None)
@given(values=series, se=st.floats(0.5, 20), shift=st.floats(-50, 50, allow_nan=False))
def test_shifting_the_whole_series_changes_no_verdict(values: list[float], se: float, shift: float) -> None:
    ses = [se] * len(values)
    a = metrics.detect_anomalies(values, ses, method="control")
    b = metrics.detect_anomalies([v + shift for v in values], ses, method="control")
    assert [p.anomaly for p in a] == [p.anomaly for p in b]


@settings(max_examples=60, deadline=None)
@given(values=series, se=st.floats(0.5, 20))
def test_a_point_is_anomalous_exactly_when_it_lies_outside_its_limits(values: list[float], se: float) -> None:
    for p in metrics.detect_anomalies(values, [se] * len(values), method="control"):
        if p.expected is None or p.low is None or p.high is None or p.value is None:
            assert not p.anomaly
            continue
        assert p.low <= p.expected <= p.high
        outside = p.value < p.low or p.value > p.high
        near_edge = math.isclose(p.value, p.low, abs_tol=1e-9) or math.isclose(p.value, p.high, abs_tol=1e-9)
        assert p.anomaly == outside or near_edge
