"""Background work for distribution: the periodic scan that sends due invitations and reminders."""

from __future__ import annotations

from django.tasks import task

from .actions import do_scan


@task()
def scan_invitations() -> dict[str, int]:
    """Send every due invitation and reminder (idempotent; safe to run while another scan runs)."""
    return do_scan().as_dict()
