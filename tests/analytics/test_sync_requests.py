"""Writes ask for a store sync after commit, debounced: a burst of submissions queues one sync."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from manyi.analytics import tasks
from manyi.analytics.tasks import PERIODIC, SYNC_TASK_PATH, request_sync, reset_debounce, sync_store
from manyi.responses.actions import check_submit_response
from tests.conftest import csi_answers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_debounce() -> Iterator[None]:
    reset_debounce()
    yield
    reset_debounce()


def queued_syncs() -> int:
    return DBTaskResult.objects.filter(task_path=SYNC_TASK_PATH, status=TaskResultStatus.READY).count()


def test_a_submission_queues_a_slightly_delayed_sync_once_it_commits(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        check_submit_response(
            link=org.link_a, submission_id=uuid.uuid4(), data=csi_answers(nps=9), language="zh-hans"
        )
        assert queued_syncs() == 0
    for callback in callbacks:
        callback()
    assert queued_syncs() == 1
    queued = DBTaskResult.objects.get(task_path=SYNC_TASK_PATH)
    assert queued.run_after > timezone.now()


def test_a_burst_of_submissions_queues_a_single_sync(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for score in range(11):
            check_submit_response(
                link=org.link_b, submission_id=uuid.uuid4(), data=csi_answers(nps=score), language="en"
            )
    assert queued_syncs() == 1


def test_a_queued_sync_absorbs_requests_until_it_has_run(db: Any) -> None:
    assert request_sync(now=0.0) is True
    assert request_sync(now=1.0) is False  # inside the debounce window
    assert request_sync(now=100.0) is False  # the first one is still queued
    DBTaskResult.objects.filter(task_path=SYNC_TASK_PATH).update(status=TaskResultStatus.SUCCESSFUL)
    assert request_sync(now=200.0) is True
    assert queued_syncs() == 1


def test_a_queue_that_cannot_be_reached_does_not_break_the_writer(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> bool:
        raise RuntimeError("queue down")

    monkeypatch.setattr(tasks, "_sync_already_queued", broken)
    assert request_sync(now=0.0) is False


def test_the_worker_syncs_the_store_every_minute() -> None:
    assert (sync_store, 60) in PERIODIC


def test_the_worker_finds_the_periodic_tasks_of_analytics_alerts_and_enrichment() -> None:
    from manyi.core.periodic import discover

    names = {p.name: p.every for p in discover()}
    assert names["manyi.analytics.tasks.sync_store"] == 60
    assert names["manyi.alerts.tasks.evaluate_alert_rules"] == 3600
    assert names["manyi.enrichment.tasks.enrich_pending"] == 120
