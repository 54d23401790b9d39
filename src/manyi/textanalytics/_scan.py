"""Fast dictionary scanning: find phrases from a large list in a text, leftmost-longest, in one pass.

Python's ``re`` tries every alternative at every position, so a pattern of 500 phrases costs
tens of microseconds per clause; dictionary lookups cost a few. Latin phrases are looked up as
runs of one to a few whole words (so "app" never matches inside "apple"); Chinese phrases are
looked up at every Chinese character, longest first (there are no spaces between words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _is_word_phrase(phrase: str) -> bool:
    return phrase[0].isascii() and phrase[0].isalnum()


class PhraseScanner:
    """Finds non-overlapping occurrences of the given phrases (case-insensitive, spaces collapsed)."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = {normalise(p) for p in phrases if p.strip()}
        # Latin phrases by their words ("rip-off" and "rip off" are the same words)
        self.by_words: dict[str, str] = {}
        for p in self.phrases:
            if _is_word_phrase(p):
                self.by_words.setdefault(" ".join(_WORD_RE.findall(p)), p)
        self.max_words = max((k.count(" ") + 1 for k in self.by_words), default=0)
        self.multi_first = {k.split(" ", 1)[0] for k in self.by_words if " " in k}
        chars = [p for p in self.phrases if not _is_word_phrase(p)]
        self.chars = set(chars)
        self.first = {p[0] for p in chars}
        self.lengths = sorted({len(p) for p in chars}, reverse=True)

    def finditer(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, phrase)`` for each match in ``text``, which must be lower-cased with single spaces."""
        found: list[tuple[int, int, str]] = []
        if self.by_words:
            words = [(m.start(), m.end(), m.group(0)) for m in _WORD_RE.finditer(text)]
            k, n = 0, len(words)
            by_words = self.by_words
            multi_first = self.multi_first
            while k < n:
                top = min(self.max_words, n - k) if words[k][2] in multi_first else 1
                for size in range(top, 0, -1):
                    key = words[k][2] if size == 1 else " ".join([w for _, _, w in words[k : k + size]])
                    phrase = by_words.get(key)
                    if phrase is not None:
                        found.append((words[k][0], words[k + size - 1][1], phrase))
                        k += size - 1
                        break
                k += 1
        if self.chars and not text.isascii():  # no Chinese phrase can be in pure ASCII
            phrases, first, lengths = self.chars, self.first, self.lengths
            n = len(text)
            i = 0
            while i < n:
                if text[i] in first:
                    for length in lengths:
                        if i + length <= n and text[i : i + length] in phrases:
                            found.append((i, i + length, text[i : i + length]))
                            i += length - 1
                            break
                i += 1
            found.sort()
        return found


def normalise(text: str) -> str:
    """Lower-cased with runs of white space as one space (what :class:`PhraseScanner` expects)."""
    return " ".join(text.lower().split())
