"""Writes that belong to the whole installation: the audit log."""

from __future__ import annotations

import getpass
from typing import Any

from .models import AuditLogEntry


def _actor(user: Any) -> str:
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user.get_username())
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (containers): still say it came from the command line
        return "cli"


def do_audit(user: Any, action: str, target: str, details: dict[str, Any] | None = None) -> AuditLogEntry:
    """Record that ``user`` (None: the command line) did ``action`` on ``target``; returns the entry."""
    return AuditLogEntry.objects.create(
        user=user if user is not None and getattr(user, "is_authenticated", False) else None,
        actor=_actor(user)[:150],
        action=action[:64],
        target=str(target)[:255],
        details=details or {},
    )
