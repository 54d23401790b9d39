"""Background work of the insights app: keep the cached driver analyses up to date.

``PERIODIC`` is read by ``manyi worker``'s scheduler and by ``manyi tick``. The refresh scans the
database (each analysis against the responses now there), so it is idempotent and a restart loses
nothing.
"""

from __future__ import annotations

from typing import Any

from django.tasks import task

from .actions import do_refresh_driver_analyses

# One run stops starting analyses after this many seconds and queues the next run behind whatever
# else is waiting, so a backlog (after an import, or the demo's first start) never holds the worker
# for minutes while a detractor's case waits to be opened.
BUDGET_SECONDS = 5.0


@task()
def refresh_driver_analyses() -> dict[str, Any]:
    """Recompute the driver analyses whose responses changed (at most 50 a run, and no new one after
    ``BUDGET_SECONDS``); when some are left, the task queues itself again behind the waiting work."""
    report = do_refresh_driver_analyses(budget_seconds=BUDGET_SECONDS)
    if report.left:
        refresh_driver_analyses.enqueue()
    return report.as_dict()


PERIODIC = [(refresh_driver_analyses, 900)]
