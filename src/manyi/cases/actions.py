"""Every write to a case: open, assign, transition, note, contact, close, reopen, escalate, re-survey;
and the configuration (SLA policies, calendars, root causes).

Transitions are validated here and refused with a ``ValidationError`` whose message says what is
wrong or missing; every change is logged as a ``CaseEvent``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.org.models import OrgUnit

from . import queries
from .business_time import Calendar, CalendarError, add_business, business_seconds, parse_hours, resume_due
from .choices import (
    DONE_STATUSES,
    ESCALATION_LEVELS,
    CaseStatus,
    ContactChannel,
    EventKind,
    Priority,
    Resolution,
    RoutingMode,
    SlaTrack,
)
from .models import BusinessCalendar, Case, CaseEscalation, CaseEvent, CaseRouting, RootCause, SlaPolicy

log = logging.getLogger(__name__)

# Which status may follow which. Closing and reopening have their own actions (do_close, do_reopen)
# because they need more than a status.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    CaseStatus.NEW: (CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS),
    CaseStatus.ASSIGNED: (CaseStatus.IN_PROGRESS, CaseStatus.WAITING),
    CaseStatus.IN_PROGRESS: (CaseStatus.WAITING, CaseStatus.RESOLVED),
    CaseStatus.WAITING: (CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED),
    CaseStatus.RESOLVED: (CaseStatus.CLOSED, CaseStatus.IN_PROGRESS),
    CaseStatus.CLOSED: (CaseStatus.IN_PROGRESS,),
}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _event(case: Case, kind: str, *, actor: Any = None, now: datetime, **fields: Any) -> CaseEvent:
    return CaseEvent.objects.create(case=case, kind=kind, actor=actor, created_at=now, **fields)


def case_url(case: Case) -> str:
    """The case page's address in the console, for messages to staff."""
    from django.conf import settings
    from django.urls import reverse

    return f"{settings.MANYI_BASE_URL}{reverse('console:case_detail', args=[case.pk])}"


def notify_people(
    event: str, *, recipients: Sequence[Any], subject: str, body: str, context: dict[str, Any], case: Case
) -> bool:
    """Hand a notification to manyi.notifications inside the caller's transaction (it delivers
    after commit); False when it could not be handed over.

    People get e-mail; the unit's webhook and chat-bot endpoints subscribed to ``event`` get it too,
    so an event with no recipients still reaches them. The case's own state (an escalation row, an
    assignment) is written whatever happens here: notifying is the notifications app's job, and its
    delivery log records failures.
    """
    return notify_people_many([(event, recipients, subject, body, context)], case=case)


def notify_people_many(
    items: Sequence[tuple[str, Sequence[Any], str, str, dict[str, Any]]], *, case: Case
) -> bool:
    """``notify_people`` for several events of one case at once: (event, recipients, subject, body,
    context) each, written together (opening a case tells "opened" and "assigned" in one go)."""
    try:
        from manyi.notifications.actions import Message, notify_many
    except ImportError:
        log.warning("cases: notifications app has no notify(); %s for case %s not sent", items, case.pk)
        return False
    base = {"case_id": case.pk, "status": case.status, "priority": case.priority, "url": case_url(case)}
    messages = [
        Message(event, [p for p in recipients if p is not None], subject, body, {**base, **context})
        for event, recipients, subject, body, context in items
    ]
    try:
        with transaction.atomic():  # a savepoint: a notifier's failure never undoes the case change
            notify_many(messages, unit=case.unit, case=case, savepoint=False)
    except Exception:
        log.exception("cases: notify(%s) failed for case %s", [m.event for m in messages], case.pk)
        return False
    return True


# --- SLA clocks -----------------------------------------------------------------------------------


def _calendar(case: Case, cache: dict[int, Calendar] | None = None) -> Calendar:
    return queries.calendar_for(case.unit, cache)


def _channel_of(response: Any, feedback: Any) -> str:
    if feedback is not None:
        return str(feedback.channel)
    if response is not None:
        return str(response.channel)
    return ""


def _apply_policy(case: Case, policy: SlaPolicy | None, start: datetime, cal: Calendar | None = None) -> None:
    case.sla_policy = policy
    if policy is None:
        case.first_response_target = case.resolution_target = None
        case.first_response_due = case.resolution_due = None
        return
    cal = cal or _calendar(case)
    case.first_response_target = int(policy.first_response_hours * 3600)
    case.resolution_target = int(policy.resolution_hours * 3600)
    case.first_response_due = add_business(cal, start, case.first_response_target)
    case.resolution_due = add_business(cal, start, case.resolution_target)


def _steps(case: Case, cal: Calendar) -> list[tuple[str, int, datetime]]:
    """(track, level, instant) of every escalation step of the clocks still running."""
    out: list[tuple[str, int, datetime]] = []
    tracks = []
    if case.first_responded_at is None and case.first_response_due and case.first_response_target:
        tracks.append((SlaTrack.FIRST_RESPONSE, case.first_response_due, case.first_response_target))
    if case.resolved_at is None and case.resolution_due and case.resolution_target:
        tracks.append((SlaTrack.RESOLUTION, case.resolution_due, case.resolution_target))
    for track, due, target in tracks:
        for level in ESCALATION_LEVELS:
            out.append((str(track), level, add_business(cal, due, (level - 100) / 100 * target)))
    return out


def _fired(case: Case) -> set[tuple[str, int]]:
    return set(
        CaseEscalation.objects.filter(case=case, cycle=case.reopen_count).values_list("track", "level")
    )


def _schedule(case: Case, cal: Calendar | None = None, fired: set[tuple[str, int]] | None = None) -> None:
    """Set ``next_escalation_at`` to the next step not fired yet (None when the clock is stopped)."""
    if case.status in DONE_STATUSES or case.status == CaseStatus.WAITING:
        case.next_escalation_at = None
        return
    if not (case.first_response_target or case.resolution_target):
        case.next_escalation_at = None  # no SLA policy: no clock
        return
    if fired is None:
        fired = _fired(case) if case.pk is not None else set()
    pending = [at for track, level, at in _steps(case, cal or _calendar(case)) if (track, level) not in fired]
    case.next_escalation_at = min(pending) if pending else None


# --- opening --------------------------------------------------------------------------------------


def open_case(
    *,
    unit: OrgUnit,
    title: str,
    response: Any = None,
    feedback: Any = None,
    customer: Any = None,
    priority: str = "normal",
    sla_policy: SlaPolicy | None = None,
    opened_by_rule: Any = None,
    now: datetime | None = None,
) -> tuple[Case, bool]:
    """Open a case for a response or a feedback record; (case, True) when opened now.

    Idempotent: a second call for the same response or feedback record returns the existing case and
    False. The one-to-one columns decide under concurrency: the loser of a race hits the unique index,
    rolls back its savepoint and reads the winner's case.
    """
    now = _now(now)
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Unknown priority {value}.").format(value=priority)})
    if response is None and feedback is None and not title.strip():
        raise ValidationError({"title": _("A case needs a title, a response or a feedback record.")})
    existing = _existing_case(response, feedback)
    if existing is not None:
        return existing, False
    if customer is None:
        customer = getattr(feedback, "customer", None) or getattr(response, "customer", None)
    try:
        with transaction.atomic():
            case = _create_case(
                unit=unit,
                title=title,
                response=response,
                feedback=feedback,
                customer=customer,
                priority=priority,
                sla_policy=sla_policy,
                opened_by_rule=opened_by_rule,
                now=now,
            )
    except IntegrityError:
        existing = _existing_case(response, feedback)
        if existing is None:
            raise
        return existing, False
    return case, True


def _existing_case(response: Any, feedback: Any) -> Case | None:
    if response is not None:
        found = Case.objects.filter(response_id=response.pk).first()
        if found is not None:
            return found
    if feedback is not None:
        return Case.objects.filter(feedback_id=feedback.pk).first()
    return None


def _create_case(
    *,
    unit: OrgUnit,
    title: str,
    response: Any,
    feedback: Any,
    customer: Any,
    priority: str,
    sla_policy: SlaPolicy | None,
    opened_by_rule: Any,
    now: datetime,
) -> Case:
    case = Case(
        unit=unit,
        title=(title.strip() or _("Follow-up"))[:200],
        response=response,
        feedback=feedback,
        customer=customer,
        priority=priority,
        status=CaseStatus.NEW,
        created_at=now,
        rule_version_id=getattr(opened_by_rule, "pk", None),
    )
    policy = sla_policy or queries.policy_for(unit, priority, _channel_of(response, feedback))
    cal = _calendar(case) if policy is not None else None
    _apply_policy(case, policy, now, cal)
    # Who gets it is decided before the row is written, so opening is one INSERT and two log lines.
    routing = queries.routing_for(unit)
    mode = routing[0] if routing is not None else RoutingMode.MANAGER
    assignee, how, team = None, "", None
    if mode == RoutingMode.ROUND_ROBIN and routing is not None and routing[1] is not None:
        assignee = _round_robin_pick(routing[1])
        how, team = "round_robin", routing[1]
    if assignee is None and mode != RoutingMode.MANUAL:
        # The unit's manager by default, and when a round-robin team has nobody active.
        managers = queries.unit_managers(unit)
        assignee, how, team = (managers[0], "manager", None) if managers else (None, "", None)
    if assignee is not None:
        case.assignee, case.assigned_at, case.team, case.status = assignee, now, team, CaseStatus.ASSIGNED
    _schedule(case, cal, fired=set())
    case.save()
    events = [
        CaseEvent(
            case=case,
            kind=EventKind.OPENED,
            created_at=now,
            to_status=CaseStatus.NEW,
            data={"rule_version_id": case.rule_version_id, "sla_policy_id": policy.pk if policy else None},
        )
    ]
    if assignee is not None:
        events.append(
            CaseEvent(
                case=case,
                kind=EventKind.ASSIGNMENT,
                created_at=now,
                from_status=CaseStatus.NEW,
                to_status=CaseStatus.ASSIGNED,
                data={"from": None, "to": assignee.pk, "how": how, "username": assignee.get_username()},
            )
        )
    CaseEvent.objects.bulk_create(events)
    told: list[tuple[str, Sequence[Any], str, str, dict[str, Any]]] = [
        (
            "case.opened",
            [],
            _("Case {id} opened: {title}").format(id=case.pk, title=case.title),
            case.title,
            {"source": case.source, "rule_version_id": case.rule_version_id},
        )
    ]
    if assignee is not None:
        subject = _("Case {id} is yours: {title}").format(id=case.pk, title=case.title)
        told.append(
            (
                "case.assigned",
                [assignee],
                subject,
                f"{subject}\n{case_url(case)}",
                {"how": how, "assignee": assignee.get_username()},
            )
        )
    notify_people_many(told, case=case)
    return case


# --- assignment -----------------------------------------------------------------------------------


def _round_robin_pick(team: OrgUnit) -> Any:
    """The team member who was handed a case longest ago (never first), ties by id."""
    members = queries.team_members(team)
    if not members:
        return None
    last: dict[int, datetime] = {}
    for uid, at in (
        Case.objects.filter(team=team, assignee_id__in=[m.pk for m in members], assigned_at__isnull=False)
        .order_by()
        .values_list("assignee_id", "assigned_at")
    ):
        if at is not None and (uid not in last or at > last[uid]):
            last[uid] = at
    never = [m for m in members if m.pk not in last]
    if never:
        return never[0]
    return min(members, key=lambda m: (last[m.pk], m.pk))


def _assign(
    case: Case, assignee: Any, *, actor: Any, now: datetime, how: str, team: OrgUnit | None = None
) -> None:
    if assignee is None:
        return
    previous = case.assignee_id
    case.assignee = assignee
    case.assigned_at = now
    if team is not None:
        case.team = team
    fields = ["assignee", "assigned_at", "team"]
    old_status = case.status
    if case.status == CaseStatus.NEW:
        case.status = CaseStatus.ASSIGNED
        fields.append("status")
    case.save(update_fields=fields)
    _event(
        case,
        EventKind.ASSIGNMENT,
        actor=actor,
        now=now,
        from_status=old_status,
        to_status=case.status,
        data={"from": previous, "to": assignee.pk, "how": how, "username": assignee.get_username()},
    )
    subject = _("Case {id} is yours: {title}").format(id=case.pk, title=case.title)
    notify_people(
        "case.assigned",
        # Someone who takes a case themselves needs no e-mail about it; endpoints still hear of it.
        recipients=[] if actor is not None and actor.pk == assignee.pk else [assignee],
        subject=subject,
        body=f"{subject}\n{case_url(case)}",
        context={"how": how, "assignee": assignee.get_username()},
        case=case,
    )


@transaction.atomic
def do_assign(case: Case, assignee: Any, *, actor: Any = None, now: datetime | None = None) -> Case:
    """Hand a case to a staff member whose roles cover its unit."""
    now = _now(now)
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.status in DONE_STATUSES:
        raise ValidationError(
            _("A {status} case cannot be reassigned; reopen it first.").format(
                status=case.get_status_display()
            )
        )
    if (
        assignee is None
        or not getattr(assignee, "is_active", False)
        or not queries.can_work_case(assignee, case)
    ):
        raise ValidationError({"assignee": _("This staff member cannot work cases of this unit.")})
    if case.assignee_id == assignee.pk:
        return case
    _assign(case, assignee, actor=actor, now=now, how="manual")
    return case


@transaction.atomic
def do_unassign(case: Case, *, actor: Any = None, now: datetime | None = None) -> Case:
    """Take a case off whoever had it; an assigned case goes back to new (for re-routing)."""
    now = _now(now)
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.status in DONE_STATUSES:
        raise ValidationError(
            {
                "assignee": _("A {status} case cannot be unassigned; reopen it first.").format(
                    status=case.get_status_display()
                )
            }
        )
    if case.assignee_id is None:
        return case
    previous, old_status = case.assignee_id, case.status
    case.assignee = None
    fields = ["assignee"]
    if case.status == CaseStatus.ASSIGNED:
        case.status = CaseStatus.NEW
        fields.append("status")
    case.save(update_fields=fields)
    _event(
        case,
        EventKind.ASSIGNMENT,
        actor=actor,
        now=now,
        from_status=old_status,
        to_status=case.status,
        data={"from": previous, "to": None, "how": "unassigned"},
    )
    return case


@transaction.atomic
def do_assign_round_robin(
    case: Case, team: OrgUnit, *, actor: Any = None, now: datetime | None = None
) -> Case:
    """Hand a case to the next member of a team, in turn."""
    now = _now(now)
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if not team.is_within(case.unit) and not case.unit.is_within(team):
        raise ValidationError({"team": _("The team must belong to the case's unit.")})
    pick = _round_robin_pick(team)
    if pick is None:
        raise ValidationError({"team": _("The team {code} has no active members.").format(code=team.code)})
    _assign(case, pick, actor=actor, now=now, how="round_robin", team=team)
    return case


def do_bulk_assign(
    case_ids: Sequence[int], assignee: Any, *, actor: Any, now: datetime | None = None
) -> tuple[int, list[str]]:
    """Assign many cases the actor can see; (how many assigned, one error line per refused case)."""
    done, errors = 0, []
    for case in Case.objects.visible_to(actor).filter(pk__in=list(case_ids)).order_by("pk"):
        try:
            do_assign(case, assignee, actor=actor, now=now)
            done += 1
        except ValidationError as exc:
            errors.append(_("Case {id}: {error}").format(id=case.pk, error=" ".join(exc.messages)))
    return done, errors


# --- transitions ----------------------------------------------------------------------------------


def _check_transition(case: Case, to: str) -> None:
    if to not in CaseStatus.values:
        raise ValidationError({"status": _("Unknown status {value}.").format(value=to)})
    if to not in TRANSITIONS[case.status]:
        allowed = ", ".join(str(CaseStatus(s).label) for s in TRANSITIONS[case.status])
        raise ValidationError(
            {
                "status": _(
                    "A case that is {current} cannot become {target}; it can become: {allowed}."
                ).format(current=case.get_status_display(), target=CaseStatus(to).label, allowed=allowed)
            }
        )


def _pause(case: Case, now: datetime) -> list[str]:
    case.sla_paused_at = now
    case.next_escalation_at = None
    return ["sla_paused_at", "next_escalation_at"]


def _resume(case: Case, now: datetime) -> list[str]:
    """Move the running due instants by the working time the clock was stopped."""
    if case.sla_paused_at is None:
        return []
    cal = _calendar(case)
    paused = case.sla_paused_at
    if case.first_responded_at is None and case.first_response_due:
        case.first_response_due = resume_due(cal, case.first_response_due, paused, now)
    if case.resolution_due:
        case.resolution_due = resume_due(cal, case.resolution_due, paused, now)
    case.sla_paused_at = None
    return ["first_response_due", "resolution_due", "sla_paused_at"]


def _set_status(
    case: Case, to: str, *, actor: Any, now: datetime, body: str = "", data: dict[str, Any] | None = None
) -> list[str]:
    old = case.status
    fields = ["status"]
    if old == CaseStatus.WAITING and to != CaseStatus.WAITING:
        fields += _resume(case, now)
    case.status = to
    if to == CaseStatus.WAITING:
        fields += _pause(case, now)
    if to in DONE_STATUSES and case.resolved_at is None:
        case.resolved_at = now
        fields.append("resolved_at")
        if case.first_responded_at is None:
            case.first_responded_at = now  # resolving a case answers the customer
            fields.append("first_responded_at")
    if to == CaseStatus.CLOSED:
        case.closed_at = now
        fields.append("closed_at")
    _schedule(case)
    fields.append("next_escalation_at")
    case.save(update_fields=sorted(set(fields)))
    _event(
        case,
        EventKind.STATUS,
        actor=actor,
        now=now,
        from_status=old,
        to_status=to,
        body=body,
        data=data or {},
    )
    if to in DONE_STATUSES:
        cause = case.root_cause
        notify_people(
            "case.resolved" if to == CaseStatus.RESOLVED else "case.closed",
            recipients=[],
            subject=_("Case {id} is {status}: {title}").format(
                id=case.pk, status=case.get_status_display(), title=case.title
            ),
            body=case.title,
            context={"root_cause": cause.code if cause else None, "resolution": case.resolution},
            case=case,
        )
    return fields


@transaction.atomic
def do_transition(
    case: Case, to: str, *, actor: Any = None, note: str = "", now: datetime | None = None
) -> Case:
    """Move a case along its lifecycle (not to closed, nor back from resolved or closed: see
    do_close and do_reopen)."""
    now = _now(now)
    case = Case.objects.select_for_update(of=("self",)).select_related("unit").get(pk=case.pk)
    if to == CaseStatus.CLOSED:
        return do_close(case, actor=actor, now=now, note=note)
    if case.status in DONE_STATUSES and to not in DONE_STATUSES:
        return do_reopen(case, actor=actor, reason=note, now=now)
    _check_transition(case, to)
    if to == CaseStatus.ASSIGNED and case.assignee_id is None:
        raise ValidationError({"assignee": _("Choose who the case is assigned to.")})
    if to == CaseStatus.RESOLVED:
        _require_resolution(case)
    _set_status(case, to, actor=actor, now=now, body=note)
    return case


def _parse_amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(
            {
                "compensation_amount": _(
                    "The compensation amount must be a number, like 50 or 12.50; got {value}."
                ).format(value=value)
            }
        ) from None
    if amount <= 0 or amount.as_tuple().exponent < -2 or amount >= Decimal("100000000"):  # type: ignore[operator]
        raise ValidationError(
            {
                "compensation_amount": _(
                    "The compensation amount must be positive, with at most two decimals; got {value}."
                ).format(value=value)
            }
        )
    return amount


def _require_resolution(case: Case) -> None:
    """Refuse, naming everything missing, unless the case holds a root cause and a resolution."""
    errors: dict[str, list[str]] = {}
    if case.root_cause_id is None:
        errors["root_cause"] = [_("A case can't be closed without a root cause.")]
    else:
        cause = case.root_cause
        assert cause is not None
        if cause.parent_id is None and cause.children.filter(is_active=True).exists():
            errors["root_cause"] = [
                _("Choose a second-level root cause under {name}.").format(name=cause.code)
            ]
    if not case.resolution:
        errors["resolution"] = [
            _(
                "A case can't be closed without a resolution (apology, explanation, fix, refund or compensation)."
            )
        ]
    elif (
        case.resolution == Resolution.COMPENSATION
        and case.compensation_amount is None
        and not case.compensation_voucher
    ):
        errors["compensation_amount"] = [_("Compensation needs an amount or a voucher code.")]
    if errors:
        raise ValidationError(errors)


def _record_resolution(
    case: Case,
    *,
    root_cause: RootCause | int | None,
    resolution: str | None,
    compensation_amount: Any,
    compensation_voucher: str | None,
    note: str,
) -> list[str]:
    fields: list[str] = []
    if root_cause is not None:
        cause = (
            root_cause
            if isinstance(root_cause, RootCause)
            else RootCause.objects.filter(pk=root_cause).first()
        )
        if cause is None or not cause.is_active:
            raise ValidationError({"root_cause": _("Unknown or retired root cause.")})
        case.root_cause = cause
        fields.append("root_cause")
    if resolution:
        if resolution not in Resolution.values:
            raise ValidationError({"resolution": _("Unknown resolution {value}.").format(value=resolution)})
        case.resolution = resolution
        fields.append("resolution")
    amount = _parse_amount(compensation_amount)
    if amount is not None:
        case.compensation_amount = amount
        fields.append("compensation_amount")
    if compensation_voucher:
        case.compensation_voucher = compensation_voucher.strip()[:64]
        fields.append("compensation_voucher")
    if note:
        case.resolution_note = note
        fields.append("resolution_note")
    return fields


@transaction.atomic
def do_resolve(
    case: Case,
    *,
    root_cause: RootCause | int | None = None,
    resolution: str | None = None,
    compensation_amount: Any = None,
    compensation_voucher: str | None = None,
    note: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> Case:
    """Mark a case resolved, recording its root cause and resolution."""
    return _finish(
        case,
        CaseStatus.RESOLVED,
        root_cause,
        resolution,
        compensation_amount,
        compensation_voucher,
        note,
        actor,
        now,
    )


@transaction.atomic
def do_close(
    case: Case,
    *,
    root_cause: RootCause | int | None = None,
    resolution: str | None = None,
    compensation_amount: Any = None,
    compensation_voucher: str | None = None,
    note: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> Case:
    """Close a case; refused, saying what is missing, without a root cause and a resolution.

    After it closes, the customer is sent a short re-survey (see do_send_resurvey).
    """
    return _finish(
        case,
        CaseStatus.CLOSED,
        root_cause,
        resolution,
        compensation_amount,
        compensation_voucher,
        note,
        actor,
        now,
    )


def _finish(
    case: Case,
    to: str,
    root_cause: Any,
    resolution: str | None,
    amount: Any,
    voucher: str | None,
    note: str,
    actor: Any,
    now: datetime | None,
) -> Case:
    now = _now(now)
    case = Case.objects.select_for_update(of=("self",)).select_related("unit", "root_cause").get(pk=case.pk)
    if case.status == to:
        raise ValidationError(
            {"status": _("The case is already {status}.").format(status=case.get_status_display())}
        )
    if case.status == CaseStatus.CLOSED:
        raise ValidationError({"status": _("A closed case must be reopened first.")})
    fields = _record_resolution(
        case,
        root_cause=root_cause,
        resolution=resolution,
        compensation_amount=amount,
        compensation_voucher=voucher,
        note=note,
    )
    _require_resolution(case)
    if fields:
        case.save(update_fields=fields)
    _set_status(
        case,
        to,
        actor=actor,
        now=now,
        body=note,
        data={
            "root_cause": case.root_cause.code if case.root_cause else None,
            "resolution": case.resolution,
            "compensation_amount": str(case.compensation_amount)
            if case.compensation_amount is not None
            else None,
            "compensation_voucher": case.compensation_voucher,
        },
    )
    if to == CaseStatus.CLOSED:
        case_id = case.pk
        transaction.on_commit(lambda: _enqueue_resurvey(case_id))
    return case


def _enqueue_resurvey(case_id: int) -> None:
    from .tasks import send_resurvey

    try:
        send_resurvey.enqueue(case_id)
    except Exception:  # the periodic scan sends it later; a queue hiccup must not fail the close
        log.exception("cases: could not enqueue the re-survey of case %s", case_id)


@transaction.atomic
def do_reopen(case: Case, *, actor: Any = None, reason: str = "", now: datetime | None = None) -> Case:
    """Reopen a resolved or closed case: it goes back in progress with a fresh resolution clock."""
    now = _now(now)
    case = Case.objects.select_for_update(of=("self",)).select_related("unit").get(pk=case.pk)
    if case.status not in DONE_STATUSES:
        raise ValidationError({"status": _("Only a resolved or closed case can be reopened.")})
    if not reason.strip():
        raise ValidationError({"note": _("Say why the case is reopened.")})
    old = case.status
    case.reopen_count += 1
    case.status = CaseStatus.IN_PROGRESS if case.assignee_id else CaseStatus.NEW
    case.resolved_at = case.closed_at = None
    case.escalation_level = 0
    if case.resolution_target:
        case.resolution_due = add_business(_calendar(case), now, case.resolution_target)
    _schedule(case)
    case.save(
        update_fields=[
            "reopen_count",
            "status",
            "resolved_at",
            "closed_at",
            "escalation_level",
            "resolution_due",
            "next_escalation_at",
        ]
    )
    _event(
        case,
        EventKind.STATUS,
        actor=actor,
        now=now,
        from_status=old,
        to_status=case.status,
        body=reason,
        data={"reopen": case.reopen_count},
    )
    notify_people(
        "case.reopened",
        recipients=[case.assignee] if case.assignee_id else [],
        subject=_("Case {id} was reopened: {title}").format(id=case.pk, title=case.title),
        body=reason,
        context={"reopen_count": case.reopen_count},
        case=case,
    )
    return case


# --- notes and contacts ---------------------------------------------------------------------------


@transaction.atomic
def do_add_note(case: Case, body: str, *, actor: Any = None, now: datetime | None = None) -> CaseEvent:
    """An internal note on the case's timeline."""
    if not body.strip():
        raise ValidationError({"body": _("The note is empty.")})
    return _event(case, EventKind.NOTE, actor=actor, now=_now(now), body=body.strip())


@transaction.atomic
def do_log_contact(
    case: Case,
    body: str,
    *,
    direction: str = "out",
    channel: str = ContactChannel.PHONE,
    actor: Any = None,
    now: datetime | None = None,
) -> CaseEvent:
    """Log a message to or from the customer. The first one to the customer is the first response
    and stops the first-response clock; a message from a waiting customer restarts the clock."""
    now = _now(now)
    if not body.strip():
        raise ValidationError({"body": _("Write what was said.")})
    if channel not in ContactChannel.values:
        raise ValidationError({"channel": _("Unknown channel {value}.").format(value=channel)})
    if direction not in ("in", "out"):
        raise ValidationError({"direction": _("Direction is in or out.")})
    case = Case.objects.select_for_update(of=("self",)).select_related("unit").get(pk=case.pk)
    kind = EventKind.CONTACT_OUT if direction == "out" else EventKind.CONTACT_IN
    event = _event(case, kind, actor=actor, now=now, body=body.strip(), channel=channel)
    if direction == "out" and case.first_responded_at is None and case.status not in DONE_STATUSES:
        case.first_responded_at = now
        _schedule(case)
        case.save(update_fields=["first_responded_at", "next_escalation_at"])
    elif direction == "in" and case.status == CaseStatus.WAITING:
        _set_status(case, CaseStatus.IN_PROGRESS, actor=actor, now=now, data={"why": "customer replied"})
    return event


@transaction.atomic
def do_change_priority(case: Case, priority: str, *, actor: Any = None, now: datetime | None = None) -> Case:
    """Change a case's priority; its SLA follows the policy of the new priority from its opening."""
    now = _now(now)
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Unknown priority {value}.").format(value=priority)})
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("unit", "response", "feedback")
        .get(pk=case.pk)
    )
    if case.priority == priority:
        return case
    old = case.priority
    case.priority = priority
    fields = ["priority"]
    if case.status not in DONE_STATUSES:
        policy = queries.policy_for(case.unit, priority, _channel_of(case.response, case.feedback))
        if policy is not None:
            _apply_policy(case, policy, case.created_at)
            fields += [
                "sla_policy",
                "first_response_target",
                "resolution_target",
                "first_response_due",
                "resolution_due",
            ]
            _schedule(case)
            fields.append("next_escalation_at")
    case.save(update_fields=fields)
    _event(case, EventKind.PRIORITY, actor=actor, now=now, data={"from": old, "to": priority})
    return case


# --- escalation -----------------------------------------------------------------------------------


def _recipients(case: Case, level: int) -> list[Any]:
    if level == ESCALATION_LEVELS[0]:
        return [case.assignee] if case.assignee is not None else queries.unit_managers(case.unit)
    if level == ESCALATION_LEVELS[1]:
        return queries.unit_managers(case.unit) or ([case.assignee] if case.assignee else [])
    return queries.region_managers(case.unit) or queries.unit_managers(case.unit)


def escalate_case(
    case_id: int, now: datetime, cache: dict[int, Calendar] | None = None
) -> list[CaseEscalation]:
    """Fire the escalation steps of one case that are due at ``now``; each fires once (per reopen)."""
    fired: list[CaseEscalation] = []
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("unit", "assignee")
            .filter(pk=case_id)
            .exclude(status__in=[*DONE_STATUSES, CaseStatus.WAITING])
            .first()
        )
        if case is None:
            return fired
        cal = _calendar(case, cache)
        done = _fired(case)
        for track, level, at in sorted(_steps(case, cal), key=lambda s: (s[2], s[1])):
            if at > now or (track, level) in done:
                continue
            people = _recipients(case, level)
            try:
                with transaction.atomic():
                    esc = CaseEscalation.objects.create(
                        case=case,
                        track=track,
                        level=level,
                        cycle=case.reopen_count,
                        due_at=at,
                        fired_at=now,
                        recipients=[p.pk for p in people],
                    )
            except IntegrityError:
                continue  # another scanner fired it first
            fired.append(esc)
            label = SlaTrack(track).label
            _event(
                case,
                EventKind.ESCALATION,
                now=now,
                # xgettext:no-python-format
                body=_("{clock}: {level}% of the target used.").format(clock=label, level=level),
                data={"track": track, "level": level, "recipients": [p.get_username() for p in people]},
            )
            case.escalation_level = max(case.escalation_level, level)
            # xgettext:no-python-format
            subject = _("Case {id} at {level}% of its {clock} target: {title}").format(
                id=case.pk, level=level, clock=str(label).lower(), title=case.title
            )
            if notify_people(
                "case.escalated",
                recipients=people,
                subject=subject,
                body=f"{subject}\n{case_url(case)}",
                context={"track": track, "level": level, "due_at": at.isoformat()},
                case=case,
            ):
                esc.notified = True
                esc.save(update_fields=["notified"])
        _schedule(case, cal)
        case.save(update_fields=["escalation_level", "next_escalation_at"])
    return fired


def scan_sla(now: datetime | None = None, limit: int = 5000) -> int:
    """Fire every escalation step that is due; the periodic task calls this. Returns steps fired."""
    now = _now(now)
    due = list(
        Case.objects.filter(next_escalation_at__lte=now)
        .exclude(status__in=[*DONE_STATUSES, CaseStatus.WAITING])
        .order_by("next_escalation_at")
        .values_list("pk", flat=True)[:limit]
    )
    cache: dict[int, Calendar] = {}
    return sum(len(escalate_case(pk, now, cache)) for pk in due)


# --- configuration --------------------------------------------------------------------------------


def _hours(value: Any, field: str) -> Decimal:
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(
            {field: _("Hours must be a number, like 4 or 0.5; got {value}.").format(value=value)}
        ) from None
    if not Decimal("0") < hours <= Decimal("10000"):
        raise ValidationError(
            {field: _("Hours must be more than 0 and at most 10000; got {value}.").format(value=value)}
        )
    return hours


@transaction.atomic
def do_save_sla_policy(
    *,
    name: str,
    unit: OrgUnit,
    first_response_hours: Any,
    resolution_hours: Any,
    priority: str = "",
    channel: str = "",
    is_active: bool = True,
    policy: SlaPolicy | None = None,
) -> SlaPolicy:
    """Create or update an SLA policy; refused when another active one matches the same cases."""
    from manyi.feedback.choices import FeedbackChannel
    from manyi.responses.choices import Channel

    if not name.strip():
        raise ValidationError({"name": _("Give the policy a name.")})
    if priority and priority not in Priority.values:
        raise ValidationError({"priority": _("Unknown priority {value}.").format(value=priority)})
    channels = set(FeedbackChannel.values) | set(Channel.values)
    if channel and channel not in channels:
        raise ValidationError(
            {
                "channel": _("Unknown channel {value}; expected one of {allowed}.").format(
                    value=channel, allowed=", ".join(sorted(channels))
                )
            }
        )
    first = _hours(first_response_hours, "first_response_hours")
    resolution = _hours(resolution_hours, "resolution_hours")
    if resolution < first:
        raise ValidationError(
            {"resolution_hours": _("The resolution target cannot be shorter than the first-response target.")}
        )
    if is_active:
        clash = SlaPolicy.objects.filter(unit=unit, priority=priority, channel=channel, is_active=True)
        if policy is not None:
            clash = clash.exclude(pk=policy.pk)
        if clash.exists():
            raise ValidationError(
                _(
                    "Another active policy of this unit already covers this priority and channel: {name}."
                ).format(name=clash.first().name)  # type: ignore[union-attr]
            )
    policy = policy or SlaPolicy()
    policy.name = name.strip()
    policy.unit = unit
    policy.priority = priority
    policy.channel = channel
    policy.first_response_hours = first
    policy.resolution_hours = resolution
    policy.is_active = is_active
    policy.save()
    return policy


@transaction.atomic
def do_save_calendar(*, unit: OrgUnit, hours: dict[str, Any], holiday_region: str = "CN") -> BusinessCalendar:
    """Set a unit's working hours per weekday; refused with the exact problem if they are not valid."""
    try:
        week = parse_hours(hours)
        Calendar(tz=unit.timezone, week=week)
    except CalendarError as exc:
        raise ValidationError({"hours": str(exc)}) from None
    clean = {
        str(d): [
            [
                s.strftime("%H:%M"),
                "24:00" if e.hour == 23 and e.minute == 59 and e.second == 59 else e.strftime("%H:%M"),
            ]
            for s, e in spans
        ]
        for d, spans in week.items()
    }
    cal, _created = BusinessCalendar.objects.update_or_create(
        unit=unit, defaults={"hours": clean, "holiday_region": holiday_region.strip().upper()}
    )
    return cal


@transaction.atomic
def do_save_routing(
    *, unit: OrgUnit, mode: str, team: OrgUnit | None = None, resurvey: Any = None
) -> CaseRouting:
    """Set how a unit's new cases are assigned (its subtree follows) and which survey re-asks the
    customer after closing; refused with the exact problem."""
    from manyi.org.choices import UnitKind
    from manyi.surveys.choices import VersionStatus

    if mode not in RoutingMode.values:
        raise ValidationError({"mode": _("Unknown assignment {value}.").format(value=mode)})
    if mode == RoutingMode.ROUND_ROBIN:
        if team is None:
            raise ValidationError({"team": _("Round-robin needs a team.")})
        if team.kind != UnitKind.TEAM or not team.is_within(unit):
            raise ValidationError(
                {"team": _("Choose a team (an org unit of kind team) under {code}.").format(code=unit.code)}
            )
        if not queries.team_members(team):
            raise ValidationError(
                {"team": _("The team {code} has no active agents or managers.").format(code=team.code)}
            )
    else:
        team = None
    if resurvey is not None:
        if not unit.is_within(resurvey.unit) and not resurvey.unit.is_within(unit):
            raise ValidationError(
                {"resurvey": _("The re-survey must belong to this unit or a unit above it.")}
            )
        if not resurvey.versions.filter(status=VersionStatus.PUBLISHED).exists():
            raise ValidationError(
                {"resurvey": _("The re-survey {slug} has no published version.").format(slug=resurvey.slug)}
            )
    routing, _created = CaseRouting.objects.update_or_create(
        unit=unit, defaults={"mode": mode, "team": team, "resurvey": resurvey}
    )
    return routing


@transaction.atomic
def do_save_root_cause(
    *,
    code: str,
    name_zh: str,
    name_en: str,
    parent: RootCause | None = None,
    position: int = 0,
    is_active: bool = True,
    cause: RootCause | None = None,
) -> RootCause:
    """Create or update a root cause; the taxonomy has two levels, so a parent must be top level."""
    from django.utils.text import slugify

    code = code.strip()
    if not code or slugify(code) != code:
        raise ValidationError(
            {"code": _("The code must be lowercase letters, digits and hyphens, like process-queue.")}
        )
    if not name_zh.strip() or not name_en.strip():
        raise ValidationError({"name": _("Give the root cause a Chinese and an English name.")})
    if parent is not None and parent.parent_id is not None:
        raise ValidationError({"parent": _("The taxonomy has two levels: choose a top-level parent.")})
    if cause is not None and parent is not None and cause.children.exists():
        raise ValidationError(
            {"parent": _("This root cause has its own second level, so it must stay top level.")}
        )
    clash = RootCause.objects.filter(code=code)
    if cause is not None:
        clash = clash.exclude(pk=cause.pk)
    if clash.exists():
        raise ValidationError({"code": _("The code {code} is taken.").format(code=code)})
    cause = cause or RootCause()
    cause.code = code
    cause.name = {"zh-hans": name_zh.strip(), "en": name_en.strip()}
    cause.parent = parent
    cause.position = position
    cause.is_active = is_active
    cause.save()
    return cause


# --- recovery -------------------------------------------------------------------------------------


def do_send_resurvey(case_id: int, now: datetime | None = None) -> bool:
    """Send the closed case's customer a personal re-survey link, once; True when sent now.

    The link is a personal SurveyLink of the unit's re-survey (see queries.resurvey_survey_for) and
    goes out through the distribution adapters, in the customer's channel.
    """
    from . import recovery

    return recovery.send_resurvey(case_id, _now(now))


def iter_errors(exc: ValidationError) -> list[str]:
    """Every message of a ValidationError, prefixed by its field."""
    if hasattr(exc, "error_dict"):
        return [f"{field}: {m}" for field, errs in exc.message_dict.items() for m in errs]
    return list(exc.messages)


__all__ = [
    "TRANSITIONS",
    "business_seconds",
    "do_add_note",
    "do_assign",
    "do_assign_round_robin",
    "do_bulk_assign",
    "do_change_priority",
    "do_close",
    "do_log_contact",
    "do_reopen",
    "do_resolve",
    "do_save_calendar",
    "do_save_root_cause",
    "do_save_sla_policy",
    "do_send_resurvey",
    "do_transition",
    "escalate_case",
    "open_case",
    "scan_sla",
]
