"""Template helpers for the staff console."""

from __future__ import annotations

from typing import Any

from django import template

from manyi.console.queries import ScopeLine, staff_scope

register = template.Library()


@register.simple_tag(takes_context=True)
def scope_of_user(context: template.Context) -> list[ScopeLine]:
    """``{% scope_of_user as scope %}``: the roles of the signed-in user, for the top bar."""
    request = context.get("request")
    user: Any = getattr(request, "user", None)
    return staff_scope(user) if user is not None else []


@register.filter
def percent_of(value: float | None, whole: float | None) -> int:
    """Width in percent of ``value`` on a scale that ends at ``whole``, for small score bars."""
    if value is None or not whole:
        return 0
    return max(0, min(100, round(100 * float(value) / float(whole))))
