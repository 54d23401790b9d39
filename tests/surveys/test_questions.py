"""Question types: what each accepts, and how answers are stored."""

from __future__ import annotations

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from manyi.surveys.blueprints import BLUEPRINTS, blueprint
from manyi.surveys.questions import answer_rows, definition_errors, headline_scores, is_visible, parse_answers

NPS = {"code": "nps", "type": "nps", "required": True, "label": {"zh-hans": "推荐", "en": "Recommend"}}
RATING10 = {
    "code": "r",
    "type": "rating",
    "scale": {"min": 1, "max": 10},
    "label": {"zh-hans": "x", "en": "x"},
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@given(st.integers(min_value=0, max_value=10))
def test_every_whole_number_from_0_to_10_is_a_valid_nps(score):
    parsed = parse_answers([NPS], {"q_nps": str(score)})
    assert parsed.values == {"nps": score} and not parsed.errors


@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=11), st.text(max_size=5)))
def test_anything_else_is_refused_with_a_message_at_the_question(raw):
    if str(raw).strip().isdigit() and 0 <= int(str(raw).strip()) <= 10:
        return
    parsed = parse_answers([NPS], {"q_nps": str(raw)})
    assert "nps" in parsed.errors
    assert "nps" not in parsed.values


@given(st.integers(min_value=1, max_value=10))
def test_a_1_to_10_rating_accepts_its_whole_scale(score):
    assert parse_answers([RATING10], {"q_r": str(score)}).values == {"r": score}


def test_all_four_templates_are_complete_in_both_languages():
    for name in BLUEPRINTS:
        assert definition_errors(blueprint(name)["definition"], ["zh-hans", "en"]) == [], name


def test_a_label_missing_in_a_declared_language_stops_publishing():
    d = blueprint("relational_nps")["definition"]
    d["questions"][0]["label"] = {"zh-hans": "只有中文"}
    errors = definition_errors(d, ["zh-hans", "en"])
    assert any("en" in e for e in errors)


def test_matrix_rows_and_servqual_halves_are_stored_as_dotted_codes():
    qs = blueprint("store_csi")["definition"]["questions"]
    data = {"q_nps": "8", "q_csat": "4", "q_sq_wait__expectation": "6", "q_sq_wait__perception": "3"}
    data |= {
        f"q_csi__{r}": "5" for r in ("tangibles", "reliability", "responsiveness", "assurance", "empathy")
    }
    parsed = parse_answers(qs, data)
    assert not parsed.errors
    codes = {row.question_code: row.number for row in answer_rows(qs, parsed.values)}
    assert codes["csi.tangibles"] == 5.0
    assert codes["sq_wait.expectation"] == 6.0 and codes["sq_wait.perception"] == 3.0
    assert headline_scores(qs, parsed.values)["nps"] == 8


def test_a_partly_rated_required_matrix_asks_for_every_line():
    qs = blueprint("store_csi")["definition"]["questions"]
    parsed = parse_answers(qs, {"q_nps": "8", "q_csat": "4", "q_csi__tangibles": "5"})
    assert "csi" in parsed.errors


def test_hidden_questions_are_dropped_and_not_required():
    qs = blueprint("relational_nps")["definition"]["questions"]
    # "reasons" shows only for NPS <= 8; a promoter's stray answer to it is discarded.
    parsed = parse_answers(qs, {"q_nps": "10", "q_reasons": ["wait"]})
    assert "reasons" not in parsed.values and not parsed.errors
    assert is_visible(qs[1], {"nps": 3})


def test_other_needs_its_text_and_is_stored_separately():
    qs = blueprint("relational_nps")["definition"]["questions"]
    missing = parse_answers(qs, {"q_nps": "5", "q_reasons": ["other"]})
    assert "reasons" in missing.errors
    given_ = parse_answers(qs, {"q_nps": "5", "q_reasons": ["other", "price"], "q_reasons__other": "停车难"})
    rows = {r.question_code: r for r in answer_rows(qs, given_.values)}
    assert rows["reasons"].choices == ["other", "price"]
    assert rows["reasons.other"].text == "停车难"


def test_text_answers_are_kept_verbatim_up_to_2000_characters():
    q = {"code": "c", "type": "text", "label": {"zh-hans": "x", "en": "x"}}
    hostile = "<script>alert(1)</script> '; DROP TABLE responses_response; --"
    assert parse_answers([q], {"q_c": hostile}).values == {"c": hostile}
    assert "c" in parse_answers([q], {"q_c": "长" * 2001}).errors
