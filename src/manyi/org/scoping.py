"""Row scoping: the one place that decides which rows a staff member may read.

Every scoped model's default manager is built from ``ScopedQuerySet``; views, API handlers and
commands read through ``Model.objects.visible_to(user)``. A role assigned at an org unit covers that
unit's whole subtree, which the materialised ``path`` of ``OrgUnit`` turns into one prefix match.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def scope_paths(user: AbstractBaseUser | AnonymousUser | Any) -> list[str] | None:
    """Unit paths the user may read; None means everything (superuser); [] means nothing."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    if getattr(user, "is_superuser", False):
        return None
    cached = getattr(user, "_manyi_scope_paths", None)
    if cached is not None:
        return list(cached)
    from .models import RoleAssignment

    user_id = int(user.pk or 0)
    paths = sorted(
        set(
            RoleAssignment.objects.filter(user_id=user_id, unit__is_active=True).values_list(
                "unit__path", flat=True
            )
        )
    )
    # Drop paths already covered by an ancestor's path.
    reduced: list[str] = []
    for p in paths:
        if not any(p.startswith(r) for r in reduced):
            reduced.append(p)
    user._manyi_scope_paths = reduced  # type: ignore[union-attr]
    return list(reduced)


def ancestor_paths(path: str) -> list[str]:
    """ "/1/4/17/" -> ["/1/", "/1/4/"]: the paths of the units above."""
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


class ScopedQuerySet(models.QuerySet):
    """A queryset whose model names the lookup to its org unit in ``scope_unit_field``."""

    def visible_to(self, user: Any) -> Self:
        """Rows under any unit the user holds a role at; nothing for anonymous or role-less users."""
        paths = scope_paths(user)
        if paths is None:
            return self.all()
        if not paths:
            return self.none()
        field: str = getattr(self.model, "scope_unit_field", "unit")
        prefix = f"{field}__path" if field else "path"
        cond = Q()
        for p in paths:
            cond |= Q(**{f"{prefix}__startswith": p})
        if getattr(self.model, "scope_includes_ancestors", False):
            # Programs owned higher up (a company-wide survey) apply to the units below them.
            cond |= Q(**{f"{prefix}__in": sorted({a for p in paths for a in ancestor_paths(p)})})
        return self.filter(cond)


class ScopedModel(models.Model):
    """Base for models that belong to an org unit; ``objects.visible_to(user)`` scopes every read."""

    scope_unit_field: ClassVar[str] = "unit"
    # True for programs (surveys) that a unit's staff may read when an ancestor unit owns them.
    scope_includes_ancestors: ClassVar[bool] = False
    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True
