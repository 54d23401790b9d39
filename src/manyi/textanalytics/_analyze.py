"""One call per comment: language, sentiment, aspects with their clause's sentiment, keywords, flags."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ._aspect_model import AspectClassifier, load_aspect_model
from ._aspects import AspectMatch, Taxonomy, default_taxonomy
from ._flags import Flag, urgency_flags
from ._lang import Lang, detect_language
from ._sentiment import NEUTRAL, LinearTextModel, Sentiment, judge, load_model
from ._text import clauses, clean, han_count, latin_count

LangOption = Literal["auto", "zh", "en"]


@dataclass(frozen=True, slots=True)
class AspectSentiment:
    """An aspect found in a comment, with the sentiment of the clause it was found in."""

    aspect: str
    sentiment: str
    score: float
    span: str
    term: str
    #: ``rule`` (a taxonomy phrase matched; ``term`` says which) or ``model`` (the trained classifier)
    source: str = "rule"

    def as_dict(self) -> dict[str, object]:
        return {
            "aspect": self.aspect,
            "sentiment": self.sentiment,
            "score": self.score,
            "span": self.span,
            "term": self.term,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything Manyi reads from one comment. ``problems`` says what was wrong with the input."""

    text: str
    lang: Lang
    sentiment: Sentiment
    aspects: tuple[AspectSentiment, ...] = field(default=())
    keywords: tuple[str, ...] = field(default=())
    flags: tuple[Flag, ...] = field(default=())
    problems: tuple[str, ...] = field(default=())

    def flag_dicts(self) -> list[dict[str, object]]:
        """Urgency flags and input problems (``truncated``, ``mojibake``, …) as one list."""
        return [f.as_dict() for f in self.flags] + [{"flag": p, "words": []} for p in self.problems]


class Analyzer:
    """Holds the models and the taxonomy; :meth:`analyze` is safe to call on any cell value."""

    def __init__(
        self,
        *,
        taxonomy: Taxonomy | None = None,
        models_dir: Path | None = None,
        adapter: LinearTextModel | None = None,
        with_keywords: bool = True,
        aspect_classifier: bool = True,
    ) -> None:
        self.taxonomy = taxonomy or default_taxonomy()
        self.models = {
            lang: load_model(lang, str(models_dir) if models_dir else None) for lang in ("zh", "en")
        }
        self.classifiers: dict[str, AspectClassifier] = {}
        if aspect_classifier:
            for lang in ("zh", "en"):
                found = load_aspect_model(lang, str(models_dir) if models_dir else None)
                if found is not None:
                    self.classifiers[lang] = found
        self.adapter = adapter
        self.with_keywords = with_keywords

    @property
    def version(self) -> str:
        parts = [m.version for m in self.models.values()] + [f"aspects-{self.taxonomy.version}"]
        parts += [c.version for c in self.classifiers.values()]
        if self.adapter is not None:
            parts.append(self.adapter.version)
        return "+".join(parts)

    def sentiment(self, text: str, lang: str) -> Sentiment:
        """Sentiment of a text in a known language (``mixed`` averages both models)."""
        if lang == "mixed":
            pz = self.models["zh"].probabilities(text)
            pe = self.models["en"].probabilities(text)
            probs = {k: (pz.get(k, 0.0) + pe.get(k, 0.0)) / 2 for k in ("negative", "neutral", "positive")}
            if probs["neutral"] == 0:
                del probs["neutral"]
            result = judge(probs, self.models["zh"].neutral_band / 2)
        elif lang in ("zh", "en"):
            model = self.models[lang]
            result = model.score(text)
        else:
            return NEUTRAL
        if self.adapter is not None and lang == self.adapter.lang:
            result = self._adapt(text, result)
        return result

    def _adapt(self, text: str, base: Sentiment) -> Sentiment:
        assert self.adapter is not None
        p = self.adapter.probabilities(text)
        # the adapter decides polarity; a three-class base keeps its neutral share
        return judge(p, self.adapter.neutral_band)

    def analyze(self, value: object, lang: LangOption = "auto") -> Analysis:
        """Analyse one comment. Never raises on bad input; problems are listed on the result."""
        c = clean(value)
        text = c.text
        if not text or "no_text" in c.problems:
            return Analysis(text, "other", NEUTRAL, problems=c.problems)
        detected: Lang = detect_language(text) if lang == "auto" else lang
        overall = self.sentiment(text, detected)
        aspects: list[AspectSentiment] = []
        spans = clauses(text)
        found = clauses_aspects(self.taxonomy, self.classifiers, [text[a:b] for a, b in spans])
        for (start, end), matches in zip(spans, found, strict=True):
            clause = text[start:end]
            if not matches:
                continue
            clause_lang = "zh" if han_count(clause) else "en" if latin_count(clause) else detected
            cs = overall if (start, end) == (0, len(text)) else self.sentiment(clause, clause_lang)
            for m in matches:
                if m.polarity:
                    label = "positive" if m.polarity > 0 else "negative"
                    score = (
                        cs.score
                        if (cs.score > 0) == (m.polarity > 0) and cs.label != "neutral"
                        else 0.6 * m.polarity
                    )
                else:
                    label, score = cs.label, cs.score
                source = "rule" if m.term else "model"
                aspects.append(AspectSentiment(m.aspect, label, round(score, 4), clause, m.term, source))
        kws: tuple[str, ...] = ()
        if self.with_keywords:
            from ._keywords import keywords

            kws = tuple(keywords(text, detected))
        return Analysis(text, detected, overall, tuple(aspects), kws, tuple(urgency_flags(text)), c.problems)

    def analyze_many(self, values: Iterable[object], lang: LangOption = "auto") -> Iterator[Analysis]:
        for v in values:
            yield self.analyze(v, lang)


def clause_aspects(
    taxonomy: Taxonomy, classifiers: dict[str, AspectClassifier], clause: str
) -> list[AspectMatch]:
    """The rules' matches in a clause, plus the aspects the classifier adds (see :func:`clauses_aspects`)."""
    return clauses_aspects(taxonomy, classifiers, [clause])[0]


def clauses_aspects(
    taxonomy: Taxonomy, classifiers: dict[str, AspectClassifier], clauses: list[str]
) -> list[list[AspectMatch]]:
    """For each clause, the rules' matches plus the aspects the classifier adds.

    The classifier only adds: an aspect the rules found keeps its rule match (term, polarity), and
    an aspect the rules vetoed in this clause (``卫生`` inside ``卫生间``) or that the taxonomy does
    not have is never added. A classifier match has an empty ``term`` and no polarity of its own.
    The classifier scores all clauses of one language in one batch.
    """
    out = [taxonomy.match(c) for c in clauses]
    if not classifiers:
        return out
    by_lang: dict[str, list[int]] = {}
    for i, c in enumerate(clauses):
        lang = "zh" if han_count(c) else "en" if latin_count(c) else ""
        if lang in classifiers:
            by_lang.setdefault(lang, []).append(i)
    keys = taxonomy.keys
    for lang, idx in by_lang.items():
        found = classifiers[lang].predict_many([clauses[i] for i in idx])
        for i, hits in zip(idx, found, strict=True):
            if not hits:
                continue
            have = {m.aspect for m in out[i]}
            extra = [k for k, _ in hits if k not in have and k in keys]
            if extra:
                vetoed = taxonomy.vetoed(clauses[i])
                out[i] += [AspectMatch(k, "", 0, len(clauses[i]), 0, False) for k in extra if k not in vetoed]
    return out


_default: Analyzer | None = None


def analyze(value: object, lang: LangOption = "auto") -> Analysis:
    """Analyse one comment with the shipped models and taxonomy (loaded on first use)."""
    global _default
    if _default is None:
        _default = Analyzer()
    return _default.analyze(value, lang)
