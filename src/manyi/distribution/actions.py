"""Writes for distribution: rules, service events (each decision logged), and the invitation scanner.

The scanner is crash-safe by construction. An invitation moves scheduled → sending in one committed
transaction *before* the adapter is called, and sending → sent after; the adapter gets the same
idempotency key on every attempt. An invitation found "sending" after the lease expired was
interrupted: it is sent again (same key) only through an adapter that honours keys, otherwise it
is marked "delivery unknown" rather than risk a duplicate.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.customers.models import Customer
from manyi.org.models import OrgUnit
from manyi.responses.models import Response
from manyi.surveys.actions import do_create_link
from manyi.surveys.choices import LinkKind, SurveyStatus
from manyi.surveys.models import Survey
from manyi.surveys.queries import survey_link_url

from .adapters import Adapter, DeliveryError, OutboundMessage, adapter_for
from .choices import DeliveryChannel, InvitationStatus, Outcome, QuotaPeriod, Reason, ReminderStatus
from .content import compose, invitation_language
from .models import Decision, DistributionRule, Invitation, ServiceEvent
from .schedule import local_text, next_send_time, period_bounds, sample_point

log = logging.getLogger(__name__)

__all__ = [
    "DistributionError",
    "EventResult",
    "ScanReport",
    "do_create_rule",
    "do_ensure_resurvey_rule",
    "do_record_resurvey",
    "do_record_service_event",
    "do_scan",
]

# Invitations that count as a contact for fatigue, cadence and quotas.
_CONTACT_STATES = (
    InvitationStatus.SCHEDULED,
    InvitationStatus.SENDING,
    InvitationStatus.SENT,
    InvitationStatus.UNKNOWN,
)
MAX_ATTEMPTS = 5


class DistributionError(Exception):
    """A distribution write was refused; ``field`` names the input at fault when there is one."""

    def __init__(self, message: str, *, field: str = "", code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


# --- rules -------------------------------------------------------------------------------------


def do_create_rule(
    *,
    code: str,
    survey: Survey,
    unit: OrgUnit | None = None,
    event_types: list[str] | None = None,
    delay: timedelta = timedelta(hours=24),
    window: tuple[time, time] = (time(9, 0), time(21, 0)),
    channels: list[str] | None = None,
    sampling_rate: float = 1.0,
    quota_limit: int | None = None,
    quota_period: QuotaPeriod | str = QuotaPeriod.DAY,
    fatigue_days: int = 30,
    cadence_days: int = 90,
    require_consent: bool = False,
    reminder_after: timedelta | None = timedelta(days=2),
    link_valid_for: timedelta = timedelta(days=7),
    message: dict[str, str] | None = None,
) -> DistributionRule:
    """Create a distribution rule for a survey program; refuses unknown channels and rates outside 0–1."""
    channels = list(channels if channels is not None else ["email", "sms"])
    unknown = [c for c in channels if c not in DeliveryChannel.values]
    if unknown or not channels:
        raise DistributionError(
            _("channels must be some of {known}, got {got}").format(
                known=", ".join(DeliveryChannel.values), got=", ".join(channels) or "[]"
            ),
            field="channels",
        )
    if not 0.0 <= sampling_rate <= 1.0:
        raise DistributionError(_("sampling_rate must be between 0 and 1"), field="sampling_rate")
    rule = DistributionRule(
        code=code,
        survey=survey,
        unit=unit or survey.unit,
        event_types=list(event_types or []),
        delay=delay,
        window_start=window[0],
        window_end=window[1],
        channels=channels,
        sampling_rate=sampling_rate,
        quota_limit=quota_limit,
        quota_period=quota_period,
        fatigue_days=fatigue_days,
        cadence_days=cadence_days,
        require_consent=require_consent,
        reminder_after=reminder_after,
        link_valid_for=link_valid_for,
        message=message or {},
    )
    rule.full_clean()
    rule.save()
    return rule


# --- events and the decisions they trigger -----------------------------------------------------


@dataclass
class EventResult:
    """The stored event; ``created`` is False when the same (source, external id) came before."""

    event: ServiceEvent
    created: bool
    decisions: list[Decision] = field(default_factory=list)


def do_record_service_event(
    *,
    source: str,
    external_id: str,
    event_type: str,
    customer: Customer,
    unit: OrgUnit,
    occurred_at: datetime,
    preferred_channel: str = "",
    attributes: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> EventResult:
    """Record a service event once per (source, external id) and decide, per matching rule, whether to invite.

    A repeat with the same data returns the first result and writes nothing; a repeat with other
    data is refused, naming the field that differs.
    """
    now = now or timezone.now()
    if timezone.is_naive(occurred_at):
        raise DistributionError(_("occurred_at must include a time zone offset"), field="occurred_at")
    if preferred_channel and preferred_channel not in DeliveryChannel.values:
        raise DistributionError(
            _("preferred_channel must be email or sms, got {got}").format(got=preferred_channel),
            field="preferred_channel",
        )
    existing = ServiceEvent.objects.filter(source=source, external_id=external_id).first()
    if existing is not None:
        return _replayed(existing, event_type, customer, unit, occurred_at)
    try:
        with transaction.atomic():
            # Locking the customer serialises decisions about one customer (fatigue is per customer).
            Customer.objects.select_for_update().filter(pk=customer.pk).first()
            event = ServiceEvent.objects.create(
                source=source,
                external_id=external_id,
                event_type=event_type,
                customer=customer,
                unit=unit,
                occurred_at=occurred_at,
                received_at=now,
                preferred_channel=preferred_channel,
                attributes=attributes or {},
            )
            decisions = [_decide(event, rule, customer, now) for rule in _rules_for(event)]
    except IntegrityError:
        # The same event committed by a concurrent request: that one is the event.
        existing = ServiceEvent.objects.filter(source=source, external_id=external_id).first()
        if existing is None:
            raise
        return _replayed(existing, event_type, customer, unit, occurred_at)
    return EventResult(event=event, created=True, decisions=decisions)


def _replayed(
    event: ServiceEvent, event_type: str, customer: Customer, unit: OrgUnit, occurred_at: datetime
) -> EventResult:
    given = {"event_type": event_type, "customer": customer.pk, "unit": unit.pk, "occurred_at": occurred_at}
    stored = {
        "event_type": event.event_type,
        "customer": event.customer_id,
        "unit": event.unit_id,
        "occurred_at": event.occurred_at,
    }
    for name, value in given.items():
        if stored[name] != value:
            raise DistributionError(
                _(
                    "event {source}:{external_id} was already recorded with a different {field}; "
                    "an event id cannot be reused for another event"
                ).format(source=event.source, external_id=event.external_id, field=name),
                field=name,
                code="conflict",
            )
    return EventResult(event=event, created=False, decisions=list(event.decisions.order_by("id")))


def _rules_for(event: ServiceEvent) -> list[DistributionRule]:
    """Active rules whose unit is the event's unit or above it and whose event types match, locked."""
    ancestors = _path_prefixes(event.unit.path)
    qs = DistributionRule.objects.filter(is_active=True, unit__path__in=ancestors).order_by("pk")
    # Locked so two events racing for the last quota place are decided one after the other.
    rules = list(_for_update(qs, skip_locked=False))
    return [r for r in rules if not r.event_types or event.event_type in r.event_types]


def _path_prefixes(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def _for_update(qs: QuerySet[Any], *, skip_locked: bool) -> QuerySet[Any]:
    """FOR UPDATE [SKIP LOCKED] where the database has it; SQLite needs none (IMMEDIATE transactions)."""
    if not connection.features.has_select_for_update:
        return qs
    if skip_locked and connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs.select_for_update(of=("self",))


def _log(
    *,
    outcome: str,
    reason: str,
    customer_id: int,
    unit_id: int,
    now: datetime,
    event_id: int | None = None,
    rule: DistributionRule | None = None,
    invitation: Invitation | None = None,
    **params: Any,
) -> Decision:
    if rule is not None:
        params.setdefault("rule", rule.code)
    return Decision.objects.create(
        customer_id=customer_id,
        unit_id=unit_id,
        event_id=event_id,
        rule=rule,
        invitation=invitation,
        outcome=outcome,
        reason=reason,
        params=params,
        decided_at=now,
    )


def contact_address(customer: Customer, channel: str) -> str:
    """The customer's address for a channel, or "" when there is none."""
    if channel == DeliveryChannel.EMAIL:
        return (customer.email or "").strip()
    if channel == DeliveryChannel.SMS:
        return (customer.phone or "").strip()
    return ""


def choose_channel(customer: Customer, channels: list[str], preferred: str = "") -> tuple[str, str] | None:
    """(channel, address): the preferred channel when the rule allows it and there is an address, else the next."""
    order = list(channels)
    if preferred in order:
        order.remove(preferred)
        order.insert(0, preferred)
    for channel in order:
        address = contact_address(customer, channel)
        if address:
            return channel, address
    return None


@dataclass(frozen=True)
class _Contact:
    at: datetime
    rule: str
    survey: str
    planned: bool


def _contacts(
    customer: Customer,
    start: datetime,
    end: datetime,
    *,
    survey_id: int | None = None,
    exclude_invitation: int | None = None,
    exclude_response: int | None = None,
    include_planned: bool = True,
) -> list[_Contact]:
    """Invitations (sent or planned) and responses of the customer between start and end.

    ``exclude_response`` is the answer a re-survey follows up on: neither it nor the invitation that
    brought it counts as an earlier contact (else every re-survey would be refused as fatigue)."""
    states = list(_CONTACT_STATES if include_planned else _CONTACT_STATES[1:])
    invs = Invitation.objects.filter(customer=customer, status__in=states).filter(
        Q(sent_at__isnull=False, sent_at__gte=start, sent_at__lte=end)
        | Q(sent_at__isnull=True, due_at__gte=start, due_at__lte=end)
    )
    responses = Response.objects.filter(customer=customer, submitted_at__gte=start, submitted_at__lte=end)
    if survey_id is not None:
        invs = invs.filter(survey_id=survey_id)
        responses = responses.filter(survey_id=survey_id)
    if exclude_invitation is not None:
        invs = invs.exclude(pk=exclude_invitation)
        responses = responses.exclude(link__invitation__pk=exclude_invitation)
    if exclude_response is not None:
        invs = invs.exclude(link__responses__pk=exclude_response)
        responses = responses.exclude(pk=exclude_response)
    out = [
        _Contact(at=i.sent_at or i.due_at, rule=i.rule.code, survey=i.survey.slug, planned=i.sent_at is None)
        for i in invs.select_related("rule", "survey")
    ]
    out += [
        _Contact(at=r.submitted_at, rule="", survey=r.survey.slug, planned=False)
        for r in responses.select_related("survey")
    ]
    return out


def _too_soon(
    customer: Customer,
    rule: DistributionRule,
    at: datetime,
    now: datetime,
    *,
    exclude_invitation: int | None = None,
    exclude_response: int | None = None,
    include_planned: bool = True,
) -> tuple[str, dict[str, Any]] | None:
    """The fatigue or cadence reason that forbids a survey at ``at``, with its facts; None when allowed."""
    checks = [
        (Reason.FATIGUE, rule.fatigue_days, None),
        (Reason.CADENCE, rule.cadence_days, rule.survey_id),
    ]
    for reason, days, survey_id in checks:
        if not days:
            continue
        span = timedelta(days=days)
        found = _contacts(
            customer,
            at - span,
            at + span if include_planned else now,
            survey_id=survey_id,
            exclude_invitation=exclude_invitation,
            exclude_response=exclude_response,
            include_planned=include_planned,
        )
        if not found:
            continue
        past = [c for c in found if c.at <= now]
        last = max(past, key=lambda c: c.at) if past else min(found, key=lambda c: c.at)
        params: dict[str, Any] = {
            "limit": days,
            "last_rule": last.rule,
            "last_survey": last.survey,
            "last_at": last.at.isoformat(),
        }
        if last.at > now:
            params |= {"planned": True, "last": local_text(last.at, str(customer.home_unit.timezone))}
        else:
            params["days"] = (now - last.at).days
        return reason, params
    return None


def _decide(event: ServiceEvent, rule: DistributionRule, customer: Customer, now: datetime) -> Decision:
    unit = event.unit
    base: dict[str, Any] = {
        "customer_id": customer.pk,
        "unit_id": unit.pk,
        "now": now,
        "event_id": event.pk,
        "rule": rule,
    }

    def no(reason: str, **params: Any) -> Decision:
        return _log(outcome=Outcome.NOT_SENT, reason=reason, **base, **params)

    survey = rule.survey
    if survey.status != SurveyStatus.ACTIVE:
        return no(Reason.SURVEY_INACTIVE, survey=survey.slug)
    if customer.opted_out:
        return no(Reason.OPTED_OUT)
    if rule.require_consent and not customer.consent_contact:
        return no(Reason.NO_CONSENT)
    point = sample_point(event.source, event.external_id, rule.code)
    if point >= rule.sampling_rate:
        percent = f"{round(rule.sampling_rate * 100, 2):g}%"
        return no(Reason.NOT_SAMPLED, rate=rule.sampling_rate, percent=percent, point=round(point, 4))
    chosen = choose_channel(customer, list(rule.channels), event.preferred_channel)
    if chosen is None:
        return no(Reason.NO_CONTACT, channels=list(rule.channels))
    channel, _address = chosen
    earliest = max(event.occurred_at + rule.delay, now)
    due = next_send_time(earliest, unit.timezone, rule.window_start, rule.window_end)
    soon = _too_soon(customer, rule, due, now, exclude_response=follows_response(event))
    if soon is not None:
        return no(soon[0], **soon[1])
    if rule.quota_limit is not None:
        start, end = period_bounds(due, unit.timezone, rule.quota_period)
        used = Invitation.objects.filter(
            rule=rule, unit=unit, status__in=_CONTACT_STATES, due_at__gte=start, due_at__lt=end
        ).count()
        if used >= rule.quota_limit:
            return no(
                Reason.QUOTA,
                limit=rule.quota_limit,
                period=rule.quota_period,
                unit=unit.code,
                used=used,
                period_start=local_text(start, unit.timezone),
            )
    invitation = Invitation.objects.create(
        event=event,
        rule=rule,
        survey=survey,
        customer=customer,
        unit=unit,
        due_at=due,
        channel=channel,
        idempotency_key=uuid.uuid4().hex,
    )
    params: dict[str, Any] = {
        "channel": channel,
        "due": local_text(due, unit.timezone),
        "due_utc": due.isoformat(),
    }
    if due != earliest:
        params |= {
            "moved_from": local_text(earliest, unit.timezone),
            "window": f"{rule.window_start:%H:%M}–{rule.window_end:%H:%M}",
            "tz": unit.timezone,
        }
    return _log(outcome=Outcome.SCHEDULED, reason=Reason.SCHEDULED, invitation=invitation, **base, **params)


# --- re-survey lists (filled by the rules' "resurvey" action) ----------------------------------
#
# An entry on a list becomes a service event of type ``resurvey:<list>`` from the source
# ``manyi-resurvey``, so the distribution rules that take that event type decide about it like any
# other event: opt-out, consent, channel, quiet hours, fatigue, cadence and quota, each decision
# logged with its reason. A rule action that names a survey creates the list's distribution rule
# ``resurvey-<list>`` when it is saved; an integrator may also write one by hand.

RESURVEY_SOURCE = "manyi-resurvey"
RESURVEY_DELAY = timedelta(days=3)
RESURVEY_LINK_VALID = timedelta(days=14)


def resurvey_event_type(list_name: str) -> str:
    return f"resurvey:{list_name}"


def resurvey_rule_code(list_name: str) -> str:
    return f"resurvey-{list_name}"[:64]


def follows_response(event: ServiceEvent) -> int | None:
    """The response a re-survey event follows up on (excluded from its fatigue count), if any."""
    if event.source != RESURVEY_SOURCE:
        return None
    value = (event.attributes or {}).get("follows_response")
    return int(value) if isinstance(value, int) else None


def resurvey_rule_conflict(list_name: str, survey: Survey) -> str:
    """Why ``list_name`` cannot send ``survey`` (another survey owns the list), or ""."""
    rule = (
        DistributionRule.objects.filter(code=resurvey_rule_code(list_name)).select_related("survey").first()
    )
    if rule is None or rule.survey_id == survey.pk:
        return ""
    return _(
        "the list {list} already sends the survey {survey} (distribution rule {rule}); "
        "name that survey or use another list"
    ).format(list=list_name, survey=rule.survey.slug, rule=rule.code)


def do_ensure_resurvey_rule(*, list_name: str, survey: Survey) -> DistributionRule:
    """The distribution rule that sends the list ``list_name``: created with re-survey defaults
    (three days after the match, no reminder, a 14-day link, the usual fatigue and quiet hours)."""
    conflict = resurvey_rule_conflict(list_name, survey)
    if conflict:
        raise DistributionError(conflict, field="survey", code="conflict")
    rule = DistributionRule.objects.filter(code=resurvey_rule_code(list_name)).first()
    if rule is not None:
        return rule
    return do_create_rule(
        code=resurvey_rule_code(list_name),
        survey=survey,
        unit=survey.unit,
        event_types=[resurvey_event_type(list_name)],
        delay=RESURVEY_DELAY,
        reminder_after=None,
        link_valid_for=RESURVEY_LINK_VALID,
    )


def do_record_resurvey(
    *,
    list_name: str,
    key: str,
    customer: Customer,
    unit: OrgUnit,
    added_at: datetime,
    follows: int | None = None,
    attributes: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> EventResult:
    """Record one list entry as a re-survey event (once per ``key``) and decide about it."""
    return do_record_service_event(
        source=RESURVEY_SOURCE,
        external_id=f"{list_name}:{key}"[:128],
        event_type=resurvey_event_type(list_name),
        customer=customer,
        unit=unit,
        occurred_at=added_at,
        attributes={**(attributes or {}), "list": list_name, "follows_response": follows},
        now=now,
    )


# --- the scanner -------------------------------------------------------------------------------


@dataclass
class ScanReport:
    """What one scan did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0
    unknown: int = 0
    reminders_sent: int = 0
    reminders_skipped: int = 0
    reminders_failed: int = 0

    @property
    def touched(self) -> int:
        return sum(vars(self).values())

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


AdapterLookup = Callable[[str], Adapter]


def _adapter_lookup(adapters: Mapping[str, Adapter] | None) -> AdapterLookup:
    cache: dict[str, Adapter] = dict(adapters or {})

    def get(channel: str) -> Adapter:
        if channel not in cache:
            cache[channel] = adapter_for(channel)
        return cache[channel]

    return get


def do_scan(
    *,
    now: datetime | None = None,
    adapters: Mapping[str, Adapter] | None = None,
    batch: int = 100,
) -> ScanReport:
    """Send every due invitation and reminder once. Idempotent; several scanners may run at once."""
    now = now or timezone.now()
    lease = timedelta(seconds=getattr(settings, "MANYI_DISTRIBUTION_SENDING_LEASE", 600))
    get = _adapter_lookup(adapters)
    report = ScanReport()
    _reclaim_interrupted(now, lease, get, report)
    # A batch ends the loop when it held fewer rows than asked for; rows that were suppressed or
    # postponed count, so a batch full of them does not stop the scan early.
    while True:
        claimed, examined = _claim_invitations(now, batch, report)
        for inv in claimed:
            _deliver(inv, now, get, report)
        if examined < batch:
            break
    while True:
        reminders, examined = _claim_reminders(now, batch, report)
        for inv in reminders:
            _deliver_reminder(inv, now, get, report)
        if examined < batch:
            break
    return report


def _send_time_refusal(inv: Invitation, now: datetime) -> tuple[str, dict[str, Any]] | None:
    """Facts can change between scheduling and sending: opt-out, consent, contacts, other surveys."""
    customer, rule = inv.customer, inv.rule
    if inv.survey.status != SurveyStatus.ACTIVE:
        return Reason.SURVEY_INACTIVE, {"survey": inv.survey.slug}
    if customer.opted_out:
        return Reason.OPTED_OUT, {}
    if rule.require_consent and not customer.consent_contact:
        return Reason.NO_CONSENT, {}
    if choose_channel(customer, list(rule.channels), inv.event.preferred_channel) is None:
        return Reason.NO_CONTACT, {"channels": list(rule.channels)}
    return _too_soon(
        customer,
        rule,
        now,
        now,
        exclude_invitation=inv.pk,
        exclude_response=follows_response(inv.event),
        include_planned=False,
    )


def _claim_invitations(now: datetime, batch: int, report: ScanReport) -> tuple[list[Invitation], int]:
    """Move up to ``batch`` due invitations to "sending" (or "suppressed") in one committed transaction."""
    with transaction.atomic():
        qs = Invitation.objects.filter(status=InvitationStatus.SCHEDULED, due_at__lte=now).order_by(
            "due_at", "pk"
        )
        rows = list(
            _for_update(qs, skip_locked=True).select_related(
                "customer", "customer__home_unit", "unit", "rule", "survey", "event", "link"
            )[:batch]
        )
        claimed = []
        for inv in rows:
            opening = _in_window(inv, now)
            if opening != now:
                # A scanner that was down (or a backlog) must not send in quiet hours: wait for the window.
                _postpone(inv, now, opening)
                continue
            refusal = _send_time_refusal(inv, now)
            if refusal is not None:
                inv.status = InvitationStatus.SUPPRESSED
                inv.save(update_fields=["status"])
                _log(
                    outcome=Outcome.NOT_SENT,
                    reason=refusal[0],
                    customer_id=inv.customer_id,
                    unit_id=inv.unit_id,
                    now=now,
                    event_id=inv.event_id,
                    rule=inv.rule,
                    invitation=inv,
                    **refusal[1],
                )
                report.suppressed += 1
                continue
            chosen = choose_channel(inv.customer, list(inv.rule.channels), inv.event.preferred_channel)
            assert chosen is not None  # _send_time_refusal checked it
            inv.channel, inv.address = chosen
            if inv.link is None:
                inv.link = do_create_link(
                    survey=inv.survey,
                    kind=LinkKind.PERSONAL,
                    unit=inv.unit,
                    customer=inv.customer,
                    service_event_ref=inv.event.ref,
                    language=_language(inv),
                    channel=inv.channel,
                    expires_at=now + inv.rule.link_valid_for,
                )
            inv.status = InvitationStatus.SENDING
            inv.sending_since = now
            inv.attempts += 1
            inv.save(update_fields=["status", "sending_since", "attempts", "channel", "address", "link"])
            claimed.append(inv)
        return claimed, len(rows)


def _in_window(inv: Invitation, at: datetime) -> datetime:
    """``at``, or the next opening of the rule's send window in the unit's time zone."""
    return next_send_time(at, inv.unit.timezone, inv.rule.window_start, inv.rule.window_end)


def _postpone(inv: Invitation, now: datetime, opening: datetime) -> None:
    inv.due_at = opening
    inv.save(update_fields=["due_at"])
    tz = inv.unit.timezone
    _log(
        outcome=Outcome.SCHEDULED,
        reason=Reason.SCHEDULED,
        customer_id=inv.customer_id,
        unit_id=inv.unit_id,
        now=now,
        event_id=inv.event_id,
        rule=inv.rule,
        invitation=inv,
        channel=inv.channel,
        due=local_text(opening, tz),
        due_utc=opening.isoformat(),
        moved_from=local_text(now, tz),
        window=f"{inv.rule.window_start:%H:%M}–{inv.rule.window_end:%H:%M}",
        tz=tz,
    )


def _language(inv: Invitation) -> str:
    return invitation_language(inv.customer.language, inv.unit.locale, list(inv.survey.languages))


def _message(inv: Invitation, *, reminder: bool) -> OutboundMessage:
    assert inv.link is not None
    language = _language(inv)
    subject, body = compose(
        language=language,
        unit_name=inv.unit.display_name(language),
        customer_name=inv.customer.name,
        url=survey_link_url(inv.link),
        custom=dict(inv.rule.message or {}),
        reminder=reminder,
    )
    return OutboundMessage(
        channel=inv.channel,
        to=inv.address,
        subject=subject,
        body=body,
        idempotency_key=f"{inv.idempotency_key}-reminder" if reminder else inv.idempotency_key,
        language=language,
    )


def _deliver(inv: Invitation, now: datetime, get: AdapterLookup, report: ScanReport) -> None:
    try:
        ref = get(inv.channel).send(_message(inv, reminder=False))
    except Exception as exc:  # any provider failure is logged on the invitation, never lost
        _record_failure(inv, now, exc, report)
        return
    with transaction.atomic():
        reminder = inv.rule.reminder_after
        marked = Invitation.objects.filter(pk=inv.pk, status=InvitationStatus.SENDING).update(
            status=InvitationStatus.SENT,
            sent_at=now,
            provider_ref=str(ref)[:128],
            last_error="",
            reminder_status=ReminderStatus.SCHEDULED if reminder else ReminderStatus.NONE,
            reminder_due_at=_in_window(inv, now + reminder) if reminder else None,
        )
        if marked:
            _log(
                outcome=Outcome.SENT,
                reason=Reason.SENT,
                customer_id=inv.customer_id,
                unit_id=inv.unit_id,
                now=now,
                event_id=inv.event_id,
                rule=inv.rule,
                invitation=inv,
                channel=inv.channel,
                address=_masked(inv.address),
                link=inv.link.token if inv.link else "",
            )
            report.sent += 1


def _record_failure(inv: Invitation, now: datetime, exc: Exception, report: ScanReport) -> None:
    permanent = isinstance(exc, DeliveryError) and exc.permanent
    give_up = permanent or inv.attempts >= MAX_ATTEMPTS
    retry_at = None if give_up else _in_window(inv, now + timedelta(minutes=5 * 2 ** (inv.attempts - 1)))
    log.warning("invitation %s: sending by %s failed: %s", inv.pk, inv.channel, exc)
    with transaction.atomic():
        Invitation.objects.filter(pk=inv.pk, status=InvitationStatus.SENDING).update(
            status=InvitationStatus.FAILED if give_up else InvitationStatus.SCHEDULED,
            due_at=retry_at or inv.due_at,
            last_error=str(exc)[:1000],
        )
        _log(
            outcome=Outcome.FAILED,
            reason=Reason.SEND_ERROR,
            customer_id=inv.customer_id,
            unit_id=inv.unit_id,
            now=now,
            event_id=inv.event_id,
            rule=inv.rule,
            invitation=inv,
            channel=inv.channel,
            error=str(exc)[:200],
            attempts=inv.attempts,
            retry_at=local_text(retry_at, inv.unit.timezone) if retry_at else None,
        )
    if give_up:
        report.failed += 1
    else:
        report.retried += 1


def _claim_reminders(now: datetime, batch: int, report: ScanReport) -> tuple[list[Invitation], int]:
    """Move due reminders to "sending", or skip them when the survey was answered or can no longer be."""
    with transaction.atomic():
        qs = Invitation.objects.filter(
            status=InvitationStatus.SENT, reminder_status=ReminderStatus.SCHEDULED, reminder_due_at__lte=now
        ).order_by("reminder_due_at", "pk")
        rows = list(
            _for_update(qs, skip_locked=True).select_related(
                "customer", "unit", "rule", "survey", "event", "link"
            )[:batch]
        )
        claimed = []
        for inv in rows:
            opening = _in_window(inv, now)
            if opening != now:
                inv.reminder_due_at = opening
                inv.save(update_fields=["reminder_due_at"])
                continue
            skip = _reminder_refusal(inv, now)
            if skip is not None:
                inv.reminder_status = ReminderStatus.SKIPPED
                inv.save(update_fields=["reminder_status"])
                _log(
                    outcome=Outcome.NO_REMINDER,
                    reason=skip[0],
                    customer_id=inv.customer_id,
                    unit_id=inv.unit_id,
                    now=now,
                    event_id=inv.event_id,
                    rule=inv.rule,
                    invitation=inv,
                    **skip[1],
                )
                report.reminders_skipped += 1
                continue
            inv.reminder_status = ReminderStatus.SENDING
            inv.reminder_sending_since = now
            inv.address = contact_address(inv.customer, inv.channel) or inv.address
            inv.save(update_fields=["reminder_status", "reminder_sending_since", "address"])
            claimed.append(inv)
        return claimed, len(rows)


def _reminder_refusal(inv: Invitation, now: datetime) -> tuple[str, dict[str, Any]] | None:
    link = inv.link
    tz = inv.unit.timezone
    if link is not None and link.used_at is not None:
        return Reason.ANSWERED, {"answered_at": local_text(link.used_at, tz)}
    if link is None or link.is_expired(now):
        expires = link.expires_at if link is not None else None
        return Reason.LINK_EXPIRED, {"expires_at": local_text(expires, tz) if expires else "-"}
    if inv.customer.opted_out:
        return Reason.OPTED_OUT, {}
    if not (contact_address(inv.customer, inv.channel) or inv.address):
        return Reason.NO_CONTACT, {"channels": [inv.channel]}
    return None


def _deliver_reminder(inv: Invitation, now: datetime, get: AdapterLookup, report: ScanReport) -> None:
    try:
        get(inv.channel).send(_message(inv, reminder=True))
    except Exception as exc:  # one reminder only: a failure is logged, not retried
        log.warning("invitation %s: reminder by %s failed: %s", inv.pk, inv.channel, exc)
        outcome, status, params = (
            Outcome.FAILED,
            ReminderStatus.FAILED,
            {"error": str(exc)[:200], "attempts": 1, "channel": inv.channel},
        )
        reason = Reason.SEND_ERROR
        report.reminders_failed += 1
    else:
        outcome, status, reason = Outcome.REMINDER_SENT, ReminderStatus.SENT, Reason.SENT
        params = {"channel": inv.channel, "address": _masked(inv.address)}
        report.reminders_sent += 1
    with transaction.atomic():
        marked = Invitation.objects.filter(pk=inv.pk, reminder_status=ReminderStatus.SENDING).update(
            reminder_status=status, reminder_sent_at=now if status == ReminderStatus.SENT else None
        )
        if marked:
            _log(
                outcome=outcome,
                reason=reason,
                customer_id=inv.customer_id,
                unit_id=inv.unit_id,
                now=now,
                event_id=inv.event_id,
                rule=inv.rule,
                invitation=inv,
                **params,
            )


def _reclaim_interrupted(now: datetime, lease: timedelta, get: AdapterLookup, report: ScanReport) -> None:
    """Invitations left "sending" by a crashed scanner: resend through key-honouring adapters, else stop."""
    cutoff = now - lease
    with transaction.atomic():
        for prefix, states in (("", InvitationStatus), ("reminder_", ReminderStatus)):
            stale = _for_update(
                Invitation.objects.filter(
                    **{f"{prefix}status": states.SENDING, f"{prefix}sending_since__lt": cutoff}
                ),
                skip_locked=True,
            ).select_related("rule")
            for inv in stale:
                if get(inv.channel).idempotent:
                    setattr(inv, f"{prefix}status", states.SCHEDULED)
                    setattr(inv, f"{prefix}due_at", now)
                    inv.save(update_fields=[f"{prefix}status", f"{prefix}due_at"])
                    continue
                setattr(inv, f"{prefix}status", states.UNKNOWN)
                inv.save(update_fields=[f"{prefix}status"])
                _log(
                    outcome=Outcome.FAILED,
                    reason=Reason.DELIVERY_UNKNOWN,
                    customer_id=inv.customer_id,
                    unit_id=inv.unit_id,
                    now=now,
                    event_id=inv.event_id,
                    rule=inv.rule,
                    invitation=inv,
                    channel=inv.channel,
                )
                report.unknown += 1


def _masked(address: str) -> str:
    """``m***@example.com`` / ``+86138****5678``: enough to recognise, not enough to copy."""
    if "@" in address:
        local, _sep, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(address) > 7:
        return f"{address[:-8]}****{address[-4:]}"
    return "***"
