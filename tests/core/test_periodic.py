"""Periodic tasks: discovered from every app's PERIODIC, enqueued once per interval, run by `manyi tick`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from manyi.core import periodic
from manyi.core.models import PeriodicSchedule

pytestmark = pytest.mark.django_db


def test_every_periodic_entry_names_a_task_with_a_positive_interval():
    found = periodic.discover()
    assert found, "the apps declare periodic work (SLA scans, retries, syncs)"
    for p in found:
        assert p.every > 0
        assert p.name == p.task.module_path
    assert len({p.name for p in found}) == len(found)


def test_a_due_task_is_enqueued_once_and_not_again_within_its_interval():
    now = timezone.now()
    first = periodic.enqueue_due(now)
    assert set(first) == {p.name for p in periodic.discover()}
    assert DBTaskResult.objects.count() == len(first)
    assert periodic.enqueue_due(now + timedelta(seconds=1)) == []
    assert DBTaskResult.objects.count() == len(first)


def test_a_task_is_enqueued_again_once_its_interval_has_passed():
    now = timezone.now()
    periodic.enqueue_due(now)
    shortest = min(periodic.discover(), key=lambda p: p.every)
    later = periodic.enqueue_due(now + timedelta(seconds=shortest.every))
    assert shortest.name in later
    longer = [p.name for p in periodic.discover() if p.every > shortest.every]
    assert not set(longer) & set(later)


def test_two_schedulers_claiming_at_the_same_moment_enqueue_each_task_once():
    now = timezone.now()
    a = periodic.enqueue_due(now)
    b = periodic.enqueue_due(now)
    assert a and b == []


def test_tick_runs_due_tasks_in_process_and_records_when_they_ran():
    reports = periodic.run_due(only="notifications")
    ran = [r for r in reports if r["ran"]]
    assert ran, reports
    assert all(r["ok"] for r in ran), reports
    row = PeriodicSchedule.objects.get(name=ran[0]["task"])
    assert row.last_run_at is not None and row.last_error == ""
    again = periodic.run_due(only="notifications")
    assert not any(r["ran"] for r in again)
    forced = periodic.run_due(only="notifications", force=True)
    assert all(r["ran"] for r in forced)


def test_a_failing_periodic_task_is_reported_and_the_others_still_run(monkeypatch):
    real = periodic.discover()
    assert len(real) >= 2

    class Boom:
        module_path = "tests.core.boom"

        def call(self):
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(
        periodic, "discover", lambda: [periodic.Periodic("tests.core.boom", Boom(), 60), *real[:1]]
    )
    reports = periodic.run_due()
    assert reports[0]["ok"] is False and "disk on fire" in reports[0]["error"]
    assert reports[1]["ran"]
    assert PeriodicSchedule.objects.get(name="tests.core.boom").last_error.startswith("RuntimeError")


def test_the_worker_scans_for_due_invitations_every_minute():
    entries = {p.name: p.every for p in periodic.discover()}
    assert entries["manyi.distribution.tasks.scan_invitations"] == 60
