"""REST endpoints for service events, mounted under /api/v1/service-events."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema, Status
from ninja.decorators import decorate_view

from manyi.customers.models import Customer
from manyi.integrations.auth import TokenAuth, principal_of
from manyi.integrations.errors import Conflict, NotFound, Unprocessable
from manyi.org.models import OrgUnit

from .actions import DistributionError, EventResult, do_record_service_event
from .models import ServiceEvent
from .queries import decisions, event_decisions
from .schemas import DecisionOut, ServiceEventIn, ServiceEventOut

router = Router(tags=["service events"])

IDEMPOTENCY_KEY: Any = Header(
    None,
    alias="Idempotency-Key",
    description="Any unique string (a UUID is ideal). A retry with the same key and body returns the "
    "first result; the same key with another body is refused (422). Kept 24 h per token.",
    max_length=255,
    pattern=r"^[-A-Za-z0-9_.:]+$",
)


def _idempotent(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API's ``idempotent``, applied on the first call (that module mounts this router, so it
    cannot be imported while this one loads)."""
    applied: list[Callable[..., HttpResponse]] = []

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not applied:
            from manyi.integrations.api import idempotent

            applied.append(idempotent(view))
        return applied[0](request, *args, **kwargs)

    return wrapper


def _event_out(event: ServiceEvent, created: bool) -> dict[str, Any]:
    return {
        "id": event.pk,
        "source": event.source,
        "external_id": event.external_id,
        "type": event.event_type,
        "unit": event.unit.code,
        "customer_external_id": event.customer.external_id,
        "occurred_at": event.occurred_at,
        "received_at": event.received_at,
        "created": created,
        "decisions": [d.as_dict() for d in event_decisions(event)],
    }


@router.post(
    "",
    response={200: ServiceEventOut, 201: ServiceEventOut},
    auth=TokenAuth("service_events:write"),
    summary="Record a service event",
)
@decorate_view(_idempotent)
def create_service_event(
    request: HttpRequest, payload: ServiceEventIn, idempotency_key: str = IDEMPOTENCY_KEY
) -> Status:
    """Record an event once per (source, external_id) and decide, per distribution rule, whether to invite.

    201 with the decisions when the event is new; 200 with the same body when it was recorded before.
    """
    principal = principal_of(request)
    unit = OrgUnit.objects.visible_to(principal).filter(code=payload.unit, is_active=True).first()
    if unit is None:
        raise Unprocessable.field(
            "unit", _("No unit with code {code}.").format(code=payload.unit), code="unknown_unit"
        )
    customer = Customer.objects.visible_to(principal).filter(external_id=payload.customer_external_id).first()
    if customer is None:
        raise Unprocessable.field(
            "customer_external_id",
            _("No customer {value}.").format(value=payload.customer_external_id),
            code="unknown_customer",
        )
    try:
        result: EventResult = do_record_service_event(
            source=payload.source,
            external_id=payload.external_id,
            event_type=payload.type,
            customer=customer,
            unit=unit,
            occurred_at=payload.occurred_at,
            preferred_channel=payload.preferred_channel or "",
            attributes=payload.attributes,
        )
    except DistributionError as exc:
        if exc.code == "conflict":
            raise Conflict(str(exc), fields=[{"field": exc.field, "message": str(exc)}]) from exc
        raise Unprocessable.field(exc.field or "body", str(exc)) from exc
    return Status(201 if result.created else 200, _event_out(result.event, result.created))


class DecisionFilter(Schema):
    customer_external_id: str | None = None
    rule: str | None = None
    outcome: str | None = None
    reason: str | None = None


@router.get(
    "/decisions",
    response=list[DecisionOut],
    auth=TokenAuth("service_events:read"),
    summary="List distribution decisions",
)
def list_decisions(request: HttpRequest, filters: Query[DecisionFilter]) -> list[dict[str, Any]]:
    """Every decision with its reason, oldest first (at most 500), filtered by customer, rule or reason."""
    principal = principal_of(request)
    customer = None
    if filters.customer_external_id:
        customer = (
            Customer.objects.visible_to(principal).filter(external_id=filters.customer_external_id).first()
        )
        if customer is None:
            return []
    qs = decisions(
        customer=customer,
        rule_code=filters.rule,
        outcome=filters.outcome,
        reason=filters.reason,
        visible_to=principal,
    )
    return [d.as_dict() for d in qs[:500]]


@router.get(
    "/{int:event_id}",
    response=ServiceEventOut,
    auth=TokenAuth("service_events:read"),
    summary="Get a service event and its decisions",
)
def get_service_event(request: HttpRequest, event_id: int) -> dict[str, Any]:
    event = (
        ServiceEvent.objects.visible_to(principal_of(request))
        .select_related("unit", "customer")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        raise NotFound(_("No service event with this id."))
    return _event_out(event, created=False)
