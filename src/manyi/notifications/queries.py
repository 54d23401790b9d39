"""Reads about endpoints and notifications; every staff read goes through ``visible_to(user)``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from manyi.org.choices import Role
from manyi.org.models import OrgUnit, RoleAssignment
from manyi.org.scoping import ancestor_paths

from .choices import DeliveryStatus
from .models import Endpoint, Notification

# Roles that may add, change and test endpoints of their subtree.
MANAGING_ROLES = (Role.ADMIN, Role.CX_MANAGER, Role.UNIT_MANAGER)


def can_manage_endpoints(user: Any, unit: OrgUnit | None = None) -> bool:
    """True when ``user`` may manage endpoints at ``unit`` (or, with no unit, anywhere at all)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    roles = RoleAssignment.objects.filter(user=user, role__in=MANAGING_ROLES, unit__is_active=True)
    if unit is None:
        return roles.exists()
    return roles.filter(unit__path__in=[unit.path, *ancestor_paths(unit.path)]).exists()


def manageable_units(user: Any) -> QuerySet[OrgUnit]:
    """Units at which ``user`` may create endpoints: the subtrees of their managing roles."""
    units = OrgUnit.objects.visible_to(user).filter(is_active=True)
    if getattr(user, "is_superuser", False):
        return units.order_by("path")
    paths = list(
        RoleAssignment.objects.filter(user=user, role__in=MANAGING_ROLES).values_list("unit__path", flat=True)
    )
    if not paths:
        return units.none()
    from django.db.models import Q

    cond = Q()
    for p in paths:
        cond |= Q(path__startswith=p)
    return units.filter(cond).order_by("path")


def active_endpoints(unit: OrgUnit | None) -> list[Endpoint]:
    """Active endpoints for ``unit``: those of the unit and of every unit above, whatever they receive.

    An event without a unit goes to the endpoints of the top of the organisation.
    """
    qs = Endpoint.objects.filter(is_active=True).select_related("unit")
    if unit is None:
        qs = qs.filter(unit__parent__isnull=True)
    else:
        qs = qs.filter(unit__path__in=[unit.path, *ancestor_paths(unit.path)])
    return list(qs.order_by("id"))


def matching_endpoints(unit: OrgUnit | None, event_type: str) -> list[Endpoint]:
    """Active endpoints that receive ``event_type`` for ``unit``: those of the unit and of every unit above."""
    return [e for e in active_endpoints(unit) if e.wants(event_type)]


@dataclass(frozen=True)
class NotificationFilters:
    """Filters of the delivery log (console and CLI); every field optional."""

    status: str = ""
    channel: str = ""
    event: str = ""
    endpoint: int | None = None
    case: int | None = None
    since: datetime | None = None


def notification_log(user: Any | None, filters: NotificationFilters) -> QuerySet[Notification]:
    """Notifications newest first; ``user`` None (the command line) reads everything."""
    qs = Notification.objects.all() if user is None else Notification.objects.visible_to(user)
    qs = qs.select_related("event", "event__unit", "endpoint", "recipient")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.event:
        qs = qs.filter(event__type=filters.event)
    if filters.endpoint is not None:
        qs = qs.filter(endpoint_id=filters.endpoint)
    if filters.case is not None:
        qs = qs.filter(event__case_id=filters.case)
    if filters.since is not None:
        qs = qs.filter(created_at__gte=filters.since)
    return qs.order_by("-created_at", "-id")


def dead_letters(user: Any | None) -> QuerySet[Notification]:
    """The dead-letter list: notifications given up after their last attempt."""
    return notification_log(user, NotificationFilters(status=DeliveryStatus.DEAD))


def notification_as_dict(n: Notification) -> dict[str, Any]:
    """The JSON shape of a notification for ``manyi notifications list --format json``."""
    return {
        "id": n.pk,
        "event": n.event.type,
        "event_id": n.event.message_id,
        "unit": n.event.unit.code if n.event.unit else None,
        "case_id": n.event.case_id,
        "channel": n.channel,
        "target": n.target,
        "endpoint_id": n.endpoint_id,
        "status": n.status,
        "attempts": n.attempts,
        "replays": n.replays,
        "next_attempt_at": n.next_attempt_at.isoformat() if n.next_attempt_at else None,
        "last_error": n.last_error,
        "delivered_at": n.delivered_at.isoformat() if n.delivered_at else None,
        "created_at": n.created_at.isoformat(),
        "subject": n.event.subject,
    }
