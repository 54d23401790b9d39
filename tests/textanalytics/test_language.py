"""Language detection: zh, en, mixed and other."""

from __future__ import annotations

import pytest

from manyi.textanalytics import detect_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("服务员态度很好", "zh"),
        ("iPhone 电池不耐用，充电很慢", "zh"),
        ("The staff were friendly and quick", "en"),
        ("服务员很热情，菜也好吃 but the waiting time was far too long tonight", "mixed"),
        ("Le service était très lent et la nourriture froide", "other"),
        ("サービスがとても良かったです", "other"),
        ("😀👍", "other"),
        ("", "other"),
    ],
)
def test_each_comment_gets_its_language(text, lang):
    assert detect_language(text) == lang
