"""Import responses: one row per response, one column per answer (``csi.tangibles`` for matrix rows).

Each response's ``submission_id`` is derived from the survey slug and the row's external id
(uuid5), so importing a file again finds the same responses: unchanged rows are counted and left
alone, changed rows are updated with their answers replaced. New responses and their answers go
in with a few statements per table per batch (see ``_bulk``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from manyi.analytics.actions import record_changed_responses
from manyi.customers.models import Customer
from manyi.responses.choices import Channel
from manyi.responses.models import Answer, Response
from manyi.surveys.choices import QuestionType
from manyi.surveys.models import Survey
from manyi.surveys.questions import OTHER, SCALE_TYPES, SERVQUAL_PARTS, TEXT_MAX, scale_of

from . import _common as c
from ._bulk import NULL, copy_num, copy_text, insert_copy, insert_values
from ._dates import parse_when
from ._engine import Written, fail_on_missing
from ._errors import Reject, RowError

NAMESPACE = uuid.UUID("5b0d3c52-6a8e-4a4e-9d53-6d616e796931")  # fixed: the same row gives the same id
BASE = ("external_id", "survey", "unit", "submitted_at", "channel", "language", "customer_external_id")
REQUIRED = ("external_id", "survey", "unit", "submitted_at")
CHANNELS = frozenset(Channel.values)
FUTURE_SLACK = timedelta(days=1)
Check = Callable[[Any], tuple[float | None, str, str | None]]  # -> (number, text, choices json)
CHANNEL_REASON = "must be one of " + ", ".join(sorted(CHANNELS))
WHERE_MEMO = 10_000  # (survey, unit) pairs and language spellings remembered per file


def submission_id(slug: str, external_id: str) -> uuid.UUID:
    """The stored submission id of an imported response: the same file row gives the same id."""
    return uuid.uuid5(NAMESPACE, f"{slug}\x1f{external_id}")


_NS = NAMESPACE.bytes


def submission_hex(slug: str, external_id: str) -> str:
    """``submission_id(...).hex`` without building UUID objects (this runs once per row)."""
    h = bytearray(hashlib.sha1(_NS + f"{slug}\x1f{external_id}".encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    return h.hex()


@dataclass(slots=True)
class ResponseRecord:
    row: int
    key: str  # submission id, hex
    external_id: str
    survey_id: int
    version_id: int
    unit_id: int
    customer_ext: str
    channel: str
    language: str
    submitted_at: datetime
    nps: int | None
    csat: int | None
    ces: int | None
    comment: str
    answers: list[tuple[str, float | None, str, str | None]]
    customer_id: int | None = None
    # Made on the reading thread as the row is checked, in the form the database reads (see _bulk):
    # PostgreSQL: the row and its answers as COPY text, less the ids; SQLite: the row's values.
    row_text: str = ""
    answers_text: str = ""
    row_values: tuple[Any, ...] = ()
    # SQLite: the row's number among the valid rows in time order within each batch (given by
    # ``prepare``); the writer adds one offset to it in SQL to make the response id.
    seq: int = 0


def _scale(lo: int, hi: int) -> Check:
    reason = f"must be a whole number from {lo} to {hi}"

    def check(v: Any) -> tuple[float | None, str, str | None]:
        try:
            n = int(v) if not isinstance(v, float) else (int(v) if v.is_integer() else None)
        except ValueError:
            try:
                f = float(v)
                n = int(f) if f.is_integer() else None
            except ValueError:
                n = None
        if n is None or not lo <= n <= hi:
            raise Reject(reason)
        return float(n), "", None

    return check


def _single(codes: set[str]) -> Check:
    reason = "must be one of " + ", ".join(sorted(codes))

    def check(v: Any) -> tuple[float | None, str, str | None]:
        s = c.text(v)
        if s not in codes:
            raise Reject(reason)
        return None, s, None

    return check


def _multi(codes: set[str]) -> Check:
    reason = "must list codes from " + ", ".join(sorted(codes)) + " separated by ;"

    def check(v: Any) -> tuple[float | None, str, str | None]:
        parts = [
            p.strip() for p in c.text(v).replace("|", ";").replace(",", ";").replace("、", ";").split(";")
        ]
        chosen = list(dict.fromkeys(p for p in parts if p))
        if not chosen or any(p not in codes for p in chosen):
            raise Reject(reason)
        return None, "", json.dumps(chosen, ensure_ascii=False)

    return check


def _common_answers(code: str, check: Check) -> dict[str, tuple[str, float | None, str, str | None]]:
    """The answer each usual spelling of a scale point or a yes/no gives, computed once per file."""
    if check is _text:
        return {}
    cells: set[str] = {str(n) for n in range(0, 11)} | {f"{n}.0" for n in range(0, 11)}
    if check is _consent:
        cells |= (
            c.TRUE | c.FALSE | {v.upper() for v in c.TRUE | c.FALSE} | {v.title() for v in c.TRUE | c.FALSE}
        )
    out = {}
    for cell in cells:
        try:
            number, txt, choices = check(cell)
        except Reject:
            continue
        out[cell] = (code, number, txt, choices)
    return out


def _text(v: Any) -> tuple[float | None, str, str | None]:
    s = c.text(v)
    if "\x00" in s:
        raise Reject("contains a NUL character (0x00), which cannot be stored; remove it")
    if len(s) > TEXT_MAX:
        raise Reject(f"is longer than {TEXT_MAX} characters")
    return None, s, None


def _consent(v: Any) -> tuple[float | None, str, str | None]:
    if isinstance(v, bool):
        return (1.0 if v else 0.0), "", None
    return (1.0 if c.boolean(c.text(v)) else 0.0), "", None


@dataclass
class SurveyPlan:
    """How to read one survey's answers from the file's columns."""

    slug: str
    survey_id: int
    version_id: int
    unit_path: str
    fallback_language: str
    # (column index, column name, answer code, check, headline kind: nps/csat/ces/comment or "",
    #  the answer for each common cell text, looked up before the check runs)
    columns: list[tuple[int, str, str, Check, str, dict[str, tuple[str, float | None, str, str | None]]]]
    foreign: list[tuple[int, str]]  # answer columns that are not questions of this survey


def _plan(survey: Survey, answer_columns: dict[str, int]) -> SurveyPlan:
    version = survey.published_version()
    if version is None:
        raise Reject(f"survey {survey.slug} has no published version")
    wanted: dict[str, tuple[Check, str]] = {}
    headline_taken: set[str] = set()
    for q in version.questions:
        code, qtype = q["code"], q["type"]
        head = ""
        if qtype in (QuestionType.NPS, QuestionType.CSAT, QuestionType.CES) and qtype not in headline_taken:
            head = str(qtype)
        elif qtype == QuestionType.TEXT and "comment" not in headline_taken:
            head = "comment"
        if head:
            headline_taken.add(head)
        if qtype in SCALE_TYPES:
            wanted[code] = (_scale(*scale_of(q)), head)
        elif qtype == QuestionType.MATRIX:
            for row in q.get("rows", []):
                wanted[f"{code}.{row['code']}"] = (_scale(*scale_of(q)), "")
        elif qtype == QuestionType.SERVQUAL:
            for part in SERVQUAL_PARTS:
                wanted[f"{code}.{part}"] = (_scale(*scale_of(q)), "")
        elif qtype in (QuestionType.SINGLE, QuestionType.MULTI):
            codes = {o["code"] for o in q.get("options", [])}
            if q.get("allow_other"):
                codes.add(OTHER)
                wanted[f"{code}.{OTHER}"] = (_text, "")
            wanted[code] = (_single(codes) if qtype == QuestionType.SINGLE else _multi(codes), "")
        elif qtype == QuestionType.TEXT:
            wanted[code] = (_text, head)
        elif qtype == QuestionType.CONSENT:
            wanted[code] = (_consent, "")
    columns = [
        (i, name, name, *wanted[name], _common_answers(name, wanted[name][0]))
        for name, i in answer_columns.items()
        if name in wanted
    ]
    foreign = [(i, name) for name, i in answer_columns.items() if name not in wanted]
    return SurveyPlan(
        slug=survey.slug,
        survey_id=survey.pk,
        version_id=version.pk,
        unit_path=survey.unit.path,
        fallback_language=survey.fallback_language,
        columns=columns,
        foreign=foreign,
    )


Where = tuple["SurveyPlan | None", "c.UnitInfo | None", list[tuple[str, str, str]]]


class ResponseImporter:
    """Checks response rows and writes them in batches."""

    def __init__(self, header: list[str], defaults: dict[str, str], user: Any) -> None:
        header = [h.strip() for h in header]
        fail_on_missing(header, defaults, REQUIRED)
        self.header = header
        self.defaults = defaults
        self.user = user
        self.idx = {name: header.index(name) for name in BASE if name in header}
        self.base_idx = [self.idx.get(name, -1) for name in BASE]
        self.base_defaults = [defaults.get(name, "") for name in BASE]
        self.wheres: dict[tuple[str, str], Where] = {}
        self.languages: dict[str, str] = {}
        self.answer_columns = {h: i for i, h in enumerate(header) if h and h not in BASE}
        self.units = c.Units(user)
        self.plans: dict[str, SurveyPlan | str] = {}
        self.latest = timezone.now() + FUTURE_SLACK
        self.pg = c.is_postgres()
        # PostgreSQL does most of the work (indexes, foreign-key checks): three batches at once
        # keep the server busy while each writer waits on its round trips (on two cores, 20,100
        # rows/s against 15,300 with two writers). SQLite has one writer at a time.
        self.writers = 3 if self.pg else 1
        self.answer_text: dict[tuple[str, float | None, str, str | None], str] = {}
        self.seq = 0

    def _survey(self, slug: str) -> SurveyPlan:
        plan = self.plans.get(slug)
        if plan is None:
            survey = Survey.objects.select_related("unit").filter(slug=slug).first()
            if survey is None or (
                self.user is not None
                and not Survey.objects.visible_to(self.user).filter(pk=survey.pk).exists()
            ):
                plan = "is not the slug of a survey you can import into"
            else:
                try:
                    plan = _plan(survey, self.answer_columns)
                except Reject as exc:
                    plan = exc.reason
            self.plans[slug] = plan
        if isinstance(plan, str):
            raise Reject(plan)
        return plan

    def _where(self, slug: str, unit_code: str) -> Where:
        """The survey plan and unit of a (survey, unit) pair, or why not: worked out once per pair."""
        where = self.wheres.get((slug, unit_code))
        if where is not None:
            return where
        problems: list[tuple[str, str, str]] = []
        plan: SurveyPlan | None = None
        try:
            plan = self._survey(slug) if slug else None
            if plan is None:
                raise Reject("is required")
        except Reject as exc:
            problems.append(("survey", slug, exc.reason))
        unit: c.UnitInfo | None = None
        try:
            unit = self.units.get(unit_code)
            if plan is not None and not unit.path.startswith(plan.unit_path):
                unit = None
                raise Reject(f"is not within the units of survey {plan.slug}")
        except Reject as exc:
            problems.append(("unit", unit_code, exc.reason))
        where = (plan, unit, problems)
        if len(self.wheres) < WHERE_MEMO:  # a file of made-up codes cannot grow this without bound
            self.wheres[(slug, unit_code)] = where
        return where

    def check(self, row: int, cells: list[Any]) -> ResponseRecord | list[RowError]:
        errors: list[RowError] = []
        n = len(cells)
        # The base columns, with the mapping's defaults for empty cells (see BASE for the order).
        base = [cells[i] if 0 <= i < n else None for i in self.base_idx]
        for k, v in enumerate(base):
            if v is None or v == "":
                base[k] = self.base_defaults[k]
        raw_ext, raw_slug, raw_unit, raw_when, raw_channel, raw_lang, raw_customer = base
        ext = raw_ext.strip() if raw_ext.__class__ is str else c.text(raw_ext)
        if not ext:
            errors.append(RowError(row, "external_id", "", "is required"))
        elif len(ext) > 128:
            errors.append(RowError(row, "external_id", ext, "is longer than 128 characters"))
        slug = raw_slug.strip() if raw_slug.__class__ is str else c.text(raw_slug)
        unit_code = raw_unit.strip() if raw_unit.__class__ is str else c.text(raw_unit)
        plan, unit, problems = self._where(slug, unit_code)
        if problems:
            errors.extend(RowError(row, *p) for p in problems)
        submitted: datetime | None = None
        if unit is not None:
            try:
                submitted = parse_when(raw_when, unit.tz)
                if submitted > self.latest:
                    raise Reject("is in the future")
            except Reject as exc:
                errors.append(RowError(row, "submitted_at", c.text(raw_when), exc.reason))
        channel = c.text(raw_channel).lower() or Channel.IMPORT
        if channel not in CHANNELS:
            errors.append(RowError(row, "channel", channel, CHANNEL_REASON))
        lang_raw = c.text(raw_lang)
        lang = ""
        if lang_raw:
            lang = self.languages.get(lang_raw, "")
            if not lang:
                try:
                    lang = c.language(lang_raw)
                    if len(self.languages) < WHERE_MEMO:
                        self.languages[lang_raw] = lang
                except Reject as exc:
                    errors.append(RowError(row, "language", lang_raw, exc.reason))
        customer_ext = c.text(raw_customer)
        if plan is None:
            return errors
        heads: dict[str, Any] = {}
        answers: list[tuple[str, float | None, str, str | None]] = []
        append = answers.append
        for i, name, code, check, head, common in plan.columns:
            v = cells[i] if i < n else None
            if v is None or v == "":
                continue
            answer = common.get(v) if v.__class__ is str else None
            if answer is None:
                try:
                    number, txt, choices = check(v)
                except Reject as exc:
                    errors.append(RowError(row, name, c.text(v), exc.reason))
                    continue
                if txt == "" and number is None and choices is None:
                    continue  # an empty text cell
                answer = (code, number, txt, choices)
            append(answer)
            if head:
                heads[head] = answer[1] if head != "comment" else answer[2]
        for i, name in plan.foreign:
            if i < n and cells[i] not in (None, ""):
                errors.append(
                    RowError(row, name, c.text(cells[i]), f"is not a question of survey {plan.slug}")
                )
        if not answers and not errors:
            errors.append(RowError(row, "", "", "has no answers"))
        if errors or unit is None or submitted is None:
            return errors
        nps, csat, ces = heads.get("nps"), heads.get("csat"), heads.get("ces")
        record = ResponseRecord(
            row=row,
            key=submission_hex(plan.slug, ext),
            external_id=ext,
            survey_id=plan.survey_id,
            version_id=plan.version_id,
            unit_id=unit.id,
            customer_ext=customer_ext,
            channel=channel,
            language=lang or plan.fallback_language,
            submitted_at=submitted,
            nps=int(nps) if nps is not None else None,
            csat=int(csat) if csat is not None else None,
            ces=int(ces) if ces is not None else None,
            comment=heads.get("comment", ""),
            answers=answers,
        )
        if self.pg:
            r = record
            when = submitted.isoformat(" ")
            record.row_text = (
                f"{r.key}\t{r.survey_id}\t{r.version_id}\t{r.unit_id}\t{copy_text(r.channel)}\t"
                f"{copy_text(r.language)}\t{when}\t{when}\t\t{copy_num(r.nps)}\t{copy_num(r.csat)}\t"
                f"{copy_num(r.ces)}\t{copy_text(r.comment)}\n"
            )
            known = self.answer_text
            parts = []
            for a in answers:
                part = known.get(a)
                if part is None:
                    part = _answer_copy(a)
                    if not a[2] and len(known) < WHERE_MEMO:  # scale points, choices: they recur
                        known[a] = part
                parts.append(part)
            record.answers_text = "".join(parts)
        else:
            when = _sqlite_when(submitted)
            r = record
            record.row_values = (r.key, r.survey_id, r.version_id, r.unit_id, r.channel, r.language,
                                 when, when, "", r.nps, r.csat, r.ces, r.comment)  # fmt: skip
        return record

    def prepare(self, records: list[ResponseRecord]) -> list[ResponseRecord]:
        """On the reading thread, once a batch is complete: the records in time order and, on
        SQLite, their rows already flattened as the writer inserts them when all are new (the usual
        case). The writing thread shares the GIL with this one and gets it back only every
        ``SWITCH_INTERVAL`` while this one runs Python, so each bit of Python moved off it is
        time it spends in SQLite instead."""
        records.sort(key=_submitted)
        if self.pg:
            return records
        # Numbered in time order, so that the response ids the writer makes of these numbers, and
        # with them the rows of both tables and the answers' (response, question) index, are all
        # appended at the end rather than put in between.
        first = self.seq + 1
        for seq, r in enumerate(records, first):
            r.seq = seq
        self.seq = first + len(records) - 1
        batch = _Flat(records)
        batch.responses = [v for r in records for v in (r.seq, None, *r.row_values)]
        batch.answers = [v for r in records for a in r.answers for v in (r.seq, *a)]
        return batch

    # --- writing ----------------------------------------------------------------------------------

    def write(self, records: list[ResponseRecord], *, dry_run: bool) -> Written:
        out = Written()
        if not self.pg and any(not r.seq for r in records):
            records = self.prepare(records)  # not from run_import, which prepares every batch
        prepared = records if isinstance(records, _Flat) else None
        records = self._resolve_customers(records, out)
        existing = self._existing([r.key for r in records])
        hidden = c.hidden_ids(Response, list(existing.values()), self.user)
        if hidden:
            # Same survey and external id as a response this user may not see: never overwrite it.
            for r in records:
                if existing.get(r.key) in hidden:
                    out.errors.append(RowError(r.row, "external_id", r.external_id, c.NOT_YOURS))
            records = [r for r in records if existing.get(r.key) not in hidden]
        new = [r for r in records if r.key not in existing]
        old = [r for r in records if r.key in existing]
        changed = self._changed(old, existing) if old else []
        out.created = len(new)
        out.updated = len(changed)
        out.unchanged = len(old) - len(changed)
        if dry_run:
            return out
        if new:
            # In time order: every index that goes on with submitted_at (unit, survey, the console's
            # sort columns) is then filled left to right within the batch. From a file that is not
            # in time order this halves the cost of writing the responses.
            new.sort(key=_submitted)
            if self.pg:
                ids = self._allocate_ids(len(new))
                self._insert_responses(new, ids)
                self._insert_answers(new, ids)
            else:
                # Ids are the rows' numbers (see prepare) plus one offset, with gaps where rows were
                # not new, so rows flattened on the reading thread go in as they are, the offset
                # added in SQL.
                lo = min(r.seq for r in new)
                offset = self._allocate_block(max(r.seq for r in new) - lo + 1) - lo
                if prepared is not None and len(new) == len(prepared):
                    # Every record of the batch is new: the rows flattened on the reading thread, in
                    # the same order (filtering and a stable sort of sorted records keep it).
                    rows = prepared.responses
                    if any(r.customer_id is not None for r in new):
                        width = len(RESPONSE_COLUMNS)
                        for i, r in enumerate(new):
                            rows[i * width + 1] = r.customer_id
                    insert_values(Response._meta.db_table, RESPONSE_COLUMNS, rows, offset=offset)
                    flat = prepared.answers
                else:
                    self._insert_responses(new, [offset + r.seq for r in new])
                    flat = [v for r in new for a in r.answers for v in (r.seq, *a)]
                insert_values(Answer._meta.db_table, ANSWER_COLUMNS, flat, offset=offset)
        if changed:
            ids = [existing[r.key] for r in changed]
            # In the batch's transaction: the analytics store replaces its copies at the next sync.
            record_changed_responses(ids)
            self._update_responses(changed, ids)
            for id_part in c.chunks(ids):
                Answer.objects.filter(response_id__in=id_part).delete()
            self._insert_answers(changed, ids)
        return out

    def _existing(self, keys: list[str]) -> dict[str, int]:
        """Submission id (hex) -> response id, for the keys already stored: one query per batch."""
        if not keys:
            return {}
        table = connection.ops.quote_name(Response._meta.db_table)
        with connection.cursor() as cur:
            if self.pg:
                cur.execute(
                    f"SELECT submission_id, id FROM {table} WHERE submission_id = ANY(%s::uuid[])", [keys]
                )
                return {sid.hex: pk for sid, pk in cur.fetchall()}
            cur.execute(
                f"SELECT submission_id, id FROM {table} WHERE submission_id IN (SELECT value FROM json_each(%s))",
                [json.dumps(keys)],
            )
            return dict(cur.fetchall())

    def _resolve_customers(self, records: list[ResponseRecord], out: Written) -> list[ResponseRecord]:
        wanted = sorted({r.customer_ext for r in records if r.customer_ext})
        if not wanted:
            return records
        found: dict[str, int] = {}
        for part in c.chunks(wanted):
            found.update(
                (ext or "", pk)
                for ext, pk in Customer.objects.filter(external_id__in=part).values_list("external_id", "id")
            )
        kept = []
        for r in records:
            if r.customer_ext:
                r.customer_id = found.get(r.customer_ext)
                if r.customer_id is None:
                    out.errors.append(
                        RowError(
                            r.row,
                            "customer_external_id",
                            r.customer_ext,
                            "is not the external id of a customer; import customers first",
                        )
                    )
                    continue
            kept.append(r)
        return kept

    def _changed(self, old: list[ResponseRecord], existing: dict[str, int]) -> list[ResponseRecord]:
        """The records whose stored response or answers differ: two plain queries per batch."""
        ids = [existing[r.key] for r in old]
        qn = connection.ops.quote_name
        responses, answers = qn(Response._meta.db_table), qn(Answer._meta.db_table)
        param: Any
        if self.pg:
            among, param, when, choices = "= ANY(%s)", ids, "submitted_at", "choices::text"
        else:
            # The stored text of submitted_at is compared with the text this import would write.
            among, param, when, choices = (
                "IN (SELECT value FROM json_each(%s))",
                json.dumps(ids),
                "CAST(submitted_at AS TEXT)",
                "choices",
            )
        stored: dict[int, tuple[Any, ...]] = {}
        stored_answers: dict[int, set[tuple[Any, ...]]] = {i: set() for i in ids}
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id, survey_id, version_id, unit_id, customer_id, channel, language, "
                f"{when}, nps, csat, ces, comment FROM {responses} WHERE id {among}",
                [param],
            )
            for pk, *vals in cur.fetchall():
                stored[pk] = tuple(vals)
            cur.execute(
                f"SELECT response_id, question_code, number, text, {choices} FROM {answers} "
                f"WHERE response_id {among}",
                [param],
            )
            for rid, code, number, txt, chosen in cur.fetchall():
                if chosen is not None:  # the same list, however the database spaced it
                    chosen = json.dumps(json.loads(chosen), ensure_ascii=False)
                stored_answers[rid].add((code, number, txt, chosen))
        when_of = self._when
        changed = []
        for r, pk in zip(old, ids, strict=True):
            mine = (r.survey_id, r.version_id, r.unit_id, r.customer_id, r.channel, r.language,
                    when_of(r.submitted_at), r.nps, r.csat, r.ces, r.comment)  # fmt: skip
            if mine != stored.get(pk) or set(r.answers) != stored_answers[pk]:
                changed.append(r)
        return changed

    def _allocate_ids(self, n: int) -> list[int]:
        """PostgreSQL: ``n`` ids from the table's sequence (SQLite takes a block, see below)."""
        with connection.cursor() as cur:
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Response._meta.db_table, n],
            )
            return [int(x) for (x,) in cur.fetchall()]

    def _allocate_block(self, n: int) -> int:
        """SQLite: the first of ``n`` free ids in a row. The transaction holds the write lock from
        BEGIN IMMEDIATE, so nobody else can take them between reading the maximum and inserting."""
        table = Response._meta.db_table
        with connection.cursor() as cur:
            cur.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
            top = int(cur.fetchone()[0])
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            seq = cur.fetchone()
            return max(top, int(seq[0]) if seq else 0) + 1

    def _when(self, dt: datetime) -> Any:
        return dt if self.pg else _sqlite_when(dt)

    def _insert_responses(self, records: list[ResponseRecord], ids: list[int]) -> None:
        pairs = zip(records, ids, strict=True)
        if self.pg:
            insert_copy(
                Response._meta.db_table,
                RESPONSE_COLUMNS,
                (
                    f"{pk}\t{NULL if r.customer_id is None else r.customer_id}\t{r.row_text}"
                    for r, pk in pairs
                ),
            )
        else:
            flat = [v for r, pk in pairs for v in (pk, r.customer_id, *r.row_values)]
            insert_values(Response._meta.db_table, RESPONSE_COLUMNS, flat)

    def _insert_answers(self, records: list[ResponseRecord], ids: list[int]) -> None:
        pairs = zip(records, ids, strict=True)
        if self.pg:
            insert_copy(
                Answer._meta.db_table,
                ANSWER_COLUMNS,
                (_with_id(r.answers_text, pk) for r, pk in pairs if r.answers_text),
            )
        else:
            flat = [v for r, pk in pairs for a in r.answers for v in (pk, *a)]
            insert_values(Answer._meta.db_table, ANSWER_COLUMNS, flat)

    def _update_responses(self, records: list[ResponseRecord], ids: list[int]) -> None:
        when = self._when
        rows = [
            (r.survey_id, r.version_id, r.unit_id, r.customer_id, r.channel, r.language, when(r.submitted_at),
             r.nps, r.csat, r.ces, r.comment, pk)
            for r, pk in zip(records, ids, strict=True)
        ]  # fmt: skip
        table = connection.ops.quote_name(Response._meta.db_table)
        with connection.cursor() as cur:
            cur.executemany(
                f"UPDATE {table} SET survey_id=%s, version_id=%s, unit_id=%s, customer_id=%s, channel=%s, "
                "language=%s, submitted_at=%s, nps=%s, csat=%s, ces=%s, comment=%s WHERE id=%s",
                rows,
            )


RESPONSE_COLUMNS = ("id", "customer_id", "submission_id", "survey_id", "version_id", "unit_id", "channel",
                    "language", "started_at", "submitted_at", "ip_hash", "nps", "csat", "ces", "comment")  # fmt: skip
ANSWER_COLUMNS = ("response_id", "question_code", "number", "text", "choices")


class _Flat(list[ResponseRecord]):
    """A batch of records with, for SQLite, its rows flattened for ``insert_values`` (see
    ``ResponseImporter.prepare``): ``responses`` leads each row with its ``seq`` and a NULL
    customer id, ``answers`` leads each answer with its record's ``seq``."""

    responses: list[Any]
    answers: list[Any]


def _answer_copy(a: tuple[str, float | None, str, str | None]) -> str:
    """One answer line of COPY text, less the response id in front."""
    code, number, txt, choices = a
    end = NULL if choices is None else copy_text(choices)
    return f"\t{copy_text(code)}\t{copy_num(number)}\t{copy_text(txt)}\t{end}\n"


def _with_id(lines: str, pk: int) -> str:
    """Answer lines of COPY text, each lacking only the response id in front, with it put there
    (one replace a response: the escaped fields hold no raw line break)."""
    key = str(pk)
    return key + lines[:-1].replace("\n", "\n" + key) + "\n"


def _submitted(r: ResponseRecord) -> datetime:
    return r.submitted_at


def _sqlite_when(dt: datetime) -> str:
    """A time as Django stores it on SQLite: naive UTC text."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
