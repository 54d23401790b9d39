"""Bad comments never raise: they are cleaned, flagged and analysed as far as they go."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manyi import textanalytics as ta
from manyi.textanalytics._text import MAX_CHARS


@pytest.mark.parametrize("value", [None, "", "   ", math.nan, 42, "😀😀😀", "！！！？？", "\x00\x01"])
def test_empty_and_textless_values_are_neutral_with_a_problem(value):
    a = ta.analyze(value)
    assert a.sentiment.label == "neutral"
    assert a.problems
    assert a.aspects == ()


def test_a_very_long_comment_is_truncated_and_flagged():
    a = ta.analyze("等了很久，" * 5000)
    assert len(a.text) <= MAX_CHARS
    assert "truncated" in a.problems
    assert {"flag": "truncated", "words": []} in a.flag_dicts()


def test_utf8_read_as_latin1_is_repaired_and_flagged():
    garbled = "服务很好，环境不错".encode().decode("latin-1")
    a = ta.analyze(garbled)
    assert "mojibake" in a.problems
    assert a.text.startswith("服务很好")
    assert a.lang == "zh"


def test_gbk_read_as_latin1_is_repaired():
    garbled = "服务很好".encode("gbk").decode("latin-1")
    assert ta.clean(garbled).text == "服务很好"


def test_unrepairable_mojibake_is_flagged_not_fatal():
    a = ta.analyze("æœåŠ¡å¾ˆå¥½ æœåŠ¡å¾ˆå¥½")
    assert "mojibake" in a.problems


def test_accented_latin_text_is_not_mojibake():
    assert ta.clean("naïve café, très bon résumé").problems == ()


def test_mixed_script_comments_are_analysed():
    a = ta.analyze("服务员很热情，菜也好吃 but the waiting time was far too long tonight")
    assert a.lang == "mixed"
    assert {x.aspect for x in a.aspects} >= {"food_taste", "wait_time"}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_no_text_whatever_its_content_makes_analysis_raise(text):
    a = ta.analyze(text)
    assert a.lang in {"zh", "en", "mixed", "other"}
    assert a.sentiment.label in {"negative", "neutral", "positive"}
    assert -1 <= a.sentiment.score <= 1
    assert all(x.span for x in a.aspects)


MANY = [
    "菜很好吃，但是等了一个小时",
    "",
    None,
    3.5,
    "Staff were rude, I want a refund",
    "服务很好 but the wait was long",
    "价格太贵了！！！停车也不方便",
    "😀😀",
    "The room was clean. Check-in took forever and the price was too high.",
    "ok",
]


@pytest.mark.parametrize("batch", [1, 3, 256])
def test_analysing_in_batches_gives_exactly_what_one_at_a_time_gives(batch):
    analyzer = ta.Analyzer(with_keywords=True)
    one = [analyzer.analyze(v) for v in MANY]
    assert list(analyzer.analyze_many(MANY, batch=batch)) == one
    assert list(analyzer.analyze_many(MANY, "en", batch=batch)) == [analyzer.analyze(v, "en") for v in MANY]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=12))
def test_a_batch_of_any_texts_matches_them_analysed_one_by_one(texts):
    analyzer = ta.Analyzer(with_keywords=False)
    assert list(analyzer.analyze_many(texts, batch=5)) == [analyzer.analyze(t) for t in texts]
