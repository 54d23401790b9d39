"""The one runner: a typed query in, counts from the engine, estimates from :mod:`manyi.metrics` out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from manyi.metrics import Comparison, Estimate

from ._stats import compare, estimates, spec_for, sums_from_counts
from .engines import Engine
from .query import MetricQuery
from .sql import compile_query

Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One group: its labels (``unit``, ``region``, ``survey``, ``question`` ids or codes), its
    period bucket (``2026-03``), the estimate, and against the previous range when asked."""

    group: dict[str, Any]
    period: str | None
    estimate: Estimate
    previous: Estimate | None = None
    comparison: Comparison | None = None


@dataclass(frozen=True, slots=True)
class QueryResult:
    query: MetricQuery
    engine: str
    rows: list[ResultRow]


def _sort_key(key: Key) -> tuple[Any, ...]:
    return tuple((v is None, v if v is not None else 0) for v in key)


def _counts(
    query: MetricQuery, engine: Engine, scope: list[str] | None, previous: bool
) -> tuple[tuple[str, ...], dict[Key, tuple[int, float, float]]]:
    filters = query.filters.previous() if previous else query.filters
    compiled = compile_query(query, filters, engine.dialect, scope)
    out: dict[Key, tuple[int, float, float]] = {}
    width = len(compiled.labels)
    for row in engine.fetch(compiled.sql, compiled.params):
        key = tuple(row[:width])
        n, s1, s2 = row[width:]
        out[key] = (int(n or 0), float(s1 or 0), float(s2 or 0))
    return compiled.labels, out


def run(query: MetricQuery, engine: Engine, *, scope: list[str] | None) -> QueryResult:
    """Run ``query`` on ``engine`` for a reader whose visible unit paths are ``scope``.

    ``scope`` comes from :func:`manyi.org.scoping.scope_paths` (``None``: everything, ``[]``:
    nothing) and is keyword-only and required, so no caller runs a query without deciding it.
    Groups are pooled from the responses of every unit beneath them, never averaged from figures.
    Without a group or period there is always exactly one row, with ``n = 0`` and no value when
    nothing matches.
    """
    spec = spec_for(query)
    labels, current = _counts(query, engine, scope, previous=False)
    before: dict[Key, tuple[int, float, float]] = {}
    if query.compare_previous:
        _, before = _counts(query, engine, scope, previous=True)
    keys = set(current) | set(before)
    if not labels:
        keys.add(())
    ordered = sorted(keys, key=_sort_key)

    now = sums_from_counts([current.get(k, (0, 0.0, 0.0)) for k in ordered])
    now_est = estimates(spec, now, query.confidence, query.min_n)
    prev_est: list[Estimate | None] = [None] * len(ordered)
    comps: list[Comparison | None] = [None] * len(ordered)
    if query.compare_previous:
        then = sums_from_counts([before.get(k, (0, 0.0, 0.0)) for k in ordered])
        prev_est = list(estimates(spec, then, query.confidence, query.min_n))
        comps = list(compare(spec, now, then, query.confidence, query.min_n))

    rows = []
    for i, key in enumerate(ordered):
        group = {name: _plain(v) for name, v in zip(labels, key, strict=True) if name != "period"}
        period = key[labels.index("period")] if "period" in labels else None
        rows.append(ResultRow(group, period, now_est[i], prev_est[i], comps[i]))
    return QueryResult(query, engine.dialect.name, rows)


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
