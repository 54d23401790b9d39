"""Background work for the analytics store.

Writers call :func:`request_sync` on commit (``transaction.on_commit(request_sync)``), beside their
other follow-up work. It is debounced, so a burst of submissions causes few syncs:

- in each process, at most one request per :data:`DEBOUNCE_SECONDS`;
- a sync that is already queued and not yet started absorbs every later request (one indexed read
  of the task table, only on the database queue);
- the sync it enqueues runs :data:`DELAY_SECONDS` later, so the rest of the burst commits first.

Whatever a debounced request leaves behind is picked up by the periodic sync (``PERIODIC``), which
the worker's scheduler runs every minute and ``manyi tick`` runs once. Every sync copies only what
is above the watermark, so an extra one costs one short, empty pass.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from django.tasks import task

#: A process asks for a sync at most this often.
DEBOUNCE_SECONDS = 5.0
#: How long an enqueued sync waits, so that the rest of a burst is in the same sync.
DELAY_SECONDS = 2.0
SYNC_TASK_PATH = "manyi.analytics.tasks.sync_store"

_lock = threading.Lock()
_last_request = -float("inf")


@task()
def sync_store() -> dict[str, Any]:
    """Append the rows committed since the last sync to the analytics store, and refresh the
    rollups of the (unit, day) keys they touched.

    Idempotent and safe to enqueue often: it copies only ids above the watermark, and concurrent
    runs queue on the store's write lock.
    """
    from .store import sync

    return sync().as_dict()


def _sync_already_queued() -> bool:
    """Whether a sync sits in the database queue, not yet started (False on other backends)."""
    if type(sync_store.get_backend()).__module__.split(".")[0] != "django_tasks_db":
        return False
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=SYNC_TASK_PATH).exists()


def request_sync(*, now: float | None = None) -> bool:
    """Enqueue a sync of the store unless one was requested recently or is already queued.

    Returns whether a sync was enqueued. Call it after commit; it never raises into the writer's
    request (a queue that cannot be reached leaves the rows to the periodic sync).
    """
    global _last_request
    clock = time.monotonic() if now is None else now
    with _lock:
        if clock - _last_request < DEBOUNCE_SECONDS:
            return False
        _last_request = clock
    try:
        if _sync_already_queued():
            return False
        from django.utils import timezone

        sync_store.using(run_after=timezone.now() + timedelta(seconds=DELAY_SECONDS)).enqueue()
    except Exception:  # the periodic sync catches up; the writer's commit stands
        import logging

        logging.getLogger(__name__).exception("could not enqueue the analytics sync")
        return False
    return True


def reset_debounce() -> None:
    """Forget the last request (tests, and a process that forks)."""
    global _last_request
    with _lock:
        _last_request = -float("inf")


#: Run by the worker's scheduler (and once by ``manyi tick``): catches up whatever a debounced
#: request left behind, and creates the store on a new installation.
PERIODIC = [(sync_store, 60)]
