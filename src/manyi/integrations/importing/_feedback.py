"""Import feedback records (complaints, reviews, call notes), upserted by the source's external id.

Feedback records have no external-id column, so the link from the source's id to the record is
kept in ``core.ExternalRef`` (kind ``feedback``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from manyi.core.models import ExternalRef
from manyi.customers.models import Customer
from manyi.customers.normalize import normalize_email, normalize_phone
from manyi.feedback.choices import FeedbackChannel, Severity
from manyi.feedback.models import FeedbackRecord

from . import _common as c
from ._dates import parse_when
from ._engine import Written, fail_on_missing
from ._errors import ImportFailed, Reject, RowError

REF_KIND = "feedback"
REQUIRED = ("external_id", "channel", "unit", "occurred_at")
# An e-mail or a call note names its customer by address or number: customer_email/customer_phone
# link it to a known customer (one the importer can read); an unknown sender is kept without one.
OPTIONAL = ("customer_external_id", "customer_email", "customer_phone", "touchpoint", "category", "severity",
            "rating", "text", "language")  # fmt: skip
COMPARED = ("channel", "unit_id", "customer_id", "touchpoint", "category", "severity", "rating", "text",
            "language", "occurred_at")  # fmt: skip


@dataclass(slots=True)
class FeedbackRow:
    row: int
    key: str
    customer_ext: str
    values: dict[str, Any] = field(default_factory=dict)
    contact: tuple[str, str] = ("", "")  # (e-mail, phone), normalised


class FeedbackImporter:
    def __init__(self, header: list[str], defaults: dict[str, str], user: Any) -> None:
        header = [h.strip() for h in header]
        fail_on_missing(header, defaults, REQUIRED)
        unknown = [h for h in header if h and h not in (*REQUIRED, *OPTIONAL)]
        if unknown:
            raise ImportFailed(
                "unknown column(s) {u}; feedback records have {k}".format(
                    u=", ".join(unknown), k=", ".join((*REQUIRED, *OPTIONAL))
                )
            )
        self.idx = {h: i for i, h in enumerate(header) if h}
        self.defaults = defaults
        self.units = c.Units(user)
        self.user = user
        self.latest = timezone.now() + timedelta(days=1)

    def _raw(self, cells: list[Any], name: str) -> Any:
        i = self.idx.get(name)
        v = cells[i] if i is not None and i < len(cells) else None
        return v if v not in (None, "") else self.defaults.get(name, "")

    def check(self, row: int, cells: list[Any]) -> FeedbackRow | list[RowError]:
        errors: list[RowError] = []
        vals: dict[str, Any] = {}

        def cell(name: str) -> str:
            return c.text(self._raw(cells, name))

        def attempt(name: str, fn: Any) -> Any:
            raw = self._raw(cells, name)
            try:
                return fn(raw)
            except Reject as exc:
                errors.append(RowError(row, name, c.text(raw), exc.reason))
                return None

        ext = attempt("external_id", lambda v: c.max_len(c.text(v), 128) if c.text(v) else _required())
        vals["channel"] = attempt("channel", lambda v: c.choice(c.text(v), FeedbackChannel.values))
        unit = attempt("unit", lambda v: self.units.get(c.text(v)))
        if unit is not None:
            vals["unit_id"] = unit.id
            vals["occurred_at"] = attempt(
                "occurred_at", lambda v: _not_future(parse_when(v, unit.tz), self.latest)
            )
        vals["touchpoint"] = attempt("touchpoint", lambda v: c.max_len(c.text(v), 64))
        vals["category"] = attempt("category", lambda v: c.max_len(c.text(v), 64))
        vals["severity"] = attempt(
            "severity", lambda v: c.choice(c.text(v), Severity.values) if c.text(v) else Severity.LOW
        )
        vals["rating"] = attempt("rating", _rating)
        vals["text"] = attempt("text", lambda v: c.max_len(c.text(v), 20000))
        vals["language"] = attempt("language", lambda v: c.language(c.text(v)) if c.text(v) else "")
        email = attempt("customer_email", lambda v: _contact(normalize_email, c.text(v)))
        phone = attempt("customer_phone", lambda v: _contact(normalize_phone, c.text(v)))
        if errors:
            return errors
        return FeedbackRow(
            row=row, key=ext, customer_ext=cell("customer_external_id"), values=vals, contact=(email, phone)
        )

    def write(self, records: list[FeedbackRow], *, dry_run: bool) -> Written:
        out = Written()
        wanted = sorted({r.customer_ext for r in records if r.customer_ext})
        customers: dict[str, int] = {}
        for part in c.chunks(wanted):
            customers.update(
                (ext or "", pk)
                for ext, pk in Customer.objects.filter(external_id__in=part).values_list("external_id", "id")
            )
        by_contact = self._customers_by_contact([r.contact for r in records if not r.customer_ext])
        kept = []
        for r in records:
            r.values["customer_id"] = (
                customers.get(r.customer_ext)
                if r.customer_ext
                else by_contact.get(r.contact[0]) or by_contact.get(r.contact[1])
            )
            if r.customer_ext and r.values["customer_id"] is None:
                out.errors.append(
                    RowError(
                        r.row,
                        "customer_external_id",
                        r.customer_ext,
                        "is not the external id of a customer; import customers first",
                    )
                )
            else:
                kept.append(r)
        refs: dict[str, int] = {}
        for part in c.chunks([r.key for r in kept]):
            refs.update(
                ExternalRef.objects.filter(kind=REF_KIND, external_id__in=part).values_list(
                    "external_id", "object_id"
                )
            )
        hidden = c.hidden_ids(FeedbackRecord, list(refs.values()), self.user)
        if hidden:
            for r in kept:
                if refs.get(r.key) in hidden:
                    out.errors.append(RowError(r.row, "external_id", r.key, c.NOT_YOURS))
            kept = [r for r in kept if refs.get(r.key) not in hidden]
        stored = {
            fb.pk: fb
            for part in c.chunks(list(refs.values()))
            for fb in FeedbackRecord.objects.filter(pk__in=part)
        }
        new: list[FeedbackRow] = []
        changed: list[FeedbackRecord] = []
        for r in kept:
            fb = stored.get(refs.get(r.key, -1))
            if fb is None:
                new.append(r)
                continue
            diff = {k: v for k, v in r.values.items() if getattr(fb, k) != v}
            if diff:
                for k, v in diff.items():
                    setattr(fb, k, v)
                changed.append(fb)
        out.created, out.updated, out.unchanged = len(new), len(changed), len(kept) - len(new) - len(changed)
        if dry_run:
            return out
        created = FeedbackRecord.objects.bulk_create(
            [FeedbackRecord(**r.values) for r in new], batch_size=500
        )
        # A reference left behind by a deleted record is pointed at the new one.
        ExternalRef.objects.bulk_create(
            [
                ExternalRef(kind=REF_KIND, external_id=r.key, object_id=fb.pk)
                for r, fb in zip(new, created, strict=True)
            ],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["kind", "external_id"],
            update_fields=["object_id"],
        )
        if changed:
            FeedbackRecord.objects.bulk_update(changed, list(COMPARED), batch_size=500)
        return out

    def _customers_by_contact(self, contacts: list[tuple[str, str]]) -> dict[str, int]:
        """Known customers by normalised e-mail and phone, among those the importer can read."""
        emails = sorted({e for e, _p in contacts if e})
        phones = sorted({p for _e, p in contacts if p})
        if not emails and not phones:
            return {}
        qs = Customer.objects.all() if self.user is None else Customer.objects.visible_to(self.user)
        found: dict[str, int] = {}
        for field_name, values in (("email", emails), ("phone", phones)):
            for part in c.chunks(values):
                for value, pk in (
                    qs.filter(**{f"{field_name}__in": part}).order_by("-id").values_list(field_name, "id")
                ):
                    found[value] = pk  # the oldest record wins (rows come newest first)
        return found


def _contact(normalize: Any, value: str) -> str:
    if not value:
        return ""
    try:
        return str(normalize(value))
    except ValueError as exc:
        raise Reject(str(exc)) from None


def _required() -> Any:
    raise Reject("is required")


def _not_future(dt: Any, latest: Any) -> Any:
    if dt > latest:
        raise Reject("is in the future")
    return dt


def _rating(v: Any) -> float | None:
    s = c.text(v)
    if not s:
        return None
    try:
        x = float(s)
    except ValueError:
        raise Reject("must be a number from 0 to 10") from None
    if not 0 <= x <= 10:
        raise Reject("must be a number from 0 to 10")
    return x
