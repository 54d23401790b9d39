"""Alert rules become alert records (once per rule × unit × period) and notifications."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from manyi.alerts.actions import AlertRuleError, do_create_alert_rule, do_evaluate_alert_rules, period_window
from manyi.alerts.models import Alert
from manyi.alerts.queries import unit_trend, visible_alerts
from manyi.alerts.tasks import PERIODIC, evaluate_alert_rules
from manyi.analytics import DatabaseEngine, store
from manyi.cli import app
from manyi.notifications.models import Event
from manyi.responses.actions import check_submit_response
from manyi.surveys.models import SurveyLink
from tests.conftest import csi_answers

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)  # a Monday: last week is 16–22 November


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def submit(link: SurveyLink, when: datetime, nps: int = 9, csat: int = 4) -> None:
    data = csi_answers(nps=nps)
    data["q_csat"] = str(csat)
    result = check_submit_response(
        link=link,
        submission_id=uuid.uuid4(),
        data=data,
        language="zh-hans",
        now=when,
        started_at=when - timedelta(minutes=2),
    )
    assert result.response is not None


@pytest.fixture
def no_store(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


def test_the_period_judged_is_the_last_complete_day_week_or_month() -> None:
    assert period_window("day", TODAY) == (date(2026, 11, 22), date(2026, 11, 22))
    assert period_window("week", TODAY) == (date(2026, 11, 16), date(2026, 11, 22))
    assert period_window("week", date(2026, 11, 29)) == (date(2026, 11, 16), date(2026, 11, 22))
    assert period_window("month", TODAY) == (date(2026, 10, 1), date(2026, 10, 31))
    assert period_window("month", date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"condition": "below"}, "needs a threshold"),
        ({"metric": "happiness"}, "metric must be one of nps, csat, ces"),
        ({"condition": "anomaly", "period": "week"}, "use period day or month"),
        ({"level": "galaxy"}, "level must be one of"),
        ({"min_n": 0}, "min_n must be at least 1"),
    ],
)
def test_a_rule_that_cannot_be_evaluated_is_refused_naming_the_field(
    org: Any, changes: dict[str, Any], message: str
) -> None:
    fields: dict[str, Any] = {
        "name": "x",
        "metric": "nps",
        "unit": org.company,
        "condition": "drop",
    } | changes
    with pytest.raises(AlertRuleError, match=message):
        do_create_alert_rule(**fields)


def test_a_significant_week_over_week_nps_drop_alerts_the_store_once_and_notifies_its_manager(
    org: Any, no_store: Path
) -> None:
    for i in range(40):
        submit(org.link_a, at(date(2026, 11, 10)) + timedelta(minutes=i), nps=10)
        submit(org.link_a, at(date(2026, 11, 17)) + timedelta(minutes=i), nps=2 if i % 2 else 10)
        submit(org.link_b, at(date(2026, 11, 10)) + timedelta(minutes=i), nps=9)
        submit(org.link_b, at(date(2026, 11, 17)) + timedelta(minutes=i), nps=9)
    do_create_alert_rule(
        name="Store NPS drops week over week", metric="nps", unit=org.company, level="store", condition="drop"
    )
    first = do_evaluate_alert_rules(today=TODAY)
    assert len(first.created) == 1 and not first.errors
    alert = Alert.objects.get()
    assert alert.unit == org.store_a
    assert (alert.period_start, alert.period_end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert alert.value == pytest.approx(50.0 - 50.0)  # 20 promoters, 20 detractors
    assert alert.previous_value == pytest.approx(100.0) and alert.delta == pytest.approx(-100.0)
    assert alert.n == 40 and alert.p_value is not None and alert.p_value < 0.05
    assert "sh-001" in alert.message
    assert Event.objects.filter(type="rule.matched", unit=org.store_a).count() == 1

    again = do_evaluate_alert_rules(today=TODAY)
    assert again.created == [] and Alert.objects.count() == 1
    assert Event.objects.filter(type="rule.matched").count() == 1


def test_csat_below_80_percent_alerts_only_units_with_at_least_50_responses(org: Any, no_store: Path) -> None:
    for i in range(50):
        submit(org.link_c, at(date(2026, 11, 18)) + timedelta(minutes=i), csat=2 if i % 3 else 5)
    for i in range(10):
        submit(org.link_a, at(date(2026, 11, 18)) + timedelta(minutes=i), csat=1)
    do_create_alert_rule(
        name="CSAT under 80 %",
        metric="csat",
        unit=org.company,
        level="store",
        condition="below",
        threshold=80,
        min_n=50,
    )
    report = do_evaluate_alert_rules(today=TODAY)
    assert [a.unit for a in Alert.objects.all()] == [org.store_c]
    assert report.rules == 1 and len(report.created) == 1
    alert = Alert.objects.get()
    assert alert.n == 50 and alert.value is not None and alert.value < 80


def test_alerts_are_read_within_the_readers_scope(org: Any, no_store: Path) -> None:
    for i in range(50):
        submit(org.link_c, at(date(2026, 11, 18)) + timedelta(minutes=i), csat=1)
    do_create_alert_rule(
        name="CSAT", metric="csat", unit=org.company, level="store", condition="below", threshold=80
    )
    do_evaluate_alert_rules(today=TODAY)
    assert visible_alerts(org.manager_c).count() == 1
    assert visible_alerts(org.manager_a).count() == 0
    assert visible_alerts(org.admin).count() == 1


def test_a_daily_collapse_against_a_steady_history_is_an_anomaly(org: Any, no_store: Path) -> None:
    last = date(2026, 11, 22)
    for back in range(1, 56):
        day = last - timedelta(days=back)
        for j, score in enumerate((10, 10, 9, 3)):
            submit(org.link_a, at(day) + timedelta(minutes=j), nps=score)
    for j in range(30):
        submit(org.link_a, at(last) + timedelta(minutes=j), nps=0)
    rule = do_create_alert_rule(
        name="NPS out of range", metric="nps", unit=org.store_a, condition="anomaly", period="day", min_n=4
    )
    report = do_evaluate_alert_rules(today=TODAY)
    assert len(report.created) == 1, report
    alert = Alert.objects.get(rule=rule)
    assert alert.value == pytest.approx(-100.0) and alert.expected is not None and alert.expected > 0
    trend = unit_trend(
        unit_path=org.store_a.path,
        metric="nps",
        period="day",
        date_from=last - timedelta(days=55),
        date_to=last,
        scope=None,
        engine=DatabaseEngine(),
    )
    assert len(trend) == 56 and trend[-1].anomaly and trend[-1].direction == -1
    assert not any(t.anomaly for t in trend[:-7])


def test_rules_are_evaluated_on_the_store_when_there_is_one(org: Any, settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    start, _end = period_window("week", timezone.now().date())
    for i in range(50):
        submit(org.link_c, at(start + timedelta(days=2)) + timedelta(minutes=i), csat=1)
    store.sync()
    do_create_alert_rule(
        name="CSAT", metric="csat", unit=org.company, level="store", condition="below", threshold=80
    )
    assert evaluate_alert_rules.call()["created"] != []
    assert (evaluate_alert_rules, 3600) in PERIODIC


def test_cli_lists_alerts_as_json(org: Any, no_store: Path) -> None:
    for i in range(50):
        submit(org.link_c, at(date(2026, 11, 18)) + timedelta(minutes=i), csat=1)
    do_create_alert_rule(
        name="CSAT", metric="csat", unit=org.company, level="store", condition="below", threshold=80
    )
    do_evaluate_alert_rules(today=TODAY)
    result = CliRunner().invoke(app, ["alerts", "list", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["unit"] == "cd-001" and row["metric"] == "csat" and row["n"] == 50
    assert row["period_start"] == "2026-11-16" and row["status"] == "open"
    assert {"value", "ci_low", "ci_high", "delta", "p_value", "message", "rule"} <= set(row)


def test_cli_refuses_a_rule_without_its_threshold_and_says_why(org: Any) -> None:
    result = CliRunner().invoke(
        app,
        ["alerts", "add-rule", "--name", "x", "--metric", "csat", "--unit", "acme", "--condition", "below"],
    )
    assert result.exit_code == 1
    assert "needs a threshold" in result.stderr
