"""Sentiment: three classes, a score in [−1, 1], a confidence, and clause-level judgements."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from manyi import textanalytics as ta
from manyi.textanalytics._sentiment import MODELS_DIR, model_files


def test_a_mixed_comment_is_positive_on_food_and_negative_on_waiting():
    a = ta.analyze("菜很好吃，但是等了一个小时")
    by_aspect = {x.aspect: x for x in a.aspects}
    assert by_aspect["food_taste"].sentiment == "positive"
    assert by_aspect["food_taste"].span == "菜很好吃"
    assert by_aspect["wait_time"].sentiment == "negative"
    assert "等了一个小时" in by_aspect["wait_time"].span


def test_an_english_mixed_comment_is_split_at_but():
    a = ta.analyze("The food was delicious but we waited an hour")
    by_aspect = {x.aspect: x.sentiment for x in a.aspects}
    assert by_aspect == {"food_taste": "positive", "wait_time": "negative"}


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("质量很好，物流很快，非常满意", "positive"),
        ("太差了，再也不买了", "negative"),
        ("Absolutely loved the friendly staff", "positive"),
        ("Worst service ever, flight delayed and nobody helped", "negative"),
    ],
)
def test_clear_comments_get_the_obvious_label(text, label):
    assert ta.analyze(text).sentiment.label == label


def test_scores_lie_in_minus_one_to_one_and_confidence_in_zero_to_one():
    for text in ["很好", "很差", "一般般吧", "ok", "terrible", "great", "I flew to Boston on Monday"]:
        s = ta.analyze(text).sentiment
        assert -1 <= s.score <= 1
        assert 0 <= s.confidence <= 1
        assert (s.score > 0) == (s.label == "positive") or s.label == "neutral"


def test_model_files_load_without_pickle_and_are_under_20_mb():
    files = model_files()
    assert {p.name for p in files} >= {
        "sentiment-zh.json",
        "sentiment-zh.npz",
        "sentiment-en.json",
        "sentiment-en.npz",
        "aspects-zh.json",
        "aspects-zh.npz",
        "aspects-en.json",
        "aspects-en.npz",
    }
    assert sum(p.stat().st_size for p in files) < 20_000_000
    for npz in MODELS_DIR.glob("*.npz"):
        with np.load(npz, allow_pickle=False) as arrays:
            assert all(arrays[k].dtype != object for k in arrays.files)
    for path in MODELS_DIR.glob("*.json"):
        meta = json.loads(path.read_text(encoding="utf-8"))
        assert meta["format"] == "manyi-linear-text/1"
        assert meta["version"].startswith((meta["lang"] + "-", f"aspects-{meta['lang']}-"))
        assert meta["metrics"] and meta["data"] and meta["trained"]
    for path in MODELS_DIR.iterdir():
        assert path.read_bytes()[:1] in {b"{", b"P", b"#"}  # JSON, zip (NPZ) or the Markdown card


def test_the_model_card_sits_next_to_the_weights_and_names_data_and_metrics():
    card = (MODELS_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "unseen_domain_热水器" in card
    assert "held_out_airline_tweets_3class" in card
    assert "snownlp" in card


def test_a_missing_model_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ta.ModelError, match="manyi text train"):
        ta.load_model("zh", str(tmp_path))


def test_a_model_of_unknown_format_is_refused(tmp_path: Path):
    src = MODELS_DIR / "sentiment-zh.json"
    meta = json.loads(src.read_text(encoding="utf-8"))
    meta["format"] = "pickle/1"
    (tmp_path / "sentiment-zh.json").write_text(json.dumps(meta), encoding="utf-8")
    (tmp_path / "sentiment-zh.npz").write_bytes((MODELS_DIR / "sentiment-zh.npz").read_bytes())
    with pytest.raises(ta.ModelError, match="unknown model format"):
        ta.load_model("zh", str(tmp_path))


def test_the_fast_english_path_sees_exactly_the_training_features():
    from manyi.textanalytics._text import en_features

    model = ta.load_model("en")
    for text in [
        "Not good at all, the flight wasn't on time!",
        "@united lost my bag again http://t.co/x",
        "ok",
    ]:
        expected = sorted(i for i in map(model.index.get, en_features(text)) if i is not None)
        assert sorted(model.feature_ids(text)) == expected
        assert sorted(model.feature_ids(text)) == expected  # second time from the word cache
