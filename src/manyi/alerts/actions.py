"""Writes for alert rules and alerts: create a rule, evaluate every rule, acknowledge an alert.

Evaluation reads the analytics store through the one runner (the operational database when no
store has been built yet) and writes each finding once: an alert is unique per rule, unit and
period, so running the evaluation again, or after a crash, adds nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.org.models import OrgUnit

from .choices import AlertCondition, AlertLevel, AlertMetric, AlertPeriod, AlertStatus
from .models import Alert, AlertRule

log = logging.getLogger(__name__)

#: The notification event an alert raises (the notifications app's event for a matched rule).
ALERT_EVENT = "rule.matched"
#: How far back the anomaly condition looks, and the season it expects, per period.
ANOMALY_HISTORY = {AlertPeriod.DAY: (56, 7), AlertPeriod.MONTH: (36, 12)}


class AlertRuleError(ValueError):
    """A rule that cannot be evaluated as given; the message says which field and why."""


def period_window(period: str, today: date) -> tuple[date, date]:
    """The last complete day, ISO week (Monday–Sunday) or calendar month before ``today`` (UTC)."""
    if period == AlertPeriod.DAY:
        day = today - timedelta(days=1)
        return day, day
    if period == AlertPeriod.WEEK:
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if period == AlertPeriod.MONTH:
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    raise AlertRuleError(f"period must be one of {', '.join(AlertPeriod.values)}, got {period!r}")


def _check_rule(
    *,
    metric: str,
    condition: str,
    period: str,
    level: str,
    threshold: float | None,
    min_n: int,
    confidence: float,
) -> None:
    if metric not in AlertMetric.values:
        raise AlertRuleError(f"metric must be one of {', '.join(AlertMetric.values)}, got {metric!r}")
    if condition not in AlertCondition.values:
        raise AlertRuleError(
            f"condition must be one of {', '.join(AlertCondition.values)}, got {condition!r}"
        )
    if period not in AlertPeriod.values:
        raise AlertRuleError(f"period must be one of {', '.join(AlertPeriod.values)}, got {period!r}")
    if level not in AlertLevel.values:
        raise AlertRuleError(
            f"level must be one of {', '.join(v or '(empty)' for v in AlertLevel.values)}, got {level!r}"
        )
    if condition == AlertCondition.BELOW and threshold is None:
        raise AlertRuleError(
            "condition 'below' needs a threshold (NPS points, CSAT percent or CES scale units)"
        )
    if condition == AlertCondition.ANOMALY and period not in ANOMALY_HISTORY:
        raise AlertRuleError("condition 'anomaly' judges a day or a month; use period day or month")
    if min_n < 1:
        raise AlertRuleError(f"min_n must be at least 1, got {min_n}")
    if not 0.5 <= confidence < 1:
        raise AlertRuleError(f"confidence must be in [0.5, 1), got {confidence}")


def do_create_alert_rule(
    *,
    name: str,
    metric: str,
    unit: OrgUnit,
    condition: str,
    period: str = AlertPeriod.WEEK,
    level: str = AlertLevel.SELF,
    threshold: float | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
    created_by: Any = None,
) -> AlertRule:
    """Validate and store a rule; raises :class:`AlertRuleError` naming the field at fault."""
    _check_rule(
        metric=metric,
        condition=condition,
        period=period,
        level=level,
        threshold=threshold,
        min_n=min_n,
        confidence=confidence,
    )
    if not name.strip():
        raise AlertRuleError("name must not be empty")
    return AlertRule.objects.create(
        name=name.strip(),
        metric=metric,
        unit=unit,
        condition=condition,
        period=period,
        level=level,
        threshold=threshold,
        min_n=min_n,
        confidence=confidence,
        created_by=created_by,
    )


def do_acknowledge_alert(alert: Alert) -> Alert:
    """Mark an alert as seen by someone responsible."""
    if alert.status != AlertStatus.ACKNOWLEDGED:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.save(update_fields=["status"])
    return alert


# --- evaluation --------------------------------------------------------------------------------------


@dataclass
class EvaluationReport:
    """What one evaluation did: rules evaluated, alerts created, and rules that failed (with why)."""

    rules: int = 0
    created: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"rules": self.rules, "created": list(self.created), "errors": dict(self.errors)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One unit that meets a rule's condition in a period, with the figures that show it."""

    unit_id: int
    n: int
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    previous_value: float | None = None
    delta: float | None = None
    p_value: float | None = None
    expected: float | None = None


@contextmanager
def analytics_engine() -> Iterator[Any]:
    """The store when it has been built, else the operational database (same queries, same figures)."""
    from manyi.analytics import DatabaseEngine, store_engine
    from manyi.analytics.store import default_path

    if default_path().exists():
        with store_engine() as engine:
            yield engine
    else:
        yield DatabaseEngine()


def _group(rule: AlertRule) -> tuple[Any, ...]:
    return (rule.level,) if rule.level else ()


def _unit_of(rule: AlertRule, group: dict[str, Any]) -> int:
    return int(group[rule.level]) if rule.level else int(rule.unit_id)


def _findings(rule: AlertRule, engine: Any, start: date, end: date) -> list[Finding]:
    from manyi.analytics import Filters, MetricQuery, run

    units = (rule.unit.path,)
    if rule.condition == AlertCondition.ANOMALY:
        return _anomalies(rule, engine, start, end)
    query = MetricQuery(
        rule.metric,  # type: ignore[arg-type]
        filters=Filters(date_from=start, date_to=end, units=units),
        group_by=_group(rule),
        compare_previous=rule.condition == AlertCondition.DROP,
        confidence=rule.confidence,
        min_n=rule.min_n,
    )
    out = []
    for row in run(query, engine, scope=None).rows:
        est = row.estimate
        if rule.condition == AlertCondition.DROP:
            c = row.comparison
            if c is None or c.delta is None or c.suppressed or not c.significant or c.delta >= 0:
                continue
            out.append(
                Finding(
                    _unit_of(rule, row.group),
                    est.n,
                    est.value,
                    est.ci_low,
                    est.ci_high,
                    c.b.value,
                    c.delta,
                    c.p_value,
                )
            )
        elif est.value is not None and est.n >= rule.min_n and est.value < float(rule.threshold or 0):
            out.append(Finding(_unit_of(rule, row.group), est.n, est.value, est.ci_low, est.ci_high))
    return out


def _periods(period: str, start: date, end: date) -> list[str]:
    """The labels the runner gives the day or month buckets from ``start`` to ``end``."""
    labels = []
    if period == AlertPeriod.DAY:
        day = start
        while day <= end:
            labels.append(day.isoformat())
            day += timedelta(days=1)
        return labels
    month = start.replace(day=1)
    while month <= end:
        labels.append(f"{month.year:04d}-{month.month:02d}")
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return labels


def _anomalies(rule: AlertRule, engine: Any, start: date, end: date) -> list[Finding]:
    from manyi.analytics import Filters, MetricQuery, run
    from manyi.metrics import detect_anomalies

    history, season = ANOMALY_HISTORY[AlertPeriod(rule.period)]
    if rule.period == AlertPeriod.DAY:
        first = end - timedelta(days=history - 1)
        bucket = "day"
    else:
        first = end.replace(day=1)
        for _step in range(history - 1):
            first = (first - timedelta(days=1)).replace(day=1)
        bucket = "month"
    query = MetricQuery(
        rule.metric,  # type: ignore[arg-type]
        filters=Filters(date_from=first, date_to=end, units=(rule.unit.path,)),
        group_by=_group(rule),
        period=bucket,  # type: ignore[arg-type]
        confidence=rule.confidence,
        min_n=rule.min_n,
    )
    labels = _periods(rule.period, first, end)
    series: dict[int, dict[str, Any]] = {}
    for row in run(query, engine, scope=None).rows:
        if row.period is not None:
            series.setdefault(_unit_of(rule, row.group), {})[row.period] = row.estimate
    out = []
    for unit_id, by_period in series.items():
        last = by_period.get(labels[-1])
        if last is None or last.value is None or last.n < rule.min_n:
            continue
        values = [getattr(by_period.get(p), "value", None) for p in labels]
        ses = [getattr(by_period.get(p), "se", None) for p in labels]
        point = detect_anomalies(values, ses, season=season)[-1]
        if point.anomaly:
            out.append(
                Finding(unit_id, last.n, last.value, last.ci_low, last.ci_high, expected=point.expected)
            )
    return out


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _message(rule: AlertRule, unit: OrgUnit, f: Finding) -> str:
    metric = AlertMetric(rule.metric).label
    if rule.condition == AlertCondition.DROP:
        return _("{unit}: {metric} {value} (n={n}) dropped by {delta} from {previous}, p = {p}.").format(
            unit=unit.code,
            metric=metric,
            value=_fmt(f.value),
            n=f.n,
            delta=_fmt(None if f.delta is None else -f.delta),
            previous=_fmt(f.previous_value),
            p=f"{f.p_value:.3g}" if f.p_value is not None else "–",
        )
    if rule.condition == AlertCondition.BELOW:
        return _("{unit}: {metric} {value} (n={n}) is below {threshold}.").format(
            unit=unit.code, metric=metric, value=_fmt(f.value), n=f.n, threshold=_fmt(rule.threshold)
        )
    return _("{unit}: {metric} {value} (n={n}) is outside its expected range around {expected}.").format(
        unit=unit.code, metric=metric, value=_fmt(f.value), n=f.n, expected=_fmt(f.expected)
    )


def _notify(alert: Alert) -> None:
    """Tell the unit's managers (and the rule's author) through the notifications app."""
    try:
        from manyi.notifications.actions import notify
    except ImportError:  # the alert record is the notification until delivery exists
        return
    from manyi.org.queries import managers_of

    people = list(managers_of(alert.unit))
    if alert.rule.created_by is not None and alert.rule.created_by not in people:
        people.append(alert.rule.created_by)
    notify(
        ALERT_EVENT,
        recipients=people,
        subject=_("Alert: {rule}").format(rule=alert.rule.name),
        body=alert.message,
        context={
            "alert_id": alert.pk,
            "rule_id": alert.rule_id,
            "metric": alert.metric,
            "value": alert.value,
            "n": alert.n,
            "period_start": alert.period_start.isoformat(),
            "period_end": alert.period_end.isoformat(),
        },
        unit=alert.unit,
    )


def _record(rule: AlertRule, start: date, end: date, f: Finding) -> Alert | None:
    """Write the alert unless this rule already found this unit in this period; notify on commit."""
    if Alert.objects.filter(rule=rule, unit_id=f.unit_id, period_start=start).exists():
        return None
    unit = OrgUnit.objects.get(pk=f.unit_id)
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                unit=unit,
                period_start=start,
                period_end=end,
                metric=rule.metric,
                n=f.n,
                value=f.value,
                ci_low=f.ci_low,
                ci_high=f.ci_high,
                previous_value=f.previous_value,
                delta=f.delta,
                p_value=f.p_value,
                expected=f.expected,
                message=_message(rule, unit, f),
            )
            try:
                _notify(alert)
            except Exception:  # the alert record stands; delivery has its own log and retries
                log.exception("could not notify alert %s", alert.pk)
    except IntegrityError:  # a concurrent evaluation wrote it first
        return None
    return alert


def do_evaluate_alert_rules(
    *, today: date | None = None, engine: Any = None, rules: list[AlertRule] | None = None
) -> EvaluationReport:
    """Evaluate every active rule for its last complete period; idempotent.

    A rule that fails (say, a store being rebuilt) is reported and the others still run.
    """
    today = today or timezone.now().date()
    report = EvaluationReport()
    chosen = (
        rules if rules is not None else list(AlertRule.objects.filter(is_active=True).select_related("unit"))
    )
    with analytics_engine() if engine is None else _given(engine) as eng:
        for rule in chosen:
            report.rules += 1
            start, end = period_window(rule.period, today)
            try:
                findings = _findings(rule, eng, start, end)
            except Exception as exc:  # one broken rule must not stop the others
                log.exception("alert rule %s failed", rule.pk)
                report.errors[rule.pk] = f"{type(exc).__name__}: {exc}"
                continue
            for f in findings:
                alert = _record(rule, start, end, f)
                if alert is not None:
                    report.created.append(alert.pk)
    return report


@contextmanager
def _given(engine: Any) -> Iterator[Any]:
    yield engine
