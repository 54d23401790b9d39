"""Training on a tiny corpus: the exported JSON/NPZ scorer reproduces scikit-learn exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from manyi.textanalytics._train import Corpus, export, fit, split, write_model_card


def tiny() -> Corpus:
    pos = ["很好", "非常好", "满意", "很满意", "好吃", "很干净", "热情", "推荐", "很快", "不错"]
    neg = ["很差", "太差", "不满意", "难吃", "很脏", "冷漠", "失望", "太慢", "不好", "垃圾"]
    return Corpus(pos * 3 + neg * 3, ["positive"] * 30 + ["negative"] * 30)


def test_the_exported_model_scores_like_scikit_learn(tmp_path: Path):
    corpus = tiny()
    vec, clf = fit(corpus, "zh_char_1_3", c=1.0, max_features=1000)
    model = export(
        vec,
        clf,
        lang="zh",
        features="zh_char_1_3",
        version="zh-test",
        extra={"metrics": {}},
        out_dir=tmp_path,
    )
    texts = ["服务很好", "太差了", "一般"]
    expected = clf.predict_proba(vec.transform(texts))[:, list(clf.classes_).index("positive")]
    got = [model.probabilities(t)["positive"] for t in texts]
    assert np.allclose(got, expected, atol=1e-4)
    assert (tmp_path / "sentiment-zh.npz").exists()
    assert "zh-test" in write_model_card(tmp_path).read_text(encoding="utf-8")


def test_splits_are_stratified_and_repeatable():
    corpus = tiny()
    a1, b1 = split(corpus, 0.2)
    _, b2 = split(corpus, 0.2)
    assert b1.texts == b2.texts
    assert b1.labels.count("positive") == b1.labels.count("negative") == 6
    assert len(a1) + len(b1) == len(corpus)


def test_an_nb_lr_blend_folds_into_one_linear_model_the_scorer_reproduces(tmp_path: Path):
    corpus = tiny()
    vec, clf = fit(corpus, "zh_char_1_3", c=1.0, nb_c=1.0, max_features=1000)
    model = export(vec, clf, lang="zh", features="zh_char_1_3", version="zh-nb", extra={}, out_dir=tmp_path)
    texts = ["服务很好", "太差了", "不满意"]
    expected = clf.predict_proba(vec.transform(texts))[:, list(clf.classes_).index("positive")]
    got = [model.probabilities(t)["positive"] for t in texts]
    assert np.allclose(got, expected, atol=1e-4)
    assert got[0] > 0.5 > got[1]


def test_a_three_class_blend_has_one_row_of_coefficients_per_class():
    corpus = Corpus(tiny().texts + ["一般", "还行", "普通"] * 10, tiny().labels + ["neutral"] * 30)
    vec, clf = fit(corpus, "zh_char_1_3", c=1.0, nb_c=1.0, max_features=1000)
    assert clf.coef_.shape == (3, len(vec.vocabulary_))
    assert list(clf.classes_) == ["negative", "neutral", "positive"]
    z = clf.decision_function(vec.transform(["一般", "很好"]))
    assert list(clf.classes_[z.argmax(axis=1)]) == ["neutral", "positive"]
