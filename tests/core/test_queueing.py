"""enqueue_soon: one deferred catch-up per burst of writes, never a task row per write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from manyi.core import queueing
from manyi.rules.tasks import catch_up_rules

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh():
    queueing.forget()
    yield
    queueing.forget()


def test_a_burst_of_calls_in_one_process_enqueues_one_deferred_task():
    before = timezone.now()
    assert queueing.enqueue_soon(catch_up_rules, now=100.0)
    for t in (100.1, 100.2, 100.49):
        assert not queueing.enqueue_soon(catch_up_rules, now=t)
    rows = DBTaskResult.objects.filter(task_path=catch_up_rules.module_path)
    assert rows.count() == 1
    assert rows.get().run_after >= before + timedelta(seconds=0.9)


def test_after_the_debounce_window_the_next_call_enqueues_again():
    assert queueing.enqueue_soon(catch_up_rules, now=100.0)
    assert queueing.enqueue_soon(catch_up_rules, now=100.5)
    assert DBTaskResult.objects.filter(task_path=catch_up_rules.module_path).count() == 2


def test_a_debounce_as_long_as_the_delay_is_refused_since_a_write_could_be_missed():
    with pytest.raises(ValueError, match="debounce must be shorter than delay"):
        queueing.enqueue_soon(catch_up_rules, debounce=1.0, delay=1.0)


def test_a_queue_that_cannot_be_reached_does_not_fail_the_writer(monkeypatch):
    def broken(**_kw):
        raise RuntimeError("queue down")

    monkeypatch.setattr(type(catch_up_rules), "using", lambda self, **kw: broken(**kw))
    assert queueing.enqueue_soon(catch_up_rules, now=5.0) is False
