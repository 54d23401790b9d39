"""Template helpers for the staff console."""

from __future__ import annotations

import re
from typing import Any

from django import template

from manyi.console.queries import ScopeLine, staff_scope
from manyi.surveys.queries import survey_link_url

register = template.Library()


@register.simple_tag(takes_context=True)
def scope_of_user(context: template.Context) -> list[ScopeLine]:
    """``{% scope_of_user as scope %}``: the roles of the signed-in user, for the top bar."""
    request = context.get("request")
    user: Any = getattr(request, "user", None)
    return staff_scope(user) if user is not None else []


#: Languages a survey is answered in, each named in its own language (as the language switch does).
LANGUAGE_NAMES = {"zh-hans": "简体中文", "zh": "中文", "en": "English"}


@register.filter
def language_name(code: str | None) -> str:
    """``zh-hans`` → 简体中文, ``en`` → English; an unknown code is shown as it is."""
    return LANGUAGE_NAMES.get(str(code or "").lower(), str(code or ""))


#: The language switch's short labels: each language's own short name, the same on every page.
LANGUAGE_SHORT = {"zh-hans": "中文", "en": "EN"}


@register.filter
def language_short(code: str | None) -> str:
    """``zh-hans`` → 中文, ``en`` → EN (an autonym, never translated); else the code."""
    return LANGUAGE_SHORT.get(str(code or "").lower(), str(code or ""))


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@register.filter
def staff_name(user: Any) -> str:
    """A staff member's name as people write it: 黄俊杰 (family name first, no space), Jane Doe."""
    if user is None:
        return ""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if not (first or last):
        return str(user.get_username())
    if _CJK.search(first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


@register.filter
def link_url(link: Any) -> str:
    """The public address of a survey link (``MANYI_BASE_URL`` + ``/s/<token>``)."""
    return survey_link_url(link)


@register.filter
def signed(value: Any, digits: int = 1) -> str:
    """``+3.2`` / ``−1.0`` / ``0.0``: a change with its sign (a true minus sign)."""
    if value is None:
        return "–"
    x = round(float(value), int(digits))
    text = f"{abs(x):.{int(digits)}f}"
    return f"+{text}" if x > 0 else (f"−{text}" if x < 0 else text)
