"""Writes of the console itself: a staff member's page preferences."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .models import StaffPreference


@transaction.atomic
def do_set_preference(*, user: Any, key: str, value: dict[str, Any]) -> StaffPreference:
    """Store (or replace) one preference of ``user``."""
    pref, created = StaffPreference.objects.select_for_update().get_or_create(
        user_id=user.pk, key=key, defaults={"value": value}
    )
    if not created:
        pref.value = value
        pref.save(update_fields=["value", "updated_at"])
    return pref
