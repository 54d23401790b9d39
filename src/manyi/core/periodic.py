"""Periodic background work: each Manyi app lists its periodic tasks, the worker enqueues them.

An app declares ``PERIODIC = [(some_task, every_seconds), ...]`` in its ``tasks`` module, where
``some_task`` is a Django task that takes no arguments and is idempotent (it scans database
state, so timers survive restarts). ``manyi worker`` runs a small scheduler thread that enqueues
each task when it is due; ``manyi tick`` runs every due task once, in-process, for cron and tests.

Due-ness lives in the database (:class:`~manyi.core.models.PeriodicSchedule`): a task is claimed
with one conditional ``UPDATE``, so any number of workers enqueue it at most once per interval.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.apps import apps
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    task: Any
    every: int  # seconds


def discover() -> list[Periodic]:
    """Every ``PERIODIC`` entry of the installed Manyi apps' ``tasks`` modules, sorted by name."""
    found: dict[str, Periodic] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("manyi."):
            continue
        module_name = f"{config.name}.tasks"
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        for entry in getattr(module, "PERIODIC", ()):
            task, every = entry
            if int(every) <= 0:
                raise ValueError(f"{module_name}.PERIODIC: {task.module_path} needs a positive interval")
            found[task.module_path] = Periodic(task.module_path, task, int(every))
    return [found[k] for k in sorted(found)]


def _claim(p: Periodic, now: datetime, force: bool = False) -> bool:
    """Mark ``p`` as enqueued at ``now`` if it is due (or ``force``); True when this caller won."""
    from .models import PeriodicSchedule

    PeriodicSchedule.objects.get_or_create(name=p.name, defaults={"every_seconds": p.every})
    qs = PeriodicSchedule.objects.filter(name=p.name)
    if not force:
        qs = qs.filter(
            Q(last_enqueued_at__isnull=True) | Q(last_enqueued_at__lte=now - timedelta(seconds=p.every))
        )
    return qs.update(last_enqueued_at=now, every_seconds=p.every) == 1


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue every periodic task that is due; returns the names enqueued."""
    now = now or timezone.now()
    done = []
    for p in discover():
        if _claim(p, now):
            p.task.enqueue()
            done.append(p.name)
    return done


def run_due(
    now: datetime | None = None, *, force: bool = False, only: str | None = None
) -> list[dict[str, Any]]:
    """Run every due periodic task (all with ``force``) in this process; one report per task.

    A task that fails is reported with its error and does not stop the others.
    """
    from .models import PeriodicSchedule

    now = now or timezone.now()
    reports: list[dict[str, Any]] = []
    for p in discover():
        if only and only not in p.name:
            continue
        if not _claim(p, now, force=force):
            reports.append({"task": p.name, "every_seconds": p.every, "ran": False})
            continue
        t0 = time.monotonic()
        try:
            result = p.task.call()
            error = ""
        except Exception as exc:  # reported, the other tasks still run
            log.exception("periodic task %s failed", p.name)
            result, error = None, f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        PeriodicSchedule.objects.filter(name=p.name).update(last_run_at=timezone.now(), last_error=error)
        reports.append(
            {
                "task": p.name,
                "every_seconds": p.every,
                "ran": True,
                "seconds": round(time.monotonic() - t0, 3),
                "ok": not error,
                "error": error,
                "result": result,
            }
        )
    return reports


class Scheduler(threading.Thread):
    """The worker's clock: every ``poll`` seconds, enqueue what is due. A daemon thread."""

    def __init__(self, poll: float = 5.0) -> None:
        super().__init__(name="manyi-scheduler", daemon=True)
        self.poll = poll
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                close_old_connections()
                enqueued = enqueue_due()
                if enqueued:
                    log.info("enqueued periodic tasks: %s", ", ".join(enqueued))
            except Exception:  # a database hiccup must not kill the clock
                log.exception("periodic scheduler: could not enqueue due tasks")
            self.stopped.wait(self.poll)

    def stop(self) -> None:
        self.stopped.set()
