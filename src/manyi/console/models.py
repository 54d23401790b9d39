"""What the console keeps per staff member: page preferences such as the responses table's columns."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffPreference(models.Model):
    """One named console preference of one staff member (``key`` → a JSON value)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("preference"), max_length=64)
    value = models.JSONField(_("value"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("staff preference")
        verbose_name_plural = _("staff preferences")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="staff_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
