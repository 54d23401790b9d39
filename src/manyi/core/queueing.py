"""Follow-up work for hot write paths, enqueued without a queue insert per write.

A survey submission must not pay for a task row per follow-up (on PostgreSQL that doubled the
CPU of a submission). :func:`enqueue_soon` is called after commit; in each process it enqueues
the task at most once per ``debounce`` seconds, to run ``delay`` seconds later. The task must be
a catch-up that processes everything not yet processed (a watermark or a marker table), so the
writes it did not enqueue for are covered: they committed before it runs, because the skipped
calls come after an enqueue whose run time is still ``delay - debounce`` seconds ahead. A
periodic run of the same task covers a process that died in between.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from django.utils import timezone

log = logging.getLogger(__name__)

_lock = threading.Lock()
_last: dict[str, float] = {}


def enqueue_soon(task: Any, *, debounce: float = 0.5, delay: float = 1.0, now: float | None = None) -> bool:
    """Enqueue the argument-less ``task`` to run in ``delay`` s unless this process did so within
    ``debounce`` s. Never raises into the caller (the periodic run catches up); True if enqueued."""
    if debounce >= delay:
        raise ValueError("debounce must be shorter than delay, or a skipped write could be missed")
    clock = time.monotonic() if now is None else now
    key = task.module_path
    with _lock:
        if clock - _last.get(key, -float("inf")) < debounce:
            return False
        _last[key] = clock
    try:
        task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue()
    except Exception:
        log.exception("could not enqueue %s; the periodic run will catch up", key)
        return False
    return True


def forget(task: Any | None = None) -> None:
    """Forget when tasks were last enqueued (tests; a forked process)."""
    with _lock:
        if task is None:
            _last.clear()
        else:
            _last.pop(task.module_path, None)
