"""Keywords and phrases of a comment: jieba with a domain dictionary for Chinese, n-grams for English.

jieba loads its dictionary (about a second) the first time Chinese keywords are asked for, so
scoring sentiment and aspects never pays for it.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from pathlib import Path
from typing import Any

from ._aspects import DEFAULT_TAXONOMY

DOMAIN_DICT = Path(__file__).parent / "data" / "zh_domain_dict.txt"
_lock = threading.Lock()

EN_STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he her
    here hers herself him himself his how i i'm i've if in into is isn't it it's its itself just
    let's me more most my myself no nor not of off on once only or other our ours ourselves out over
    own same she should so some such than that that's the their theirs them themselves then there
    there's these they they're this those through to too under until up very was wasn't we we're
    were weren't what when where which while who whom why will with won't would you your yours
    yourself also get got really even still us one im thanks thank please url user amp rt""".split()  # noqa: SIM905 (a word list reads better as text)
)
ZH_STOPWORDS = frozenset(
    """的 了 是 我 你 他 她 它 们 这 那 就 都 也 还 很 太 非常 一个 没有 不 在 有 和 与 吧 呢 啊 吗 哦 呀 被 把 给 让 说 又 再 但是 但 可是 不过 因为 所以
    如果 而且 什么 怎么 这个 那个 一下 一点 感觉 觉得 真的 比较 还是 已经""".split()  # noqa: SIM905 (a word list reads better as text)
)
_EN_TOKEN = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
_EN_SPLIT = re.compile(r"[^a-z'\s-]+")


@cache
def _jieba() -> Any:
    import warnings

    with warnings.catch_warnings():  # jieba 0.42 has invalid escapes that Python 3.12+ warns about
        warnings.simplefilter("ignore", SyntaxWarning)
        import jieba
        import jieba.analyse

    with _lock:
        jieba.setLogLevel(60)
        jieba.initialize()
        import json

        spec = json.loads(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))
        for a in spec["aspects"]:
            for w in a.get("zh", []):
                if re.search(r"[\u4e00-\u9fff]", w) and len(w) > 1:
                    jieba.add_word(w, freq=20000)
        if DOMAIN_DICT.exists():
            jieba.load_userdict(str(DOMAIN_DICT))
    return jieba


def zh_words(text: str) -> list[str]:
    """jieba's segmentation with the domain dictionary, stop words and punctuation removed."""
    jb = _jieba()
    return [w for w in jb.lcut(text) if w.strip() and w not in ZH_STOPWORDS and re.search(r"\w", w)]


def zh_keywords(text: str, k: int = 5) -> list[str]:
    """Top ``k`` keywords by jieba's TF-IDF, domain terms kept whole."""
    jb = _jieba()
    return [w for w in jb.analyse.extract_tags(text, topK=k + 5) if w not in ZH_STOPWORDS][:k]


def en_phrases(text: str, max_len: int = 3) -> list[str]:
    """Candidate phrases: runs of up to ``max_len`` content words between stop words and punctuation."""
    out: list[str] = []
    for chunk in _EN_SPLIT.split(text.lower()):
        run: list[str] = []
        for w in [*_EN_TOKEN.findall(chunk), ""]:
            if w and w not in EN_STOPWORDS and len(w) > 1:
                run.append(w)
                continue
            for i in range(0, len(run), max_len):
                out.append(" ".join(run[i : i + max_len]))
            run = []
    return [p for p in out if p]


def en_keywords(text: str, k: int = 5) -> list[str]:
    """Top ``k`` English phrases, longer (more specific) and more frequent first."""
    phrases = en_phrases(text)
    counts: dict[str, int] = {}
    for p in phrases:
        counts[p] = counts.get(p, 0) + 1
    return sorted(counts, key=lambda p: (-counts[p] * (1 + p.count(" ")), phrases.index(p)))[:k]


def keywords(text: str, lang: str, k: int = 5) -> list[str]:
    """Keywords of one comment in its language (``mixed`` gets both)."""
    if lang == "zh":
        return zh_keywords(text, k)
    if lang == "en":
        return en_keywords(text, k)
    if lang == "mixed":
        return (zh_keywords(text, k) + en_keywords(text, k))[:k]
    return []


def terms(text: str, lang: str) -> set[str]:
    """The set of terms in a comment, for document-frequency statistics such as emerging topics."""
    if lang in ("zh", "mixed"):
        found = set(zh_words(text))
        if lang == "mixed":
            found |= set(en_phrases(text, 2))
        return {w for w in found if len(w) > 1}
    return set(en_phrases(text, 2))
