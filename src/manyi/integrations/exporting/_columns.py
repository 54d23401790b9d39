"""What each export holds: its columns, their labels in the chosen language, and how rows are read.

Rows are read in id order a chunk at a time (keyset pagination), so memory stays flat however
many rows there are. Times are given in the org unit's time zone with their offset.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, connections
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from manyi.cases.choices import CaseStatus, Priority
from manyi.cases.models import Case
from manyi.customers.models import Customer
from manyi.feedback.choices import FeedbackChannel, Severity
from manyi.feedback.models import FeedbackRecord
from manyi.org.models import OrgUnit
from manyi.responses.choices import Channel
from manyi.responses.models import Answer, Response
from manyi.surveys.choices import QuestionType
from manyi.surveys.models import Survey, SurveyVersion
from manyi.surveys.questions import SERVQUAL_PARTS

CHUNK = 10_000
PII = ("customer_name", "customer_phone", "customer_email")
NUMERIC_TYPES = {
    QuestionType.NPS, QuestionType.CSAT, QuestionType.CES, QuestionType.RATING,
    QuestionType.MATRIX, QuestionType.SERVQUAL, QuestionType.CONSENT,
}  # fmt: skip


@dataclass(frozen=True)
class Column:
    code: str  # stable machine name (Parquet column, import column)
    label: Any  # lazily translated
    kind: str = "text"  # text, int, float, time


CUSTOMER = [
    Column("customer_external_id", _("customer external id")),
    Column("customer_name", _("customer name")),
    Column("customer_phone", _("customer phone")),
    Column("customer_email", _("customer e-mail")),
]
CUSTOMER_FIELDS = ("customer__external_id", "customer__name", "customer__phone", "customer__email")


def mask(code: str, value: Any) -> Any:
    """Hide personal data but keep enough to recognise a record: 张**, +86*******5678, z***@example.cn."""
    if not value:
        return value
    s = str(value)
    if code == "customer_name":
        return s[0] + "**"
    if code == "customer_phone":
        return s[:3] + "*" * max(0, len(s) - 7) + s[-4:] if len(s) > 7 else "*" * len(s)
    if code == "customer_email":
        local, _sep, domain = s.partition("@")
        return (local[:1] + "***@" + domain) if domain else "***"
    return value


class Zones:
    """Unit id -> (code, time zone), loaded once per export."""

    def __init__(self) -> None:
        cache: dict[str, ZoneInfo] = {}
        self.units: dict[int, tuple[str, ZoneInfo]] = {}
        for pk, code, tz in OrgUnit.objects.values_list("id", "code", "timezone"):
            self.units[pk] = (code, cache.get(tz) or cache.setdefault(tz, ZoneInfo(tz)))

    def local(self, unit_id: int, when: datetime | None) -> datetime | None:
        return when.astimezone(self.units[unit_id][1]) if when is not None else None

    def code(self, unit_id: int) -> str:
        return self.units[unit_id][0]


def _chunks(qs: QuerySet[Any], fields: tuple[str, ...]) -> Iterator[list[tuple[Any, ...]]]:
    def fetch() -> Iterator[list[tuple[Any, ...]]]:
        last = 0
        while True:
            rows = list(qs.filter(id__gt=last).order_by("id").values_list("id", *fields)[:CHUNK])
            if not rows:
                return
            last = rows[-1][0]
            yield rows

    return read_ahead(fetch)


def _first(row: list[Any]) -> Any:
    return row[0]


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


def read_ahead[T](produce: Callable[[], Iterator[T]]) -> Iterator[T]:
    """The chunks of ``produce``, read one chunk ahead on a second thread with its own connection.

    While the database works on the next chunk, this thread turns the current one into file rows.
    Inside a transaction (a test, a caller's atomic block) another connection would not see the
    caller's rows, so then the chunks are read here, in turn.
    """
    if connection.in_atomic_block:
        yield from produce()
        return
    box: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def run() -> None:
        try:
            for item in produce():
                while not stop.is_set():
                    try:
                        box.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(_END)
        except BaseException as exc:  # handed to the reading thread, which re-raises it
            box.put(_Failed(exc))
        finally:
            connections.close_all()  # only this thread's connections

    thread = threading.Thread(target=run, name="manyi-export-reader", daemon=True)
    thread.start()
    try:
        while (item := box.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a reader blocked on a full queue see the stop
            try:
                box.get_nowait()
            except queue.Empty:
                thread.join(0.05)


@dataclass
class Spec:
    columns: list[Column]
    # chunks(as_text): lists of rows; as_text lets the database render numbers for CSV and XLSX.
    chunks: Callable[[bool], Iterator[list[list[Any]]]]


def _labels(choices: Any) -> dict[str, str]:
    """Choice labels as plain text, in the language active while the spec is built."""
    return {k: str(v) for k, v in choices.choices}


def _answer_columns(survey_ids: list[int]) -> list[tuple[Column, str]]:
    """One column per answer code across the surveys' versions, with where its value is stored."""
    out: list[tuple[Column, str]] = []
    seen: set[str] = set()
    for v in SurveyVersion.objects.filter(survey_id__in=survey_ids).order_by("survey_id", "number"):
        for q in v.questions:
            code, qtype = q["code"], q["type"]
            if qtype == QuestionType.MATRIX:
                codes = [f"{code}.{r['code']}" for r in q.get("rows", [])]
            elif qtype == QuestionType.SERVQUAL:
                codes = [f"{code}.{p}" for p in SERVQUAL_PARTS]
            else:
                codes = [code]
            store = (
                "number" if qtype in NUMERIC_TYPES else ("choices" if qtype == QuestionType.MULTI else "text")
            )
            if q.get("allow_other"):
                codes.append(f"{code}.other")
            for a in codes:
                if a not in seen:
                    seen.add(a)
                    where = "text" if a.endswith(".other") else store
                    out.append((Column(a, a, "float" if where == "number" else "text"), where))
    return out


def responses_spec(qs: QuerySet[Response], customers: QuerySet[Customer] | None = None) -> Spec:
    """Responses with their answers pivoted to one column per answer code by the database itself.

    ``customers`` are the customers the reader may see (None: all); a response by any other customer
    (one from another store who answered here) is exported without the customer's details.
    """
    survey_ids = list(qs.order_by().values_list("survey_id", flat=True).distinct())
    answers = _answer_columns(survey_ids)
    base = [
        Column("id", "id", "int"),
        Column("submission_id", _("submission id")),
        Column("survey", _("survey")),
        Column("unit", _("org unit")),
        Column("submitted_at", _("submitted"), "time"),
        Column("channel", _("channel")),
        Column("language", _("language")),
        *CUSTOMER,
        # The response's headline scores, whatever their questions' codes; answers follow by code.
        Column("nps_score", "NPS", "int"),
        Column("csat_score", "CSAT", "int"),
        Column("ces_score", "CES", "int"),
    ]
    slugs = dict(Survey.objects.filter(pk__in=survey_ids).values_list("id", "slug"))
    channels = _labels(Channel)
    pg = connection.vendor == "postgresql"
    qn = connection.ops.quote_name
    multi = [len(base) + i for i, (_c, where) in enumerate(answers) if where == "choices"]

    answer_table, response_table = qn(Answer._meta.db_table), qn(Response._meta.db_table)
    customer_table = qn(Customer._meta.db_table)
    seen_sql, seen_params = "", ()
    if customers is not None:
        inner, seen_params = customers.order_by().values("id").query.sql_with_params()
        seen_sql = f" AND c.id IN ({inner})"

    def query(
        as_text: bool, after: int, hi: int, ids_sql: str, ids_params: tuple[Any, ...]
    ) -> tuple[str, list[Any]]:
        inner_cols: list[str] = []
        outer_cols: list[str] = []
        params: list[Any] = []
        for i, (col, where) in enumerate(answers):
            value = f"{where}::text" if pg and where == "choices" else where
            inner_cols.append(f"MAX(CASE WHEN question_code = %s THEN {value} END) AS a{i}")
            params.append(col.code)
            a = f"a.a{i}"
            if where == "number" and as_text:
                outer_cols.append(
                    f"CASE WHEN {a} = trunc({a}) THEN {a}::bigint::text ELSE {a}::text END"
                    if pg
                    else f"CASE WHEN {a} = CAST({a} AS INTEGER) THEN CAST({a} AS INTEGER) ELSE {a} END"
                )
            else:
                outer_cols.append(a)
        pivot = (
            f"SELECT response_id AS rid, {', '.join(inner_cols) or '1 AS a_'} FROM {answer_table} "
            "WHERE response_id > %s AND response_id <= %s GROUP BY response_id"
        )
        params += [after, hi]
        # On SQLite the text as stored: parsing it ourselves is cheaper than the driver's converter.
        when = "r.submitted_at" if pg else "CAST(r.submitted_at AS TEXT)"
        select = [
            "r.id", "r.submission_id", "r.survey_id", "r.unit_id", when, "r.channel", "r.language",
            "c.external_id", "c.name", "c.phone", "c.email", "r.nps", "r.csat", "r.ces", *outer_cols,
        ]  # fmt: skip
        sql = (
            "SELECT " + ", ".join(f"{x} AS c{k}" for k, x in enumerate(select))
            + f" FROM {response_table} r JOIN ({ids_sql}) ids ON ids.id = r.id"
            f" LEFT JOIN {customer_table} c ON c.id = r.customer_id{seen_sql}"
            f" LEFT JOIN ({pivot}) a ON a.rid = r.id ORDER BY r.id"
        )  # fmt: skip
        if not pg:
            # The whole chunk as one JSON value: SQLite builds it in one step without Python's GIL,
            # so the thread reading ahead does not take turns with the one writing the file.
            cells = ", ".join(f"q.c{k}" for k in range(len(select)))
            sql = f"SELECT json_group_array(json_array({cells})) FROM ({sql}) q"
        return sql, [*ids_params, *seen_params, *params]

    def fetch(as_text: bool) -> Iterator[list[Any]]:
        last = 0
        while True:
            # Only the chunk's last id comes back to Python; the database selects the ids itself.
            after_last = qs.filter(id__gt=last)
            top = list(after_last.order_by("id").values_list("id", flat=True)[CHUNK - 1 : CHUNK])
            final = not top
            if final:  # fewer than a chunk left: up to the last one
                top = list(after_last.order_by("-id").values_list("id", flat=True)[:1])
                if not top:
                    return
            hi = top[0]
            in_chunk = qs.filter(id__gt=last, id__lte=hi)
            ids_sql, ids_params = in_chunk.order_by().values("id").query.sql_with_params()
            sql, params = query(as_text, last, hi, ids_sql, ids_params)
            with connection.cursor() as cur:
                cur.execute(sql, params)
                if pg:
                    rows: list[Any] = cur.fetchall()
                else:
                    rows = json.loads(cur.fetchone()[0])
                    rows.sort(key=_first)  # aggregate order is not promised; sorted input costs one pass
            last = hi
            yield rows
            if final:
                return

    def chunks(as_text: bool) -> Iterator[list[list[Any]]]:
        zones = Zones()
        for rows in read_ahead(lambda: fetch(as_text)):
            out = []
            for pk, sid, survey, unit, when, channel, lang, cx, cn, cp, ce, nps, csat, ces, *rest in rows:
                code, tz = zones.units[unit]
                if when.__class__ is str:  # SQLite keeps naive UTC text
                    when = datetime.fromisoformat(when)
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                sid = (
                    str(sid)
                    if not isinstance(sid, str)
                    else f"{sid[:8]}-{sid[8:12]}-{sid[12:16]}-{sid[16:20]}-{sid[20:]}"
                )
                out.append(
                    [pk, sid, slugs.get(survey, ""), code, when.astimezone(tz), channels.get(channel, channel),
                     lang, cx or "", cn or "", cp or "", ce or "", nps, csat, ces, *rest]
                )  # fmt: skip
            if multi:
                for row in out:
                    for i in multi:
                        if row[i]:
                            row[i] = ";".join(json.loads(row[i]))
            yield out

    return Spec(base + [c for c, _w in answers], chunks)


def feedback_spec(qs: QuerySet[FeedbackRecord]) -> Spec:
    columns = [
        Column("id", "id", "int"),
        Column("channel", _("channel")),
        Column("unit", _("org unit")),
        Column("occurred_at", _("occurred"), "time"),
        *CUSTOMER,
        Column("touchpoint", _("touchpoint")),
        Column("category", _("category")),
        Column("severity", _("severity")),
        Column("rating", _("rating"), "float"),
        Column("text", _("text")),
        Column("language", _("language")),
        Column("response_id", _("response"), "int"),
    ]
    fields = ("channel", "unit_id", "occurred_at", *CUSTOMER_FIELDS, "touchpoint", "category", "severity",
              "rating", "text", "language", "response_id")  # fmt: skip
    channels, severities = _labels(FeedbackChannel), _labels(Severity)

    def chunks(as_text: bool) -> Iterator[list[list[Any]]]:
        zones = Zones()
        for rows in _chunks(qs, fields):
            yield [
                [pk, channels.get(ch, ch), zones.code(u), zones.local(u, when), cx or "", cn or "", cp or "",
                 ce or "", tp, cat, severities.get(sev, sev), rating, text, lang, rid]
                for pk, ch, u, when, cx, cn, cp, ce, tp, cat, sev, rating, text, lang, rid in rows
            ]  # fmt: skip

    return Spec(columns, chunks)


def cases_spec(qs: QuerySet[Case]) -> Spec:
    columns = [
        Column("id", "id", "int"),
        Column("status", _("status")),
        Column("priority", _("priority")),
        Column("unit", _("org unit")),
        Column("title", _("title")),
        Column("assignee", _("assignee")),
        *CUSTOMER,
        Column("response_id", _("response"), "int"),
        Column("feedback_id", _("feedback record"), "int"),
        Column("created_at", _("created"), "time"),
        Column("first_response_due", _("first response due"), "time"),
        Column("resolution_due", _("resolution due"), "time"),
        Column("closed_at", _("closed"), "time"),
    ]
    fields = ("status", "priority", "unit_id", "title", "assignee__username", *CUSTOMER_FIELDS, "response_id",
              "feedback_id", "created_at", "first_response_due", "resolution_due", "closed_at")  # fmt: skip
    statuses, priorities = _labels(CaseStatus), _labels(Priority)

    def chunks(as_text: bool) -> Iterator[list[list[Any]]]:
        zones = Zones()
        for rows in _chunks(qs, fields):
            yield [
                [pk, statuses.get(st, st), priorities.get(pr, pr), zones.code(u), title, who or "", cx or "",
                 cn or "", cp or "", ce or "", rid, fid, zones.local(u, c), zones.local(u, f1), zones.local(u, f2),
                 zones.local(u, closed)]
                for pk, st, pr, u, title, who, cx, cn, cp, ce, rid, fid, c, f1, f2, closed in rows
            ]  # fmt: skip

    return Spec(columns, chunks)
