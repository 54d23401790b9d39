"""Writes for customers: the upsert that integrations use to keep one record per person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from manyi.org.models import OrgUnit

from .models import Customer
from .normalize import normalize_email, normalize_phone

# Fields an upsert may set besides the identifiers and the home unit.
UPDATABLE = ("name", "language", "tier", "consent_contact", "opted_out")


class CustomerRefused(Exception):
    """The upsert cannot proceed; ``field`` names the value at fault."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message


@dataclass
class UpsertResult:
    customer: Customer
    created: bool
    changed: list[str]


def do_upsert_customer(
    *,
    visible: QuerySet[Customer],
    external_id: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    home_unit: OrgUnit | None = None,
    values: dict[str, Any] | None = None,
) -> UpsertResult:
    """Find the customer by external id, else phone, else e-mail, among ``visible``; update or create.

    ``visible`` is the caller's scoped queryset, so a caller never matches (or changes) a customer
    outside its org units. Phones are stored in E.164 and e-mail addresses normalised. Only the
    values given are written; a repeat with the same values changes nothing.
    """
    values = {k: v for k, v in (values or {}).items() if k in UPDATABLE and v is not None}
    if phone is not None:
        try:
            phone = normalize_phone(phone)
        except ValueError as exc:
            raise CustomerRefused("phone", "invalid_phone", str(exc)) from exc
    if email is not None:
        try:
            email = normalize_email(email)
        except ValueError as exc:
            raise CustomerRefused("email", "invalid_email", str(exc)) from exc
    if not (external_id or phone or email):
        raise CustomerRefused(
            "external_id", "identifier_missing", _("Give at least one of external_id, phone or email.")
        )
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return _upsert(visible, external_id, phone, email, home_unit, values)
        except IntegrityError:
            continue  # a concurrent upsert created the same external id: match it on the second pass
    raise CustomerRefused(
        "external_id",
        "external_id_taken",
        _("The external id {value} belongs to a customer outside this token's org units.").format(
            value=external_id
        ),
    )


def _upsert(
    visible: QuerySet[Customer],
    external_id: str | None,
    phone: str | None,
    email: str | None,
    home_unit: OrgUnit | None,
    values: dict[str, Any],
) -> UpsertResult:
    customer: Customer | None = None
    if external_id:
        customer = visible.filter(external_id=external_id).first()
    if customer is None and phone:
        customer = visible.filter(phone=phone).order_by("id").first()
        if customer is not None and external_id and customer.external_id not in (None, "", external_id):
            customer = None  # the phone belongs to a different known person; do not merge them
    if customer is None and email:
        customer = visible.filter(email=email).order_by("id").first()
        if customer is not None and external_id and customer.external_id not in (None, "", external_id):
            customer = None
    wanted: dict[str, Any] = dict(values)
    if external_id:
        wanted["external_id"] = external_id
    if phone:
        wanted["phone"] = phone
    if email:
        wanted["email"] = email
    if customer is None:
        if home_unit is None:
            raise CustomerRefused("unit", "unit_required", _("A new customer needs a home unit (unit)."))
        customer = Customer.objects.create(home_unit=home_unit, **wanted)
        return UpsertResult(customer=customer, created=True, changed=sorted([*wanted, "home_unit"]))
    if home_unit is not None:
        wanted["home_unit_id"] = home_unit.pk
    changed = [k for k, v in wanted.items() if getattr(customer, k) != v]
    for k in changed:
        setattr(customer, k, wanted[k])
    if changed:
        customer.save(update_fields=[k.removesuffix("_id") if k == "home_unit_id" else k for k in changed])
    return UpsertResult(customer=customer, created=False, changed=sorted(changed))
