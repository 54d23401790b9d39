"""Org units (a tree of any depth), staff role assignments."""

from __future__ import annotations

import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.core.i18ntext import LANG_ZH, text_for

from .choices import Role, UnitKind
from .scoping import ScopedModel


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # scans the tz database: once per process


def validate_timezone(value: str) -> None:
    if value not in _time_zones():
        raise ValidationError(_("Unknown time zone: {value}").format(value=value))


class OrgUnit(ScopedModel):
    """A company, region, city, store or team; a node in the organisation tree."""

    scope_unit_field = ""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.JSONField(_("name"), help_text=_('One name per language, e.g. {"zh-hans": "…", "en": "…"}'))
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    # Materialised path of primary keys, "/1/4/17/": a subtree is one indexed prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone]
    )
    locale = models.CharField(_("locale"), max_length=16, default=LANG_ZH)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.code}"

    def display_name(self, language: str) -> str:
        return text_for(self.name, language, self.locale) or self.code

    def is_within(self, other: OrgUnit) -> bool:
        """True when this unit is ``other`` or lies in its subtree."""
        return self.path.startswith(other.path)


class RoleAssignment(models.Model):
    """A staff member holds a role at an org unit; the role covers the unit's subtree."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment")
        constraints = [models.UniqueConstraint(fields=["user", "unit", "role"], name="org_role_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.role}@{self.unit_id}"
