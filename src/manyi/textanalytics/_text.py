"""Cleaning, clause splitting and the n-gram features shared by training and scoring.

Training and scoring call the same :func:`features` so a shipped model never sees features it was
not trained on. Everything here is standard library only.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field

#: Longer texts are cut here and flagged ``truncated``; a comment is rarely longer than a page.
MAX_CHARS = 10_000

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RE = re.compile(f"[{_HAN}]")
_LATIN_RE = re.compile(r"[A-Za-z]")
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")
_URL_RE = re.compile(r"https?://\S+|www\.\S+")
_MENTION_RE = re.compile(r"@\w+")
# Mojibake signatures: UTF-8 read as Latin-1/CP1252, the replacement character, and the classic
# "锟斤拷" left behind when GBK bytes were decoded as UTF-8 and back.
_MOJIBAKE_RE = re.compile(r"[ÃÂâ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]|\ufffd|锟斤拷|烫烫|屯屯")

_HIGH_LATIN_RE = re.compile(r"[\u00c0-\u00ff][\u0080-\u00ff\u0152-\u2122]")

_CLAUSE_SPLIT_RE = re.compile(r"[，,。.!！?？;；:：\n\r~～…|/、]+")
_CONTRAST_ZH_RE = re.compile(r"(?<=[^\s，,。])(?=(?:但是|可是|不过|然而|只是|就是太|就是有点))")
_CONTRAST_EN_RE = re.compile(r"\s+(?=(?:but|however|although|though|except|yet)\b)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CleanText:
    """A comment made safe to analyse, with what had to be done to it."""

    text: str
    problems: tuple[str, ...] = field(default=())


def repair_mojibake(text: str) -> str | None:
    """The text re-decoded if it looks like UTF-8 or GBK bytes read as Latin-1, else ``None``."""
    try:
        raw = text.encode("cp1252")
    except UnicodeEncodeError:
        try:
            raw = text.encode("latin-1")
        except UnicodeEncodeError:
            return None
    for codec in ("utf-8", "gb18030"):
        try:
            fixed = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        # GB18030 decodes almost any byte pairs: trust it only when it yields mostly Chinese
        if codec == "gb18030" and han_count(fixed) * 2 < len(fixed.strip()):
            continue
        if fixed != text and not _MOJIBAKE_RE.search(fixed):
            return fixed
    return None


def _looks_garbled(text: str) -> bool:
    """Unrepairable UTF-8-as-Latin-1: many accented-letter + symbol pairs and no Chinese."""
    pairs = len(_HIGH_LATIN_RE.findall(text))
    return pairs >= 3 and pairs * 2 * 5 >= len(text.replace(" ", "")) and not han_count(text)


def clean(text: object) -> CleanText:
    """Normalise any cell value into analysable text; never raises.

    Problems are ``empty``, ``no_text`` (emoji or punctuation only), ``truncated`` (over
    :data:`MAX_CHARS`), ``mojibake`` (garbled encoding; repaired when possible) and
    ``control_chars``.
    """
    if text is None or (isinstance(text, float) and text != text):
        return CleanText("", ("empty",))
    s = text if isinstance(text, str) else str(text)
    problems: list[str] = []
    if len(s) > MAX_CHARS:
        s = s[:MAX_CHARS]
        problems.append("truncated")
    fixed = repair_mojibake(s) if _HIGH_LATIN_RE.search(s) else None
    if fixed is not None or _MOJIBAKE_RE.search(s) or _looks_garbled(s):
        problems.append("mojibake")
        s = (fixed or s).replace("\ufffd", " ").replace("锟斤拷", " ")
    stripped = (
        s
        if s.isprintable()
        else "".join(ch for ch in s if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    )
    if len(stripped) != len(s):
        problems.append("control_chars")
    s = unicodedata.normalize("NFKC", stripped).strip()
    if not s:
        problems.append("empty")
    elif not any(ch.isalpha() for ch in s):
        problems.append("no_text")
    return CleanText(s, tuple(problems))


def han_count(text: str) -> int:
    return len(_HAN_RE.findall(text))


def latin_count(text: str) -> int:
    return len(_LATIN_RE.findall(text))


def clauses(text: str) -> list[tuple[int, int]]:
    """Clause spans ``(start, end)`` split at punctuation and before contrastive conjunctions.

    "菜很好吃，但是等了一个小时" gives "菜很好吃" and "但是等了一个小时", so each part can carry
    its own sentiment.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _CLAUSE_SPLIT_RE.finditer(text + "\n"):
        spans.extend(_split_contrast(text, start, m.start()))
        start = m.end()
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _split_contrast(text: str, start: int, end: int) -> list[tuple[int, int]]:
    piece = text[start:end]
    cuts = [m.start() for m in _CONTRAST_ZH_RE.finditer(piece)]
    cuts += [m.end() for m in _CONTRAST_EN_RE.finditer(piece)]
    bounds = [0, *sorted(set(cuts)), len(piece)]
    out = []
    for a, b in itertools.pairwise(bounds):
        # trim surrounding blanks so spans point at words
        while a < b and piece[a].isspace():
            a += 1
        while b > a and piece[b - 1].isspace():
            b -= 1
        if a < b:
            out.append((start + a, start + b))
    return out


def prepare(text: str) -> str:
    """Lower-cased text with URLs and @mentions replaced, as the models see it."""
    s = _URL_RE.sub(" url ", text)
    s = _MENTION_RE.sub(" @user ", s)
    return _SPACE_RE.sub(" ", s.lower()).strip()


def zh_features(text: str) -> list[str]:
    """Character 1–3-grams of a Chinese text (spaces dropped); negation lives in the bigrams."""
    s = prepare(text).replace(" ", "")
    n = len(s)
    out = [s[i] for i in range(n)]
    out += [s[i : i + 2] for i in range(n - 1)]
    out += [s[i : i + 3] for i in range(n - 2)]
    return out


def zh_short_features(text: str) -> list[str]:
    """Character 1–2-grams of a Chinese text (the aspect classifier's cheaper features)."""
    s = prepare(text).replace(" ", "")
    return [s[i] for i in range(len(s))] + [s[i : i + 2] for i in range(len(s) - 1)]


def en_word_only_features(text: str) -> list[str]:
    """Word 1–2-grams with negation marking, no character n-grams (the aspect classifier's features)."""
    return en_word_features(en_words(text))


def en_words(text: str) -> list[str]:
    """The word tokens the English model sees."""
    return _WORD_RE.findall(prepare(text))


def en_word_features(words: list[str]) -> list[str]:
    """Word 1–2-grams, plus ``NOT_word`` for words after a negator up to the next punctuation."""
    out = list(words)
    out += [f"{a} {b}" for a, b in itertools.pairwise(words)]
    negated = False
    for w in words:
        if w in _EN_NEGATORS or w.endswith("n't"):
            negated = True
            continue
        if not w[0].isalnum():
            negated = False
        elif negated:
            out.append("NOT_" + w)
    return out


def en_char_grams(word: str) -> list[str]:
    """Character 3–5-grams of one word padded with spaces (none for short or non-letter tokens)."""
    if len(word) < 3 or not word[0].isalpha():
        return []
    padded = f" {word} "
    m = len(padded)
    return [padded[i : i + k] for k in (3, 4, 5) for i in range(m - k + 1)]


def en_features(text: str) -> list[str]:
    """Word 1–2-grams (with negation marking) plus character 3–5-grams inside words."""
    words = en_words(text)
    out = en_word_features(words)
    for w in words:
        out += en_char_grams(w)
    return out


_EN_NEGATORS = frozenset({"not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "without"})
