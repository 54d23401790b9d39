"""Aspects: what a comment is about, matched by phrase rules with negation and context.

A taxonomy is data (``data/aspects.json`` by default; an organisation passes its own file) with,
per aspect, Chinese and English phrases, optional polar cues (``positive``/``negative``) and
``exclude`` terms that veto a match inside them: ``卫生`` is cleanliness, ``卫生间`` is not.
A negator just before a polar cue flips it, so ``不干净`` is negative cleanliness.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ._errors import TaxonomyError

DEFAULT_TAXONOMY = Path(__file__).parent / "data" / "aspects.json"

# a negator, then up to two degree words, right before the cue
_ZH_NEGATION = re.compile(
    r"(?:不|没有|没|未|无|别|并非|不是|一点也不|一点都不|毫不)(?:太|很|够|是|怎么|那么|算|大){0,2}$"
)
_EN_NEGATION = re.compile(
    r"\b(?:not|no|never|hardly|n't|isn't|wasn't|aren't|weren't|don't|didn't)\s+(?:\w+\s+){0,2}$", re.I
)


@dataclass(frozen=True, slots=True)
class Aspect:
    """One aspect of a taxonomy, with its names in both languages."""

    key: str
    zh_name: str
    en_name: str
    phrases: tuple[str, ...]
    positive: frozenset[str] = field(default=frozenset())
    negative: frozenset[str] = field(default=frozenset())
    exclude: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class AspectMatch:
    """An aspect found in a clause: the term that matched, its span and any rule polarity."""

    aspect: str
    term: str
    start: int
    end: int
    polarity: int  # +1 / −1 from a polar cue (after negation), 0 when the term carries none
    negated: bool


def _phrase_pattern(phrases: Iterable[str]) -> str:
    parts = []
    for p in sorted(set(phrases), key=len, reverse=True):
        esc = re.escape(p.lower()).replace(r"\ ", r"\s+")
        # Latin phrases must stand as words; Chinese ones cannot (no spaces between words)
        parts.append(f"(?<![a-z]){esc}(?![a-z])" if re.match(r"[a-z]", p.lower()) else esc)
    return "|".join(parts)


class Taxonomy:
    """A compiled aspect taxonomy: :meth:`match` finds every aspect in one clause."""

    def __init__(self, spec: dict[str, Any]) -> None:
        try:
            self.version = str(spec.get("version", "custom"))
            self.aspects = [
                Aspect(
                    key=a["key"],
                    zh_name=a.get("zh_name", a["key"]),
                    en_name=a.get("en_name", a["key"]),
                    phrases=tuple(a.get("zh", [])) + tuple(a.get("en", [])),
                    positive=frozenset(p.lower() for p in a.get("positive", [])),
                    negative=frozenset(p.lower() for p in a.get("negative", [])),
                    exclude=tuple(a.get("exclude", [])),
                )
                for a in spec["aspects"]
            ]
        except (KeyError, TypeError) as exc:
            raise TaxonomyError(f"invalid taxonomy: missing or wrong field {exc}") from exc
        self._compiled: list[tuple[Aspect, re.Pattern[str], re.Pattern[str] | None]] = []
        for a in self.aspects:
            cues = set(a.phrases) | a.positive | a.negative
            if not cues:
                raise TaxonomyError(f"aspect {a.key!r} has no phrases")
            try:
                pat = re.compile(_phrase_pattern(cues), re.I)
                exc_pat = re.compile(_phrase_pattern(a.exclude), re.I) if a.exclude else None
            except re.error as exc:
                raise TaxonomyError(f"aspect {a.key!r}: {exc}") from exc
            self._compiled.append((a, pat, exc_pat))

    @classmethod
    def from_file(cls, path: Path) -> Taxonomy:
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise TaxonomyError(f"cannot read taxonomy {path}: {exc}") from exc

    def names(self, lang: str = "en") -> dict[str, str]:
        return {a.key: a.zh_name if lang == "zh" else a.en_name for a in self.aspects}

    def match(self, clause: str) -> list[AspectMatch]:
        """Every aspect in ``clause`` (one match per aspect, the strongest cue first)."""
        text = clause.lower()
        found: list[AspectMatch] = []
        for aspect, pat, exc_pat in self._compiled:
            vetoed = [m.span() for m in exc_pat.finditer(text)] if exc_pat else []
            best: AspectMatch | None = None
            for m in pat.finditer(text):
                s, e = m.span()
                if any(s < ve and vs < e for vs, ve in vetoed):
                    continue
                term = m.group(0)
                key = re.sub(r"\s+", " ", term)
                pol = 1 if key in aspect.positive else -1 if key in aspect.negative else 0
                neg = bool(
                    _ZH_NEGATION.search(text[max(0, s - 6) : s])
                    or _EN_NEGATION.search(text[max(0, s - 40) : s])
                )
                if neg and pol:
                    pol = -pol
                cand = AspectMatch(aspect.key, clause[s:e], s, e, pol, neg)
                if best is None or (pol and not best.polarity):
                    best = cand
            if best is not None:
                found.append(best)
        return found


@cache
def default_taxonomy() -> Taxonomy:
    """The shipped taxonomy of service aspects (wait time, staff attitude, … app/website)."""
    return Taxonomy.from_file(DEFAULT_TAXONOMY)
