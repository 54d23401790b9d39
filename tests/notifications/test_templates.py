"""The notifications console templates follow the console's template rules (tests/console/test_templates.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.console.test_templates import TEMPLATES, untranslated

FILES = sorted((TEMPLATES / "console" / "notifications").glob("*.html"))


def test_the_notifications_templates_are_found() -> None:
    assert len(FILES) >= 7


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_notifications_template_has_no_text_outside_translation_tags(path: Path) -> None:
    assert untranslated(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_notifications_template_never_marks_text_safe(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert "|safe" not in source and "autoescape off" not in source
