"""Aspects: what a comment is about, matched by phrase rules with negation and context.

A taxonomy is data (``data/aspects.json`` by default; an organisation passes its own file) with,
per aspect, Chinese and English phrases, optional polar cues (``positive``/``negative``) and
``exclude`` terms that veto a match inside them: ``卫生`` is cleanliness, ``卫生间`` is not.
A negator just before a polar cue flips it, so ``不干净`` is negative cleanliness.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ._errors import TaxonomyError
from ._scan import PhraseScanner, normalise

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
        # One alternation over every phrase of every aspect (longest first), so a clause costs
        # two regex passes however large the taxonomy is; a longer phrase wins at the same place.
        self._cues: dict[str, list[tuple[Aspect, int]]] = {}
        self._vetoes: dict[str, set[str]] = {}
        for a in self.aspects:
            cues = set(a.phrases) | a.positive | a.negative
            if not cues:
                raise TaxonomyError(f"aspect {a.key!r} has no phrases")
            for cue in cues:
                key = _norm(cue)
                pol = 1 if key in a.positive else -1 if key in a.negative else 0
                entry = self._cues.setdefault(key, [])
                if all(x.key != a.key for x, _ in entry):
                    entry.append((a, pol))
            for ex in a.exclude:
                self._vetoes.setdefault(_norm(ex), set()).add(a.key)
        self._keys = frozenset(a.key for a in self.aspects)
        self._scanner = PhraseScanner(self._cues)
        self._veto_scanner = PhraseScanner(self._vetoes) if self._vetoes else None

    @classmethod
    def from_file(cls, path: Path) -> Taxonomy:
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise TaxonomyError(f"cannot read taxonomy {path}: {exc}") from exc

    def names(self, lang: str = "en") -> dict[str, str]:
        return {a.key: a.zh_name if lang == "zh" else a.en_name for a in self.aspects}

    @property
    def keys(self) -> frozenset[str]:
        """The aspect keys of this taxonomy."""
        return self._keys

    def vetoed(self, clause: str) -> set[str]:
        """Aspects an ``exclude`` term rules out anywhere in ``clause`` (``卫生间`` vetoes cleanliness)."""
        if self._veto_scanner is None:
            return set()
        out: set[str] = set()
        for _, _, p in self._veto_scanner.finditer(normalise(clause)):
            out |= self._vetoes[p]
        return out

    def match(self, clause: str) -> list[AspectMatch]:
        """Every aspect in ``clause`` (one match per aspect; a polar cue beats a plain mention)."""
        text = normalise(clause)
        shown = " ".join(clause.split())
        if len(shown) != len(text):  # a rare character whose lower case is longer
            shown = text
        vetoes = (
            [(s, e, self._vetoes[p]) for s, e, p in self._veto_scanner.finditer(text)]
            if self._veto_scanner is not None
            else []
        )
        best: dict[str, AspectMatch] = {}
        for s, e, key in self._scanner.finditer(text):
            negated: bool | None = None
            for aspect, pol in self._cues[key]:
                if vetoes and any(s < ve and vs < e and aspect.key in keys for vs, ve, keys in vetoes):
                    continue
                if negated is None:
                    negated = bool(
                        _ZH_NEGATION.search(text[max(0, s - 6) : s])
                        or _EN_NEGATION.search(text[max(0, s - 40) : s])
                    )
                polarity = -pol if negated else pol
                old = best.get(aspect.key)
                if old is None or (polarity and not old.polarity):
                    best[aspect.key] = AspectMatch(aspect.key, shown[s:e], s, e, polarity, negated)
        return list(best.values())


def _norm(phrase: str) -> str:
    return " ".join(phrase.lower().split())


@cache
def default_taxonomy() -> Taxonomy:
    """The shipped taxonomy of service aspects (wait time, staff attitude, … app/website)."""
    return Taxonomy.from_file(DEFAULT_TAXONOMY)
