"""Console templates say nothing to a person outside gettext, and never mark stored text safe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import manyi

TEMPLATES = Path(manyi.__file__).parent / "templates"
FILES = sorted([TEMPLATES / "console_base.html", *(TEMPLATES / "console").glob("*.html")])

BLOCK_TRANS = re.compile(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", re.S)
TAG = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)
# Attributes people read (tooltips, labels, alternative text) must come from gettext too.
READ_ATTRS = re.compile(r'\s(?:title|alt|aria-label|placeholder)="([^"]*)"')
LETTERS = re.compile(r"[A-Za-z\u3400-\u9fff]")


def untranslated(source: str) -> list[str]:
    text = BLOCK_TRANS.sub(" ", source)
    attrs = [v for v in READ_ATTRS.findall(text) if LETTERS.search(TAG.sub("", v))]
    text = TAG.sub(" ", text)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    words = [w for w in re.split(r"\s+", text) if LETTERS.search(w)]
    return attrs + words


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_console_template_has_no_text_outside_translation_tags(path):
    assert untranslated(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_console_template_never_marks_text_safe(path):
    source = path.read_text(encoding="utf-8")
    assert "|safe" not in source and "autoescape off" not in source


def test_the_checker_catches_literal_text():
    assert untranslated("<p>Hello {% translate 'ok' %}</p>") == ["Hello"]
    assert untranslated('<img alt="门店">') == ["门店"]
    assert untranslated("<p>{% blocktranslate %}Page {{ n }}{% endblocktranslate %}</p>") == []
