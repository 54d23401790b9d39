"""Urgency flags: high recall, and each flag lists the words that fired it."""

from __future__ import annotations

from manyi import textanalytics as ta


def flags(text: str) -> dict[str, tuple[str, ...]]:
    return {f.flag: f.words for f in ta.urgency_flags(text)}


def test_flags_list_the_words_that_fired_them():
    got = flags("我要投诉！吃完拉肚子了，必须退款，不然打12315曝光你们")
    assert got["complaint"] == ("投诉", "12315", "曝光")
    assert got["safety"] == ("拉肚子",)
    assert got["refund"] == ("退款",)


def test_english_threats_to_leave_and_legal_action_are_flagged():
    got = flags("I will cancel my membership and talk to my lawyer. Never again!")
    assert got["churn"] == ("cancel", "Never again")
    assert got["legal"] == ("lawyer",)


def test_anger_includes_shouting_and_runs_of_exclamation_marks():
    got = flags("This is UNACCEPTABLE!!! worst airline")
    assert set(got["anger"]) == {"UNACCEPTABLE", "!!!", "worst"}


def test_food_poisoning_is_a_safety_flag():
    assert flags("Got food poisoning after the chicken")["safety"] == ("food poisoning",)
    assert flags("吃了以后食物中毒住院了")["safety"] == ("食物中毒", "住院")


def test_a_calm_comment_raises_no_flag():
    assert flags("服务很好，下次再来") == {}
    assert flags("Lovely staff, thanks") == {}


def test_flags_come_with_the_analysis():
    a = ta.analyze("要退款")
    assert a.flag_dicts() == [{"flag": "refund", "words": ["退款"]}]
