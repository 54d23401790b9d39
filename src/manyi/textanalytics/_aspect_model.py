"""A trained multi-label aspect classifier that adds recall to the phrase rules.

The rules (:mod:`._aspects`) keep precision: a phrase with negation and context, never a bare
word inside a longer one (``卫生`` is not ``卫生间``). The classifier reads the rest of a clause:
one logistic output per aspect over the same character/word n-grams as the sentiment models. It
was trained on clauses weakly labelled by the rules with the matched phrase masked out half of
the time, so it learns the context an aspect is talked about in, not only the phrase itself.

A model is ``models/aspects-<lang>.json`` + ``.npz`` in the sentiment models' format (classes are
aspect keys, one row of coefficients per aspect) plus a ``thresholds`` list, written by
``manyi text train``. An aspect only counts when the taxonomy in use has that key and the rules
did not veto it in the clause.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from ._errors import ModelError
from ._sentiment import MODELS_DIR, LinearTextModel


class AspectClassifier:
    """One sigmoid per aspect over a clause's n-grams; :meth:`predict` returns the aspects above threshold."""

    def __init__(self, model: LinearTextModel) -> None:
        thresholds = model.meta.get("thresholds")
        if not isinstance(thresholds, list) or len(thresholds) != len(model.classes):
            raise ModelError(f"aspect model {model.version} needs one threshold per aspect")
        if len(model.intercept) != len(model.classes):
            raise ModelError(f"aspect model {model.version} needs one row of coefficients per aspect")
        self.model = model
        self.version = model.version
        self.lang = model.lang
        self.aspects = list(model.classes)
        # a logit threshold, so predicting compares raw scores and never calls exp()
        self._logit = [math.log(t / (1 - t)) for t in map(float, thresholds)]
        self._logit_array = np.array(self._logit)

    @classmethod
    def load(cls, json_path: Path) -> AspectClassifier:
        return cls(LinearTextModel.load(json_path))

    def probabilities(self, clause: str) -> dict[str, float]:
        z = self.model.decision(clause)
        return {
            a: 1 / (1 + math.exp(-max(min(v, 50.0), -50.0))) for a, v in zip(self.aspects, z, strict=True)
        }

    def predict(self, clause: str) -> list[tuple[str, float]]:
        """``(aspect, probability)`` for every aspect whose probability passes its threshold."""
        z = self.model.decision(clause)
        return [
            (a, round(1 / (1 + math.exp(-v)), 4))
            for a, v, t in zip(self.aspects, z, self._logit, strict=True)
            if v >= t
        ]

    def predict_many(self, clauses: Sequence[str]) -> list[list[tuple[str, float]]]:
        """:meth:`predict` for many clauses in one batch (the clauses of a comment)."""
        out: list[list[tuple[str, float]]] = [[] for _ in clauses]
        if not clauses:
            return out
        z = self.model.decisions(clauses)
        rows, cols = np.nonzero(z >= self._logit_array)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            out[i].append((self.aspects[j], round(1 / (1 + math.exp(-float(z[i, j]))), 4)))
        return out


@cache
def load_aspect_model(lang: str, models_dir: str | None = None) -> AspectClassifier | None:
    """The shipped aspect classifier for ``zh`` or ``en``, or ``None`` when there is none."""
    base = Path(models_dir) if models_dir else MODELS_DIR
    path = base / f"aspects-{lang}.json"
    if not path.exists():
        return None
    return AspectClassifier.load(path)
