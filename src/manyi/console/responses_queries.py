"""Reads for the responses table: filtered, keyset-paged, with the columns a staff member chose.

Paging is by keyset, never OFFSET, so page 2,000 costs what page 1 costs at any number of rows.

- By time (``-submitted``, ``submitted``): keyset on ``(submitted_at, id)``, the indexed column.
- By a column (``nps``, ``csat``, ``ces``, ``unit``, ``survey``, ``channel``, ``language``, and the
  same with ``-`` for descending): the rows are walked group by group — one group per value of the
  column, in the column's order (units and surveys by their name in the page's language, empty
  scores last) — and within a group newest first, keyset on ``(submitted_at, id)``. Each group is
  read through an index that starts with the column and goes on with ``submitted_at`` (``unit``
  and ``survey`` have theirs on the response model; the scores, channel and language get theirs
  from the console's migration 0002), so a page costs a seek and a short walk per group it spans.
  The cursor is ``<group>.<µs since 1970 UTC>.<id>``.

The total is counted up to :data:`COUNT_CAP` and shown as "10,000+" beyond that, which keeps the
count cheap too.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from manyi.cases.models import Case
from manyi.customers.models import Customer
from manyi.org.models import OrgUnit
from manyi.responses.choices import Channel
from manyi.responses.models import Response
from manyi.surveys.models import Survey

from .filters import EARLIEST, PARAMS, ConsoleFilters, parse_filters
from .models import StaffPreference

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_SIZE = 50
COUNT_CAP = 10_000
#: Columns the table sorts by besides time: code → (model field, whether it may be empty).
GROUP_SORTS: dict[str, tuple[str, bool]] = {
    "unit": ("unit_id", False),
    "survey": ("survey_id", False),
    "channel": ("channel", False),
    "language": ("language", False),
    "nps": ("nps", True),
    "csat": ("csat", True),
    "ces": ("ces", True),
}
SORTS = ("-submitted", "submitted", *(f"{d}{c}" for c in GROUP_SORTS for d in ("", "-")))
ALL_TIME = "all"
COLUMNS_KEY = "responses.columns"


@dataclass(frozen=True)
class TableColumn:
    code: str
    label: Any
    numeric: bool = False


COLUMNS: tuple[TableColumn, ...] = (
    TableColumn("unit", gettext_lazy("Unit")),
    TableColumn("survey", gettext_lazy("Survey")),
    TableColumn("channel", gettext_lazy("Channel")),
    TableColumn("language", gettext_lazy("Language")),
    TableColumn("customer", gettext_lazy("Customer")),
    TableColumn("nps", gettext_lazy("NPS"), numeric=True),
    TableColumn("csat", gettext_lazy("CSAT"), numeric=True),
    TableColumn("ces", gettext_lazy("CES"), numeric=True),
    TableColumn("comment", gettext_lazy("Comment")),
    TableColumn("case", gettext_lazy("Case")),
)
COLUMN_CODES = tuple(c.code for c in COLUMNS)
#: The chosen columns whose header sorts the table (the others have no useful order).
SORTABLE_COLUMNS = ("unit", "survey", "channel", "language", "nps", "csat", "ces")


def sort_options() -> list[tuple[str, Any]]:
    """The table's orders with their labels, for the "Order" picker."""
    return [
        ("-submitted", gettext_lazy("Newest first")),
        ("submitted", gettext_lazy("Oldest first")),
        ("nps", gettext_lazy("NPS, lowest first")),
        ("-nps", gettext_lazy("NPS, highest first")),
        ("csat", gettext_lazy("CSAT, lowest first")),
        ("-csat", gettext_lazy("CSAT, highest first")),
        ("ces", gettext_lazy("CES, lowest first")),
        ("-ces", gettext_lazy("CES, highest first")),
        ("unit", gettext_lazy("Unit, A to Z")),
        ("-unit", gettext_lazy("Unit, Z to A")),
        ("survey", gettext_lazy("Survey, A to Z")),
        ("-survey", gettext_lazy("Survey, Z to A")),
        ("channel", gettext_lazy("Channel, A to Z")),
        ("-channel", gettext_lazy("Channel, Z to A")),
        ("language", gettext_lazy("Language, A to Z")),
        ("-language", gettext_lazy("Language, Z to A")),
    ]


DEFAULT_COLUMNS = ("unit", "survey", "nps", "csat", "ces", "comment")


# --- filters ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableQuery:
    """The filters (the console's own parser), whether every date counts, and paging."""

    filters: ConsoleFilters
    all_time: bool
    sort: str = "-submitted"
    size: int = DEFAULT_SIZE
    after: tuple[datetime, int] | None = None
    before: tuple[datetime, int] | None = None
    errors: tuple[str, ...] = ()
    #: The group value of the cursor (``after`` or ``before``) when sorted by a column; raw text.
    group: str | None = None

    @property
    def sort_column(self) -> str:
        """``submitted`` or the code of the column the table is sorted by."""
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def filter_params(self) -> dict[str, str]:
        """The filter part of the query string (no paging), as the export and the links reuse it."""
        params = self.filters.params()
        if self.all_time:
            params = {k: v for k, v in params.items() if k not in ("period", "from", "to")}
            params["period"] = ALL_TIME
        return params


def _first(params: Mapping[str, Any], name: str) -> str:
    getter = getattr(params, "get", None)
    value = getter(name) if getter is not None else None
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    return "" if value is None else str(value).strip()[:64]


_CURSOR = re.compile(r"^(\d{1,20})\.(\d{1,19})$")
_GROUP_CURSOR = re.compile(r"^([A-Za-z0-9_-]{1,32})\.(\d{1,20}\.\d{1,19})$")
#: The group of the responses with no value in the sorted column (no NPS, …), in a cursor.
NULL_GROUP = "_"


def parse_cursor(raw: str) -> tuple[datetime, int] | None:
    """``<microseconds since 1970 UTC>.<id>`` → ``(submitted_at, id)``; None when malformed."""
    m = _CURSOR.match(raw)
    if not m:
        return None
    try:
        when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(m.group(1)))
    except OverflowError:
        return None
    return when, int(m.group(2))


def parse_group_cursor(raw: str) -> tuple[str, tuple[datetime, int]] | None:
    """``<group>.<microseconds>.<id>`` → ``(group, (submitted_at, id))``; None when malformed."""
    m = _GROUP_CURSOR.match(raw)
    if not m:
        return None
    at = parse_cursor(m.group(2))
    return None if at is None else (m.group(1), at)


def make_cursor(r: Response, sort: str = "-submitted") -> str:
    delta = r.submitted_at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    column = sort.lstrip("-")
    if column in GROUP_SORTS:
        value = getattr(r, GROUP_SORTS[column][0])
        return f"{NULL_GROUP if value is None else value}.{micros}.{r.pk}"
    return f"{micros}.{r.pk}"


def parse_table_query(user: Any, params: Mapping[str, Any], *, today: date | None = None) -> TableQuery:
    """Read filters, sort, page size and cursor; never raises, every problem becomes a message."""
    errors: list[str] = []
    period = _first(params, "period")
    given = {name: _first(params, name) for name in PARAMS}
    all_time = period == ALL_TIME or not (period or given["from"] or given["to"])
    if period == ALL_TIME:
        for name in ("period", "from", "to"):
            given.pop(name)
    filters = parse_filters(user, {k: v for k, v in given.items() if v}, today=today)
    if all_time and not filters.empty:
        today = today or timezone.now().astimezone(UTC).date()
        filters = dataclasses.replace(filters, date_from=EARLIEST, date_to=today + timedelta(days=1))
    sort = _first(params, "sort") or "-submitted"
    if sort not in SORTS:
        errors.append(
            _("Unknown sort “{value}”; the table sorts by one of: {choices}.").format(
                value=sort, choices=", ".join(SORTS)
            )
        )
        sort = "-submitted"
    grouped = sort.lstrip("-") in GROUP_SORTS
    group: str | None = None
    size_raw = _first(params, "size")
    size = DEFAULT_SIZE
    if size_raw:
        if size_raw.isdigit() and int(size_raw) in PAGE_SIZES:
            size = int(size_raw)
        else:
            errors.append(
                _("“size” must be one of {choices}, got “{value}”; showing {default} rows.").format(
                    choices=", ".join(map(str, PAGE_SIZES)), value=size_raw, default=DEFAULT_SIZE
                )
            )
    after = before = None
    for name in ("after", "before"):
        raw = _first(params, name)
        if raw:
            cursor: tuple[datetime, int] | None
            if grouped:
                parsed = parse_group_cursor(raw)
                cursor = parsed[1] if parsed else None
                if parsed and (after is None or name == "after"):
                    group = parsed[0]
            else:
                cursor = parse_cursor(raw)
            if cursor is None:
                errors.append(
                    _("The page position “{value}” is not valid; showing the first page.").format(value=raw)
                )
            elif name == "after":
                after = cursor
            else:
                before = cursor
    return TableQuery(
        filters=filters,
        all_time=all_time,
        sort=sort,
        size=size,
        after=after,
        before=before if after is None else None,
        errors=tuple(filters.errors) + tuple(errors),
        group=group if (after or before) else None,
    )


def filtered_responses(user: Any, params: Mapping[str, Any]) -> tuple[QuerySet[Response], TableQuery]:
    """The responses the user may read that match the table's filters (unordered)."""
    tq = parse_table_query(user, params)
    return tq.filters.apply(Response.objects.visible_to(user)), tq


# --- the page -----------------------------------------------------------------------------------------


@dataclass
class TablePage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    prev_cursor: str | None
    count: int
    count_capped: bool
    query: TableQuery
    columns: list[TableColumn] = field(default_factory=list)


def _keyset(qs: QuerySet[Response], cursor: tuple[datetime, int], *, older: bool) -> QuerySet[Response]:
    # Written as a range on the indexed column plus a tie-break, not as one OR: SQLite and
    # PostgreSQL then walk the submitted_at index from the cursor instead of scanning the table.
    when, pk = cursor
    if older:
        return qs.filter(Q(submitted_at__lte=when) & (Q(submitted_at__lt=when) | Q(id__lt=pk)))
    return qs.filter(Q(submitted_at__gte=when) & (Q(submitted_at__gt=when) | Q(id__gt=pk)))


def table_page(user: Any, params: Mapping[str, Any], columns: list[str], lang: str = "zh-hans") -> TablePage:
    """One page of the table: rows in sort order, cursors to the pages around it, a capped count."""
    base, tq = filtered_responses(user, params)
    count = base.order_by()[: COUNT_CAP + 1].count()
    qs = base.select_related("unit", "survey")
    backwards = tq.before is not None
    if tq.sort_column in GROUP_SORTS:
        grouped = _scope_by_unit_ids(user, tq.filters).select_related("unit", "survey")
        got, more, tq = _grouped_rows(user, grouped, tq, lang, empty=count == 0)
    else:
        desc = tq.descending
        order = ("-submitted_at", "-id") if desc else ("submitted_at", "id")
        reverse_order = ("submitted_at", "id") if desc else ("-submitted_at", "-id")
        if tq.after is not None:
            qs = _keyset(qs, tq.after, older=desc).order_by(*order)
        elif tq.before is not None:
            qs = _keyset(qs, tq.before, older=not desc).order_by(*reverse_order)
        else:
            qs = qs.order_by(*order)
        got = list(qs[: tq.size + 1])
        more = len(got) > tq.size
        got = got[: tq.size]
        if backwards:
            got.reverse()
    backwards = tq.before is not None
    has_next = more if not backwards else True
    has_prev = (tq.after is not None) if not backwards else more
    chosen = [c for c in COLUMNS if c.code in columns]
    return TablePage(
        rows=_rows(user, got, columns),
        next_cursor=make_cursor(got[-1], tq.sort) if got and has_next else None,
        prev_cursor=make_cursor(got[0], tq.sort) if got and has_prev else None,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
        query=tq,
        columns=chosen,
    )


def _scope_by_unit_ids(user: Any, f: ConsoleFilters) -> QuerySet[Response]:
    """The same responses as ``f.apply(Response.objects.visible_to(user))``, scoped by unit ids.

    The scope (and the unit filter) becomes ``unit_id + 0 IN (<ids>)``: the ``+ 0`` keeps the
    planner from reading the rows through the ``(unit, submitted_at)`` index and sorting them all —
    at a million rows it would rather do that than walk the sorted column's own index, which is
    what makes a page cheap here (the group queries then add ``<column> = <value>`` and read
    ``(<column>, submitted_at)`` newest first, a page at a time). Sorting by unit still uses
    ``(unit, submitted_at)``: its group queries say ``unit_id = <id>`` on the plain column.
    """
    units = OrgUnit.objects.visible_to(user)
    if f.unit is not None:
        units = units.filter(path__startswith=f.unit.path)
    ids = list(units.values_list("pk", flat=True))
    qs = Response.objects.alias(scope_unit=ExpressionWrapper(F("unit_id") + 0, output_field=IntegerField()))
    return dataclasses.replace(f, unit=None).apply(qs.filter(scope_unit__in=ids))


def sort_groups(base: QuerySet[Response], column: str, lang: str) -> list[Any]:
    """The values of ``column`` that the filtered responses hold, in ascending display order.

    Units and surveys: those with at least one of the responses (one ``EXISTS`` probe each, on the
    ``(unit, submitted_at)`` / ``(survey, submitted_at)`` index, in one query), by name in ``lang``.
    Scores, channel and language: the distinct values of the whole table, found by skipping through
    the column's index (one seek per value), then ``None`` (no value) when some response has none.
    """
    field, nullable = GROUP_SORTS[column]
    plain = base.order_by()
    if column in ("unit", "survey"):
        model: Any = OrgUnit if column == "unit" else Survey
        present = model.objects.filter(Exists(plain.filter(**{field: OuterRef("pk")})))
        found = sorted(present, key=lambda o: (o.display_name(lang).casefold(), o.pk))
        return [o.pk for o in found]
    values: list[Any] = []
    # The values of the whole table, not of the reader's set: each probe is then one seek in the
    # column's index (with the scope and dates it is a walk). A value the reader's set lacks costs
    # its group query a walk instead, and shows nothing; a forged cursor naming it shows nothing too.
    probe = Response.objects.filter(**{f"{field}__isnull": False})
    while len(values) < 100:  # a column of a handful of values; the bound only guards a runaway loop
        step = probe.filter(**{f"{field}__gt": values[-1]}) if values else probe
        nxt = step.order_by(field).values_list(field, flat=True).first()
        if nxt is None:
            break
        values.append(nxt)
    if column == "channel":
        labels = dict(Channel.choices)
        values.sort(key=lambda v: str(labels.get(v, v)).casefold())
    if nullable and Response.objects.filter(**{f"{field}__isnull": True}).exists():
        values.append(None)
    return values


def _group_token(value: Any) -> str:
    return NULL_GROUP if value is None else str(value)


def _grouped_rows(
    user: Any, qs: QuerySet[Response], tq: TableQuery, lang: str, *, empty: bool
) -> tuple[list[Response], bool, TableQuery]:
    """Rows of one page sorted by a column, walked group by group (see the module's docstring).

    Returns the rows in display order, whether more rows lie beyond them in the walking direction,
    and the query (with an error and no cursor when the cursor names a group the set lacks).
    """
    field, _nullable = GROUP_SORTS[tq.sort_column]
    groups = [] if empty else sort_groups(qs, tq.sort_column, lang)
    if tq.descending:
        # Descending by value, but the responses without a value stay at the end.
        groups = [g for g in groups if g is not None][::-1] + [g for g in groups if g is None]
    tokens = [_group_token(g) for g in groups]
    cursor = tq.after or tq.before
    start = 0
    if cursor is not None:
        if tq.group not in tokens:
            message = _("The page position “{value}” is not valid; showing the first page.").format(
                value=tq.group or ""
            )
            tq = dataclasses.replace(tq, after=None, before=None, group=None, errors=(*tq.errors, message))
            cursor = None
        else:
            start = tokens.index(tq.group)
    backwards = tq.before is not None
    want = tq.size + 1
    got: list[Response] = []
    walk = range(start, -1, -1) if backwards else range(start, len(groups))
    for i in walk:
        value = groups[i]
        part = qs.filter(**({f"{field}__isnull": True} if value is None else {field: value}))
        if cursor is not None and i == start:
            part = _keyset(part, cursor, older=not backwards)
        order = ("submitted_at", "id") if backwards else ("-submitted_at", "-id")
        got.extend(part.order_by(*order)[: want - len(got)])
        if len(got) >= want:
            break
    more = len(got) > tq.size
    got = got[: tq.size]
    if backwards:
        got.reverse()
    return got, more, tq


def _rows(user: Any, responses: list[Response], columns: list[str]) -> list[dict[str, Any]]:
    """Rows for the template; customers and cases only where the reader may see them."""
    customers: dict[int, Customer] = {}
    if "customer" in columns:
        ids = {r.customer_id for r in responses if r.customer_id}
        customers = {c.pk: c for c in Customer.objects.visible_to(user).filter(pk__in=ids)}
    cases: dict[int, Case] = {}
    if "case" in columns:
        for case in (
            Case.objects.visible_to(user).filter(response_id__in=[r.pk for r in responses]).order_by("id")
        ):
            cases.setdefault(int(case.response_id or 0), case)
    return [
        {
            "r": r,
            "customer": customers.get(r.customer_id or 0),
            "foreign_customer": bool(r.customer_id) and (r.customer_id not in customers),
            "case": cases.get(r.pk),
        }
        for r in responses
    ]


# --- the column chooser -------------------------------------------------------------------------------


def chosen_columns(user: Any) -> list[str]:
    pref = StaffPreference.objects.filter(user_id=user.pk, key=COLUMNS_KEY).first()
    if pref is None or not isinstance(pref.value, dict):
        return list(DEFAULT_COLUMNS)
    stored = [c for c in pref.value.get("columns", []) if c in COLUMN_CODES]
    return stored or list(DEFAULT_COLUMNS)


def clean_columns(values: list[str]) -> tuple[list[str], list[str]]:
    """Known column codes in table order, and the unknown ones (for a message)."""
    unknown = [v for v in values if v not in COLUMN_CODES]
    return [c for c in COLUMN_CODES if c in values], unknown


# --- the comment, with its aspects marked -------------------------------------------------------------


@dataclass(frozen=True)
class CommentPart:
    """A piece of the comment; ``aspects`` is empty for text between marked clauses."""

    text: str
    aspects: tuple[str, ...] = ()
    sentiment: str = ""


@dataclass(frozen=True)
class CommentReading:
    parts: list[CommentPart]
    aspects: list[dict[str, Any]]  # {"code", "name", "sentiment", "span"}
    sentiment: str
    score: float | None


def read_comment(text: str, lang: str) -> CommentReading:
    """The comment cut into parts, each clause that mentions an aspect marked with it and its sentiment.

    Uses the same text analysis as the dashboard (``manyi.textanalytics``), run on the comment itself,
    so what is marked is what the analysis counts.
    """
    if not text.strip():
        return CommentReading([], [], "", None)
    from manyi import textanalytics as ta

    analysis = ta.analyze(text)
    names = ta.default_taxonomy().names("zh" if lang == "zh-hans" else "en")
    spans: list[tuple[int, int, str, str]] = []
    for a in analysis.aspects:
        start = text.find(a.span) if a.span else -1
        length = len(a.span)
        if start < 0 and a.term:
            start = text.lower().find(a.term.lower())
            length = len(a.term)
        if start >= 0:
            spans.append((start, start + length, a.aspect, a.sentiment))
    spans.sort()
    merged: list[tuple[int, int, list[str], str]] = []
    for start, end, aspect, sentiment in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            if aspect not in last[2]:
                last[2].append(aspect)
            merged[-1] = (last[0], max(last[1], end), last[2], last[3] or sentiment)
        else:
            merged.append((start, end, [aspect], sentiment))
    parts: list[CommentPart] = []
    pos = 0
    for start, end, aspects, sentiment in merged:
        if start > pos:
            parts.append(CommentPart(text[pos:start]))
        parts.append(CommentPart(text[start:end], tuple(names.get(x, x) for x in aspects), sentiment))
        pos = end
    if pos < len(text):
        parts.append(CommentPart(text[pos:]))
    return CommentReading(
        parts=parts,
        aspects=[
            {
                "code": a.aspect,
                "name": names.get(a.aspect, a.aspect),
                "sentiment": a.sentiment,
                "span": a.span,
            }
            for a in analysis.aspects
        ],
        sentiment=analysis.sentiment.label,
        score=analysis.sentiment.score,
    )
