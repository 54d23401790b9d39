"""Console pages of cases: the inbox, the case page with its transitions, SLA policies, the
root-cause taxonomy, unit calendars, the holiday calendar and the recovery metrics.

Every read goes through ``visible_to(request.user)`` (an id outside the user's subtree is a 404);
every write is one call to ``manyi.cases.actions``, whose refusals are shown as they are worded.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from manyi.cases import actions, queries
from manyi.cases.actions import TRANSITIONS
from manyi.cases.choices import (
    DONE_STATUSES,
    CaseStatus,
    ContactChannel,
    Priority,
    Resolution,
    RoutingMode,
    SlaState,
)
from manyi.cases.models import Case, CaseEscalation, RootCause, SlaPolicy
from manyi.org.models import OrgUnit
from manyi.surveys.models import Survey

from . import queries as console_queries

PAGE_SIZE = 50
TABS = (("unit", _("My units")), ("team", _("My team")), ("mine", _("Mine")))
WEEKDAYS = (
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
    (7, _("Sunday")),
)


def _lang() -> str:
    return get_language() or settings.LANGUAGE_CODE


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


def countdown_text(seconds: float | None) -> str:
    """ "3 h 20 min left" or "overdue by 1 d 2 h" (wall-clock time to the nearest deadline)."""
    if seconds is None:
        return ""
    left = abs(int(seconds)) // 60
    d, rem = divmod(left, 24 * 60)
    h, m = divmod(rem, 60)
    if d:
        span = gettext("{d} d {h} h").format(d=d, h=h)
    elif h:
        span = gettext("{h} h {m} min").format(h=h, m=m)
    else:
        span = gettext("{m} min").format(m=m)
    if seconds < 0:
        return gettext("overdue by {span}").format(span=span)
    return gettext("{span} left").format(span=span)


def _visible_unit(user: Any, raw: str | None) -> OrgUnit | None:
    """A unit from the query string, only when the user may read it (else no filter at all)."""
    if not raw or not str(raw).isdigit():
        return None
    return OrgUnit.objects.visible_to(user).filter(pk=int(raw)).first()


# --- inbox ----------------------------------------------------------------------------------------


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """The case inbox: tabs (my units, my team, mine), filters, SLA countdown, bulk assignment."""
    now = timezone.now()
    tab = request.GET.get("tab") or "unit"
    if tab not in dict(TABS):
        tab = "unit"
    # The inbox opens on the cases still to work; "Any" (an empty value) shows closed ones too.
    status = request.GET.get("status", "open")
    status = status if status in ("open", *CaseStatus.values) else ""
    priority = request.GET.get("priority", "")
    priority = priority if priority in Priority.values else ""
    sla = request.GET.get("sla", "")
    sla = sla if sla in SlaState.values else ""
    unit = _visible_unit(request.user, request.GET.get("unit"))
    qs = queries.inbox(request.user, tab=tab, status=status, priority=priority, sla=sla, unit=unit, now=now)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for c in page:
        state, seconds, due = queries.countdown(c, now)
        rows.append({"c": c, "state": state, "due": due, "left": countdown_text(seconds)})
    ctx = {
        "page": page,
        "rows": rows,
        "tab": tab,
        "tabs": TABS,
        "status": status,
        "priority": priority,
        "sla": sla,
        "unit": unit,
        "statuses": CaseStatus.choices,
        "priorities": Priority.choices,
        "sla_states": SlaState.choices,
        "units": list(OrgUnit.objects.visible_to(request.user).filter(is_active=True).order_by("path")[:500]),
        "staff": queries.staff_in_scope(request.user),
        "lang": _lang(),
        "query": request.GET.urlencode(),
    }
    return render(request, "console/cases/inbox.html", ctx)


@login_required
@require_POST
def case_bulk_assign(request: HttpRequest) -> HttpResponse:
    ids = [int(x) for x in request.POST.getlist("case") if x.isdigit()]
    back = request.POST.get("next") or ""
    target = reverse("console:case_list") + (f"?{back}" if back and "//" not in back else "")
    User = get_user_model()
    assignee = User.objects.filter(pk=request.POST.get("assignee") or 0, is_active=True).first()
    if not ids:
        messages.error(request, gettext("Tick the cases to assign."))
        return redirect(target)
    if assignee is None or assignee not in queries.staff_in_scope(request.user):
        messages.error(request, gettext("Choose who the cases are assigned to."))
        return redirect(target)
    done, errors = actions.do_bulk_assign(ids, assignee, actor=request.user)
    if done:
        from .templatetags.console_tags import staff_name

        text = ngettext("{n} case assigned to {name}.", "{n} cases assigned to {name}.", done)
        messages.success(request, text.format(n=done, name=staff_name(assignee)))
    for e in errors:
        messages.error(request, e)
    return redirect(target)


# --- the case page --------------------------------------------------------------------------------


class CloseForm(forms.Form):
    """Root cause and resolution, required to resolve or close a case (the action says what's missing)."""

    root_cause = forms.TypedChoiceField(label=_("Root cause"), coerce=int, required=False, empty_value=None)
    resolution = forms.ChoiceField(
        label=_("Resolution"), choices=[("", "—"), *Resolution.choices], required=False
    )
    compensation_amount = forms.CharField(label=_("Compensation amount (CNY)"), required=False, max_length=20)
    compensation_voucher = forms.CharField(label=_("Voucher code"), required=False, max_length=64)
    note = forms.CharField(label=_("What was done"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, lang: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["root_cause"].choices = root_cause_choices(lang)  # type: ignore[attr-defined]


def root_cause_choices(lang: str) -> list[Any]:
    """Grouped choices: each top level with its active second level (a top level alone if it has none)."""
    tops = RootCause.objects.filter(parent=None, is_active=True).prefetch_related("children")
    out: list[Any] = [("", "—")]
    for top in tops:
        children = [c for c in top.children.all() if c.is_active]
        if children:
            out.append((top.display_name(lang), [(c.pk, c.display_name(lang)) for c in children]))
        else:
            out.append((top.pk, top.display_name(lang)))
    return out


def _case_or_404(request: HttpRequest, pk: int) -> Case:
    case = queries.case_for(request.user, pk)
    if case is None:
        raise Http404
    return case


def _act(request: HttpRequest, case: Case) -> None:
    """Run the action the case page's form names; raises ValidationError as the action words it."""
    user = request.user
    p = request.POST
    what = p.get("action", "")
    if not queries.can_work_case(user, case):
        raise ValidationError(gettext("Your role lets you read this case, not work on it."))
    if what == "note":
        actions.do_add_note(case, p.get("body", ""), actor=user)
    elif what == "contact":
        actions.do_log_contact(
            case,
            p.get("body", ""),
            direction=p.get("direction", "out"),
            channel=p.get("channel", ""),
            actor=user,
        )
    elif what == "transition":
        actions.do_transition(case, p.get("to", ""), actor=user, note=p.get("note", ""))
    elif what == "assign":
        User = get_user_model()
        assignee = User.objects.filter(pk=p.get("assignee") or 0).first()
        actions.do_assign(case, assignee, actor=user)
    elif what == "take":
        actions.do_assign(case, user, actor=user)
    elif what == "priority":
        actions.do_change_priority(case, p.get("priority", ""), actor=user)
    elif what in ("resolve", "close"):
        form = CloseForm(p, lang=_lang())
        form.is_valid()
        data = form.cleaned_data
        fn = actions.do_close if what == "close" else actions.do_resolve
        fn(
            case,
            root_cause=data.get("root_cause"),
            resolution=data.get("resolution") or None,
            compensation_amount=data.get("compensation_amount"),
            compensation_voucher=data.get("compensation_voucher"),
            note=data.get("note", ""),
            actor=user,
        )
    elif what == "reopen":
        actions.do_reopen(case, reason=p.get("note", ""), actor=user)
    else:
        raise ValidationError(gettext("Unknown action."))


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page: facts and SLA, timeline, notes, communication, source, customer history, forms."""
    case = _case_or_404(request, pk)
    errors: list[str] = []
    if request.method == "POST":
        try:
            _act(request, case)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("console:case_detail", pk=case.pk)
        case = _case_or_404(request, pk)
    now = timezone.now()
    lang = _lang()
    state, seconds, due = queries.countdown(case, now)
    linked = console_queries.case_context(request.user, case)
    customer = linked["customer"]
    history = console_queries.customer_history(request.user, customer) if customer else None
    close_form = CloseForm(
        request.POST
        if request.method == "POST" and request.POST.get("action") in ("resolve", "close")
        else None,
        lang=lang,
        initial={
            "root_cause": case.root_cause_id,
            "resolution": case.resolution,
            "compensation_amount": case.compensation_amount,
            "compensation_voucher": case.compensation_voucher,
            "note": case.resolution_note,
        },
    )
    ctx = {
        "c": case,
        "lang": lang,
        "errors": errors,
        "state": state,
        "left": countdown_text(seconds),
        "due": due,
        "timeline": queries.timeline(case),
        "escalations": CaseEscalation.objects.filter(case=case).order_by("fired_at", "id"),
        "history": history,
        "can_work": queries.can_work_case(request.user, case),
        "next_statuses": [
            (s, CaseStatus(s).label)
            for s in TRANSITIONS[case.status]
            if s not in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and case.status not in DONE_STATUSES
        ],
        "is_done": case.status in DONE_STATUSES,
        "staff": [u for u in queries.assignable_staff(case) if queries.can_work_case(u, case)],
        "channels": ContactChannel.choices,
        "priorities": Priority.choices,
        "close_form": close_form,
        **linked,
    }
    return render(request, "console/cases/case.html", ctx, status=400 if errors else 200)


# --- SLA policies ---------------------------------------------------------------------------------


class SlaPolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    unit = forms.TypedChoiceField(
        label=_("Org unit"),
        coerce=int,
        help_text=_("Applies to the cases of this unit and every unit below it."),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=[("", _("Any"))], required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", _("Any"))], required=False)
    first_response_hours = forms.CharField(label=_("First response within (business hours)"), max_length=12)
    resolution_hours = forms.CharField(label=_("Resolution within (business hours)"), max_length=12)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, units: list[OrgUnit], lang: str, **kwargs: Any) -> None:
        from manyi.feedback.choices import FeedbackChannel
        from manyi.responses.choices import Channel

        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, f"{'· ' * u.depth}{u.display_name(lang)}") for u in units]  # type: ignore[attr-defined]
        self.fields["priority"].choices = [("", _("Any")), *Priority.choices]  # type: ignore[attr-defined]
        seen: dict[str, Any] = {}
        for value, label in [*Channel.choices, *FeedbackChannel.choices]:
            seen.setdefault(value, label)
        self.fields["channel"].choices = [("", _("Any")), *seen.items()]  # type: ignore[attr-defined]


@login_required
def case_sla_list(request: HttpRequest) -> HttpResponse:
    policies = queries.policies_visible_to(request.user)
    ctx = {
        "policies": policies,
        "can_add": bool(queries.configurable_units(request.user)),
        "lang": _lang(),
    }
    return render(request, "console/cases/sla_list.html", ctx)


def _save_policy(request: HttpRequest, policy: SlaPolicy | None) -> HttpResponse:
    lang = _lang()
    units = queries.configurable_units(request.user)
    can_edit = policy is None or any(u.pk == policy.unit_id for u in units)
    initial = {}
    if policy is not None:
        initial = {
            "name": policy.name,
            "unit": policy.unit_id,
            "priority": policy.priority,
            "channel": policy.channel,
            "first_response_hours": policy.first_response_hours.normalize(),
            "resolution_hours": policy.resolution_hours.normalize(),
            "is_active": policy.is_active,
        }
    if policy is not None and not can_edit:
        # Read-only for those who may see the policy but not change it (store managers).
        units = [policy.unit]
    form = SlaPolicyForm(request.POST or None, units=units, lang=lang, initial=initial)
    if not can_edit:
        for f in form.fields.values():
            f.disabled = True
    if request.method == "POST" and can_edit and form.is_valid():
        data = form.cleaned_data
        unit = next(u for u in units if u.pk == data["unit"])
        try:
            saved = actions.do_save_sla_policy(
                name=data["name"],
                unit=unit,
                priority=data["priority"],
                channel=data["channel"],
                first_response_hours=data["first_response_hours"],
                resolution_hours=data["resolution_hours"],
                is_active=data["is_active"],
                policy=policy,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, msgs in exc.message_dict.items():
                    for m in msgs:
                        form.add_error(field if field in form.fields else None, m)
            else:
                for m in exc.messages:
                    form.add_error(None, m)
        else:
            messages.success(request, gettext("SLA policy {name} saved.").format(name=saved.name))
            return redirect("console:case_sla_list")
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and not can_edit:
        status = 403
    ctx = {"form": form, "policy": policy, "can_edit": can_edit, "lang": lang}
    return render(request, "console/cases/sla_form.html", ctx, status=status)


@login_required
def case_sla_create(request: HttpRequest) -> HttpResponse:
    if not queries.configurable_units(request.user):
        ctx = {"form": None, "policy": None, "can_edit": False, "lang": _lang()}
        status = 403 if request.method == "POST" else 200
        return render(request, "console/cases/sla_form.html", ctx, status=status)
    return _save_policy(request, None)


@login_required
def case_sla_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(queries.policies_visible_to(request.user), pk=pk)
    return _save_policy(request, policy)


# --- root causes ----------------------------------------------------------------------------------


@login_required
def case_root_causes(request: HttpRequest) -> HttpResponse:
    """The two-level taxonomy; administrators and CX managers add, rename, reorder and retire."""
    can_edit = queries.can_configure(request.user)
    errors: list[str] = []
    if request.method == "POST":
        if not can_edit:
            errors = [gettext("Only administrators and CX managers edit the root-cause taxonomy.")]
        else:
            p = request.POST
            cause = RootCause.objects.filter(pk=p.get("cause") or 0).first() if p.get("cause") else None
            parent = RootCause.objects.filter(pk=p.get("parent") or 0).first() if p.get("parent") else None
            try:
                position = int(p.get("position") or 0)
            except ValueError:
                position = 0
            try:
                saved = actions.do_save_root_cause(
                    code=p.get("code", ""),
                    name_zh=p.get("name_zh", ""),
                    name_en=p.get("name_en", ""),
                    parent=parent,
                    position=position,
                    is_active=p.get("is_active") == "on",
                    cause=cause,
                )
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                messages.success(request, gettext("Root cause {code} saved.").format(code=saved.code))
                return redirect("console:case_root_causes")
    tops = list(RootCause.objects.filter(parent=None).prefetch_related("children"))
    for top in tops:
        for rc in [top, *top.children.all()]:
            rc.name_zh = (rc.name or {}).get("zh-hans", "")  # type: ignore[attr-defined]
            rc.name_en = (rc.name or {}).get("en", "")  # type: ignore[attr-defined]
    ctx = {"tops": tops, "can_edit": can_edit, "errors": errors, "lang": _lang(), "post": request.POST}
    return render(request, "console/cases/root_causes.html", ctx, status=400 if errors else 200)


# --- calendars ------------------------------------------------------------------------------------


def _hours_text(spans: list[list[str]]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in spans)


def _parse_hours_text(day: int, text: str) -> list[list[str]]:
    spans = []
    for part in (x.strip() for x in text.replace("，", ",").split(",")):
        if not part:
            continue
        bits = [b.strip() for b in part.replace("–", "-").split("-")]
        if len(bits) != 2:
            raise ValidationError(
                gettext("{day}: write spans like 09:00-12:00, 13:00-18:00; got {text}.").format(
                    day=dict(WEEKDAYS)[day], text=part
                )
            )
        spans.append(bits)
    return spans


@login_required
def case_calendar(request: HttpRequest, unit_pk: int) -> HttpResponse:
    """A unit's working hours (its own, or the ones it inherits) and its holiday calendar."""
    unit = get_object_or_404(OrgUnit.objects.visible_to(request.user), pk=unit_pk)
    can_edit = queries.can_configure(request.user, unit)
    errors: list[str] = []
    record = queries.calendar_record_for(unit)
    hours = record.hours if record else queries.DEFAULT_HOURS
    region = record.holiday_region if record else "CN"
    routing = queries.routing_record_for(unit)
    teams = list(
        OrgUnit.objects.filter(path__startswith=unit.path, kind="team", is_active=True).order_by("path")
    )
    surveys = list(
        Survey.objects.visible_to(request.user).filter(
            unit_id__in=[int(x) for x in unit.path.strip("/").split("/")]
        )
    )
    if request.method == "POST" and request.POST.get("form") == "routing":
        if not can_edit:
            errors = [gettext("Only administrators and CX managers change how cases are assigned.")]
        else:
            p = request.POST
            team = next((t for t in teams if str(t.pk) == p.get("team")), None)
            resurvey = next((x for x in surveys if str(x.pk) == p.get("resurvey")), None)
            try:
                actions.do_save_routing(unit=unit, mode=p.get("mode", ""), team=team, resurvey=resurvey)
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                messages.success(request, gettext("Case assignment saved."))
                return redirect("console:case_calendar", unit_pk=unit.pk)
    elif request.method == "POST":
        if not can_edit:
            errors = [gettext("Only administrators and CX managers change working hours.")]
        else:
            try:
                new_hours = {
                    str(d): _parse_hours_text(d, request.POST.get(f"day{d}", "")) for d, _l in WEEKDAYS
                }
                actions.do_save_calendar(
                    unit=unit, hours=new_hours, holiday_region=request.POST.get("holiday_region", "")
                )
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                messages.success(request, gettext("Working hours saved."))
                return redirect("console:case_calendar", unit_pk=unit.pk)
    days = [
        (
            d,
            label,
            request.POST.get(f"day{d}")
            if errors and request.POST.get("form") != "routing"
            else _hours_text(hours.get(str(d), [])),
        )
        for d, label in WEEKDAYS
    ]
    ctx = {
        "unit": unit,
        "own": record is not None and record.unit_id == unit.pk,
        "inherited_from": record.unit if record is not None and record.unit_id != unit.pk else None,
        "days": days,
        "region": region,
        "routing": routing,
        "routing_own": routing is not None and routing.unit_id == unit.pk,
        "modes": RoutingMode.choices,
        "teams": teams,
        "surveys": surveys,
        "can_edit": can_edit,
        "errors": errors,
        "lang": _lang(),
    }
    return render(request, "console/cases/calendar.html", ctx, status=400 if errors else 200)


@login_required
def case_holidays(request: HttpRequest) -> HttpResponse:
    """Public holidays and make-up workdays by year."""
    years = queries.holiday_years()
    raw = request.GET.get("year", "")
    this_year = timezone.localdate().year
    year = int(raw) if raw.isdigit() and 1900 < int(raw) < 2200 else this_year
    region = (request.GET.get("region") or "CN").upper()[:8]
    ctx = {
        "years": years,
        "year": year,
        "region": region,
        "days": queries.holidays_in(region, year),
        "units": list(OrgUnit.objects.visible_to(request.user).filter(is_active=True).order_by("path")[:500]),
        "lang": _lang(),
    }
    return render(request, "console/cases/holidays.html", ctx)


# --- metrics --------------------------------------------------------------------------------------


@login_required
def case_metrics(request: HttpRequest) -> HttpResponse:
    """Recovery metrics of a unit (and per agent): recovery rate, speed, SLA attainment, cost."""
    lang = _lang()
    units = list(OrgUnit.objects.visible_to(request.user).filter(is_active=True).order_by("path")[:500])
    unit = _visible_unit(request.user, request.GET.get("unit")) or (units[0] if units else None)
    days_raw = request.GET.get("days", "90")
    days = int(days_raw) if days_raw.isdigit() and 0 < int(days_raw) <= 3660 else 90
    since = queries.window(days, timezone.now())
    ctx: dict[str, Any] = {"units": units, "unit": unit, "days": days, "lang": lang}
    if unit is not None:
        ctx["total"] = queries.metrics_by_unit(request.user, unit, since)
        ctx["agents"] = queries.agent_metrics(request.user, unit, since)
    return render(request, "console/cases/metrics.html", ctx)
