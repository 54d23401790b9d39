"""Template helpers for multilingual content."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from manyi.core.i18ntext import text_for

register = template.Library()


@register.filter
def localized(content: Any, lang: str | None = None) -> str:
    """``{{ survey.name|localized:lang }}``: the text in ``lang``, else Chinese, else English."""
    lang = lang or get_language() or "zh-hans"
    text = text_for(content, lang, "zh-hans")
    return text or text_for(content, "en", "en")


@register.filter
def display_name(obj: Any, lang: str | None = None) -> str:
    """``{{ unit|display_name:lang }}`` for objects with a ``display_name(language)`` method."""
    if obj is None:
        return ""
    return str(obj.display_name(lang or get_language() or "zh-hans"))
