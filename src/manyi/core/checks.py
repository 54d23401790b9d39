"""``manyi check``: is this installation safe to run in production?"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import checks as django_checks
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

DEMO_USERNAMES = ("demo-admin", "demo-cx", "demo-store")


def _finding(level: str, id_: str, message: str) -> dict[str, str]:
    return {"level": level, "id": id_, "message": message}


def run_checks(*, production: bool = True) -> list[dict[str, Any]]:
    """Every problem found, as ``{level: error|warning, id, message}``."""
    out: list[dict[str, Any]] = []
    for msg in django_checks.run_checks(include_deployment_checks=production):
        if msg.level < django_checks.WARNING:
            continue
        level = "error" if msg.level >= django_checks.ERROR else "warning"
        out.append(_finding(level, msg.id or "django", str(msg.msg)))
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            out.append(
                _finding("error", "manyi.E001", f"{len(pending)} migrations not applied: run `manyi migrate`")
            )
    except Exception as exc:
        out.append(_finding("error", "manyi.E002", f"cannot reach the database: {exc}"))
        return out
    if not production:
        return out
    if settings.DEBUG:
        out.append(_finding("error", "manyi.E010", "MANYI_DEBUG is on; turn it off in production"))
    demo = list(
        get_user_model()
        .objects.filter(username__in=DEMO_USERNAMES, is_active=True)
        .values_list("username", flat=True)
    )
    if demo:
        out.append(
            _finding(
                "error",
                "manyi.E011",
                f"demo accounts exist with a public password: {', '.join(sorted(demo))}; "
                "deactivate them or use a fresh data dir",
            )
        )
    if connection.vendor == "sqlite":
        out.append(
            _finding(
                "warning",
                "manyi.W001",
                "SQLite is fine for one machine; set MANYI_DATABASE_URL=postgres://… for production scale",
            )
        )
    if not settings.MANYI_BASE_URL.startswith("https://"):
        out.append(
            _finding(
                "warning",
                "manyi.W002",
                f"MANYI_BASE_URL is {settings.MANYI_BASE_URL}; survey links should use https://",
            )
        )
    if "redis" not in str(settings.CACHES["default"]["BACKEND"]):
        out.append(
            _finding(
                "warning",
                "manyi.W003",
                "rate limits use the file cache; set MANYI_CACHE_URL=redis://… when running several machines",
            )
        )
    return out
