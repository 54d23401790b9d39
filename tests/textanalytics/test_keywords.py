"""Keywords: jieba with the domain dictionary for Chinese, phrases for English."""

from __future__ import annotations

from manyi import textanalytics as ta


def test_chinese_keywords_keep_domain_terms_whole():
    kws = ta.keywords("外卖小哥送错了地址，性价比也不高", "zh")
    assert "性价比" in kws
    assert "外卖小哥" in kws


def test_english_keywords_are_content_phrases_without_stop_words():
    kws = ta.keywords("The check-in queue was very long and the boarding gate changed twice", "en")
    assert "check-in queue" in kws
    assert all(not k.startswith("the ") for k in kws)


def test_no_keywords_for_other_languages():
    assert ta.keywords("Très bien", "other") == []
