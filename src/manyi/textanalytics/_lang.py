"""Language detection for comments: ``zh``, ``en``, ``mixed`` or ``other``.

Counts scripts rather than guessing with a model: a Chinese character weighs about as much as a
short English word, so Chinese text with a brand name ("iPhone 电池不耐用") stays ``zh``, while a
comment written half in each language is ``mixed``.
"""

from __future__ import annotations

import re
from typing import Literal

Lang = Literal["zh", "en", "mixed", "other"]

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_HANGUL_RE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af\u1100-\u11ff]")
_LATIN_WORD_RE = re.compile(r"[A-Za-z]{2,}")
_OTHER_LETTER_RE = re.compile(r"[\u0400-\u04ff\u0590-\u06ff\u0900-\u0dff\u0e00-\u0e7f\u00c0-\u024f]")

_EN_WORDS = frozenset(
    """the a an and or but is are was were be been it this that i you he she we they my your our not no
    very so too of to in on at for with from have has had do does did can will would good bad great
    service staff food price wait time""".split()  # noqa: SIM905 (a word list reads better as text)
)
_NON_EN_WORDS = frozenset(
    """le la les des est et une un du pas tres très der die das und ist nicht ein eine sehr el los las
    es y muy que de por para con sin yang dan tidak ini itu di ke sangat il che non molto""".split()  # noqa: SIM905 (a word list reads better as text)
)


def detect_language(text: str) -> Lang:
    """``zh``, ``en``, ``mixed`` (both with real weight) or ``other`` (any other script, none)."""
    han = len(_HAN_RE.findall(text))
    kana = len(_KANA_HANGUL_RE.findall(text))
    words = [w.lower() for w in _LATIN_WORD_RE.findall(text)]
    other = len(_OTHER_LETTER_RE.findall(text))
    if kana and kana * 4 >= han:
        return "other"
    zh_weight = han / 1.5  # about 1.5 characters per Chinese word
    en_weight = float(len(words))
    if zh_weight == 0 and en_weight == 0:
        return "other"
    if other > 2 * (han + sum(map(len, words))):
        return "other"
    total = zh_weight + en_weight
    if zh_weight >= 2 and en_weight >= 3 and min(zh_weight, en_weight) / total >= 0.3:
        return "mixed"
    if zh_weight >= en_weight:
        return "zh"
    return "en" if _looks_english(words) else "other"


def _looks_english(words: list[str]) -> bool:
    en = sum(w in _EN_WORDS for w in words)
    non_en = sum(w in _NON_EN_WORDS for w in words)
    return en >= non_en
