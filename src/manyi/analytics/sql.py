"""From a :class:`MetricQuery` to one SQL statement of counts, per engine.

The statement returns, per group, ``n`` (scores counted), ``s1 = Σy`` and ``s2 = Σy²`` of the coded
score ``y`` (±1/0 for NPS, 1/0 for a box, the score for a mean): integers for every headline metric,
so both engines give bit-identical sums and the intervals computed from them agree exactly.

Engine differences are confined to a :class:`Dialect`: table and column names, how a UTC calendar
day and its period bucket are read from the time column, and how a date range is bound. Units are
resolved first in a small CTE (scope, unit filters and, for roll-ups, the ancestor of a kind by
path prefix), so the fact table is only ever joined on an integer unit id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from .query import HEADLINE, KIND_DIMENSIONS, Filters, MetricQuery, Period

#: Which rollup a statement reads: unit × day (× survey × question), unit × month (× question),
#: or month × question over every unit (the store's company-wide ``rollup_total``).
Rollup = Literal["day", "month", "total"]
#: The scores the rollups count one by one (``c0`` … ``c10``).
HISTOGRAM_LOW, HISTOGRAM_HIGH = 0, 10
#: Headline scores in the rollups, under question ids no row of the questions table can have.
HEADLINE_QUESTION_IDS = {"nps": -1, "csat": -2, "ces": -3}


@dataclass(frozen=True, slots=True)
class Source:
    """A fact table as seen by one engine."""

    from_sql: str  # FROM … (with joins), aliased so the columns below resolve
    unit: str
    survey: str
    time: str
    question: str | None  # the question code, for answers
    aspect: str | None = None  # the aspect key, for aspect mentions
    #: The fact's integer id, for counting only the rows above the rollups' watermark.
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Dialect:
    """Everything that differs between engines."""

    name: str
    units: str  # the unit dimension table
    unit_id: str  # its id column
    responses: Source
    answers: Source
    bucket: Callable[[Period, str], str]  # the integer period code of a time column
    #: SQL and parameters for "the time column falls on a UTC day in [date_from, date_to]".
    time_range: Callable[[str, date | None, date | None], tuple[list[str], list[Any]]]
    #: The UTC calendar day of a time column as ``YYYY-MM-DD`` text (used to copy into the store).
    day: Callable[[str], str] = str
    #: Whether the engine has rollup tables (the store's ``rollup_day``/``rollup_month``, or the
    #: operational database's ``analytics_rollupday``/``analytics_rollupmonth``).
    rollups: bool = False
    #: The rollup tables: unit × day, unit × month, and the question codes their ids refer to.
    rollup_tables: tuple[str, str, str] = ("rollup_day", "rollup_month", "questions")
    #: Period bucket and date range of the rollups' DATE columns, where they differ from the facts'.
    date_bucket: Callable[[Period, str], str] | None = None
    date_range: Callable[[str, date | None, date | None], tuple[list[str], list[Any]]] | None = None
    #: SQL for the id up to which the rollups count a fact table (``responses`` or ``answers``).
    #: With it, a rollup statement adds the facts above that id in the same statement (one
    #: snapshot), so the figures are as fresh as the facts. None: the rollups hold every row.
    rollup_mark: Callable[[str], str] | None = None
    #: The name of the 8-byte float type.
    double: str = "DOUBLE"
    #: The month × question rollup over every unit, if the engine keeps one.
    total_rollup: str | None = None
    #: Whether a statement orders its groups. DuckDB's: no; sorting the groups (a few thousand
    #: to a few hundred thousand) cost it more than the runner's ordering of integer labels by
    #: their values (see :func:`manyi.analytics.runner._dense_group_index`).
    ordered: bool = True
    #: Enriched texts (``sentiment``, ``sentiment_score``) and the aspects found in them.
    texts: Source | None = None
    aspects: Source | None = None


# --- DuckDB: the store ---------------------------------------------------------------------------


def period_code(period: Period, year: str, month: str, day: str, quarter: str) -> str:
    """A period as one integer, identical on every engine: 20260315, 202603, 20261 (Q1), 2026."""
    return {
        "day": f"({year} * 10000 + {month} * 100 + {day})",
        "month": f"({year} * 100 + {month})",
        "quarter": f"({year} * 10 + {quarter})",
        "year": f"{year}",
    }[period]


def period_label(period: Period, code: int) -> str:
    """``2026-03-15``, ``2026-03``, ``2026-Q1`` or ``2026`` from :func:`period_code`'s integer."""
    if period == "day":
        return f"{code // 10000:04d}-{code // 100 % 100:02d}-{code % 100:02d}"
    if period == "month":
        return f"{code // 100:04d}-{code % 100:02d}"
    if period == "quarter":
        return f"{code // 10:04d}-Q{code % 10}"
    return f"{code:04d}"


def _duckdb_bucket(period: Period, col: str) -> str:
    return period_code(period, f"year({col})", f"month({col})", f"dayofmonth({col})", f"quarter({col})")


def _day_range(col: str, date_from: date | None, date_to: date | None) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if date_from is not None:
        where.append(f"{col} >= ?")
        params.append(date_from)
    if date_to is not None:
        where.append(f"{col} <= ?")
        params.append(date_to)
    return where, params


DUCKDB = Dialect(
    name="duckdb",
    units="units",
    unit_id="unit_id",
    responses=Source("responses f", "f.unit_id", "f.survey_id", "f.day", None),
    answers=Source(
        "answers f JOIN questions q ON q.question_id = f.question_id",
        "f.unit_id",
        "f.survey_id",
        "f.day",
        "q.code",
    ),
    bucket=_duckdb_bucket,
    time_range=_day_range,
    rollups=True,
    total_rollup="rollup_total",
    ordered=False,
    texts=Source("text_facts f", "f.unit_id", "f.survey_id", "f.day", None),
    aspects=Source("aspect_facts f", "f.unit_id", "f.survey_id", "f.day", None, "f.aspect"),
)


# --- the operational database (SQLite or PostgreSQL) ------------------------------------------------


def _sqlite_bucket(period: Period, col: str) -> str:
    # Django stores aware datetimes in SQLite as naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]".
    def part(start: int, length: int) -> str:
        return f"CAST(substr({col}, {start}, {length}) AS INTEGER)"

    month = part(6, 2)
    return period_code(period, part(1, 4), month, part(9, 2), f"(({month} + 2) / 3)")


def _postgres_bucket(period: Period, col: str) -> str:
    def part(field: str) -> str:
        return f"CAST(EXTRACT({field} FROM ({col} AT TIME ZONE 'UTC')) AS INTEGER)"

    return period_code(period, part("YEAR"), part("MONTH"), part("DAY"), part("QUARTER"))


def _postgres_date_bucket(period: Period, col: str) -> str:
    def part(field: str) -> str:
        return f"CAST(EXTRACT({field} FROM {col}) AS INTEGER)"

    return period_code(period, part("YEAR"), part("MONTH"), part("DAY"), part("QUARTER"))


def _sqlite_day(col: str) -> str:
    return f"substr({col}, 1, 10)"


def _postgres_day(col: str) -> str:
    return f"to_char(({col} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"


def _timestamp_range(
    adapt: Callable[[datetime], Any],
) -> Callable[[str, date | None, date | None], tuple[list[str], list[Any]]]:
    def time_range(col: str, date_from: date | None, date_to: date | None) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if date_from is not None:
            where.append(f"{col} >= ?")
            params.append(adapt(datetime.combine(date_from, time.min, tzinfo=UTC)))
        if date_to is not None:
            where.append(f"{col} < ?")
            params.append(adapt(datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC)))
        return where, params

    return time_range


def operational_dialect(
    vendor: str,
    adapt: Callable[[datetime], Any],
    *,
    units: str = "org_orgunit",
    responses: str = "responses_response",
    answers: str = "responses_answer",
    texts: str = "enrichment_textenrichment",
    aspects: str = "enrichment_enrichedaspect",
    rollups: tuple[str, str, str, str] | None = None,
) -> Dialect:
    """The dialect of Manyi's own tables (``sqlite`` or ``postgresql``); ``adapt`` binds a datetime.

    ``rollups`` names PostgreSQL's rollup tables (day, month, questions, state; see
    :mod:`manyi.analytics.models`); an engine reads them only when they are built.
    """
    if vendor == "sqlite":
        bucket, day = _sqlite_bucket, _sqlite_day
    elif vendor == "postgresql":
        bucket, day = _postgres_bucket, _postgres_day
    else:
        raise ValueError(f"analytics runs on SQLite or PostgreSQL, not {vendor}")
    rolled: dict[str, Any] = {}
    if rollups is not None:
        if vendor != "postgresql":
            raise ValueError("the operational database keeps rollups on PostgreSQL only")
        day_table, month_table, questions, state = rollups

        def mark(fact: str) -> str:
            return f"(SELECT last_id FROM {state} WHERE fact = '{fact}')"

        rolled = {
            "rollups": True,
            "rollup_tables": (day_table, month_table, questions),
            "date_bucket": _postgres_date_bucket,
            "date_range": _day_range,
            "rollup_mark": mark,
            "double": "DOUBLE PRECISION",
        }
    return Dialect(
        name=vendor,
        units=units,
        unit_id="id",
        responses=Source(f"{responses} f", "f.unit_id", "f.survey_id", "f.submitted_at", None, key="f.id"),
        answers=Source(
            f"{answers} f JOIN {responses} r ON r.id = f.response_id",
            "r.unit_id",
            "r.survey_id",
            "r.submitted_at",
            "f.question_code",
            key="f.id",
        ),
        bucket=bucket,
        time_range=_timestamp_range(adapt),
        day=day,
        texts=Source(f"{texts} f", "f.unit_id", "f.survey_id", "f.occurred_at", None),
        aspects=Source(
            f"{aspects} f JOIN {texts} t ON t.id = f.enrichment_id",
            "t.unit_id",
            "t.survey_id",
            "t.occurred_at",
            None,
            "f.aspect",
        ),
        **rolled,
    )


# --- compiling ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compiled:
    """One statement with ``?`` placeholders, and the names of its leading label columns."""

    sql: str
    params: list[Any]
    labels: tuple[str, ...]
    #: Read from a rollup: a fourth column after ``n, s1, s2`` counts the scores the rollup could
    #: not place (``n_odd``); when it is not 0 the runner asks the raw facts instead.
    rollup: Rollup | None = None
    #: A group may come in several rows, in no order (rollups and the facts above their mark):
    #: the runner sums them.
    repeated: bool = False
    #: The counts come as each row's ``n_odd`` and ``histogram`` (``c0`` … ``c10`` in one array)
    #: after the labels, unsummed: the runner weighs them with :func:`histogram_weights`.
    histogram: bool = False
    #: Where the days around the whole months of a month rollup come from (``rollup_day`` or
    #: ``facts``), when the range is not whole months.
    edges: str | None = None


def score_column(query: MetricQuery) -> str:
    if query.metric == "sentiment_mean":
        return "f.sentiment_score"
    if query.metric == "negative_share":
        return "f.sentiment"
    return f"f.{HEADLINE[query.metric]}" if query.metric in HEADLINE else "f.number"


def scale(query: MetricQuery) -> tuple[int, int]:
    """The valid range of the metric's scores; anything outside is left out."""
    return {
        "nps": (0, 10),
        "csat": (1, 5),
        "ces": (1, 7),
        "sentiment_mean": (-1, 1),
        "negative_share": (0, 1),
    }.get(query.metric, (query.scale_min, query.scale_max))


def coded(query: MetricQuery, score: str) -> tuple[str, str]:
    """SQL for ``y`` and ``y²``."""
    if query.metric == "nps":
        return (
            f"(CASE WHEN {score} >= 9 THEN 1 WHEN {score} <= 6 THEN -1 ELSE 0 END)",
            f"(CASE WHEN {score} >= 9 OR {score} <= 6 THEN 1 ELSE 0 END)",
        )
    if query.metric in ("csat", "top_box"):
        box_from = 4 if query.metric == "csat" else query.scale_max - query.top_k + 1
        y = f"(CASE WHEN {score} >= {int(box_from)} THEN 1 ELSE 0 END)"
        return y, y
    if query.metric == "negative_share":
        y = f"(CASE WHEN {score} = 'negative' THEN 1 ELSE 0 END)"
        return y, y
    return score, f"({score} * {score})"


def fact_sums(query: MetricQuery, score: str) -> tuple[str, str]:
    """SQL aggregates for ``Σy`` and ``Σy²`` over the fact rows (those of :func:`coded`).

    Where ``y`` is a box (NPS: promoters minus detractors; a top box; a negative mention), they
    are sums of the conditions as integers, each condition summed once: cheaper per row than
    summing a ``CASE`` (DuckDB: a third of the time) or counting with ``FILTER``, same integers.
    """

    def count(condition: str) -> str:
        return f"SUM(CAST({condition} AS INTEGER))"

    if query.metric == "nps":
        promoters, detractors = count(f"{score} >= 9"), count(f"{score} <= 6")
        return f"{promoters} - {detractors}", f"{promoters} + {detractors}"
    if query.metric in ("csat", "top_box"):
        box_from = 4 if query.metric == "csat" else query.scale_max - query.top_k + 1
        box = count(f"{score} >= {int(box_from)}")
        return box, box
    if query.metric == "negative_share":
        negative = count(f"{score} = 'negative'")
        return negative, negative
    y, y2 = coded(query, score)
    return f"SUM({y})", f"SUM({y2})"


def _any_prefix(col: str, paths: tuple[str, ...] | list[str]) -> tuple[str, list[Any]]:
    if not paths:
        return "1 = 0", []
    return "(" + " OR ".join(f"{col} LIKE ?" for _ in paths) + ")", [f"{p}%" for p in paths]


def join_and(conditions: list[str]) -> str:
    return " AND ".join(conditions)


def _month_aligned(filters: Filters) -> bool:
    start, end = filters.date_from, filters.date_to
    return (start is None or start.day == 1) and (end is None or (end + timedelta(days=1)).day == 1)


#: An inclusive range of UTC days; None is open-ended.
Span = tuple[date | None, date | None]
_DAY = timedelta(days=1)


def _merged(spans: list[Span]) -> list[Span]:
    """Adjacent spans joined (the day after one is the first of the next)."""
    out: list[Span] = []
    for start, end in spans:
        if out and out[-1][1] is not None and start is not None and out[-1][1] + _DAY == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def month_spans(filters: Filters, split_at: date | None = None) -> tuple[list[Span], list[Span]]:
    """The date range split into whole calendar months and the days around them, as two lists of
    spans in order: the months a month rollup answers exactly, and the days the day rollup or the
    facts must count. With ``split_at`` (a comparison in one statement) no month straddles it.
    """
    lo, hi = filters.date_from, filters.date_to
    if split_at is not None and (lo is None or lo < split_at) and (hi is None or split_at <= hi):
        segments: list[Span] = [(lo, split_at - _DAY), (split_at, hi)]
    else:
        segments = [(lo, hi)]
    months: list[Span] = []
    days: list[Span] = []
    for start, end in segments:
        first = start
        if start is not None and start.day != 1:
            first = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        last = end
        if end is not None and (end + _DAY).day != 1:
            last = end.replace(day=1) - _DAY
        if first is not None and last is not None and first > last:
            days.append((start, end))
            continue
        months.append((first, last))
        if start is not None and first is not None and start < first:
            days.append((start, first - _DAY))
        if end is not None and last is not None and last < end:
            days.append((last + _DAY, end))
    return _merged(months), _merged(sorted(days, key=lambda s: s[0] or date.min))


#: The share of a range's days that whole months must cover for the month rollup to read them
#: (the days around them from the day rollup or the facts): below it, the statement's second part
#: (planned and run on its own) and the month rows, each several times the work of a fact row,
#: cost more than they save (measured on the 10M-answer benchmark: three quarters of a 180-day
#: comparison in whole months read as fast from the facts alone).
MONTHS_WORTH = 0.75


def _mostly_whole_months(filters: Filters) -> bool:
    months, days = month_spans(filters)
    if not months:
        return False
    if filters.date_from is None or filters.date_to is None:
        return True  # open-ended: the whole months are all but a few days
    total = (filters.date_to - filters.date_from).days + 1
    edge = sum((end - start).days + 1 for start, end in days if start is not None and end is not None)
    return edge <= (1 - MONTHS_WORTH) * total


def rollup_for(
    query: MetricQuery, filters: Filters, dialect: Dialect, *, scope: Sequence[str] | None = ()
) -> Rollup | None:
    """The coarsest rollup that answers ``query`` under ``filters`` for a reader with ``scope``
    exactly, or None.

    The rollups count integer scores 0–10, so the metric's scale must lie within it; the month
    rollup (all surveys together) needs at least one whole month in the range (the days around
    the whole months are counted from the day rollup or the facts in the same statement), no daily
    buckets and no survey filter or group; the company-wide ``total`` rollup, besides, a range of
    whole months and no unit at all: no scope (``None``), no unit filter and no grouping by unit or
    level (the default scope, ``()``, never reads it).
    """
    if not dialect.rollups or query.on_text:
        return None
    lo, hi = scale(query)
    if lo < HISTOGRAM_LOW or hi > HISTOGRAM_HIGH:
        return None
    by_survey = "survey" in query.group_by or bool(filters.surveys)  # the month rollup has no survey
    if query.period != "day" and not by_survey:
        aligned = _month_aligned(filters)
        by_unit = "unit" in query.group_by or any(d in KIND_DIMENSIONS for d in query.group_by)
        if (
            aligned
            and dialect.total_rollup is not None
            and scope is None
            and not filters.units
            and not by_unit
        ):
            return "total"
        if aligned or _mostly_whole_months(filters):
            # Not aligned: the whole months inside from the month rollup, the days around them
            # from the day rollup or the facts (see :func:`compile_query`).
            return "month"
    return "day"


def _codes(query: MetricQuery) -> tuple[dict[int, int], dict[int, int]]:
    """``y`` and ``y²`` of each integer score on the metric's scale, as :func:`coded` codes them."""
    lo, hi = scale(query)
    values = range(lo, hi + 1)
    if query.metric == "nps":
        y = {v: 1 if v >= 9 else -1 if v <= 6 else 0 for v in values}
        y2 = {v: abs(c) for v, c in y.items()}
    elif query.metric in ("csat", "top_box"):
        box_from = 4 if query.metric == "csat" else query.scale_max - query.top_k + 1
        y = {v: 1 if v >= box_from else 0 for v in values}
        y2 = y
    else:
        y = {v: v for v in values}
        y2 = {v: v * v for v in values}
    return y, y2


def histogram_weights(query: MetricQuery) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The weights of the counts ``c0`` … ``c10`` in ``n``, ``Σy`` and ``Σy²``: a histogram's dot
    product with them gives the integers :func:`_histogram_sums` computes in SQL."""
    y, y2 = _codes(query)
    bins = range(HISTOGRAM_LOW, HISTOGRAM_HIGH + 1)
    return (
        tuple(1 if v in y else 0 for v in bins),
        tuple(y.get(v, 0) for v in bins),
        tuple(y2.get(v, 0) for v in bins),
    )


def _histogram_sums(query: MetricQuery) -> tuple[str, str, str]:
    """SQL for ``n``, ``Σy`` and ``Σy²`` from the ``c0`` … ``c10`` counts of a rollup row: the same
    integers as counting the raw scores with :func:`coded`."""
    y, y2 = _codes(query)
    values = list(y)

    def linear(coef: dict[int, int]) -> str:
        terms = [
            f"{'- ' if c < 0 else '+ '}{'' if abs(c) == 1 else f'{abs(c)} * '}f.c{v}"
            for v, c in coef.items()
            if c
        ]
        if not terms:
            return "0"
        text = " ".join(terms)
        return text[2:] if text.startswith("+ ") else "-" + text[2:]

    return linear(dict.fromkeys(values, 1)), linear(y), linear(y2)


def compile_query(
    query: MetricQuery,
    filters: Filters,
    dialect: Dialect,
    scope: list[str] | None,
    rollup: Rollup | None = None,
    *,
    split_at: date | None = None,
    edges: Literal["day"] | None = None,
) -> Compiled:
    """The counting statement for ``query`` under ``filters``, restricted to ``scope``.

    ``scope`` is the list of unit paths the reader may see (``None``: everything, ``[]``: nothing);
    it is a required argument so that no caller can forget it. With ``rollup`` (see
    :func:`rollup_for`) the counts are summed from the rollup rows instead of the facts; where the
    dialect has a ``rollup_mark`` (the operational database), the facts above the mark are added in
    the same statement. With ``split_at`` (a comparison of two adjacent ranges in one statement),
    the first column, labelled ``side``, is 0 for the days from ``split_at`` on and 1 before it.

    The month rollup over a range that is not made of whole months (or a comparison split inside
    a month) reads the whole months from it and the days around them (:func:`month_spans`) from
    the day rollup when ``edges`` is ``"day"``, else from the facts, in one ``UNION ALL``.
    """
    if query.on_text:
        text_src = dialect.aspects if query.metric == "negative_share" else dialect.texts
        if text_src is None or rollup is not None:
            raise ValueError(f"{dialect.name} has no enriched texts")
        facts = text_src
    else:
        facts = dialect.answers if query.on_answers else dialect.responses
    if rollup is not None and not dialect.rollups:
        raise ValueError(f"{dialect.name} has no rollups")
    params: list[Any] = []

    # Units in scope and filter, with the roll-up ancestor when grouping by a level of the tree.
    kind = next((d for d in query.group_by if d in KIND_DIMENSIONS), None)
    unit_select = f"u.{dialect.unit_id} AS unit_id"
    unit_from = f"{dialect.units} u"
    if kind is not None:
        unit_select += f", g.{dialect.unit_id} AS level_id"
        unit_from += f" JOIN {dialect.units} g ON g.kind = ? AND u.path LIKE (g.path || ?)"
        params += [kind, "%"]
    unit_where: list[str] = []
    if scope is not None:
        cond, p = _any_prefix("u.path", scope)
        unit_where.append(cond)
        params += p
    if filters.units:
        cond, p = _any_prefix("u.path", filters.units)
        unit_where.append(cond)
        params += p
    # Every fact row has a unit (a protected foreign key), so without scope, unit filters or a
    # roll-up level the join would keep every row: it is left out.
    join_units = kind is not None or bool(unit_where)
    cte = f"WITH su AS (SELECT {unit_select} FROM {unit_from}"
    if unit_where:
        cte += " WHERE " + " AND ".join(unit_where)
    cte += ") "
    labels = [
        *(["side"] if split_at is not None else []),
        *query.group_by,
        *(["period"] if query.period is not None else []),
    ]
    positions = ", ".join(str(i + 1) for i in range(len(labels)))

    if rollup is None:
        body, body_params = _part(query, filters, dialect, facts, None, join_units, split_at=split_at)
        sql = body
        params += body_params
    else:
        if rollup == "total" and (dialect.total_rollup is None or join_units):
            raise ValueError("the total rollup has no units: it answers only unscoped, unit-free queries")
        spans: tuple[list[Span], list[Span]] | None = None
        if rollup == "month" and (
            not _month_aligned(filters) or (split_at is not None and split_at.day != 1)
        ):
            spans = month_spans(filters, split_at)
            if not spans[0]:
                raise ValueError("the month rollup answers a range only with a whole month in it")
        elif rollup == "total" and not _month_aligned(filters):
            raise ValueError("the total rollup answers only whole months")
        rolled = _rollup_source(query, dialect, rollup)
        body, body_params = _part(
            query,
            filters,
            dialect,
            rolled,
            rollup,
            join_units,
            split_at=split_at,
            spans=spans[0] if spans else None,
            # Grouped by unit, a group has one month row per month of the range: the runner adds
            # them up with the other parts' rows, cheaper than the database grouping them first.
            unsummed=spans is not None and _few_rows_per_group(query),
        )
        params += body_params
        if rollup == "total":
            return Compiled(body, params, tuple(labels), rollup, repeated=True, histogram=True)
        parts = [body]

        def add(src: Source, rolled_up: Rollup | None, **kw: Any) -> None:
            part, part_params = _part(
                query, filters, dialect, src, rolled_up, join_units, split_at=split_at, **kw
            )
            parts.append(part)
            params.extend(part_params)

        if dialect.rollup_mark is not None and facts.key is not None:
            add(facts, None, fresh=True, spans=spans[0] if spans else None)
        edge_source = None
        if spans is not None and spans[1]:
            # The days around the whole months: from the day rollup (plus, on the operational
            # database, its facts above the mark), or from the facts.
            edge_source = "rollup_day" if edges == "day" else "facts"
            if edges == "day":
                add(_rollup_source(query, dialect, "day"), "day", spans=spans[1])
            if edges != "day" or (dialect.rollup_mark is not None and facts.key is not None):
                add(facts, None, fresh=edges == "day", odd=True, spans=spans[1])
        if len(parts) > 1:
            # Not summed again here: a group can come several times (from the rollups, the days
            # around their months and the facts above the mark), and the runner adds them up,
            # cheaper than a database's regrouping and sorting of every group.
            sql = " UNION ALL ".join(parts)
            if join_units:
                sql = cte + sql
            return Compiled(sql, params, tuple(labels), rollup, repeated=True, edges=edge_source)
        sql = body
    if join_units:
        sql = cte + sql
    if labels and dialect.ordered:
        sql += f" ORDER BY {positions}"  # the runner then has nothing to sort
    return Compiled(sql, params, tuple(labels), rollup)


def _rollup_source(query: MetricQuery, dialect: Dialect, rollup: Rollup) -> Source:
    """A rollup table seen as a source (its time column is the day or the month's first day)."""
    day_table, month_table, questions = dialect.rollup_tables
    table = {"day": day_table, "month": month_table, "total": str(dialect.total_rollup)}[rollup] + " f"
    return Source(
        f"{table} JOIN {questions} q ON q.question_id = f.question_id" if query.on_answers else table,
        "NULL" if rollup == "total" else "f.unit_id",
        "f.survey_id" if rollup == "day" else "NULL",
        "f.day" if rollup == "day" else "f.month",
        "q.code" if query.on_answers else None,
    )


def _part(
    query: MetricQuery,
    filters: Filters,
    dialect: Dialect,
    src: Source,
    rollup: Rollup | None,
    join_units: bool,
    *,
    fresh: bool = False,
    odd: bool = False,
    split_at: date | None = None,
    spans: list[Span] | None = None,
    unsummed: bool = False,
) -> tuple[str, list[Any]]:
    """``SELECT`` of the group labels and counts of one source, grouped, not ordered. ``fresh``:
    only the fact rows above the rollups' mark, with ``0 AS odd`` beside the counts (``odd``: the
    same column without the mark); ``split_at``: a first column ``side``, 0 from that day on and 1
    before; ``spans``: only the days of these spans (within the filters' range); ``unsummed``: each
    rollup row as it is, as when it is its group's only row (the runner adds them up)."""
    params: list[Any] = []
    select: list[str] = []
    on_date = rollup is not None
    bucket = (dialect.date_bucket if on_date else None) or dialect.bucket
    time_range = (dialect.date_range if on_date else None) or dialect.time_range
    if split_at is not None:
        (since,), since_params = time_range(src.time, split_at, None)
        select.append(f"(CASE WHEN {since} THEN 0 ELSE 1 END)")
        params += since_params
    for dim in query.group_by:
        if dim == "unit":
            select.append("su.unit_id" if join_units else src.unit)
        elif dim in KIND_DIMENSIONS:
            select.append("su.level_id")
        elif dim == "survey":
            select.append(src.survey)
        elif dim == "aspect":
            assert src.aspect is not None
            select.append(src.aspect)
        else:  # question
            assert src.question is not None
            select.append(src.question)
    if query.period is not None:
        select.append(bucket(query.period, src.time))

    if rollup is None:
        score = score_column(query)
        lo, hi = scale(query)
        s1, s2 = fact_sums(query, score)
        if query.metric == "negative_share":
            where = []  # every aspect mention counts; its sentiment is a label, not a score
        else:
            where = [f"{score} >= ?", f"{score} <= ?"]
            params += [lo, hi]
    else:
        where = [] if query.on_answers else ["f.question_id = ?"]
        params += [] if query.on_answers else [HEADLINE_QUESTION_IDS[query.metric]]
    if fresh:
        assert dialect.rollup_mark is not None and src.key is not None
        where.append(f"{src.key} > {dialect.rollup_mark('answers' if query.on_answers else 'responses')}")
    time_where, time_params = time_range(src.time, filters.date_from, filters.date_to)
    where += time_where
    params += time_params
    if spans is not None:
        ranges = []
        for start, end in spans:
            span_where, span_params = time_range(src.time, start, end)
            ranges.append(f"({join_and(span_where)})" if span_where else "1 = 1")
            params += span_params
        where.append(ranges[0] if len(ranges) == 1 else f"({' OR '.join(ranges)})")
    if filters.surveys:
        where.append(f"{src.survey} IN ({', '.join('?' for _ in filters.surveys)})")
        params += list(filters.surveys)
    if filters.questions:
        if src.question is None:
            raise ValueError(f"{query.metric} reads headline scores; filter questions with top_box or mean")
        where.append(f"{src.question} IN ({', '.join('?' for _ in filters.questions)})")
        params += list(filters.questions)

    one_row = rollup is not None and (unsummed or _one_row_per_group(query, rollup))
    histogram = rollup == "total"
    if rollup is None:
        counts = ["COUNT(*) AS n", f"{s1} AS s1", f"{s2} AS s2"]
        if fresh or odd:
            counts.append("0 AS odd")
    elif histogram:
        # The company-wide rollup has a few rows per question (one a month): they come back as they
        # are and the runner weighs and adds up their histograms, which costs far less than having
        # the database bind, plan and evaluate the sums of eleven columns.
        counts = ["f.n_odd AS odd", "f.histogram AS histogram"]
    elif one_row:
        # Each group is one rollup row: its counts are read, not summed.
        n_sql, s1_sql, s2_sql = _histogram_sums(query)
        counts = [f"{n_sql} AS n", f"{s1_sql} AS s1", f"{s2_sql} AS s2", "f.n_odd AS odd"]
        where.append(f"({n_sql} > 0 OR f.n_odd > 0)")
    else:
        n_sql, s1_sql, s2_sql = _histogram_sums(query)
        counts = [
            f"CAST(SUM({n_sql}) AS BIGINT) AS n",
            f"CAST(SUM({s1_sql}) AS {dialect.double}) AS s1",
            f"CAST(SUM({s2_sql}) AS {dialect.double}) AS s2",
            "CAST(SUM(f.n_odd) AS BIGINT) AS odd",
        ]
    columns = [*(f"{expr} AS g{i}" for i, expr in enumerate(select)), *counts]
    sql = (
        f"SELECT {', '.join(columns)} FROM {src.from_sql}"
        f"{f' JOIN su ON su.unit_id = {src.unit}' if join_units else ''}"
        f"{f' WHERE {join_and(where)}' if where else ''}"
    )
    if select and not one_row and not histogram:
        sql += f" GROUP BY {', '.join(str(i + 1) for i in range(len(select)))}"
    if rollup is not None and not one_row and not histogram:
        # A rollup row can hold only scores outside the metric's scale: such groups have no rows
        # in the raw count, so they are left out here too (unless odd scores send it to the raw).
        sql += f" HAVING SUM({_histogram_sums(query)[0]}) > 0 OR SUM(f.n_odd) > 0"
    return sql, params


def _few_rows_per_group(query: MetricQuery) -> bool:
    """Whether each group of ``query`` is at most one month rollup row per month (grouped by unit,
    and by question where the metric reads questions)."""
    return "unit" in query.group_by and (not query.on_answers or "question" in query.group_by)


def _one_row_per_group(query: MetricQuery, rollup: Rollup) -> bool:
    """Whether the groups of ``query`` are the rollup's own keys (unit × month × question, or
    unit × day × survey × question), so that each group is exactly one rollup row. A level of
    the org tree beside the unit is a function of the unit; headline scores are one question."""
    return (
        "unit" in query.group_by
        and query.period == rollup
        and (rollup == "month" or "survey" in query.group_by)
        and (not query.on_answers or "question" in query.group_by)
    )
