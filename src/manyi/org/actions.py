"""Writes to the organisation: units and staff roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from .choices import Role, UnitKind
from .models import OrgUnit, RoleAssignment


@transaction.atomic
def do_create_unit(
    *,
    code: str,
    name: dict[str, str],
    kind: UnitKind | str,
    parent: OrgUnit | None = None,
    timezone: str | None = None,
    locale: str | None = None,
) -> OrgUnit:
    """Create an org unit under ``parent``; time zone and locale default to the parent's."""
    unit = OrgUnit(
        code=code,
        name=name,
        kind=kind,
        parent=parent,
        timezone=timezone or (parent.timezone if parent else "Asia/Shanghai"),
        locale=locale or (parent.locale if parent else "zh-hans"),
    )
    unit.full_clean(exclude=["path", "depth"])
    unit.save()
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.depth = parent.depth + 1 if parent else 0
    unit.save(update_fields=["path", "depth"])
    return unit


def do_create_staff(
    *,
    username: str,
    password: str | None,
    unit: OrgUnit,
    role: Role | str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    **extra: Any,
) -> Any:
    """Create a staff account holding ``role`` at ``unit``."""
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            email=email,
            first_name=first_name,
            last_name=last_name,
            **extra,
        )
        RoleAssignment.objects.create(user=user, unit=unit, role=role)
    return user


def do_assign_role(*, user: Any, unit: OrgUnit, role: Role | str) -> RoleAssignment:
    """Give ``user`` the role at ``unit`` (idempotent)."""
    assignment, _ = RoleAssignment.objects.get_or_create(user=user, unit=unit, role=role)
    return assignment
