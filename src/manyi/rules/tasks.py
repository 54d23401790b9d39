"""Background work for rules: evaluate new sources after commit, and a periodic catch-up.

``PERIODIC`` is read by ``manyi worker``'s scheduler and by ``manyi tick``: the catch-up evaluates
whatever no evaluation has seen (a crashed worker, an import, a lost task), so nothing is missed.
"""

from __future__ import annotations

from typing import Any

from django.tasks import task

from .actions import do_catch_up, do_evaluate_with_neighbours, do_send_resurveys


@task()
def evaluate_sources(kind: str, ids: list[int]) -> dict[str, Any]:
    """Run the active rules on these responses or feedback records, and on others still waiting
    (idempotent)."""
    return do_evaluate_with_neighbours(kind, ids).as_dict()


@task()
def catch_up_rules() -> dict[str, Any]:
    """Evaluate every source not yet evaluated, and move the cursors (idempotent)."""
    return do_catch_up().as_dict()


@task()
def send_resurveys() -> dict[str, Any]:
    """Hand the waiting re-survey entries to the distribution and record each outcome (idempotent)."""
    return do_send_resurveys().as_dict()


PERIODIC = [(catch_up_rules, 30), (send_resurveys, 60)]
