"""Emerging topics: a two-proportion test per term with Benjamini–Hochberg across terms."""

from __future__ import annotations

from manyi import textanalytics as ta


def test_a_term_whose_share_jumps_is_emerging_and_a_stable_one_is_not():
    baseline = [["服务", "价格"]] * 180 + [["服务", "停车"]] * 20
    current = [["服务", "价格"]] * 60 + [["服务", "停车"]] * 60 + [["服务", "闪退"]] * 30
    found = {t.term: t for t in ta.emerging_topics(current, baseline)}
    assert set(found) == {"停车", "闪退"}
    assert found["停车"].current_share == 0.4
    assert found["停车"].baseline_share == 0.1
    assert found["停车"].q_value < 0.05


def test_rare_terms_and_empty_windows_are_not_tested():
    assert ta.emerging_topics([["新词"]] * 3, [["旧词"]] * 100) == []
    assert ta.emerging_topics([], [["a"]]) == []


def test_terms_feed_emerging_topics_from_raw_comments():
    assert {"停车场", "车位"} <= ta.terms("停车场没有车位了", "zh")
    assert "long queue" in ta.terms("Such a long queue today", "en")
