"""Background work for distribution: the periodic scan that sends due invitations and reminders."""

from __future__ import annotations

from django.tasks import task

from .actions import do_scan


@task()
def scan_invitations() -> dict[str, int]:
    """Send every due invitation and reminder (idempotent; safe to run while another scan runs)."""
    return do_scan().as_dict()


# The worker's scheduler enqueues the scan every minute (``manyi tick`` runs it once for cron), so
# invitations fall due to the minute and a restarted worker sends what fell due while it was down.
PERIODIC = [(scan_invitations, 60)]
