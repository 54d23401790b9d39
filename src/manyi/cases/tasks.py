"""Background work for cases: the SLA scanner (escalation ladder) and the re-surveys after closing.

Timers are database state (``Case.next_escalation_at``, ``Case.resurvey_status``), so the periodic
scans pick up where a crashed or restarted worker left off.
"""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone


@task()
def scan_sla() -> int:
    """Fire every escalation step that is due (each step fires once); returns the steps fired."""
    from .actions import scan_sla as do_scan

    return do_scan(timezone.now())


@task()
def send_resurvey(case_id: int) -> bool:
    """Send a closed case's customer the re-survey (once, whoever calls)."""
    from .recovery import send_resurvey as do_send

    return do_send(case_id, timezone.now())


@task()
def catch_up_resurveys() -> int:
    """Send the re-surveys of recently closed cases that nobody sent yet."""
    from .recovery import catch_up

    return catch_up(timezone.now())


PERIODIC = [(scan_sla, 60), (catch_up_resurveys, 600)]
