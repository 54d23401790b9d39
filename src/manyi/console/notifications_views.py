"""Console pages for notifications: endpoints, the delivery log and the dead-letter list.

Every read goes through ``visible_to(request.user)``; an id outside the user's subtree is a 404.
Actions (test, rotate, replay) show a confirmation page on GET and act on POST.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from manyi.notifications import actions
from manyi.notifications.choices import Channel, DeliveryStatus, EndpointKind, EventType
from manyi.notifications.models import Endpoint, Notification
from manyi.notifications.queries import (
    NotificationFilters,
    can_manage_endpoints,
    dead_letters,
    manageable_units,
    notification_log,
)
from manyi.notifications.retry import schedule
from manyi.notifications.transport import mask_url

PAGE_SIZE = 50
SECRET_SESSION_KEY = "notify-secret-{pk}"


def _lang() -> str:
    return get_language() or settings.LANGUAGE_CODE


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


class EndpointForm(forms.Form):
    """The fields of an endpoint; the rules (URL safety, secret format, events) live in the action."""

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=EndpointKind.choices)
    unit = forms.TypedChoiceField(
        label=_("Org unit"),
        coerce=int,
        help_text=_("Receives the events of this unit and every unit below it."),
    )
    url = forms.CharField(label=_("URL"), max_length=1000)
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        max_length=200,
        help_text=_(
            "Webhooks: leave empty to generate a whsec_ secret. DingTalk and Feishu: the robot's signing "
            "secret (加签), if you turned signing on."
        ),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(
        self, *args: Any, units: list[tuple[int, str]], editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.TypedChoiceField)
        unit_field.choices = units
        if editing:
            # Kind and unit are fixed once created: the signature scheme and the scope depend on them.
            for name in ("kind", "unit"):
                self.fields[name].required = False
                self.fields[name].disabled = True
            self.fields["secret"].help_text = _(
                "Leave empty to keep the current secret (webhooks: use “Rotate secret” for a new one)."
            )


def _unit_choices(request: HttpRequest) -> list[tuple[int, str]]:
    lang = _lang()
    return [
        (u.pk, f"{'· ' * u.depth}{u.display_name(lang)} ({u.code})") for u in manageable_units(request.user)
    ]


def _endpoint(request: HttpRequest, pk: int) -> Endpoint:
    return get_object_or_404(Endpoint.objects.visible_to(request.user).select_related("unit"), pk=pk)


def _require_manager(request: HttpRequest, endpoint: Endpoint | None = None) -> None:
    if not can_manage_endpoints(request.user, endpoint.unit if endpoint else None):
        raise PermissionDenied(_("Only administrators, CX managers and unit managers can change endpoints."))


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errs in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errs)


@login_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    qs = Endpoint.objects.visible_to(request.user).select_related("unit").order_by("unit__path", "name", "id")
    page = _page(request, qs)
    for e in page:
        e.masked_url = mask_url(e.url)
    ctx = {"page": page, "lang": _lang(), "can_manage": can_manage_endpoints(request.user)}
    return render(request, "console/notifications/endpoint_list.html", ctx)


@login_required
def endpoint_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    units = _unit_choices(request)
    form = EndpointForm(request.POST or None, units=units, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        unit = manageable_units(request.user).filter(pk=form.cleaned_data["unit"]).first()
        try:
            endpoint = actions.do_create_endpoint(
                unit=unit,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                url=form.cleaned_data["url"],
                secret=form.cleaned_data["secret"],
                events=form.cleaned_data["events"],
                is_active=form.cleaned_data["is_active"],
                by=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            if endpoint.secret and not form.cleaned_data["secret"]:
                request.session[SECRET_SESSION_KEY.format(pk=endpoint.pk)] = endpoint.secret
            messages.success(request, _("Endpoint created."))
            return redirect("console:notification_endpoint_detail", pk=endpoint.pk)
    return render(request, "console/notifications/endpoint_form.html", {"form": form, "endpoint": None})


@login_required
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint's settings (editable by managers), its secret once after creation, recent deliveries."""
    endpoint = _endpoint(request, pk)
    can_manage = can_manage_endpoints(request.user, endpoint.unit)
    form = None
    if can_manage:
        initial = {
            "name": endpoint.name,
            "kind": endpoint.kind,
            "unit": endpoint.unit_id,
            "url": endpoint.url,
            "events": endpoint.events,
            "is_active": endpoint.is_active,
        }
        lang = _lang()
        units = [(endpoint.unit_id, f"{endpoint.unit.display_name(lang)} ({endpoint.unit.code})")]
        form = EndpointForm(request.POST or None, units=units, editing=True, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                actions.do_update_endpoint(
                    endpoint,
                    name=form.cleaned_data["name"],
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                    is_active=form.cleaned_data["is_active"],
                    secret=form.cleaned_data["secret"] or None,
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Endpoint saved."))
                return redirect("console:notification_endpoint_detail", pk=endpoint.pk)
    elif request.method == "POST":
        raise PermissionDenied
    secret = request.session.pop(SECRET_SESSION_KEY.format(pk=endpoint.pk), None) if can_manage else None
    recent = notification_log(request.user, NotificationFilters(endpoint=endpoint.pk))[:20]
    ctx = {
        "endpoint": endpoint,
        "masked_url": mask_url(endpoint.url),
        "form": form,
        "can_manage": can_manage,
        "new_secret": secret,
        "recent": recent,
        "lang": _lang(),
    }
    return render(request, "console/notifications/endpoint_detail.html", ctx)


@login_required
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    if request.method == "POST":
        _require_manager(request, endpoint)
        n = actions.do_send_test_event(endpoint, by=request.user)
        if n.status == DeliveryStatus.DELIVERED:
            messages.success(request, _("Test event delivered."))
        else:
            messages.error(request, _("Test event failed: {error}").format(error=n.last_error))
        return redirect("console:notification_detail", pk=n.pk)
    ctx = {
        "endpoint": endpoint,
        "action": "test",
        "can_manage": can_manage_endpoints(request.user, endpoint.unit),
        "masked_url": mask_url(endpoint.url),
    }
    return render(request, "console/notifications/confirm.html", ctx)


@login_required
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    if request.method == "POST":
        _require_manager(request, endpoint)
        try:
            secret = actions.do_rotate_secret(endpoint)
        except actions.NotificationError as exc:
            messages.error(request, str(exc))
        else:
            request.session[SECRET_SESSION_KEY.format(pk=endpoint.pk)] = secret
            messages.success(request, _("New secret generated; the old one no longer signs deliveries."))
        return redirect("console:notification_endpoint_detail", pk=endpoint.pk)
    ctx = {
        "endpoint": endpoint,
        "action": "rotate",
        "can_manage": can_manage_endpoints(request.user, endpoint.unit),
        "masked_url": mask_url(endpoint.url),
    }
    return render(request, "console/notifications/confirm.html", ctx)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _filters(request: HttpRequest) -> tuple[NotificationFilters, list[str]]:
    """The log's filters from the query string; a bad value is dropped and named in a notice."""
    g = request.GET
    problems: list[str] = []
    status = g.get("status", "")
    if status and status not in DeliveryStatus.values:
        problems.append(str(_("Unknown status “{v}” ignored.").format(v=status)))
        status = ""
    channel = g.get("channel", "")
    if channel and channel not in Channel.values:
        problems.append(str(_("Unknown channel “{v}” ignored.").format(v=channel)))
        channel = ""
    event = g.get("event", "")
    if event and event not in EventType.values:
        problems.append(str(_("Unknown event “{v}” ignored.").format(v=event)))
        event = ""
    since = None
    if g.get("since"):
        try:
            day = date.fromisoformat(g["since"])
            since = timezone.make_aware(datetime.combine(day, time.min))
        except ValueError:
            problems.append(str(_("“From” must be a date like 2026-11-23; ignored.")))
    endpoint = _int(g.get("endpoint"))
    case = _int(g.get("case"))
    for key, val in (("endpoint", endpoint), ("case", case)):
        if g.get(key) and val is None:
            problems.append(str(_("“{key}” must be a number; ignored.").format(key=key)))
    f = NotificationFilters(
        status=status, channel=channel, event=event, endpoint=endpoint, case=case, since=since
    )
    return f, problems


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """The delivery log: every notification the user may see, newest first, with filters."""
    filters, problems = _filters(request)
    qs = notification_log(request.user, filters)
    ctx = {
        "page": _page(request, qs),
        "filters": filters,
        "problems": problems,
        "statuses": DeliveryStatus.choices,
        "channels": Channel.choices,
        "events": EventType.choices,
        "endpoints": Endpoint.objects.visible_to(request.user).order_by("name", "id"),
        "since": request.GET.get("since", ""),
        "lang": _lang(),
    }
    return render(request, "console/notifications/notification_list.html", ctx)


@login_required
def dead_letter_list(request: HttpRequest) -> HttpResponse:
    ctx = {
        "page": _page(request, dead_letters(request.user)),
        "max_attempts": settings.MANYI_WEBHOOK_MAX_ATTEMPTS,
        "lang": _lang(),
    }
    return render(request, "console/notifications/dead_letters.html", ctx)


def _notification(request: HttpRequest, pk: int) -> Notification:
    qs = Notification.objects.visible_to(request.user).select_related(
        "event", "event__unit", "endpoint", "recipient"
    )
    return get_object_or_404(qs, pk=pk)


@login_required
def notification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    n = _notification(request, pk)
    ctx = {
        "n": n,
        "attempts": list(n.attempt_log.order_by("started_at", "id")),
        "can_replay": n.status in (DeliveryStatus.DEAD, DeliveryStatus.DELIVERED, DeliveryStatus.SKIPPED),
        "schedule": [
            round(s / 60, 1)
            for s in schedule(settings.MANYI_WEBHOOK_MAX_ATTEMPTS, settings.MANYI_WEBHOOK_RETRY_BASE)
        ],
        "lang": _lang(),
    }
    return render(request, "console/notifications/notification_detail.html", ctx)


@login_required
def notification_replay(request: HttpRequest, pk: int) -> HttpResponse:
    n = _notification(request, pk)
    if request.method == "POST":
        if not can_manage_endpoints(request.user, n.event.unit):
            raise PermissionDenied
        try:
            actions.do_replay(n)
        except actions.NotificationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Notification queued again; it will be sent from its first attempt."))
        return redirect("console:notification_detail", pk=n.pk)
    return render(request, "console/notifications/confirm.html", {"n": n, "action": "replay"})
