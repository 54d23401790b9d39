"""Background work: one task per delivery attempt, and the periodic scan that keeps retries going.

The worker's scheduler reads ``PERIODIC`` and enqueues each task when it is due; ``manyi tick`` runs
them once. Each delivery is its own task with strict timeouts, so a hanging endpoint costs one task
at most ``MANYI_WEBHOOK_TIMEOUT`` seconds and never holds up the others.
"""

from __future__ import annotations

from django.tasks import task


@task()
def deliver(notification_id: int) -> str:
    """Attempt one notification if it is (still) due; running it twice is harmless."""
    from .actions import do_deliver

    return do_deliver(notification_id)


@task()
def scan_notifications() -> dict[str, int]:
    """Queue due retries and recover sends interrupted by a crash (idempotent)."""
    from .actions import do_scan

    return do_scan().as_dict()


PERIODIC = [(scan_notifications, 15)]
