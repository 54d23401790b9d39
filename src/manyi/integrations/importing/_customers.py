"""Import customers, upserted by external id. Only the columns the file has are compared and set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from manyi.customers.models import Customer, Tier

from . import _common as c
from ._contact import email_normalized, phone_e164
from ._engine import Written, fail_on_missing
from ._errors import Reject, RowError

REQUIRED = ("external_id", "unit")
OPTIONAL = ("name", "phone", "email", "language", "tier", "consent_contact", "opted_out")
TIERS = tuple(Tier.values)


@dataclass(slots=True)
class CustomerRecord:
    row: int
    key: str
    values: dict[str, Any] = field(default_factory=dict)


class CustomerImporter:
    def __init__(self, header: list[str], defaults: dict[str, str], user: Any) -> None:
        header = [h.strip() for h in header]
        if "home_unit" in header and "unit" not in header:
            header = ["unit" if h == "home_unit" else h for h in header]
        fail_on_missing(header, defaults, REQUIRED)
        unknown = [h for h in header if h and h not in (*REQUIRED, *OPTIONAL)]
        if unknown:
            from ._errors import ImportFailed

            raise ImportFailed(
                "unknown column(s) {u}; customers have {k}".format(
                    u=", ".join(unknown), k=", ".join((*REQUIRED, *OPTIONAL))
                )
            )
        self.idx = {h: i for i, h in enumerate(header) if h}
        self.present = [h for h in OPTIONAL if h in self.idx or h in defaults]
        self.defaults = defaults
        self.units = c.Units(user)
        self.user = user

    def _cell(self, cells: list[Any], name: str) -> str:
        i = self.idx.get(name)
        v = c.text(cells[i]) if i is not None and i < len(cells) else ""
        return v or self.defaults.get(name, "")

    def check(self, row: int, cells: list[Any]) -> CustomerRecord | list[RowError]:
        errors: list[RowError] = []
        ext = self._cell(cells, "external_id")
        rec = CustomerRecord(row=row, key=ext)
        checks = {
            "external_id": lambda v: c.max_len(v, 128) if v else _required(),
            "unit": lambda v: self.units.get(v).id if v else _required(),
            "name": lambda v: c.max_len(v, 200),
            "phone": lambda v: phone_e164(v) if v else "",
            "email": lambda v: email_normalized(v) if v else "",
            "language": lambda v: c.language(v) if v else "",
            "tier": lambda v: c.choice(v, TIERS) if v else Tier.STANDARD,
            "consent_contact": lambda v: c.boolean(v) if v else False,
            "opted_out": lambda v: c.boolean(v) if v else False,
        }
        for name in ("external_id", "unit", *self.present):
            raw = self._cell(cells, name)
            try:
                value = checks[name](raw)
            except Reject as exc:
                errors.append(RowError(row, name, raw, exc.reason))
                continue
            if name == "unit":
                rec.values["home_unit_id"] = value
            elif name != "external_id":
                rec.values[name] = value
        return errors or rec

    def write(self, records: list[CustomerRecord], *, dry_run: bool) -> Written:
        out = Written()
        existing: dict[str, Customer] = {}
        for part in c.chunks([r.key for r in records]):
            existing.update((x.external_id or "", x) for x in Customer.objects.filter(external_id__in=part))
        hidden = c.hidden_ids(Customer, [x.pk for x in existing.values()], self.user)
        if hidden:
            for r in records:
                if r.key in existing and existing[r.key].pk in hidden:
                    out.errors.append(RowError(r.row, "external_id", r.key, c.NOT_YOURS))
            records = [r for r in records if not (r.key in existing and existing[r.key].pk in hidden)]
        new: list[Customer] = []
        changed: list[Customer] = []
        fields: set[str] = set()
        for r in records:
            cust = existing.get(r.key)
            if cust is None:
                new.append(Customer(external_id=r.key, **r.values))
                continue
            diff = {k: v for k, v in r.values.items() if getattr(cust, k) != v}
            if diff:
                for k, v in diff.items():
                    setattr(cust, k, v)
                fields.update(diff)
                changed.append(cust)
        out.created, out.updated, out.unchanged = (
            len(new),
            len(changed),
            len(records) - len(new) - len(changed),
        )
        if not dry_run:
            Customer.objects.bulk_create(new, batch_size=500)
            if changed:
                Customer.objects.bulk_update(changed, sorted(fields), batch_size=500)
        return out


def _required() -> Any:
    raise Reject("is required")
