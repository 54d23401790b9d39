"""Weak supervision: NPS and CSAT scores label comments; the adapter reports before and after."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from manyi import textanalytics as ta
from manyi.textanalytics._adapt import adapt


@pytest.mark.parametrize(
    ("score", "scale", "label"),
    [(0, "nps", "negative"), (6, "nps", "negative"), (7, "nps", None), (8, "nps", None), (9, "nps", "positive"),
     (10, "nps", "positive"), (1, "csat", "negative"), (2, "csat", "negative"), (3, "csat", None),
     (5, "csat", "positive"), ("", "nps", None), (float("nan"), "csat", None), ("n/a", "csat", None)],
)  # fmt: skip
def test_scores_give_weak_labels_and_the_middle_gives_none(score, scale, label):
    assert ta.weak_label(score, scale) == label


def organisation_comments() -> tuple[list[str], list[int]]:
    # a local word the shipped model has never seen: "出餐慢" means slow kitchen here
    good = ["出餐快，好评", "店员热情，出餐快", "环境好，出餐快", "味道好，出餐快", "出餐快，下次再来"]
    bad = ["出餐慢", "今天又出餐慢", "出餐慢，等到饿", "周末出餐慢", "出餐慢出餐慢"]
    texts = (good * 8) + (bad * 8)
    scores = [10] * 40 + [3] * 40
    return texts, scores


def test_adapt_writes_an_adapter_and_reports_accuracy_before_and_after(tmp_path: Path):
    texts, scores = organisation_comments()
    out = tmp_path / "adapter-zh.json"
    report = adapt(texts, scores, scale="nps", lang="zh", out_path=out, holdout=0.25)
    assert report["labelled"] == 80
    assert report["held_back"] == 20
    assert report["accuracy_after"] >= report["accuracy_before"]
    assert report["accuracy_after"] == 1.0
    assert json.loads(out.read_text(encoding="utf-8"))["base_version"].startswith("zh-")
    adapted = ta.AdaptedModel.load(out)
    analyzer = ta.Analyzer(adapter=adapted, with_keywords=False)  # type: ignore[arg-type]
    assert analyzer.analyze("出餐慢").sentiment.label == "negative"


def test_adapt_refuses_too_few_labelled_comments(tmp_path: Path):
    with pytest.raises(ta.ModelError, match="at least 20"):
        adapt(["好"] * 5, [10] * 5, scale="nps", lang="zh", out_path=tmp_path / "a.json")
