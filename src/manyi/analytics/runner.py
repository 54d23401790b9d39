"""The one runner: a typed query in, counts from the engine, estimates from :mod:`manyi.metrics` out.

The figures of every group are computed at once, as arrays; :attr:`QueryResult.rows` turns them
into one :class:`ResultRow` per group when it is first read, so a query with 100,000 groups pays for
Python objects only when someone asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from manyi.metrics import Comparison, Estimate

from ._stats import (
    Arrays,
    DiffArrays,
    Spec,
    Sums,
    compare_arrays,
    comparisons,
    estimate_arrays,
    spec_for,
    sums,
)
from ._stats import estimates as to_estimates
from .engines import Engine
from .query import MetricQuery
from .sql import (
    HISTOGRAM_HIGH,
    HISTOGRAM_LOW,
    Compiled,
    compile_query,
    histogram_weights,
    period_label,
    rollup_for,
)


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
class Counts:
    """What the engine returned: label columns and ``n``, ``Σy``, ``Σy²`` per group."""

    keys: list[npt.NDArray[Any]]
    n: npt.NDArray[np.int64]
    s1: npt.NDArray[np.float64]
    s2: npt.NDArray[np.float64]


class QueryResult:
    """The answer to a query: sorted group labels, their sufficient statistics and figures."""

    def __init__(
        self,
        query: MetricQuery,
        engine: str,
        spec: Spec,
        labels: tuple[str, ...],
        keys: list[npt.NDArray[Any]],
        now: Sums,
        before: Sums | None,
    ) -> None:
        self.query = query
        self.engine = engine
        #: Where the counts came from, per side: ``facts``, ``rollup_day``, ``rollup_month``,
        #: ``rollup_total``, or ``rollup_month+facts``/``rollup_month+rollup_day`` (whole months
        #: from the month rollup, the days around them from the facts or the day rollup).
        self.sources: tuple[str, ...] = ("facts",)
        self.spec = spec
        self.labels = labels
        self.keys = keys
        self.sums = now
        self.previous_sums = before
        self.figures: Arrays = estimate_arrays(spec, now, query.confidence)
        self.differences: DiffArrays | None = (
            compare_arrays(spec, now, before, query.confidence) if before is not None else None
        )

    def __len__(self) -> int:
        return int(self.sums.n.shape[0])

    @cached_property
    def rows(self) -> list[ResultRow]:
        q = self.query
        now = to_estimates(self.spec, self.sums, q.confidence, q.min_n, self.figures)
        prev: list[Estimate | None] = [None] * len(now)
        comps: list[Comparison | None] = [None] * len(now)
        if self.previous_sums is not None and self.differences is not None:
            before = to_estimates(self.spec, self.previous_sums, q.confidence, q.min_n)
            prev = list(before)
            comps = list(comparisons(self.spec, self.differences, now, before, q.confidence))
        columns = [k.tolist() for k in self.keys]
        period_at = self.labels.index("period") if "period" in self.labels else None
        rows = []
        for i in range(len(now)):
            group = {name: columns[j][i] for j, name in enumerate(self.labels) if j != period_at}
            period = (
                period_label(q.period, columns[period_at][i]) if q.period and period_at is not None else None
            )
            rows.append(ResultRow(group, period, now[i], prev[i], comps[i]))
        return rows


def _fetch(engine: Engine, compiled: Compiled) -> list[Any]:
    fast = getattr(engine, "fetch_columns", None)
    if fast is not None:
        return list(fast(compiled.sql, compiled.params))
    rows = engine.fetch(compiled.sql, compiled.params)
    width = len(compiled.labels) + (2 if compiled.histogram else 4 if compiled.rollup else 3)
    return (
        [_column(c) for c in zip(*rows, strict=True)]
        if rows
        else [np.array([], dtype=object) for _ in range(width)]
    )


def _column(values: tuple[Any, ...]) -> npt.NDArray[Any]:
    """A column of Python values as a typed array where they are all ints (or all floats, or all
    text), so that labels sort and sums convert without a Python object per value; else objects."""
    try:
        arr = np.array(values)  # NumPy infers the type in one pass, in C
    except (TypeError, ValueError, OverflowError):
        return np.array(values, dtype=object)
    return arr if arr.dtype.kind in "iufUO" else np.array(values, dtype=object)


def _read(query: MetricQuery, engine: Engine, compiled: Compiled) -> tuple[Counts, float]:
    """Run ``compiled``: the labels and counts of each row, and the scores a rollup could
    not place (``odd``, 0 from the facts)."""
    width = len(compiled.labels)
    cols = _fetch(engine, compiled)
    keys = [np.ma.getdata(c) for c in cols[:width]]
    if compiled.histogram:
        hist = cols[width + 1]
        bins = HISTOGRAM_HIGH - HISTOGRAM_LOW + 1
        matrix = (
            np.stack(list(hist)).astype(np.int64, copy=False)
            if len(hist)
            else np.zeros((0, bins), dtype=np.int64)
        )
        n_w, y_w, y2_w = (np.asarray(w, dtype=np.int64) for w in histogram_weights(query))
        counts = Counts(
            keys, matrix @ n_w, (matrix @ y_w).astype(np.float64), (matrix @ y2_w).astype(np.float64)
        )
        return counts, float(_numbers(cols[width]).sum())
    counts = Counts(
        keys=keys,
        n=_numbers(cols[width]).astype(np.int64),
        s1=_numbers(cols[width + 1]),
        s2=_numbers(cols[width + 2]),
    )
    odd = float(_numbers(cols[width + 3]).sum()) if compiled.rollup else 0.0
    return counts, odd


def _regrouped(width: int, counts: Counts, compiled: Compiled) -> Counts:
    """The counts of each group once (summed where a group came in several rows); from
    histograms, without the groups that had no score on the scale, as the facts have none."""
    if not compiled.repeated:
        return counts
    summed = _summed(width, counts)
    if compiled.histogram and width:
        return _kept(summed, summed.n > 0)
    return summed


def _kept(counts: Counts, keep: npt.NDArray[np.bool_]) -> Counts:
    """The groups of ``counts`` where ``keep`` is true (the same object when it is everywhere)."""
    if keep.all():
        return counts
    return Counts([k[keep] for k in counts.keys], counts.n[keep], counts.s1[keep], counts.s2[keep])


def _counts(
    query: MetricQuery, engine: Engine, scope: list[str] | None, previous: bool
) -> tuple[tuple[str, ...], Counts, str]:
    """Counts per group, from the coarsest rollup that answers the query exactly, else from the
    facts; also says which (``rollup_month``, ``rollup_day`` or ``facts``)."""
    filters = query.filters.previous() if previous else query.filters
    rollup = (
        rollup_for(query, filters, engine.dialect, scope=scope) if getattr(engine, "rollups", False) else None
    )
    if rollup is not None and not engine.worth(rollup):  # type: ignore[attr-defined]
        rollup = None
    compiled = compile_query(query, filters, engine.dialect, scope, rollup, edges=_edges(engine, rollup))
    counts, odd = _read(query, engine, compiled)
    if odd > 0:
        # Scores the rollup could not place (fractions, numbers past 10) are in the selection.
        compiled = compile_query(query, filters, engine.dialect, scope)
        counts, odd = _read(query, engine, compiled)
    return compiled.labels, _regrouped(len(compiled.labels), counts, compiled), _source(compiled)


def _edges(engine: Engine, rollup: str | None) -> Literal["day"] | None:
    """Where a month rollup's statement counts the days around its whole months: the day rollup
    where the engine finds it worth reading, else the facts."""
    if rollup == "month" and engine.worth("day"):  # type: ignore[attr-defined]
        return "day"
    return None


def _source(compiled: Compiled) -> str:
    """``facts``, ``rollup_day``, ``rollup_month``, ``rollup_total``, or a month rollup with the
    source of the days around its months (``rollup_month+facts``, ``rollup_month+rollup_day``)."""
    if not compiled.rollup:
        return "facts"
    return f"rollup_{compiled.rollup}" + (f"+{compiled.edges}" if compiled.edges else "")


def _group_index(
    width: int, stacked: list[npt.NDArray[Any]]
) -> tuple[list[npt.NDArray[Any]], npt.NDArray[np.intp], int]:
    """The sorted distinct groups of label columns, each row's group, and how many groups."""
    rows = stacked[0].shape[0] if width else 0
    dense = _dense_group_index(stacked, rows)
    if dense is not None:
        return dense
    # Integer labels sort as they are; text labels (question codes) by their rank.
    ranks = [
        col if col.dtype.kind in "iub" else np.unique(col, return_inverse=True)[1].ravel() for col in stacked
    ]
    order = np.lexsort(ranks[::-1])
    starts = np.zeros(rows, dtype=bool)
    starts[:1] = True
    for r in ranks:
        ordered = r[order]
        starts[1:] |= ordered[1:] != ordered[:-1]
    inverse = np.empty(rows, dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    first = order[starts]
    return [col[first] for col in stacked], inverse, int(first.shape[0])


def _dense_group_index(
    stacked: list[npt.NDArray[Any]], rows: int
) -> tuple[list[npt.NDArray[Any]], npt.NDArray[np.intp], int] | None:
    """:func:`_group_index` without sorting, where every label is an integer and the labels
    span few values (unit ids, sides, period codes of a range): each row's labels become one
    mixed-radix number, and the groups are the numbers present, in order. None otherwise."""
    if not rows or any(col.dtype.kind not in "iu" for col in stacked):
        return None
    lows = [int(col.min()) for col in stacked]
    spans = [int(col.max()) - low + 1 for col, low in zip(stacked, lows, strict=True)]
    size = 1
    for span in spans:
        size *= span
    if size > min(max(8 * rows, 1 << 20), 1 << 22):  # at most 4M slots (20 MB of scratch)
        return None
    code = np.zeros(rows, dtype=np.int64)
    for col, low, span in zip(stacked, lows, spans, strict=True):
        code *= span
        code += col.astype(np.int64, copy=False) - low
    present = np.zeros(size, dtype=bool)
    present[code] = True
    codes = np.flatnonzero(present)
    slot = np.empty(size, dtype=np.int32)
    slot[codes] = np.arange(codes.shape[0], dtype=np.int32)
    keys = []
    rest = codes
    for col, low, span in zip(stacked[::-1], lows[::-1], spans[::-1], strict=True):
        keys.append((rest % span + low).astype(col.dtype, copy=False))
        rest = rest // span
    return keys[::-1], slot[code].astype(np.intp), int(codes.shape[0])


def _summed(width: int, counts: Counts) -> Counts:
    """The counts with the rows of each group added up, in group order."""
    if width == 0:
        return Counts(
            [], counts.n.sum(keepdims=True), counts.s1.sum(keepdims=True), counts.s2.sum(keepdims=True)
        )
    if counts.n.shape[0] == 0:
        return counts
    keys, inverse, size = _group_index(width, counts.keys)
    return Counts(
        keys,
        np.bincount(inverse, weights=counts.n, minlength=size).astype(np.int64),
        np.bincount(inverse, weights=counts.s1, minlength=size),
        np.bincount(inverse, weights=counts.s2, minlength=size),
    )


def _counts_of_both(
    query: MetricQuery, engine: Engine, scope: list[str] | None
) -> tuple[tuple[str, ...], list[Counts], tuple[str, ...]] | None:
    """A comparison's two ranges counted in one statement over both (a ``side`` column tells
    them apart): one scan instead of two. None when the two ranges would read different sources
    (e.g. a whole month against a part of one), which then take a statement each."""
    now, before = query.filters, query.filters.previous()
    use_rollups = getattr(engine, "rollups", False)
    rollup = rollup_for(query, now, engine.dialect, scope=scope) if use_rollups else None
    if use_rollups and rollup_for(query, before, engine.dialect, scope=scope) != rollup:
        return None
    if rollup is not None and not engine.worth(rollup):  # type: ignore[attr-defined]
        rollup = None
    both = replace(now, date_from=before.date_from)
    compiled = compile_query(
        query, both, engine.dialect, scope, rollup, split_at=now.date_from, edges=_edges(engine, rollup)
    )
    counts, odd = _read(query, engine, compiled)
    if odd > 0:
        compiled = compile_query(query, both, engine.dialect, scope, split_at=now.date_from)
        counts, odd = _read(query, engine, compiled)
    source = _source(compiled)
    return compiled.labels[1:], _split_sides(counts, compiled), (source, source)


def _split_sides(counts: Counts, compiled: Compiled) -> list[Counts]:
    """The counts of a comparison's two sides (the first label) over the same groups, each
    group's rows added up (zeros where a side has none): the groups are found once for both."""
    width = len(compiled.labels) - 1
    side = np.asarray(counts.keys[0]).astype(np.int64)
    if width:
        keys, inverse, size = _group_index(width, counts.keys[1:])
    else:
        keys, inverse, size = [], np.zeros(side.shape[0], dtype=np.intp), 1
    sides = []
    for which in (0, 1):
        take = side == which
        at = inverse[take]
        sides.append(
            Counts(
                keys,
                np.bincount(at, weights=counts.n[take], minlength=size).astype(np.int64),
                np.bincount(at, weights=counts.s1[take], minlength=size),
                np.bincount(at, weights=counts.s2[take], minlength=size),
            )
        )
    if compiled.histogram and width:
        # Groups whose rollup rows hold only scores outside the metric's scale: none in the facts.
        keep = (sides[0].n > 0) | (sides[1].n > 0)
        sides = [_kept(c, keep) for c in sides]
    return sides


def _numbers(col: Any) -> npt.NDArray[np.float64]:
    """A float column with 0 for SQL NULL (the sums of an empty selection)."""
    if np.ma.isMaskedArray(col):
        col = np.ma.filled(col.astype(np.float64), 0.0)
    arr = np.asarray(col)
    if arr.dtype.kind in "iu":  # counts: no NULL, no NaN
        return arr.astype(np.float64)
    if arr.dtype == object:
        arr = np.array([0.0 if v is None else float(v) for v in arr], dtype=np.float64)
    return np.nan_to_num(arr.astype(np.float64), nan=0.0)


def _sorted_unique(keys: list[npt.NDArray[Any]]) -> bool:
    """Whether integer label columns are in strictly increasing lexicographic order."""
    if not keys or any(k.dtype.kind not in "iu" for k in keys):
        return False
    size = keys[0].shape[0]
    if size < 2:
        return True
    less = np.zeros(size - 1, dtype=bool)
    equal = np.ones(size - 1, dtype=bool)
    for k in keys:
        a, b = k[:-1], k[1:]
        less |= equal & (a < b)
        equal &= a == b
    return bool(less.all())


def _merge(width: int, sides: list[Counts]) -> tuple[list[npt.NDArray[Any]], list[Sums]]:
    """Sorted union of the groups of one or two sides, and each side's sums over that union
    (zero where a side lacks a group)."""
    if width == 0:
        keys: list[npt.NDArray[Any]] = []
        positions = [np.zeros(s.n.shape[0], dtype=np.intp) for s in sides]
        size = 1
    elif len(sides) == 1 and _sorted_unique(sides[0].keys):
        # The statement orders its groups; one side in that order needs no merge.
        side = sides[0]
        return list(side.keys), [sums(side.n, side.s1, side.s2)]
    elif len(sides) == 2 and all(a is b for a, b in zip(sides[0].keys, sides[1].keys, strict=True)):
        # Both sides of one statement, already over the same sorted groups.
        return list(sides[0].keys), [sums(s.n, s.s1, s.s2) for s in sides]
    else:
        stacked = [np.concatenate([s.keys[j] for s in sides]) for j in range(width)]
        keys, inverse, size = _group_index(width, stacked)
        bounds = np.cumsum([0, *(s.n.shape[0] for s in sides)])
        positions = [inverse[bounds[i] : bounds[i + 1]] for i in range(len(sides))]
    out = []
    for side, pos in zip(sides, positions, strict=True):
        n = np.zeros(size, dtype=np.int64)
        s1 = np.zeros(size)
        s2 = np.zeros(size)
        n[pos] += side.n
        s1[pos] += side.s1
        s2[pos] += side.s2
        out.append(sums(n, s1, s2))
    return keys, out


def run(query: MetricQuery, engine: Engine, *, scope: list[str] | None) -> QueryResult:
    """Run ``query`` on ``engine`` for a reader whose visible unit paths are ``scope``.

    ``scope`` comes from :func:`manyi.org.scoping.scope_paths` (``None``: everything, ``[]``:
    nothing) and is keyword-only and required, so no caller runs a query without deciding it.
    Groups are pooled from the responses of every unit beneath them, never averaged from figures.
    Without a group or period there is always exactly one row, with ``n = 0`` and no value when
    nothing matches.
    """
    if query.compare_previous and query.filters.date_from is not None:
        counted = _counts_of_both(query, engine, scope)
        if counted is not None:
            labels, sides_of_both, sources_of_both = counted
            return result_from_sides(query, engine.dialect.name, labels, sides_of_both, sources_of_both)
    labels, current, source = _counts(query, engine, scope, previous=False)
    sides = [current]
    sources = [source]
    if query.compare_previous:
        _labels, before, source = _counts(query, engine, scope, previous=True)
        sides.append(before)
        sources.append(source)
    return result_from_sides(query, engine.dialect.name, labels, sides, tuple(sources))


def result_from_sides(
    query: MetricQuery, engine: str, labels: tuple[str, ...], sides: list[Counts], sources: tuple[str, ...]
) -> QueryResult:
    """The result from the counts of the current range and, when comparing, the previous one."""
    keys, sums = _merge(len(labels), sides)
    result = QueryResult(
        query, engine, spec_for(query), labels, keys, sums[0], sums[1] if len(sums) > 1 else None
    )
    result.sources = sources
    return result
