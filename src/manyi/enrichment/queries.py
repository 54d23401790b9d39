"""Reads for dashboards: the aspects customers complain about most, within the reader's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AspectShare:
    """One aspect: how often it was mentioned (``n``) and the share of mentions that were negative,
    in percent with its Wilson interval; ``suppressed`` when ``n`` is under the minimum."""

    aspect: str
    zh_name: str
    en_name: str
    n: int
    negative_share: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool

    def name(self, language: str) -> str:
        return self.zh_name if language.lower().startswith("zh") else self.en_name


def aspects_by_negative_share(
    *, engine: Any, scope: list[str] | None, filters: Any = None, limit: int = 10, min_n: int = 30
) -> list[AspectShare]:
    """Aspects with the highest negative share first (figures under ``min_n`` mentions go last,
    flagged), through the one runner on ``engine`` (the store or the operational database)."""
    from manyi.analytics import Filters, MetricQuery, run
    from manyi.textanalytics import default_taxonomy

    names = {a.key: (a.zh_name, a.en_name) for a in default_taxonomy().aspects}
    query = MetricQuery("negative_share", filters=filters or Filters(), group_by=("aspect",), min_n=min_n)
    shares = []
    for row in run(query, engine, scope=scope).rows:
        key = str(row.group["aspect"])
        zh, en = names.get(key, (key, key))
        e = row.estimate
        shares.append(AspectShare(key, zh, en, e.n, e.value, e.ci_low, e.ci_high, e.suppressed))
    shares.sort(key=lambda s: (s.suppressed, -(s.negative_share or 0.0), -s.n))
    return shares[:limit]
