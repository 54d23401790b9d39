"""Reads for cases: calendars and SLA policies that apply to a unit, who to escalate to, inbox
queries and the recovery metrics per unit and agent."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case as CaseWhen
from django.db.models import Count, F, IntegerField, Q, QuerySet, Value, When

from manyi.org.choices import Role, UnitKind
from manyi.org.models import OrgUnit, RoleAssignment
from manyi.org.scoping import ancestor_paths

from .business_time import Calendar, CalendarError, parse_hours
from .choices import DONE_STATUSES, CaseStatus, EventKind, HolidayKind, Resolution, RoutingMode, SlaState
from .models import BusinessCalendar, Case, CaseEvent, CaseRouting, Holiday, SlaPolicy

DEFAULT_HOURS: dict[str, list[list[str]]] = {
    str(d): ([["09:00", "18:00"]] if d <= 5 else []) for d in range(1, 8)
}


def _units_up(unit: OrgUnit) -> list[int]:
    """Primary keys of the unit and its ancestors, nearest first."""
    ids = [int(p.strip("/").split("/")[-1]) for p in ancestor_paths(unit.path)]
    return [unit.pk, *reversed(ids)]


# --- calendars ------------------------------------------------------------------------------------


def calendar_record_for(unit: OrgUnit) -> BusinessCalendar | None:
    """The business calendar a unit follows: its own, else its nearest ancestor's."""
    up = _units_up(unit)
    found = {c.unit_id: c for c in BusinessCalendar.objects.filter(unit_id__in=up)}
    for pk in up:
        if pk in found:
            return found[pk]
    return None


# Holidays change once a year (``manyi cases holidays load``): each process keeps them a minute.
_HOLIDAY_TTL = 60.0
_holiday_cache: dict[str, tuple[float, tuple[frozenset[date], frozenset[date]]]] = {}


def holidays(region: str) -> tuple[frozenset[date], frozenset[date]]:
    """(holidays, make-up workdays) of a holiday region."""
    if not region:
        return frozenset(), frozenset()
    hit = _holiday_cache.get(region)
    if hit is not None and time.monotonic() - hit[0] < _HOLIDAY_TTL:
        return hit[1]
    off: set[date] = set()
    on: set[date] = set()
    for day, kind in Holiday.objects.filter(region=region).values_list("date", "kind"):
        (off if kind == HolidayKind.HOLIDAY else on).add(day)
    result = (frozenset(off), frozenset(on))
    _holiday_cache[region] = (time.monotonic(), result)
    return result


def forget_holidays() -> None:
    """Drop the cached holidays (after loading new ones in this process)."""
    _holiday_cache.clear()


def calendar_for(unit: OrgUnit, cache: dict[int, Calendar] | None = None) -> Calendar:
    """The working calendar of a unit, in the unit's time zone, with its public holidays."""
    if cache is not None and unit.pk in cache:
        return cache[unit.pk]
    record = calendar_record_for(unit)
    hours = record.hours if record else DEFAULT_HOURS
    region = record.holiday_region if record else "CN"
    off, on = holidays(region)
    try:
        cal = Calendar(tz=unit.timezone, week=parse_hours(hours), holidays=off, workdays=on)
    except CalendarError:
        # A calendar saved through do_save_calendar is always valid; this guards hand-edited rows.
        cal = Calendar(tz=unit.timezone, week=parse_hours(DEFAULT_HOURS), holidays=off, workdays=on)
    if cache is not None:
        cache[unit.pk] = cal
    return cal


def holiday_years() -> list[int]:
    return sorted({d.year for d in Holiday.objects.values_list("date", flat=True)})


def holidays_in(region: str, year: int) -> QuerySet[Holiday]:
    return Holiday.objects.filter(region=region, date__year=year).order_by("date")


# --- SLA policies ---------------------------------------------------------------------------------


def policy_for(unit: OrgUnit, priority: str, channel: str = "") -> SlaPolicy | None:
    """The most specific active policy for a case: priority and channel set beat blank, then the
    deepest unit of the case's unit and its ancestors."""
    up = _units_up(unit)
    depth = {pk: i for i, pk in enumerate(up)}  # 0 = the unit itself
    candidates = SlaPolicy.objects.filter(unit_id__in=up, is_active=True).filter(
        Q(priority="") | Q(priority=priority)
    )
    candidates = (
        candidates.filter(Q(channel="") | Q(channel=channel)) if channel else candidates.filter(channel="")
    )
    best: SlaPolicy | None = None
    best_key: tuple[int, int, int] | None = None
    for p in candidates:
        key = (int(bool(p.priority)) + int(bool(p.channel)), int(bool(p.priority)), -depth[p.unit_id])
        if best_key is None or key > best_key:
            best, best_key = p, key
    return best


def policies_visible_to(user: Any) -> QuerySet[SlaPolicy]:
    return (
        SlaPolicy.objects.visible_to(user)
        .select_related("unit")
        .order_by("unit__path", "priority", "channel")
    )


def routing_record_for(unit: OrgUnit) -> CaseRouting | None:
    """The case routing set at the unit or its nearest ancestor that has one."""
    up = _units_up(unit)
    found = {
        r.unit_id: r for r in CaseRouting.objects.filter(unit_id__in=up).select_related("team", "resurvey")
    }
    for pk in up:
        if pk in found:
            return found[pk]
    return None


def routing_for(unit: OrgUnit) -> tuple[str, OrgUnit | None] | None:
    """(mode, team) of the nearest routing set at the unit or above; None for the default."""
    record = routing_record_for(unit)
    return None if record is None else (record.mode, record.team)


# --- people ---------------------------------------------------------------------------------------


def _holders(unit_ids: Iterable[int], roles: Iterable[str]) -> dict[int, list[Any]]:
    by_unit: dict[int, list[Any]] = {}
    for ra in (
        RoleAssignment.objects.filter(unit_id__in=list(unit_ids), role__in=list(roles), user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    ):
        by_unit.setdefault(ra.unit_id, []).append(ra.user)
    return by_unit


def unit_managers(unit: OrgUnit) -> list[Any]:
    """Unit managers of the unit, or of its nearest ancestor that has any."""
    up = _units_up(unit)
    holders = _holders(up, [Role.UNIT_MANAGER])
    for pk in up:
        if holders.get(pk):
            return holders[pk]
    return []


def region_managers(unit: OrgUnit) -> list[Any]:
    """Managers of the region above the unit (the first unit of kind region up the tree); above
    that, the nearest unit or CX managers higher up than the unit's own managers."""
    up = list(OrgUnit.objects.filter(pk__in=_units_up(unit)).order_by("-depth"))
    holders = _holders([u.pk for u in up], [Role.UNIT_MANAGER, Role.CX_MANAGER])
    own = {u.pk for u in unit_managers(unit)}
    region_seen = False
    for u in up:
        if u.kind == UnitKind.REGION:
            region_seen = True
        if region_seen and holders.get(u.pk):
            people = [p for p in holders[u.pk] if p.pk not in own]
            if people:
                return people
    # No region above (or nobody there): the nearest manager above the unit's own managers.
    for u in up[1:]:
        people = [p for p in holders.get(u.pk, []) if p.pk not in own]
        if people:
            return people
    return []


def team_members(team: OrgUnit) -> list[Any]:
    """Active agents and unit managers holding a role at the team unit itself, by id."""
    return _holders([team.pk], [Role.AGENT, Role.UNIT_MANAGER]).get(team.pk, [])


def user_teams(user: Any) -> list[int]:
    return list(
        RoleAssignment.objects.filter(user=user, unit__kind=UnitKind.TEAM).values_list("unit_id", flat=True)
    )


def user_units(user: Any) -> list[OrgUnit]:
    return [
        ra.unit
        for ra in RoleAssignment.objects.filter(user=user, unit__is_active=True).select_related("unit")
    ]


WORKING_ROLES = (Role.ADMIN, Role.CX_MANAGER, Role.UNIT_MANAGER, Role.AGENT)


def can_work_case(user: Any, case: Case) -> bool:
    """True when the staff member holds a working role (not viewer or analyst) covering the case's unit."""
    if not getattr(user, "is_active", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    return RoleAssignment.objects.filter(
        user=user, role__in=WORKING_ROLES, unit_id__in=_units_up(case.unit), unit__is_active=True
    ).exists()


def staff_in_scope(user: Any) -> list[Any]:
    """Active staff holding a working role somewhere in the user's scope (for assignment lists)."""
    from manyi.org.scoping import scope_paths

    paths = scope_paths(user)
    qs = RoleAssignment.objects.filter(role__in=WORKING_ROLES, user__is_active=True)
    if paths is not None:
        cond = Q(pk__in=[])
        for p in paths:
            cond |= Q(unit__path__startswith=p)
        qs = qs.filter(cond)
    User = get_user_model()
    return list(User.objects.filter(pk__in=qs.values("user_id")).order_by("username"))


def configurable_units(user: Any) -> list[OrgUnit]:
    """Units where the user may set SLA policies and calendars: under their admin or CX manager roles."""
    qs = OrgUnit.objects.filter(is_active=True)
    if not getattr(user, "is_superuser", False):
        paths = list(
            RoleAssignment.objects.filter(user=user, role__in=[Role.ADMIN, Role.CX_MANAGER]).values_list(
                "unit__path", flat=True
            )
        )
        if not paths:
            return []
        cond = Q(pk__in=[])
        for p in paths:
            cond |= Q(path__startswith=p)
        qs = qs.filter(cond)
    return list(qs.order_by("path"))


def countdown(case: Case, now: datetime) -> tuple[str, float | None, datetime | None]:
    """(SLA state, seconds until the nearest running deadline (negative when overdue), that deadline)."""
    state = sla_state(case, now)
    due = next_due(case)
    if due is None or state in (SlaState.PAUSED, SlaState.DONE):
        return state, None, due
    return state, (due - now).total_seconds(), due


def can_configure(user: Any, unit: OrgUnit | None = None) -> bool:
    """Administrators and CX managers (at the unit or above it, when one is given) edit SLA
    policies, calendars and the root-cause taxonomy."""
    if getattr(user, "is_superuser", False):
        return True
    qs = RoleAssignment.objects.filter(user=user, role__in=[Role.ADMIN, Role.CX_MANAGER])
    if unit is not None:
        qs = qs.filter(unit_id__in=_units_up(unit))
    return qs.exists()


# --- inbox ----------------------------------------------------------------------------------------


def sla_state(case: Case, now: datetime) -> str:
    if case.status in DONE_STATUSES:
        return SlaState.DONE
    if case.status == CaseStatus.WAITING:
        return SlaState.PAUSED
    dues = [d for d in (_open_due(case)) if d is not None]
    if any(d <= now for d in dues) or case.escalation_level >= 100:
        return SlaState.BREACHED
    if case.escalation_level >= 50:
        return SlaState.AT_RISK
    return SlaState.ON_TRACK


def _open_due(case: Case) -> list[datetime | None]:
    return [
        case.first_response_due if case.first_responded_at is None else None,
        case.resolution_due,
    ]


def next_due(case: Case) -> datetime | None:
    """The nearest deadline still running: first response until it is made, then resolution."""
    if case.status in DONE_STATUSES:
        return None
    dues = [d for d in _open_due(case) if d is not None]
    return min(dues) if dues else None


def inbox(
    user: Any,
    *,
    tab: str = "mine",
    status: str = "",
    priority: str = "",
    sla: str = "",
    unit: OrgUnit | None = None,
    now: datetime,
) -> QuerySet[Case]:
    """Cases a staff member sees in the inbox tab, filtered; open ones by nearest deadline."""
    qs = Case.objects.visible_to(user).select_related("unit", "assignee")
    if tab == "mine":
        qs = qs.filter(assignee=user)
    elif tab == "team":
        teams = user_teams(user)
        members = RoleAssignment.objects.filter(unit_id__in=teams).values("user_id")
        qs = qs.filter(Q(team_id__in=teams) | Q(assignee_id__in=members))
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if status == "open":
        qs = qs.exclude(status__in=DONE_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if priority:
        qs = qs.filter(priority=priority)
    if sla:
        running = qs.exclude(status__in=[*DONE_STATUSES, CaseStatus.WAITING])
        overdue = Q(first_responded_at__isnull=True, first_response_due__lte=now) | Q(resolution_due__lte=now)
        if sla == SlaState.PAUSED:
            qs = qs.filter(status=CaseStatus.WAITING)
        elif sla == SlaState.DONE:
            qs = qs.filter(status__in=DONE_STATUSES)
        elif sla == SlaState.BREACHED:
            qs = running.filter(overdue | Q(escalation_level__gte=100))
        elif sla == SlaState.AT_RISK:
            qs = running.exclude(overdue).filter(escalation_level=50)
        elif sla == SlaState.ON_TRACK:
            qs = running.exclude(overdue).filter(escalation_level=0)
    # Open cases first, nearest deadline first; finished ones after them, newest first.
    done = CaseWhen(
        When(status__in=DONE_STATUSES, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return qs.annotate(_done=done).order_by(
        "_done", F("resolution_due").asc(nulls_last=True), "-created_at", "-id"
    )


def case_for(user: Any, pk: int) -> Case | None:
    return (
        Case.objects.visible_to(user)
        .select_related(
            "unit", "assignee", "customer", "response", "feedback", "root_cause__parent", "sla_policy", "team"
        )
        .filter(pk=pk)
        .first()
    )


def timeline(case: Case) -> list[CaseEvent]:
    """The case's log, oldest first; an assignment carries ``assignee`` (the user it went to, read
    once for the whole log) and ``how_label``, how it was assigned, for the page to name."""
    from django.contrib.auth import get_user_model

    events = list(case.events.select_related("actor").order_by("created_at", "id"))
    ids = {e.data.get("to") for e in events if e.kind == "assignment" and isinstance(e.data, dict)}
    ids.discard(None)
    users = get_user_model().objects.in_bulk([i for i in ids if isinstance(i, int)]) if ids else {}
    for e in events:
        if e.kind == "assignment" and isinstance(e.data, dict):
            how = e.data.get("how")
            e.assignee = users.get(e.data.get("to"))  # type: ignore[attr-defined]
            e.how_label = RoutingMode(how).label if how in RoutingMode.values else ""  # type: ignore[attr-defined]
    return events


def customer_history(case: Case, limit: int = 20) -> dict[str, list[Any]]:
    """The customer's other cases, responses and feedback, newest first (within the same scope)."""
    if case.customer_id is None:
        return {"cases": [], "responses": [], "feedback": []}
    from manyi.feedback.models import FeedbackRecord
    from manyi.responses.models import Response

    return {
        "cases": list(
            Case.objects.filter(customer_id=case.customer_id)
            .exclude(pk=case.pk)
            .order_by("-created_at")[:limit]
        ),
        "responses": list(
            Response.objects.filter(customer_id=case.customer_id).order_by("-submitted_at")[:limit]
        ),
        "feedback": list(
            FeedbackRecord.objects.filter(customer_id=case.customer_id).order_by("-occurred_at")[:limit]
        ),
    }


def assignable_staff(case: Case) -> list[Any]:
    """Active staff whose roles cover the case's unit (those who could work it), by username."""
    up = _units_up(case.unit)
    User = get_user_model()
    return list(
        User.objects.filter(Q(is_superuser=True) | Q(roles__unit_id__in=up), is_active=True)
        .distinct()
        .order_by("username")
    )


# --- metrics --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseMetrics:
    """Recovery and speed figures for a group of cases (a unit's subtree, or one agent's)."""

    cases: int
    closed: int
    detractor_cases: int
    recovered: int
    recovery_rate: float | None  # detractors who later answered passive or promoter
    first_response_hours_median: float | None
    resolution_hours_median: float | None
    first_contact_resolution: float | None
    sla_attainment: float | None  # resolved on time / resolved, in percent
    reopen_rate: float | None
    compensation_cost: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


def _is_detractor(nps: int | None, csat: int | None, ces: int | None) -> bool:
    if nps is not None:
        return nps <= 6
    if csat is not None:
        return csat <= 2
    return ces is not None and ces <= 2


def _is_recovered(nps: int | None, csat: int | None, ces: int | None) -> bool:
    """Passive or promoter again: NPS ≥ 7, CSAT ≥ 3 (of 5), CES ≥ 4 (of 7): neutral or better."""
    if nps is not None:
        return nps >= 7
    if csat is not None:
        return csat >= 3
    return ces is not None and ces >= 4


def case_metrics(cases: QuerySet[Case]) -> CaseMetrics:
    """The recovery metrics of a set of cases (already scoped by the caller)."""
    from manyi.responses.models import Response

    rows: list[dict[str, Any]] = [
        dict(r)
        for r in cases.annotate(
            contacts=Count("events", filter=Q(events__kind=EventKind.CONTACT_OUT))
        ).values(
            "id",
            "status",
            "created_at",
            "first_responded_at",
            "resolved_at",
            "resolution_due",
            "reopen_count",
            "resolution",
            "compensation_amount",
            "customer_id",
            "response__nps",
            "response__csat",
            "response__ces",
            "contacts",
        )
    ]
    detractors = [
        r
        for r in rows
        if r["customer_id"] is not None
        and _is_detractor(r["response__nps"], r["response__csat"], r["response__ces"])
    ]
    recovered = 0
    if detractors:
        customers = {r["customer_id"] for r in detractors}
        later: dict[int, list[tuple[datetime, bool]]] = {}
        for cid, at, nps, csat, ces in Response.objects.filter(customer_id__in=customers).values_list(
            "customer_id", "submitted_at", "nps", "csat", "ces"
        ):
            if nps is None and csat is None and ces is None:
                continue
            later.setdefault(cid, []).append((at, _is_recovered(nps, csat, ces)))
        for r in detractors:
            answers = sorted(a for a in later.get(r["customer_id"], []) if a[0] > r["created_at"])
            if answers and answers[0][1]:
                recovered += 1
    first = [
        (r["first_responded_at"] - r["created_at"]).total_seconds() / 3600
        for r in rows
        if r["first_responded_at"] is not None
    ]
    resolved = [r for r in rows if r["resolved_at"] is not None]
    to_resolve = [(r["resolved_at"] - r["created_at"]).total_seconds() / 3600 for r in resolved]
    on_time = sum(
        1 for r in resolved if r["resolution_due"] is None or r["resolved_at"] <= r["resolution_due"]
    )
    fcr = sum(1 for r in resolved if r["contacts"] <= 1 and r["reopen_count"] == 0)
    cost = sum(
        (r["compensation_amount"] for r in rows if r["compensation_amount"] is not None),
        Decimal("0"),
    )
    return CaseMetrics(
        cases=len(rows),
        closed=sum(1 for r in rows if r["status"] == CaseStatus.CLOSED),
        detractor_cases=len(detractors),
        recovered=recovered,
        recovery_rate=_ratio(recovered, len(detractors)),
        first_response_hours_median=None if not first else round(_median(first) or 0.0, 2),
        resolution_hours_median=None if not to_resolve else round(_median(to_resolve) or 0.0, 2),
        first_contact_resolution=_ratio(fcr, len(resolved)),
        sla_attainment=_ratio(on_time, len(resolved)),
        reopen_rate=_ratio(sum(1 for r in resolved if r["reopen_count"] > 0), len(resolved)),
        compensation_cost=cost,
    )


def metrics_by_unit(user: Any, unit: OrgUnit, since: datetime | None = None) -> CaseMetrics:
    qs = Case.objects.visible_to(user).filter(unit__path__startswith=unit.path)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return case_metrics(qs)


def metrics_by_agent(user: Any, agent: Any, since: datetime | None = None) -> CaseMetrics:
    qs = Case.objects.visible_to(user).filter(assignee=agent)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return case_metrics(qs)


def agent_metrics(user: Any, unit: OrgUnit, since: datetime | None = None) -> list[tuple[Any, CaseMetrics]]:
    """One row per assignee of the unit's cases."""
    qs = Case.objects.visible_to(user).filter(unit__path__startswith=unit.path, assignee__isnull=False)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    User = get_user_model()
    ids = sorted(set(qs.values_list("assignee_id", flat=True)))
    return [(agent, case_metrics(qs.filter(assignee=agent))) for agent in User.objects.filter(pk__in=ids)]


def compensation_resolutions() -> tuple[str, ...]:
    return (Resolution.COMPENSATION, Resolution.REFUND)


def window(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)
