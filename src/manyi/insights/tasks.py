"""Background work of the insights app: keep the cached driver analyses up to date.

``PERIODIC`` is read by ``manyi worker``'s scheduler and by ``manyi tick``. The refresh scans the
database (each analysis against the responses now there), so it is idempotent and a restart loses
nothing.
"""

from __future__ import annotations

from typing import Any

from django.tasks import task

from .actions import do_refresh_driver_analyses


@task()
def refresh_driver_analyses() -> dict[str, Any]:
    """Recompute the driver analyses whose responses changed (at most 50 a run)."""
    return do_refresh_driver_analyses().as_dict()


PERIODIC = [(refresh_driver_analyses, 900)]
