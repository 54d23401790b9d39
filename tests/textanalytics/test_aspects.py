"""Aspects: phrase rules with context and negation, in a taxonomy each organisation can change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from manyi import textanalytics as ta


def aspects(text: str) -> dict[str, str]:
    return {x.aspect: x.sentiment for x in ta.analyze(text).aspects}


def test_hygiene_matches_weisheng_but_not_the_word_for_toilet():
    assert "cleanliness" in aspects("卫生很差")
    assert "cleanliness" not in aspects("卫生间在二楼")
    assert "facilities" in aspects("卫生间在二楼")


def test_bujingjing_is_negative_cleanliness():
    assert aspects("房间不干净")["cleanliness"] == "negative"
    assert aspects("房间很干净")["cleanliness"] == "positive"


def test_a_negated_negative_cue_is_positive():
    assert aspects("桌子一点也不脏")["cleanliness"] == "positive"


def test_english_negation_flips_a_polar_cue():
    assert aspects("The room was not clean")["cleanliness"] == "negative"


def test_english_phrases_match_whole_words_only():
    assert "app_website" not in aspects("The apple pie was great")
    assert "app_website" in aspects("The app keeps crashing")


def test_the_default_taxonomy_has_the_service_aspects_in_both_languages():
    tax = ta.default_taxonomy()
    keys = [a.key for a in tax.aspects]
    assert len(keys) == 16
    assert {"wait_time", "staff_attitude", "cleanliness", "parking", "app_website"} <= set(keys)
    assert tax.names("zh")["cleanliness"] == "卫生/清洁"
    assert tax.names("en")["cleanliness"] == "Cleanliness / hygiene"


def test_an_organisation_can_bring_its_own_taxonomy(tmp_path: Path):
    path = tmp_path / "bank.json"
    path.write_text(
        json.dumps(
            {
                "version": "bank-1",
                "aspects": [{"key": "atm", "zh": ["取款机", "ATM"], "en": ["atm", "cash machine"]}],
            }
        ),
        encoding="utf-8",
    )
    analyzer = ta.Analyzer(taxonomy=ta.Taxonomy.from_file(path), with_keywords=False)
    assert [x.aspect for x in analyzer.analyze("取款机又坏了").aspects] == ["atm"]
    assert [x.aspect for x in analyzer.analyze("The cash machine ate my card").aspects] == ["atm"]


def test_a_broken_taxonomy_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "bad.json"
    path.write_text('{"aspects": [{"zh": ["x"]}]}', encoding="utf-8")
    with pytest.raises(ta.TaxonomyError, match="key"):
        ta.Taxonomy.from_file(path)
