"""Chinese and English text analytics that runs on the customer's own machine: pure Python, no Django.

Sentiment, aspects, keywords, urgency flags and emerging topics for customer comments, with models
trained by Manyi itself and shipped inside the package as JSON + NPZ (never pickle)::

    >>> from manyi import textanalytics as ta
    >>> a = ta.analyze("菜很好吃，但是等了一个小时")
    >>> a.lang, a.sentiment.label, a.sentiment.score
    >>> [(x.aspect, x.sentiment, x.span) for x in a.aspects]
    [('food_taste', 'positive', '菜很好吃'), ('wait_time', 'negative', '但是等了一个小时')]
    >>> ta.urgency_flags("我要投诉，吃完拉肚子了")       # each flag with the words that fired it
    >>> ta.emerging_topics(this_week_terms, last_month_terms)

Bad comments (empty, emoji only, over 10,000 characters, mojibake) never raise: they come back
with ``problems`` listed. The submodules are imported on first use, so registering ``manyi text``
costs nothing; scikit-learn is needed only to train (``manyi text train``/``adapt``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._adapt import AdaptedModel as AdaptedModel
    from ._adapt import weak_label as weak_label
    from ._analyze import Analysis as Analysis
    from ._analyze import Analyzer as Analyzer
    from ._analyze import AspectSentiment as AspectSentiment
    from ._analyze import analyze as analyze
    from ._aspects import Aspect as Aspect
    from ._aspects import AspectMatch as AspectMatch
    from ._aspects import Taxonomy as Taxonomy
    from ._aspects import default_taxonomy as default_taxonomy
    from ._errors import ModelError as ModelError
    from ._errors import TaxonomyError as TaxonomyError
    from ._errors import TextAnalyticsError as TextAnalyticsError
    from ._flags import Flag as Flag
    from ._flags import urgency_flags as urgency_flags
    from ._keywords import keywords as keywords
    from ._keywords import terms as terms
    from ._lang import detect_language as detect_language
    from ._sentiment import LinearTextModel as LinearTextModel
    from ._sentiment import Sentiment as Sentiment
    from ._sentiment import load_model as load_model
    from ._text import CleanText as CleanText
    from ._text import clauses as clauses
    from ._text import clean as clean
    from ._topics import EmergingTopic as EmergingTopic
    from ._topics import emerging_topics as emerging_topics

__all__ = [
    "AdaptedModel",
    "Analysis",
    "Analyzer",
    "Aspect",
    "AspectMatch",
    "AspectSentiment",
    "CleanText",
    "EmergingTopic",
    "Flag",
    "LinearTextModel",
    "ModelError",
    "Sentiment",
    "Taxonomy",
    "TaxonomyError",
    "TextAnalyticsError",
    "analyze",
    "clauses",
    "clean",
    "default_taxonomy",
    "detect_language",
    "emerging_topics",
    "keywords",
    "load_model",
    "terms",
    "urgency_flags",
    "weak_label",
]

_WHERE = {
    "AdaptedModel": "_adapt",
    "weak_label": "_adapt",
    "Analysis": "_analyze",
    "Analyzer": "_analyze",
    "AspectSentiment": "_analyze",
    "analyze": "_analyze",
    "Aspect": "_aspects",
    "AspectMatch": "_aspects",
    "Taxonomy": "_aspects",
    "default_taxonomy": "_aspects",
    "ModelError": "_errors",
    "TaxonomyError": "_errors",
    "TextAnalyticsError": "_errors",
    "Flag": "_flags",
    "urgency_flags": "_flags",
    "keywords": "_keywords",
    "terms": "_keywords",
    "detect_language": "_lang",
    "LinearTextModel": "_sentiment",
    "Sentiment": "_sentiment",
    "load_model": "_sentiment",
    "CleanText": "_text",
    "clauses": "_text",
    "clean": "_text",
    "EmergingTopic": "_topics",
    "emerging_topics": "_topics",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    value.__module__ = __name__  # as httpx does: reprs and docs show the public path
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
