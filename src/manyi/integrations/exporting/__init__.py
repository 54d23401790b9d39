"""Export responses, feedback records and cases as CSV, XLSX or Parquet, streamed, audited and masked.

Every export writes an audit-log entry before the first row leaves. Customer names, phones and
e-mails are masked unless PII is asked for and the user may see it (the command line may; a staff
member needs ``core.export_pii`` or the administrator role). Text cells that a spreadsheet would
run as a formula (= + - @ tab CR) get a leading apostrophe in CSV and XLSX.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.utils import timezone, translation

if TYPE_CHECKING:  # the package is imported by the command line before Django is set up
    from ._columns import Column, Spec

__all__ = [
    "FORMATS",
    "KINDS",
    "ExportFilters",
    "ExportRefused",
    "ExportSummary",
    "can_export_pii",
    "csv_chunks",
    "export_to_file",
    "neutralise",
]

KINDS = ("responses", "feedback", "cases")
FORMATS = ("csv", "xlsx", "parquet")
XLSX_MAX_ROWS = 1_048_575
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Progress = Callable[[int], None]


class ExportRefused(Exception):
    """The export cannot run as asked (PII without the permission, too many rows for XLSX, bad filter).

    ``forbidden`` is true when the user lacks a permission (HTTP 403) rather than asking wrongly (400).
    """

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.forbidden = forbidden


@dataclass
class ExportFilters:
    """Which rows: a unit's subtree, a time window (dates are whole days in the server's time zone), a survey."""

    unit: str | None = None
    since: date | None = None
    until: date | None = None
    survey: str | None = None
    #: The console's own filter parameters (``period``, ``unit`` id, ``channel``, …, see
    #: ``manyi.console.filters``): the responses table exports exactly the set it shows.
    console: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items() if v}


@dataclass
class ExportSummary:
    kind: str
    format: str
    rows: int = 0
    seconds: float = 0.0
    output: str = ""
    pii: bool = False
    filters: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "seconds": round(self.seconds, 3)}


def can_export_pii(user: Any) -> bool:
    """The command line (no user) may; a staff member needs ``core.export_pii`` or the admin role."""
    if user is None:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_perm("core.export_pii"):
        return True
    from manyi.org.choices import Role
    from manyi.org.models import RoleAssignment

    return RoleAssignment.objects.filter(user=user, role=Role.ADMIN).exists()


def neutralise(value: str) -> str:
    """A text cell that a spreadsheet would evaluate as a formula, made inert with a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _queryset(kind: str, filters: ExportFilters, user: Any) -> Any:
    from manyi.cases.models import Case
    from manyi.feedback.models import FeedbackRecord
    from manyi.org.models import OrgUnit
    from manyi.responses.models import Response

    model: Any = {"responses": Response, "feedback": FeedbackRecord, "cases": Case}[kind]
    qs = model.objects.all() if user is None else model.objects.visible_to(user)
    if filters.console is not None:
        if kind != "responses":
            raise ExportRefused("console filters select responses only")
        from manyi.console.responses_queries import filtered_responses

        qs, _query = filtered_responses(user, filters.console)
    time_field = {"responses": "submitted_at", "feedback": "occurred_at", "cases": "created_at"}[kind]
    if filters.unit:
        unit = OrgUnit.objects.filter(code=filters.unit).first()
        if unit is None:
            raise ExportRefused(f"--unit: no org unit has the code {filters.unit!r}")
        qs = qs.filter(unit__path__startswith=unit.path)
    tz = timezone.get_current_timezone()
    if filters.since:
        qs = qs.filter(**{f"{time_field}__gte": datetime.combine(filters.since, datetime.min.time(), tz)})
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), datetime.min.time(), tz)
        qs = qs.filter(**{f"{time_field}__lt": end})
    if filters.survey:
        from manyi.surveys.models import Survey

        if not Survey.objects.filter(slug=filters.survey).exists():
            raise ExportRefused(f"--survey: no survey has the slug {filters.survey!r}")
        if kind == "responses":
            qs = qs.filter(survey__slug=filters.survey)
        elif kind == "feedback":
            qs = qs.filter(response__survey__slug=filters.survey)
        else:
            qs = qs.filter(response__survey__slug=filters.survey)
    return qs


def _spec(kind: str, qs: Any, user: Any = None) -> Spec:
    from ._columns import cases_spec, feedback_spec, responses_spec

    if kind not in KINDS:
        raise ExportRefused(f"unknown kind {kind!r}: choose from {', '.join(KINDS)}")
    if kind == "responses" and user is not None:
        from manyi.customers.models import Customer

        return responses_spec(qs, Customer.objects.visible_to(user))
    build: dict[str, Callable[[Any], Spec]] = {
        "responses": responses_spec,
        "feedback": feedback_spec,
        "cases": cases_spec,
    }
    spec = build[kind](qs)
    return spec if user is None else _hide_foreign_customers(spec, qs.model, user)


def _hide_foreign_customers(spec: Spec, model: Any, user: Any) -> Spec:
    """Blank the customer columns of rows whose customer the user may not see (a customer of another
    store who complained here): the record is the user's, the customer's details are not."""
    from manyi.customers.models import Customer

    from ._columns import CUSTOMER
    from ._columns import Spec as SpecClass

    codes = {c.code for c in CUSTOMER}
    idx = [i for i, c in enumerate(spec.columns) if c.code in codes]
    visible = Customer.objects.visible_to(user)
    inner = spec.chunks

    def chunks(as_text: bool) -> Iterator[list[list[Any]]]:
        for chunk in inner(as_text):
            if chunk:
                hidden = set(
                    model.objects.filter(pk__gte=chunk[0][0], pk__lte=chunk[-1][0], customer__isnull=False)
                    .exclude(customer__in=visible)
                    .values_list("pk", flat=True)
                )
                for row in chunk:
                    if row[0] in hidden:
                        for i in idx:
                            row[i] = ""
            yield chunk

    return SpecClass(spec.columns, chunks)


def prepare(
    kind: str, fmt: str, *, filters: ExportFilters, user: Any, include_pii: bool, language: str, output: str
) -> tuple[Spec, list[str], bool]:
    """Check the request, build the column spec and the header, and write the audit entry."""
    if fmt not in FORMATS:
        raise ExportRefused(f"unknown format {fmt!r}: choose from {', '.join(FORMATS)}")
    if include_pii and not can_export_pii(user):
        raise ExportRefused("you may not export personal data (names, phones, e-mails)", forbidden=True)
    from manyi.core.actions import do_audit

    with translation.override(language):
        spec = _spec(kind, _queryset(kind, filters, user), user)
        header = [str(c.label) for c in spec.columns]
    do_audit(
        user,
        "export",
        kind,
        {
            "format": fmt,
            "filters": filters.as_dict(),
            "pii": include_pii,
            "language": language,
            "output": output,
        },
    )
    return spec, header, include_pii


def _rows(spec: Spec, pii: bool, text_out: bool) -> Iterator[list[list[Any]]]:
    """Chunks of rows ready for a writer: PII masked, times as text for CSV, formulas neutralised."""
    from ._columns import PII, mask

    masked = [i for i, c in enumerate(spec.columns) if c.code in PII] if not pii else []
    codes = [c.code for c in spec.columns]
    texts = [i for i, c in enumerate(spec.columns) if c.kind == "text"]
    times = [i for i, c in enumerate(spec.columns) if c.kind == "time"]
    floats = [i for i, c in enumerate(spec.columns) if c.kind == "float"]
    for chunk in spec.chunks(text_out):
        for row in chunk:
            for i in masked:
                if row[i]:
                    row[i] = mask(codes[i], row[i])
            if text_out:
                for i in texts:
                    v = row[i]
                    if v and v.__class__ is str and v[0] in "=+-@\t\r":
                        row[i] = "'" + v
                for i in times:
                    v = row[i]
                    if v is not None:
                        row[i] = v.isoformat()
                for i in floats:
                    v = row[i]
                    if v.__class__ is float and v.is_integer():
                        row[i] = int(v)
        yield chunk


def csv_chunks(
    kind: str,
    *,
    filters: ExportFilters | None = None,
    user: Any = None,
    include_pii: bool = False,
    language: str = "zh-hans",
    output: str = "download",
) -> Iterator[str]:
    """CSV text (UTF-8, with a BOM so that Excel reads Chinese), a chunk of rows at a time."""
    spec, header, pii = prepare(
        kind, "csv", filters=filters or ExportFilters(), user=user, include_pii=include_pii,
        language=language, output=output,
    )  # fmt: skip
    buf = io.StringIO()
    writer = csv.writer(buf)

    def gen() -> Iterator[str]:
        buf.write("\ufeff")
        writer.writerow(header)
        for chunk in _rows(spec, pii, True):
            writer.writerows(chunk)
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        if buf.tell():
            yield buf.getvalue()

    return gen()


def export_to_file(
    kind: str,
    fmt: str,
    output: Path | str,
    *,
    filters: ExportFilters | None = None,
    user: Any = None,
    include_pii: bool = False,
    language: str = "zh-hans",
    progress: Progress | None = None,
) -> ExportSummary:
    """Write the export to ``output``; returns what was written."""
    t0 = time.perf_counter()
    filters = filters or ExportFilters()
    path = Path(output)
    spec, header, pii = prepare(
        kind, fmt, filters=filters, user=user, include_pii=include_pii, language=language, output=str(path)
    )
    summary = ExportSummary(kind=kind, format=fmt, output=str(path), pii=pii, filters=filters.as_dict())
    tmp = path.with_name(path.name + ".part")
    try:
        if fmt == "csv":
            summary.rows = _write_csv(spec, header, pii, tmp, progress)
        elif fmt == "xlsx":
            summary.rows = _write_xlsx(spec, header, pii, tmp, progress)
        else:
            summary.rows = _write_parquet(spec, pii, tmp, progress)
        tmp.replace(path)  # a reader never sees half a file
    finally:
        tmp.unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - t0
    return summary


def _write_csv(spec: Spec, header: list[str], pii: bool, path: Path, progress: Progress | None) -> int:
    n = 0
    buf = io.StringIO()
    writer = csv.writer(buf)  # a chunk at a time into memory, then one write: one encode per chunk
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer.writerow(header)
        for chunk in _rows(spec, pii, True):
            writer.writerows(chunk)
            f.write(buf.getvalue())
            buf.seek(0)
            buf.truncate()
            n += len(chunk)
            if progress:
                progress(n)
        f.write(buf.getvalue())
    return n


def _write_xlsx(spec: Spec, header: list[str], pii: bool, path: Path, progress: Progress | None) -> int:
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
         "strings_to_numbers": False},
    )  # fmt: skip
    ws = wb.add_worksheet()
    bold = wb.add_format({"bold": True})
    ws.write_row(0, 0, header, bold)
    n = 0
    try:
        for chunk in _rows(spec, pii, True):
            if n + len(chunk) > XLSX_MAX_ROWS:
                raise ExportRefused(
                    f"more than {XLSX_MAX_ROWS:,} rows do not fit in one XLSX sheet; use csv or parquet"
                )
            for row in chunk:
                n += 1
                ws.write_row(n, 0, [v if v is not None else "" for v in row])
            if progress:
                progress(n)
    finally:
        wb.close()
    return n


def _arrow_type(col: Column) -> Any:
    import pyarrow as pa

    return {"int": pa.int64(), "float": pa.float64(), "time": pa.timestamp("us", tz="UTC")}.get(
        col.kind, pa.string()
    )


def _write_parquet(spec: Spec, pii: bool, path: Path, progress: Progress | None) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(c.code, _arrow_type(c)) for c in spec.columns])
    n = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for chunk in _rows(spec, pii, False):
            columns = list(zip(*chunk, strict=True)) if chunk else [() for _ in spec.columns]
            arrays = []
            for col, values in zip(spec.columns, columns, strict=True):
                if col.kind == "text":
                    values = tuple(None if v is None else str(v) for v in values)
                elif col.kind == "time":  # pyarrow would keep the wall time of an offset, not the instant
                    values = tuple(None if v is None else v.astimezone(UTC) for v in values)
                arrays.append(pa.array(values, type=schema.field(col.code).type))
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            n += len(chunk)
            if progress:
                progress(n)
    return n


def open_binary(path: Path) -> IO[bytes]:
    return open(path, "rb")
