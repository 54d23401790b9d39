"""The same typed query as one Ibis expression over the store's tables, for engines past one machine.

:func:`counts_expr` builds what :func:`manyi.analytics.sql.compile_query` writes as SQL: per group,
``n``, ``Σy`` and ``Σy²`` of the coded score, over the fact tables of the store (``responses``,
``answers``, ``questions``, ``units``), with the reader's scope, unit filters and roll-up level
resolved on the units by path prefix. The expression is engine-neutral:

- :func:`run_ibis` executes it on an Ibis backend (DuckDB here, on the store file; ClickHouse or
  any other backend holding tables of the same shape) and returns the runner's
  :class:`~manyi.analytics.runner.QueryResult`, so the figures come from the same estimators;
- :func:`to_sql` compiles it for a dialect (``ibis.to_sql(expr, dialect="clickhouse")``) without a
  server, from the unbound tables of :func:`store_tables`.

Scores stay integers (counts of promoters, boxes, sums of integer scores), so every engine gives
the same sums bit for bit and the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .query import HEADLINE, KIND_DIMENSIONS, Filters, MetricQuery, Period
from .sql import scale

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from .runner import QueryResult

#: The store's tables as Ibis sees them (see ``store.SCHEMA``).
STORE_SCHEMAS: dict[str, dict[str, str]] = {
    "units": {
        "unit_id": "int32",
        "parent_id": "int32",
        "path": "string",
        "depth": "int16",
        "kind": "string",
        "code": "string",
    },
    "questions": {"question_id": "int32", "code": "string"},
    "responses": {
        "response_id": "int64",
        "survey_id": "int32",
        "unit_id": "int32",
        "day": "date",
        "nps": "int8",
        "csat": "int8",
        "ces": "int8",
    },
    "answers": {
        "answer_id": "int64",
        "response_id": "int64",
        "survey_id": "int32",
        "unit_id": "int32",
        "day": "date",
        "question_id": "int32",
        "number": "float64",
    },
    "text_facts": {
        "enrichment_id": "int64",
        "source": "string",
        "unit_id": "int32",
        "survey_id": "int32",
        "day": "date",
        "lang": "string",
        "sentiment": "string",
        "sentiment_score": "float64",
    },
    "aspect_facts": {
        "aspect_row_id": "int64",
        "enrichment_id": "int64",
        "unit_id": "int32",
        "survey_id": "int32",
        "day": "date",
        "aspect": "string",
        "sentiment": "string",
    },
}


@dataclass(frozen=True, slots=True)
class StoreTables:
    """The store's tables as Ibis table expressions (bound to a backend or unbound)."""

    units: ir.Table
    questions: ir.Table
    responses: ir.Table
    answers: ir.Table
    text_facts: ir.Table
    aspect_facts: ir.Table


def store_tables(backend: Any | None = None) -> StoreTables:
    """The store's tables on ``backend`` (an Ibis connection), or unbound when None (to compile)."""
    import ibis

    if backend is None:
        return StoreTables(**{name: ibis.table(schema, name=name) for name, schema in STORE_SCHEMAS.items()})
    return StoreTables(**{name: backend.table(name) for name in STORE_SCHEMAS})


def _bucket(period: Period, day: ir.DateValue) -> ir.IntegerValue:
    """The integer period code of :func:`manyi.analytics.sql.period_code`."""
    year, month = day.year().cast("int64"), day.month().cast("int64")
    if period == "day":
        return year * 10000 + month * 100 + day.day().cast("int64")
    if period == "month":
        return year * 100 + month
    if period == "quarter":
        return year * 10 + day.quarter().cast("int64")
    return year


def _any_prefix(path: ir.StringValue, prefixes: tuple[str, ...] | list[str]) -> ir.BooleanValue:
    import ibis

    if not prefixes:
        return ibis.literal(False)
    return ibis.or_(*(path.startswith(p) for p in prefixes))


def _coded(query: MetricQuery, score: Any) -> tuple[Any, Any]:
    import ibis

    if query.metric == "negative_share":
        y = ibis.cases((score == "negative", 1), else_=0)
        return y, y
    if query.metric == "nps":
        y = ibis.cases((score >= 9, 1), (score <= 6, -1), else_=0)
        return y, ibis.cases((score >= 9, 1), (score <= 6, 1), else_=0)
    if query.metric in ("csat", "top_box"):
        box_from = 4 if query.metric == "csat" else query.scale_max - query.top_k + 1
        y = ibis.cases((score >= box_from, 1), else_=0)
        return y, y
    return score, score * score


def counts_expr(
    query: MetricQuery, filters: Filters, tables: StoreTables, scope: list[str] | None
) -> tuple[ir.Table, tuple[str, ...]]:
    """The grouped counts of ``query`` under ``filters`` within ``scope``, and the label names.

    Columns: ``g0`` … (the labels, in ``group_by`` order, then the period code), ``n``, ``s1``,
    ``s2``. ``scope`` is required, as for :func:`manyi.analytics.sql.compile_query`.
    """
    if query.on_text:
        facts = tables.aspect_facts if query.metric == "negative_share" else tables.text_facts
    elif query.on_answers:
        facts = tables.answers.join(tables.questions, "question_id")
    else:
        facts = tables.responses

    # Units in scope and filter, with the roll-up ancestor when grouping by a level of the tree;
    # joined only when one of them asks for it (every fact row has a unit).
    kind = next((d for d in query.group_by if d in KIND_DIMENSIONS), None)
    units = tables.units
    unit_preds = []
    if scope is not None:
        unit_preds.append(_any_prefix(units.path, scope))
    if filters.units:
        unit_preds.append(_any_prefix(units.path, filters.units))
    if kind is not None or unit_preds:
        chosen = units.filter(*unit_preds) if unit_preds else units
        if kind is not None:
            ancestors = tables.units.view()
            chosen = chosen.join(
                ancestors, [chosen.path.startswith(ancestors.path), ancestors.kind == kind]
            ).select(su_unit_id=chosen.unit_id, level_id=ancestors.unit_id)
        else:
            chosen = chosen.select(su_unit_id=chosen.unit_id)
        facts = facts.join(chosen, facts.unit_id == chosen.su_unit_id)

    if query.metric == "negative_share":
        score = facts.sentiment
        preds = []  # every aspect mention counts; its sentiment is a label
    else:
        if query.metric == "sentiment_mean":
            score = facts.sentiment_score
        elif query.on_answers:
            score = facts.number
        else:
            score = facts[HEADLINE[query.metric]].cast("int64")
        lo, hi = scale(query)
        preds = [score >= lo, score <= hi]
    if filters.date_from is not None:
        preds.append(facts.day >= filters.date_from)
    if filters.date_to is not None:
        preds.append(facts.day <= filters.date_to)
    if filters.surveys:
        preds.append(facts.survey_id.isin(list(filters.surveys)))
    if filters.questions:
        if not query.on_answers:
            raise ValueError(f"{query.metric} reads headline scores; filter questions with top_box or mean")
        preds.append(facts.code.isin(list(filters.questions)))

    keys: dict[str, Any] = {}
    labels: list[str] = []
    for i, dim in enumerate(query.group_by):
        if dim == "unit":
            keys[f"g{i}"] = facts.unit_id
        elif dim in KIND_DIMENSIONS:
            keys[f"g{i}"] = facts.level_id
        elif dim == "survey":
            keys[f"g{i}"] = facts.survey_id
        elif dim == "aspect":
            keys[f"g{i}"] = facts.aspect
        else:
            keys[f"g{i}"] = facts.code
        labels.append(dim)
    if query.period is not None:
        keys[f"g{len(labels)}"] = _bucket(query.period, facts.day)
        labels.append("period")

    y, y2 = _coded(query, score)
    filtered = facts.filter(*preds) if preds else facts
    counts = {"n": score.count(), "s1": y.sum(), "s2": y2.sum()}
    expr = filtered.group_by(**keys).aggregate(**counts) if keys else filtered.aggregate(**counts)
    return expr, tuple(labels)


def to_sql(query: MetricQuery, dialect: str, scope: list[str] | None, filters: Filters | None = None) -> str:
    """The query's counting statement in ``dialect`` (``clickhouse``, ``duckdb``, ``postgres``, …),
    compiled from the unbound store tables: no server needed."""
    import ibis

    expr, _labels = counts_expr(query, filters or query.filters, store_tables(), scope)
    return str(ibis.to_sql(expr, dialect=dialect))


def _columns(expr: ir.Table, width: int) -> list[np.ndarray[Any, Any]]:
    table = expr.to_pyarrow()
    return [table.column(i).to_numpy(zero_copy_only=False) for i in range(width + 3)]


def run_ibis(query: MetricQuery, backend: Any, *, scope: list[str] | None, name: str = "ibis") -> QueryResult:
    """Run ``query`` through Ibis on ``backend`` (tables shaped like the store's), with the same
    estimators as :func:`manyi.analytics.run`; ``scope`` is required, as there."""
    from .runner import Counts, result_from_sides

    tables = store_tables(backend)
    sides: list[Counts] = []
    labels: tuple[str, ...] = ()
    ranges = [query.filters] + ([query.filters.previous()] if query.compare_previous else [])
    for filters in ranges:
        expr, labels = counts_expr(query, filters, tables, scope)
        width = len(labels)
        cols = _columns(expr, width)
        sides.append(
            Counts(
                keys=list(cols[:width]),
                n=np.nan_to_num(cols[width].astype(np.float64)).astype(np.int64),
                s1=np.nan_to_num(cols[width + 1].astype(np.float64)),
                s2=np.nan_to_num(cols[width + 2].astype(np.float64)),
            )
        )
    return result_from_sides(query, name, labels, sides, tuple("ibis" for _ in sides))
