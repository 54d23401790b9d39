"""Reads for distribution: the decision log, and a customer's timeline for the console."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from manyi.customers.models import Customer
from manyi.responses.models import Response

from .models import Decision, Invitation, ServiceEvent

__all__ = ["TimelineEntry", "customer_timeline", "decisions", "event_decisions"]


def decisions(
    *,
    customer: Customer | None = None,
    rule_code: str | None = None,
    outcome: str | None = None,
    reason: str | None = None,
    unit_path: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    visible_to: Any = None,
) -> QuerySet[Decision]:
    """The decision log, filtered; ``visible_to`` restricts it to a staff member's or token's units."""
    qs = Decision.objects.all() if visible_to is None else Decision.objects.visible_to(visible_to)
    if customer is not None:
        qs = qs.filter(customer=customer)
    if rule_code:
        qs = qs.filter(rule__code=rule_code)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if reason:
        qs = qs.filter(reason=reason)
    if unit_path:
        qs = qs.filter(unit__path__startswith=unit_path)
    if since is not None:
        qs = qs.filter(decided_at__gte=since)
    if until is not None:
        qs = qs.filter(decided_at__lt=until)
    return qs.select_related("rule").order_by("decided_at", "id")


def event_decisions(event: ServiceEvent) -> list[Decision]:
    """Every decision taken about one event, first to last."""
    return list(event.decisions.select_related("rule").order_by("decided_at", "id"))


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a customer's timeline."""

    at: datetime
    kind: str  # "event", "decision" or "response"
    text: str
    data: dict[str, Any] = field(default_factory=dict)


_KIND_ORDER = {"event": 0, "decision": 1, "response": 2}


def customer_timeline(customer: Customer, *, limit: int = 500) -> list[TimelineEntry]:
    """Service events, distribution decisions (with their invitations) and responses, oldest first."""
    entries: list[TimelineEntry] = []
    events = ServiceEvent.objects.filter(customer=customer).select_related("unit").order_by("-occurred_at")
    for e in events[:limit]:
        entries.append(
            TimelineEntry(
                at=e.occurred_at,
                kind="event",
                text=_("{type} at {unit} ({source} {id})").format(
                    type=e.event_type, unit=e.unit.code, source=e.source, id=e.external_id
                ),
                data={"event_id": e.pk, "source": e.source, "external_id": e.external_id},
            )
        )
    invitations = {
        i.pk: i for i in Invitation.objects.filter(customer=customer).select_related("link", "survey")
    }
    for d in (
        Decision.objects.filter(customer=customer).select_related("rule").order_by("-decided_at")[:limit]
    ):
        inv = invitations.get(d.invitation_id) if d.invitation_id else None
        data = d.as_dict()
        if inv is not None:
            data["invitation"] = {
                "id": inv.pk,
                "status": inv.status,
                "due_at": inv.due_at,
                "sent_at": inv.sent_at,
                "channel": inv.channel,
                "survey": inv.survey.slug,
                "reminder_status": inv.reminder_status,
                "answered_at": inv.link.used_at if inv.link else None,
            }
        entries.append(TimelineEntry(at=d.decided_at, kind="decision", text=d.message, data=data))
    responses = (
        Response.objects.filter(customer=customer).select_related("survey", "unit").order_by("-submitted_at")
    )
    for r in responses[:limit]:
        entries.append(
            TimelineEntry(
                at=r.submitted_at,
                kind="response",
                text=_("answered {survey} at {unit}").format(survey=r.survey.slug, unit=r.unit.code),
                data={"response_id": r.pk, "survey": r.survey.slug, "nps": r.nps, "csat": r.csat},
            )
        )
    entries.sort(key=lambda x: (x.at, _KIND_ORDER[x.kind], x.data.get("id") or 0))
    return entries[-limit:]
