"""Adapting sentiment to an organisation's own comments with weak labels from their scores.

A detractor's comment (NPS 0–6) or a dissatisfied one (CSAT 1–2) is taken as negative, a
promoter's (9–10) or a satisfied one (4–5) as positive; passives and the middle are left out.
An *adapter* is a small linear model over the organisation's own vocabulary plus the shipped
model's margin as one more feature, so it starts from the shipped model and learns local words
("出餐慢", a store's own product names). It ships as JSON + NPZ like the base models.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ._errors import ModelError
from ._sentiment import FEATURES, FORMAT, LinearTextModel, judge, load_model

Scale = Literal["nps", "csat"]


def weak_label(score: object, scale: Scale) -> str | None:
    """``negative``/``positive`` from a score, ``None`` for passives, neutrals and non-numbers."""
    try:
        s = float(score)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(s):
        return None
    if scale == "nps":
        return "negative" if 0 <= s <= 6 else "positive" if 9 <= s <= 10 else None
    return "negative" if 1 <= s <= 2 else "positive" if 4 <= s <= 5 else None


def _margin(base: LinearTextModel, text: str) -> float:
    p = base.probabilities(text)
    pos, neg = p.get("positive", 0.0), p.get("negative", 0.0)
    return math.log(max(pos, 1e-6) / max(neg, 1e-6))


@dataclass
class AdaptedModel:
    """The shipped model plus an organisation's adapter; scores like :class:`LinearTextModel`."""

    base: LinearTextModel
    own: LinearTextModel
    base_weight: float

    @property
    def lang(self) -> str:
        return self.base.lang

    @property
    def version(self) -> str:
        return self.own.version

    @property
    def neutral_band(self) -> float:
        return self.base.neutral_band

    def probabilities(self, text: str) -> dict[str, float]:
        z = self.own.decision(text)[0] + self.base_weight * _margin(self.base, text)
        p = 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))
        base = self.base.probabilities(text)
        keep = base.get("neutral", 0.0)
        out = {"negative": (1 - keep) * (1 - p), "positive": (1 - keep) * p}
        if "neutral" in base:
            out["neutral"] = keep
        return out

    def score(self, text: str) -> Any:
        return judge(self.probabilities(text), self.neutral_band)

    @classmethod
    def load(cls, json_path: Path, models_dir: Path | None = None) -> AdaptedModel:
        own = LinearTextModel.load(Path(json_path))
        if "base_weight" not in own.meta:
            raise ModelError(f"{json_path} is not an adapter (no base_weight)")
        base = load_model(own.lang, str(models_dir) if models_dir else None)
        if own.meta.get("base_version") != base.version:
            raise ModelError(
                f"adapter was trained on {own.meta.get('base_version')}, the installed model is {base.version}; "
                "run `manyi text adapt` again"
            )
        return cls(base, own, float(own.meta["base_weight"]))  # type: ignore[arg-type]


def binary_accuracy(model: Any, texts: Sequence[str], labels: Sequence[str]) -> float:
    if not texts:
        return float("nan")
    hits = 0
    for t, y in zip(texts, labels, strict=True):
        p = model.probabilities(t)
        hits += ("positive" if p.get("positive", 0) >= p.get("negative", 0) else "negative") == y
    return hits / len(texts)


def adapt(
    texts: Sequence[str],
    scores: Sequence[object],
    *,
    scale: Scale,
    lang: str,
    out_path: Path,
    holdout: float = 0.2,
    seed: int = 0,
    models_dir: Path | None = None,
) -> dict[str, Any]:
    """Fit an adapter on weakly labelled comments; report binary accuracy before/after on a held-back part."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    base = load_model(lang, str(models_dir) if models_dir else None)
    pairs = [(t, weak_label(s, scale)) for t, s in zip(texts, scores, strict=True)]
    labelled = [(t, y) for t, y in pairs if y is not None and t and t.strip()]
    if len(labelled) < 20 or len({y for _, y in labelled}) < 2:
        raise ModelError(f"need at least 20 labelled comments of both kinds, got {len(labelled)}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labelled))
    n_test = max(1, round(len(labelled) * holdout))
    test = [labelled[i] for i in order[:n_test]]
    train = [labelled[i] for i in order[n_test:]]
    tx, ty = [t for t, _ in train], [y for _, y in train]
    vec = TfidfVectorizer(
        analyzer=FEATURES[str(base.meta["features"])], sublinear_tf=True, min_df=2, max_features=50_000
    )
    try:
        x_own = vec.fit_transform(tx)
    except ValueError:  # too few texts for min_df=2
        vec.set_params(min_df=1)
        x_own = vec.fit_transform(tx)
    margins = csr_matrix(np.array([[_margin(base, t)] for t in tx]))
    clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
    clf.fit(hstack([x_own, margins]).tocsr(), ty)
    coef = clf.coef_[0]
    sign = 1.0 if list(clf.classes_) == ["negative", "positive"] else -1.0
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    meta = {
        "format": FORMAT,
        "version": f"{base.version}+adapter-{len(train)}",
        "lang": lang,
        "features": base.meta["features"],
        "classes": ["negative", "positive"],
        "base_version": base.version,
        "base_weight": float(sign * coef[-1]),
        "weak_labels": scale,
        "vocabulary": vocab,
    }
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    np.savez_compressed(
        out_path.with_suffix(".npz"),
        idf=vec.idf_.astype(np.float32),
        coef=(sign * coef[:-1]).astype(np.float32)[None, :],
        intercept=np.array([sign * clf.intercept_[0]], dtype=np.float32),
    )
    adapted = AdaptedModel.load(out_path, models_dir)
    test_x, test_y = [t for t, _ in test], [y for _, y in test]
    return {
        "labelled": len(labelled),
        "train": len(train),
        "held_back": len(test),
        "accuracy_before": round(binary_accuracy(base, test_x, test_y), 4),
        "accuracy_after": round(binary_accuracy(adapted, test_x, test_y), 4),
        "adapter": str(out_path),
        "version": adapted.version,
    }
