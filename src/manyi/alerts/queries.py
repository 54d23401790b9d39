"""Reads: alerts and rules a person may see, alerts as plain data, and a unit's trend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet

from .models import Alert, AlertRule


def visible_alerts(user: Any, *, status: str = "", unit_code: str = "") -> QuerySet[Alert]:
    """Alerts under the units the user may read (``user=None``: every alert, for the command line)."""
    qs = Alert.objects.all() if user is None else Alert.objects.visible_to(user)
    if status:
        qs = qs.filter(status=status)
    if unit_code:
        qs = qs.filter(unit__code=unit_code)
    return qs.select_related("rule", "unit").order_by("-created_at", "-id")


def visible_rules(user: Any) -> QuerySet[AlertRule]:
    qs = AlertRule.objects.all() if user is None else AlertRule.objects.visible_to(user)
    return qs.select_related("unit").order_by("id")


def alert_as_dict(alert: Alert) -> dict[str, Any]:
    """The JSON shape of ``manyi alerts list --format json`` (documented in docs/cli.md)."""
    return {
        "id": alert.pk,
        "rule_id": alert.rule_id,
        "rule": alert.rule.name,
        "condition": alert.rule.condition,
        "period": alert.rule.period,
        "unit": alert.unit.code,
        "unit_id": alert.unit_id,
        "metric": alert.metric,
        "period_start": alert.period_start.isoformat(),
        "period_end": alert.period_end.isoformat(),
        "n": alert.n,
        "value": alert.value,
        "ci_low": alert.ci_low,
        "ci_high": alert.ci_high,
        "previous_value": alert.previous_value,
        "delta": alert.delta,
        "p_value": alert.p_value,
        "expected": alert.expected,
        "status": alert.status,
        "message": alert.message,
        "created_at": alert.created_at.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class TrendRow:
    """One period of a unit's series: its estimate and the anomaly verdict on it."""

    period: str
    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    expected: float | None
    low: float | None
    high: float | None
    anomaly: bool
    direction: int


def unit_trend(
    *,
    unit_path: str,
    metric: str,
    period: str,
    date_from: date,
    date_to: date,
    scope: list[str] | None,
    engine: Any,
    season: int | None = None,
) -> list[TrendRow]:
    """A unit's metric per day or month from ``date_from`` to ``date_to``, every period present
    (``n = 0`` where there were no responses), each judged by :func:`manyi.metrics.detect_anomalies`
    (season 7 for days, 12 for months unless given). ``scope`` is the reader's, as for every query."""
    from manyi.analytics import Filters, MetricQuery, run
    from manyi.metrics import detect_anomalies

    from .actions import _periods

    if period not in ("day", "month"):
        raise ValueError(f"period must be day or month, got {period!r}")
    query = MetricQuery(
        metric,  # type: ignore[arg-type]
        filters=Filters(date_from=date_from, date_to=date_to, units=(unit_path,)),
        period=period,  # type: ignore[arg-type]
    )
    by_period = {row.period: row.estimate for row in run(query, engine, scope=scope).rows}
    labels = _periods(period, date_from, date_to)
    estimates = [by_period.get(p) for p in labels]
    points = detect_anomalies(
        [getattr(e, "value", None) for e in estimates],
        [getattr(e, "se", None) for e in estimates],
        season=season or (7 if period == "day" else 12),
    )
    return [
        TrendRow(
            period=label,
            n=e.n if e is not None else 0,
            value=getattr(e, "value", None),
            ci_low=getattr(e, "ci_low", None),
            ci_high=getattr(e, "ci_high", None),
            expected=p.expected,
            low=p.low,
            high=p.high,
            anomaly=p.anomaly,
            direction=p.direction,
        )
        for label, e, p in zip(labels, estimates, points, strict=True)
    ]
