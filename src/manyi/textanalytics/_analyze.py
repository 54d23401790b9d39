"""One call per comment: language, sentiment, aspects with their clause's sentiment, keywords, flags."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
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
BATCH = 256  # comments analysed together by analyze_many


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
        return self.sentiments([(text, lang)])[0]

    def sentiments(self, items: Sequence[tuple[str, str]]) -> list[Sentiment]:
        """Sentiment of many ``(text, language)`` pairs: each model scores its texts in one batch."""
        out: list[Sentiment] = [NEUTRAL] * len(items)
        by_lang: dict[str, list[int]] = {}
        for i, (_, lang) in enumerate(items):
            if lang in ("zh", "en", "mixed"):
                by_lang.setdefault(lang, []).append(i)
        zh, en = self.models["zh"], self.models["en"]
        for lang, idx in by_lang.items():
            texts = [items[i][0] for i in idx]
            if lang == "mixed":
                rows = zip(idx, zh.decisions(texts).tolist(), en.decisions(texts).tolist(), strict=True)
                for i, z, e in rows:
                    pz, pe = zh.probabilities_of(z), en.probabilities_of(e)
                    probs = {
                        k: (pz.get(k, 0.0) + pe.get(k, 0.0)) / 2 for k in ("negative", "neutral", "positive")
                    }
                    if probs["neutral"] == 0:
                        del probs["neutral"]
                    out[i] = judge(probs, zh.neutral_band / 2)
            else:
                model = self.models[lang]
                for i, z in zip(idx, model.decisions(texts).tolist(), strict=True):
                    out[i] = judge(model.probabilities_of(z), model.neutral_band)
            if self.adapter is not None and lang == self.adapter.lang:
                for i in idx:
                    out[i] = self._adapt(items[i][0], out[i])
        return out

    def _adapt(self, text: str, base: Sentiment) -> Sentiment:
        assert self.adapter is not None
        p = self.adapter.probabilities(text)
        # the adapter decides polarity; a three-class base keeps its neutral share
        return judge(p, self.adapter.neutral_band)

    def analyze(self, value: object, lang: LangOption = "auto") -> Analysis:
        """Analyse one comment. Never raises on bad input; problems are listed on the result."""
        return self._analyze_batch([value], lang)[0]

    def analyze_many(
        self, values: Iterable[object], lang: LangOption = "auto", *, batch: int = BATCH
    ) -> Iterator[Analysis]:
        """:meth:`analyze` for many comments, in order. ``batch`` comments at a time share each
        model's NumPy work (their sentiments, their clauses' aspects), which makes a file or a
        backlog about a fifth cheaper to analyse than one comment at a time; the results are the same."""
        chunk: list[object] = []
        for v in values:
            chunk.append(v)
            if len(chunk) >= batch:
                yield from self._analyze_batch(chunk, lang)
                chunk = []
        if chunk:
            yield from self._analyze_batch(chunk, lang)

    def _analyze_batch(self, values: Sequence[object], lang: LangOption) -> list[Analysis]:
        results: list[Analysis] = []
        todo: list[tuple[int, str, Lang, tuple[str, ...], list[tuple[int, int]]]] = []
        for i, value in enumerate(values):
            c = clean(value)
            results.append(Analysis(c.text, "other", NEUTRAL, problems=c.problems))
            if c.text and "no_text" not in c.problems:
                detected: Lang = detect_language(c.text) if lang == "auto" else lang
                todo.append((i, c.text, detected, c.problems, clauses(c.text)))
        if not todo:
            return results
        found = iter(
            clauses_aspects(
                self.taxonomy,
                self.classifiers,
                [text[a:b] for _, text, _, _, spans in todo for a, b in spans],
            )
        )
        # What to score: each comment as a whole (first, in order), then each clause that has an
        # aspect and is not the whole comment.
        requests: list[tuple[str, str]] = [(text, detected) for _, text, detected, _, _ in todo]
        plans: list[list[tuple[str, list[AspectMatch], int]]] = []
        for n, (_, text, detected, _, spans) in enumerate(todo):
            plan = []
            for start, end in spans:
                matches = next(found)
                if not matches:
                    continue
                clause = text[start:end]
                if (start, end) == (0, len(text)):
                    plan.append((clause, matches, n))
                    continue
                clause_lang = "zh" if han_count(clause) else "en" if latin_count(clause) else detected
                requests.append((clause, clause_lang))
                plan.append((clause, matches, len(requests) - 1))
            plans.append(plan)
        scored = self.sentiments(requests)
        for n, (i, text, detected, problems, _) in enumerate(todo):
            aspects: list[AspectSentiment] = []
            for clause, matches, r in plans[n]:
                cs = scored[r]
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
            results[i] = Analysis(
                text, detected, scored[n], tuple(aspects), kws, tuple(urgency_flags(text)), problems
            )
        return results


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
