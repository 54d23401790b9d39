"""Urgency flags for cases: anger, threats to leave or complain in public, refunds, legal, safety.

Tuned for recall: a flag costs a person one look, a missed one costs a customer. Every flag lists
the words that fired it, so the person can see why at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._scan import PhraseScanner

FLAG_WORDS: dict[str, tuple[str, ...]] = {
    "anger": (
        "气死",
        "愤怒",
        "生气",
        "火大",
        "垃圾",
        "恶心",
        "骗子",
        "坑人",
        "坑爹",
        "黑店",
        "太过分",
        "过分",
        "无语",
        "什么玩意",
        "忍无可忍",
        "滚",
        "妈的",
        "他妈",
        "有病",
        "奇葩",
        "最差",
        "差劲",
        "离谱",
        "furious",
        "angry",
        "outraged",
        "outrageous",
        "disgusting",
        "disgusted",
        "worst",
        "ridiculous",
        "unacceptable",
        "scam",
        "scammers",
        "wtf",
        "pathetic",
        "horrible",
        "terrible",
        "awful",
        "fed up",
        "sick of",
        "livid",
        "appalling",
        "disgrace",
        "shameful",
    ),
    "churn": (
        "再也不来",
        "再也不会",
        "不会再来",
        "再也不买",
        "不会再买",
        "拉黑",
        "销户",
        "退卡",
        "换一家",
        "取消会员",
        "最后一次",
        "cancel",
        "cancelled",
        "canceling",
        "cancelling",
        "never again",
        "never come back",
        "never coming back",
        "switching to",
        "switch to",
        "close my account",
        "unsubscribe",
        "last time",
        "taking my business",
    ),
    "complaint": (
        "投诉",
        "曝光",
        "12315",
        "12345",
        "消协",
        "消费者协会",
        "媒体",
        "微博",
        "抖音",
        "小红书",
        "大众点评",
        "差评",
        "工商局",
        "市场监管",
        "举报",
        "complain",
        "complaint",
        "complaints",
        "report you",
        "bbb",
        "review",
        "social media",
        "tweet",
        "twitter",
        "yelp",
        "trustpilot",
        "news",
    ),
    "refund": (
        "退款",
        "退钱",
        "退货",
        "赔偿",
        "索赔",
        "赔钱",
        "refund",
        "refunded",
        "money back",
        "compensation",
        "chargeback",
    ),
    "legal": (
        "律师",
        "起诉",
        "法院",
        "告你们",
        "打官司",
        "法律",
        "lawyer",
        "attorney",
        "sue",
        "suing",
        "lawsuit",
        "legal action",
        "court",
    ),
    "safety": (
        "食物中毒",
        "中毒",
        "拉肚子",
        "腹泻",
        "呕吐",
        "吐了",
        "过敏",
        "发烧",
        "住院",
        "进医院",
        "受伤",
        "摔倒",
        "烫伤",
        "划伤",
        "着火",
        "漏电",
        "爆炸",
        "异物",
        "虫子",
        "蟑螂",
        "玻璃渣",
        "变质",
        "过期",
        "发霉",
        "food poisoning",
        "poisoned",
        "sick",
        "vomit",
        "vomiting",
        "diarrhea",
        "diarrhoea",
        "allergic",
        "allergy",
        "hospital",
        "injured",
        "injury",
        "burned",
        "fire",
        "unsafe",
        "dangerous",
        "mould",
        "mold",
        "expired",
        "cockroach",
        "bug in",
        "glass in",
    ),
}

_SHOUT_RE = re.compile(r"(?<![A-Za-z])[A-Z]{4,}(?![A-Za-z])")
_BANGS_RE = re.compile(r"[!！]{3,}")


@dataclass(frozen=True, slots=True)
class Flag:
    """A raised flag and the words in the text that raised it."""

    flag: str
    words: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"flag": self.flag, "words": list(self.words)}


_FLAG_OF: dict[str, list[str]] = {}
for _name, _words in FLAG_WORDS.items():
    for _w in _words:
        _FLAG_OF.setdefault(" ".join(_w.lower().split()), []).append(_name)
# one pass over the text for every word of every flag
_SCANNER = PhraseScanner(_FLAG_OF)


def urgency_flags(text: str) -> list[Flag]:
    """Every urgency flag the text raises, each with the words that fired it (in order, once)."""
    fired: dict[str, dict[str, None]] = {}
    flat = " ".join(text.split())
    lowered = flat.lower()
    if len(lowered) != len(flat):
        flat = lowered
    for s, e, key in _SCANNER.finditer(lowered):
        for name in _FLAG_OF[key]:
            fired.setdefault(name, {})[flat[s:e]] = None
    if "!" in text or "！" in text:
        for m in _BANGS_RE.finditer(text):
            fired.setdefault("anger", {})[m.group(0)] = None
    for m in _SHOUT_RE.finditer(text):
        if m.group(0) not in {"WIFI", "HTTP", "HTTPS"}:
            fired.setdefault("anger", {})[m.group(0)] = None
    return [Flag(name, tuple(fired[name])) for name in FLAG_WORDS if name in fired]
