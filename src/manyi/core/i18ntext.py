"""Multilingual content stored as ``{"zh-hans": "...", "en": "..."}`` dictionaries.

Survey labels, unit names and option texts are content, not interface strings, so they live in
the database with one text per language. Nothing falls back silently to English: a missing
language falls back to the owner's declared fallback language, and publishing refuses content
that lacks a language the survey declares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

LANG_ZH = "zh-hans"
LANG_EN = "en"
SUPPORTED = (LANG_ZH, LANG_EN)


def normalize_language(code: str | None) -> str | None:
    """Map browser and user codes (zh, zh-CN, zh-Hans-CN, en-US, …) to a supported language, or None."""
    if not code:
        return None
    c = code.strip().lower().replace("_", "-")
    if c.startswith("zh"):
        # Traditional-script requests still read Simplified best among what we have.
        return LANG_ZH
    if c.startswith("en"):
        return LANG_EN
    return None


def text_for(content: Mapping[str, str] | str | None, language: str, fallback: str) -> str:
    """Return the text in ``language``, else in ``fallback``; empty string when neither exists."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return content.get(language) or content.get(fallback) or ""


def missing_languages(content: Mapping[str, str] | str | None, languages: Iterable[str]) -> list[str]:
    """Languages in ``languages`` for which ``content`` has no non-blank text."""
    if isinstance(content, str):
        return []
    content = content or {}
    return [lang for lang in languages if not (content.get(lang) or "").strip()]
