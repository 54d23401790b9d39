"""`manyi notifications list|replay|test-endpoint|scan`: JSON shapes and exit codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from manyi.cli import app
from manyi.notifications.actions import do_create_endpoint, do_deliver, notify
from manyi.notifications.choices import EventType
from manyi.notifications.models import Notification
from tests.conftest import Org

from .conftest import Receiver

pytestmark = pytest.mark.django_db
runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, ["notifications", *args], catch_exceptions=False)


def dead_notification(org: Org, receiver: Receiver) -> Notification:
    ep = do_create_endpoint(unit=org.store_a, name="Broken", kind="webhook", url=receiver.url("/gone"))
    (n,) = notify(
        EventType.CASE_CLOSED,
        recipients=[],
        subject="Case 3 closed",
        body="",
        context={},
        unit=org.store_a,
        case=3,
    )
    do_deliver(n.pk)
    ep.url = receiver.url("/ok")
    ep.save(update_fields=["url"])
    return n


def test_list_prints_the_delivery_log_as_json(org: Org, allow_local: None, receiver: Receiver) -> None:
    n = dead_notification(org, receiver)
    result = run("list", "--format", "json", "--dead")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["id"] == n.pk
    assert {k: row[k] for k in ("event", "unit", "case_id", "channel", "status", "attempts")} == {
        "event": "case.closed",
        "unit": "sh-001",
        "case_id": 3,
        "channel": "webhook",
        "status": "dead",
        "attempts": 1,
    }
    assert row["last_error"] == "HTTP 410: endpoint removed"
    assert json.loads(run("list", "--format", "json", "--status", "delivered").stdout) == []


def test_list_refuses_an_unknown_status_naming_the_choices(org: Org) -> None:
    result = run("list", "--status", "exploded")
    assert result.exit_code == 2
    output = result.stdout + result.stderr
    assert "exploded" in output and "pending" in output and "dead" in output


def test_replay_queues_a_dead_notification_and_fails_for_an_unknown_id(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    n = dead_notification(org, receiver)
    result = run("replay", str(n.pk), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"id": n.pk, "replayed": True, "status": "pending", "error": None}]
    again = run("replay", str(n.pk), "--format", "json")
    assert again.exit_code == 1
    assert "already queued" in json.loads(again.stdout)[0]["error"]
    missing = run("replay", "999999")
    assert missing.exit_code == 1 and "no notification with id 999999" in missing.stderr
    assert do_deliver(n.pk) == "delivered"


def test_test_endpoint_reports_success_and_failure_with_exit_codes(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    ok = do_create_endpoint(unit=org.store_a, name="Fine", kind="webhook", url=receiver.url("/ok"))
    bad = do_create_endpoint(unit=org.store_a, name="Failing", kind="webhook", url=receiver.url("/fail"))
    result = run("test-endpoint", str(ok.pk), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["delivered"] is True and data["response_code"] == 200
    failed = run("test-endpoint", str(bad.pk), "--format", "json")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["error"] == "HTTP 500: database unavailable"
    assert run("test-endpoint", "424242").exit_code == 1


def test_scan_with_deliver_sends_what_is_due_without_a_worker(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    do_create_endpoint(unit=org.store_a, name="Fine", kind="webhook", url=receiver.url("/ok"))
    notify(
        EventType.CASE_OPENED,
        recipients=[],
        subject="Case 9",
        body="",
        context={},
        unit=org.store_a,
        enqueue=False,
    )
    result = run("scan", "--deliver")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["delivered"] == 1
    assert len(receiver.requests) == 1
