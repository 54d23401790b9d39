"""Reads about the organisation."""

from __future__ import annotations

from typing import Any

from .choices import Role
from .models import OrgUnit, RoleAssignment


def home_unit(user: Any) -> OrgUnit | None:
    """The highest unit at which the user holds a role; its time zone is the user's."""
    ra = (
        RoleAssignment.objects.filter(user=user)
        .select_related("unit")
        .order_by("unit__depth", "unit_id")
        .first()
    )
    return ra.unit if ra else None


def roles_of(user: Any) -> set[str]:
    return set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))


def managers_of(unit: OrgUnit) -> list[Any]:
    """Staff holding the unit-manager role exactly at ``unit``."""
    return [ra.user for ra in unit.role_assignments.filter(role=Role.UNIT_MANAGER).select_related("user")]
