"""Sentiment scoring with exported linear models: pure Python and NumPy, no scikit-learn, no pickle.

A model is two files in ``models/``: ``sentiment-<lang>.json`` (format, version, classes,
vocabulary, calibration) and ``sentiment-<lang>.npz`` (IDF weights, coefficients, intercepts),
written by ``manyi text train``. Scoring is TF-IDF (sublinear tf, L2 norm) times the coefficients,
with temperature-scaled probabilities, which is what scikit-learn computed at training time.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np

from ._errors import ModelError
from ._text import (
    en_char_grams,
    en_features,
    en_word_features,
    en_word_only_features,
    en_words,
    zh_features,
    zh_short_features,
)

Label = Literal["negative", "neutral", "positive"]
FORMAT = "manyi-linear-text/1"
MODELS_DIR = Path(__file__).parent / "models"
FEATURES: dict[str, Callable[[str], list[str]]] = {
    "zh_char_1_3": zh_features,
    "en_word_char": en_features,
    "zh_char_1_2": zh_short_features,
    "en_word_1_2": en_word_only_features,
}


@dataclass(frozen=True, slots=True)
class Sentiment:
    """One sentiment judgement: a label, a score in [−1, 1] (P(pos) − P(neg)) and a confidence."""

    label: Label
    score: float
    confidence: float


NEUTRAL = Sentiment("neutral", 0.0, 0.0)


class LinearTextModel:
    """A TF-IDF + linear classifier loaded from JSON/NPZ; scores a text in tens of microseconds."""

    def __init__(self, meta: dict[str, object], arrays: dict[str, np.ndarray]) -> None:
        if meta.get("format") != FORMAT:
            raise ModelError(f"unknown model format {meta.get('format')!r}, expected {FORMAT!r}")
        self.meta = meta
        self.version = str(meta["version"])
        self.lang = str(meta["lang"])
        self.classes: list[str] = [str(c) for c in meta["classes"]]  # type: ignore[attr-defined]
        self.temperature = float(meta.get("temperature", 1.0))  # type: ignore[arg-type]
        self.neutral_band = float(meta.get("neutral_band", 0.0))  # type: ignore[arg-type]
        self.featurize = FEATURES[str(meta["features"])]
        vocabulary = meta["vocabulary"]
        if not isinstance(vocabulary, list):
            raise ModelError("model vocabulary must be a list")
        self.index = {term: i for i, term in enumerate(vocabulary)}
        idf = arrays["idf"].astype(np.float64)
        coef = np.atleast_2d(arrays["coef"].astype(np.float64))
        if coef.shape[1] != len(vocabulary) or idf.shape[0] != len(vocabulary):
            raise ModelError("model arrays do not match its vocabulary")
        self._word_ids: dict[str, list[int]] = {}
        self._idf = idf
        # one row per feature, so a text gathers only the rows of the n-grams it contains
        self._coef_t = np.ascontiguousarray(coef.T)
        self._intercept = np.atleast_1d(arrays["intercept"].astype(np.float64))
        self.intercept: list[float] = self._intercept.tolist()

    @classmethod
    def load(cls, json_path: Path, npz_path: Path | None = None) -> LinearTextModel:
        npz_path = npz_path or json_path.with_suffix(".npz")
        try:
            meta = json.loads(json_path.read_text(encoding="utf-8"))
            with np.load(npz_path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot load model {json_path.name}: {exc}") from exc
        return cls(meta, arrays)

    def feature_ids(self, text: str) -> list[int]:
        """Vocabulary indices of the text's features (repeats kept: they are the term counts)."""
        get = self.index.get
        if self.featurize is not en_features:
            return [i for i in map(get, self.featurize(text)) if i is not None]
        # English: the character n-grams of a word are looked up once per word and remembered,
        # which makes long comments several times cheaper (same features as en_features).
        words = en_words(text)
        ids = [i for i in map(get, en_word_features(words)) if i is not None]
        cache = self._word_ids
        for w in words:
            known = cache.get(w)
            if known is None:
                if len(cache) > 200_000:
                    cache.clear()
                known = cache[w] = [i for i in map(get, en_char_grams(w)) if i is not None]
            ids += known
        return ids

    def decision(self, text: str) -> list[float]:
        """Raw linear scores (one per row of coefficients) for a text."""
        counts = Counter(self.feature_ids(text))
        if not counts:
            return list(self.intercept)
        ids = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        tf = np.where(tf > 1, 1.0 + np.log(tf), 1.0)
        x = tf * self._idf[ids]
        z = (x @ self._coef_t[ids]) / math.sqrt(float(x @ x)) + self._intercept
        return z.tolist()

    def decisions(self, texts: Sequence[str]) -> np.ndarray:
        """Raw linear scores for many texts at once, one row per text (same values as :meth:`decision`).

        The texts' features are gathered into one array, so the NumPy calls are paid once per
        batch rather than once per text: cheaper for many short texts such as a comment's clauses.
        """
        ids: list[int] = []
        tfs: list[int] = []
        bounds = [0]
        for text in texts:
            counts = Counter(self.feature_ids(text))
            ids.extend(counts.keys())
            tfs.extend(counts.values())
            bounds.append(len(ids))
        z = np.tile(self._intercept, (len(texts), 1))
        if not ids:
            return z
        idx = np.array(ids, dtype=np.intp)
        tf = np.array(tfs, dtype=np.float64)
        x = np.where(tf > 1, 1.0 + np.log(tf), 1.0) * self._idf[idx]
        starts = np.array(bounds[:-1], dtype=np.intp)
        filled = starts < np.array(bounds[1:], dtype=np.intp)
        at = starts[filled]
        sums = np.add.reduceat(x[:, None] * self._coef_t[idx], at, axis=0)
        norms = np.sqrt(np.add.reduceat(x * x, at))
        z[filled] += sums / norms[:, None]
        return z

    def probabilities(self, text: str) -> dict[str, float]:
        return self.probabilities_of(self.decision(text))

    def probabilities_of(self, decision: Sequence[float]) -> dict[str, float]:
        """Class probabilities from raw linear scores (a row of :meth:`decisions`)."""
        z = [v / self.temperature for v in decision]
        if len(self.classes) == 2 and len(z) == 1:
            p = 1.0 / (1.0 + math.exp(-max(min(z[0], 50.0), -50.0)))
            return {self.classes[0]: 1.0 - p, self.classes[1]: p}
        m = max(z)
        e = [math.exp(v - m) for v in z]
        s = sum(e)
        return {c: v / s for c, v in zip(self.classes, e, strict=True)}

    def score(self, text: str) -> Sentiment:
        return judge(self.probabilities(text), self.neutral_band)

    def score_many(self, texts: Iterable[str]) -> list[Sentiment]:
        """:meth:`score` for many texts, their features scored in one batch (see :meth:`decisions`)."""
        texts = list(texts)
        if not texts:
            return []
        band = self.neutral_band
        return [judge(self.probabilities_of(z), band) for z in self.decisions(texts).tolist()]


def judge(probs: dict[str, float], neutral_band: float = 0.0) -> Sentiment:
    """Turn class probabilities into a label, a score in [−1, 1] and a confidence.

    A two-class model says ``neutral`` when its score lies inside ``neutral_band`` of zero.
    """
    pos = probs.get("positive", 0.0)
    neg = probs.get("negative", 0.0)
    score = pos - neg
    if "neutral" in probs:
        label = max(probs, key=lambda k: probs[k])
        return Sentiment(label, round(score, 4), round(probs[label], 4))  # type: ignore[arg-type]
    if abs(score) < neutral_band:
        return Sentiment("neutral", round(score, 4), round(1.0 - abs(score) / max(neutral_band, 1e-9) / 2, 4))
    label2: Label = "positive" if score > 0 else "negative"
    return Sentiment(label2, round(score, 4), round(max(pos, neg), 4))


@cache
def load_model(lang: str, models_dir: str | None = None) -> LinearTextModel:
    """The shipped (or given) sentiment model for ``zh`` or ``en``, loaded once per process."""
    base = Path(models_dir) if models_dir else MODELS_DIR
    path = base / f"sentiment-{lang}.json"
    if not path.exists():
        raise ModelError(f"no sentiment model for {lang!r} in {base}; run `manyi text train`")
    return LinearTextModel.load(path)


def model_files(models_dir: Path | None = None) -> Sequence[Path]:
    """Every file a shipped model consists of (for size checks and model cards)."""
    base = models_dir or MODELS_DIR
    return sorted(p for p in base.iterdir() if p.suffix in {".json", ".npz"})
