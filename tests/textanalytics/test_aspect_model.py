"""The trained aspect classifier adds recall to the rules, never overrides their vetoes, ships as JSON/NPZ."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from manyi import textanalytics as ta
from manyi.textanalytics._analyze import clause_aspects
from manyi.textanalytics._aspect_model import AspectClassifier, load_aspect_model
from manyi.textanalytics._errors import ModelError
from manyi.textanalytics._sentiment import FORMAT, MODELS_DIR, LinearTextModel
from manyi.textanalytics._train import aspect_scores, load_aspect_sample, weak_aspect_labels


def classifier(
    weights: dict[str, float], aspect: str = "cleanliness", threshold: float = 0.5
) -> AspectClassifier:
    """A one-aspect classifier over character n-grams with the given weights (bias −2)."""
    vocab = list(weights)
    meta = {
        "format": FORMAT,
        "version": "aspects-zh-test",
        "lang": "zh",
        "features": "zh_char_1_3",
        "classes": [aspect],
        "vocabulary": vocab,
        "thresholds": [threshold],
    }
    arrays = {
        "idf": np.ones(len(vocab), dtype=np.float32),
        "coef": np.array([[weights[v] for v in vocab]], dtype=np.float32),
        "intercept": np.array([-2.0], dtype=np.float32),
    }
    return AspectClassifier(LinearTextModel(meta, arrays))


def test_the_classifier_adds_an_aspect_the_rules_do_not_name():
    clf = classifier({"收拾": 8.0})
    found = clause_aspects(ta.default_taxonomy(), {"zh": clf}, "房间收拾得很好")
    assert [(m.aspect, m.term) for m in found] == [("cleanliness", "")]
    assert clause_aspects(ta.default_taxonomy(), {}, "房间收拾得很好") == []


def test_the_classifier_never_adds_an_aspect_the_rules_vetoed_in_the_clause():
    clf = classifier({"卫生": 8.0})
    found = {m.aspect for m in clause_aspects(ta.default_taxonomy(), {"zh": clf}, "卫生间在二楼")}
    assert "cleanliness" not in found
    assert "facilities" in found


def test_the_classifier_adds_only_aspects_of_the_taxonomy_in_use(tmp_path: Path):
    own = ta.Taxonomy({"version": "x", "aspects": [{"key": "dessert", "zh": ["甜品"]}]})
    clf = classifier({"收拾": 8.0})
    assert clause_aspects(own, {"zh": clf}, "房间收拾得很好") == []


def test_a_rule_match_keeps_its_term_and_polarity_when_the_classifier_agrees():
    clf = classifier({"干净": 8.0})
    (m,) = clause_aspects(ta.default_taxonomy(), {"zh": clf}, "房间不干净")
    assert (m.aspect, m.term, m.polarity) == ("cleanliness", "干净", -1)


def test_an_analysis_says_which_aspects_came_from_the_model():
    analyzer = ta.Analyzer(with_keywords=False)
    analyzer.classifiers = {"zh": classifier({"收拾": 8.0})}
    (a,) = analyzer.analyze("房间收拾得很好").aspects
    assert (a.aspect, a.source, a.term, a.sentiment) == ("cleanliness", "model", "", "positive")
    assert a.as_dict()["source"] == "model"


def test_an_aspect_model_without_one_threshold_per_aspect_is_refused():
    model = classifier({"收拾": 1.0}).model
    model.meta["thresholds"] = []
    with pytest.raises(ModelError, match="threshold"):
        AspectClassifier(model)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_shipped_aspect_models_cover_only_default_aspects_and_load_fast(lang: str):
    load_aspect_model.cache_clear()
    start = time.perf_counter()
    clf = load_aspect_model(lang)
    assert clf is not None and time.perf_counter() - start < 1.0
    assert set(clf.aspects) <= ta.default_taxonomy().keys
    meta = json.loads((MODELS_DIR / f"aspects-{lang}.json").read_text(encoding="utf-8"))
    assert meta["metrics"]["rules_plus_classifier"]["clauses"] == len(load_aspect_sample(lang))
    assert clf.version in ta.Analyzer().version


def test_weak_labels_blank_the_matched_phrase_in_masked_clauses():
    texts, labels, masked = weak_aspect_labels(
        ["房间很干净，我们住了两晚"], ta.default_taxonomy(), mask_share=1.0
    )
    assert labels[0] == {"cleanliness"} and masked[0]
    assert "干净" not in texts[0] and texts[0].startswith("房间")
    assert not masked[1] and texts[1] == "我们住了两晚"


def test_aspect_scores_count_clause_aspect_pairs():
    got = aspect_scores([{"a"}, {"a", "b"}, set()], [{"a"}, {"a"}, {"c"}])
    assert (got["precision"], got["recall"], got["labelled_aspects"]) == (round(2 / 3, 4), round(2 / 3, 4), 3)


def test_the_hand_labelled_sample_names_only_default_aspects():
    rows = load_aspect_sample()
    assert len(rows) > 250
    assert {k for _, _, keys in rows for k in keys} <= ta.default_taxonomy().keys
