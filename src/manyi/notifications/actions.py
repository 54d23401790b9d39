"""Every write of the notifications app: notify, deliver, scan, replay, and endpoint changes.

Delivery state lives in the database. ``notify`` records one notification per recipient and
channel and queues a delivery task for each after commit; a delivery claims its row with one
conditional UPDATE (so two workers never send the same attempt), sends outside any transaction,
then logs the attempt and either finishes, schedules a retry with backoff, or dead-letters it.
The periodic scan re-queues whatever is due and recovers sends interrupted by a crash.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.org.models import OrgUnit

from . import delivery, transport
from .choices import DUE_STATUSES, AttemptOutcome, Channel, DeliveryStatus, EndpointKind, EventType
from .models import DeliveryAttempt, Endpoint, Event, Notification
from .queries import active_endpoints
from .retry import retry_delay

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "NotificationError",
    "ScanReport",
    "do_create_endpoint",
    "do_deliver",
    "do_replay",
    "do_rotate_secret",
    "do_scan",
    "do_send_test_event",
    "do_update_endpoint",
    "new_webhook_secret",
    "notify",
    "notify_many",
]

# A queued delivery task that has not run this long after it was due is queued again by the scan.
REQUEUE_AFTER = timedelta(minutes=5)
# A send may take the total timeout; after this much longer, its worker is taken for dead.
LEASE_MARGIN = timedelta(seconds=30)
SCAN_BATCH = 500


class NotificationError(ValueError):
    """A request about notifications that cannot be carried out; the message says why."""


def _enqueue(ids: list[int], run_after: datetime | None = None) -> None:
    from .tasks import deliver

    for nid in ids:
        if run_after is not None and deliver.get_backend().supports_defer:
            deliver.using(run_after=run_after).enqueue(nid)
        else:
            deliver.enqueue(nid)


def _json_safe(context: dict[str, Any] | None) -> dict[str, Any]:
    try:
        data = json.loads(json.dumps(context or {}, cls=DjangoJSONEncoder))
    except (TypeError, ValueError) as exc:
        raise NotificationError(f"the notification context must be JSON-serialisable: {exc}") from exc
    if not isinstance(data, dict):
        raise NotificationError("the notification context must be a mapping")
    return data


@dataclass(frozen=True)
class Message:
    """One event to tell: what ``notify`` takes, for ``notify_many`` to record several at once."""

    event: str
    recipients: list[User]
    subject: str
    body: str
    context: dict[str, Any]


def notify(
    event: str,
    *,
    recipients: list[User],
    subject: str,
    body: str,
    context: dict[str, Any],
    unit: OrgUnit | None = None,
    case: Any = None,
    endpoints: list[Endpoint] | None = None,
    enqueue: bool = True,
) -> list[Notification]:
    """Record a notification per recipient and channel, and enqueue delivery after commit.

    People get e-mail; the active endpoints of ``unit`` and of every unit above it that subscribe
    to ``event`` get a webhook or chat-bot message (``endpoints`` overrides that choice). Call it
    inside the caller's transaction: nothing is sent unless the caller's write commits.
    """
    message = Message(event, recipients, subject, body, context)
    return notify_many([message], unit=unit, case=case, endpoints=endpoints, enqueue=enqueue)


def notify_many(
    messages: list[Message],
    *,
    unit: OrgUnit | None = None,
    case: Any = None,
    endpoints: list[Endpoint] | None = None,
    enqueue: bool = True,
    savepoint: bool = True,
) -> list[Notification]:
    """``notify`` for several events about the same unit and case (a case opened and assigned):
    the endpoints are read once and the events and their notifications written in one INSERT each.

    Inside the caller's transaction the writes get a savepoint of their own, so a caller that
    catches a failure here keeps its own writes; ``savepoint=False`` saves those two statements for
    a caller that holds a savepoint around this call already (``cases.actions.notify_people``)."""
    for m in messages:
        if m.event not in EventType.values:
            raise NotificationError(
                f"unknown notification event {m.event!r}; expected one of {', '.join(EventType.values)}"
            )
    if not messages:
        return []
    now = timezone.now()
    data = [_json_safe(m.context) for m in messages]
    case_id = getattr(case, "pk", case) if case is not None else None
    candidates = active_endpoints(unit) if endpoints is None else list(endpoints)
    with transaction.atomic(savepoint=savepoint):
        events = Event.objects.bulk_create(
            [
                Event(
                    type=m.event,
                    unit=unit,
                    case_id=int(case_id) if case_id is not None else None,
                    subject=(m.subject or m.event)[:200],
                    body=m.body or "",
                    context=d,
                    created_at=now,
                )
                for m, d in zip(messages, data, strict=True)
            ]
        )
        rows: list[Notification] = []
        for m, ev in zip(messages, events, strict=True):
            targets = candidates if endpoints is not None else [e for e in candidates if e.wants(m.event)]
            rows += _rows(ev, m.recipients, targets, now, enqueue)
        created = Notification.objects.bulk_create(rows) if rows else []
        due = [n.pk for n in created if n.status == DeliveryStatus.PENDING]
        if enqueue and due:
            transaction.on_commit(lambda: _enqueue(due))
    return created


def _rows(
    ev: Event, recipients: list[User], targets: list[Endpoint], now: datetime, enqueue: bool
) -> list[Notification]:
    rows: list[Notification] = []
    seen: set[Any] = set()
    for user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        address = (getattr(user, "email", "") or "").strip()
        ok = bool(address) and getattr(user, "is_active", True)
        rows.append(
            Notification(
                event=ev,
                channel=Channel.EMAIL,
                recipient=user,
                target=address or f"({user.get_username()})",
                status=DeliveryStatus.PENDING if ok else DeliveryStatus.SKIPPED,
                last_error=""
                if ok
                else (
                    f"{user.get_username()} has no e-mail address"
                    if not address
                    else f"{user.get_username()} is not active"
                ),
                next_attempt_at=now if ok else None,
                queued_at=now if ok and enqueue else None,
                created_at=now,
                updated_at=now,
            )
        )
    for ep in targets:
        rows.append(
            Notification(
                event=ev,
                channel=ep.kind,
                endpoint=ep,
                target=transport.mask_url(ep.url),
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                queued_at=now if enqueue else None,
                created_at=now,
                updated_at=now,
            )
        )
    return rows


def _max_attempts(n: Notification) -> int:
    if n.event.type == EventType.ENDPOINT_TEST:
        return 1  # a test tells the person at the console what happened; it is not retried
    return int(settings.MANYI_WEBHOOK_MAX_ATTEMPTS)


def do_deliver(notification_id: int, *, now: datetime | None = None) -> str:
    """Make the next attempt at one notification if it is due; returns the status it ends in.

    Safe to run twice at once and after a crash: the claim is one conditional UPDATE.
    """
    now = now or timezone.now()
    lease = now + timedelta(seconds=float(settings.MANYI_WEBHOOK_TIMEOUT)) + LEASE_MARGIN
    claimed = Notification.objects.filter(
        pk=notification_id, status__in=DUE_STATUSES, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, lease_until=lease, attempts=F("attempts") + 1, updated_at=now)
    if not claimed:
        current = Notification.objects.filter(pk=notification_id).values_list("status", flat=True).first()
        return f"not due ({current or 'no such notification'})"
    n = Notification.objects.select_related("event", "event__unit", "endpoint", "recipient").get(
        pk=notification_id
    )
    ep = n.endpoint
    if (
        ep is not None
        and ep.paused_until
        and ep.paused_until > now
        and n.event.type != EventType.ENDPOINT_TEST
    ):
        return _defer(n, ep)
    started = timezone.now()
    t0 = time.monotonic()
    outcome = delivery.send(n)
    duration_ms = int((time.monotonic() - t0) * 1000)
    finished = timezone.now()
    retry_at: datetime | None = None
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            notification=n,
            number=n.attempts,
            channel=n.channel,
            target=outcome.target or n.target,
            outcome=AttemptOutcome.OK if outcome.ok else AttemptOutcome.ERROR,
            response_code=outcome.response_code,
            error=outcome.error[:2000],
            duration_ms=duration_ms,
            started_at=started,
            finished_at=finished,
        )
        n.lease_until = None
        n.updated_at = finished
        _breaker(n, outcome, now)
        if outcome.ok:
            n.status = DeliveryStatus.DELIVERED
            n.delivered_at = finished
            n.next_attempt_at = None
            n.last_error = ""
        elif outcome.permanent or n.attempts >= _max_attempts(n):
            n.status = DeliveryStatus.DEAD
            n.next_attempt_at = None
            n.last_error = outcome.error[:2000]
        else:
            n.status = DeliveryStatus.RETRYING
            wait = retry_delay(n.attempts, float(settings.MANYI_WEBHOOK_RETRY_BASE))
            retry_at = now + timedelta(seconds=wait)
            n.next_attempt_at = retry_at
            n.queued_at = retry_at
            n.last_error = outcome.error[:2000]
        n.save(
            update_fields=[
                "status",
                "lease_until",
                "updated_at",
                "delivered_at",
                "next_attempt_at",
                "queued_at",
                "last_error",
            ]
        )
        if retry_at is not None:
            nid, when = n.pk, retry_at
            transaction.on_commit(lambda: _enqueue([nid], run_after=when))
    return str(n.status)


def _breaker(n: Notification, outcome: delivery.Outcome, now: datetime) -> None:
    """Pause an endpoint that timed out or refused the connection; clear the pause on success."""
    ep = n.endpoint
    if ep is None:
        return
    if outcome.ok:
        if ep.paused_until is not None:
            Endpoint.objects.filter(pk=ep.pk).update(paused_until=None, pause_reason="")
        return
    if outcome.response_code is None and not outcome.permanent:
        pause = timedelta(seconds=retry_delay(max(1, n.attempts), float(settings.MANYI_WEBHOOK_RETRY_BASE)))
        Endpoint.objects.filter(pk=ep.pk).update(paused_until=now + pause, pause_reason=outcome.error[:500])


def _defer(n: Notification, ep: Endpoint) -> str:
    """Put a notification back without an attempt while its endpoint is paused."""
    assert ep.paused_until is not None
    # Spread the waiting ones over a few seconds so they do not all probe the endpoint at once.
    when = ep.paused_until + timedelta(seconds=(n.pk % 10) * 0.5)
    with transaction.atomic():
        Notification.objects.filter(pk=n.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.RETRYING,
            attempts=F("attempts") - 1,
            next_attempt_at=when,
            queued_at=when,
            lease_until=None,
            last_error=_("Waiting: the endpoint is paused until {until} after: {reason}").format(
                until=ep.paused_until.isoformat(timespec="seconds"), reason=ep.pause_reason
            ),
        )
        nid = n.pk
        transaction.on_commit(lambda: _enqueue([nid], run_after=when))
    return "deferred"


@dataclass
class ScanReport:
    """What one scan did."""

    queued: int = 0
    recovered: int = 0
    dead: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def do_scan(*, now: datetime | None = None, limit: int = SCAN_BATCH) -> ScanReport:
    """Queue every due notification and recover sends interrupted by a crash (idempotent)."""
    now = now or timezone.now()
    report = ScanReport()
    # A "sending" row whose lease has run out lost its worker mid-send: that attempt failed.
    stuck = list(
        Notification.objects.filter(status=DeliveryStatus.SENDING, lease_until__lt=now)
        .select_related("event")
        .order_by("id")[:limit]
    )
    for n in stuck:
        with transaction.atomic():
            moved = Notification.objects.filter(
                pk=n.pk, status=DeliveryStatus.SENDING, lease_until__lt=now
            ).update(status=DeliveryStatus.RETRYING, lease_until=None, updated_at=now)
            if not moved:
                continue
            error = _("interrupted while sending (the worker stopped); the attempt counts as failed")
            DeliveryAttempt.objects.create(
                notification=n,
                number=n.attempts,
                channel=n.channel,
                target=n.target,
                outcome=AttemptOutcome.ERROR,
                error=error,
                started_at=n.updated_at,
                finished_at=now,
            )
            if n.attempts >= _max_attempts(n):
                Notification.objects.filter(pk=n.pk).update(
                    status=DeliveryStatus.DEAD, next_attempt_at=None, last_error=error
                )
                report.dead += 1
            else:
                Notification.objects.filter(pk=n.pk).update(
                    next_attempt_at=now, queued_at=None, last_error=error
                )
                report.recovered += 1
    due = list(
        Notification.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if due:
        with transaction.atomic():
            Notification.objects.filter(pk__in=due).update(queued_at=now)
            transaction.on_commit(lambda: _enqueue(due))
        report.queued = len(due)
    return report


def do_replay(notification: Notification, *, now: datetime | None = None) -> Notification:
    """Send a dead (or delivered, or skipped) notification again from its first attempt.

    The event keeps its ``webhook-id``, so a receiver that already has it can tell it is a repeat.
    """
    now = now or timezone.now()
    if notification.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRYING):
        raise NotificationError(
            _(
                "Notification {id} is already queued ({status}); it cannot be replayed until it finishes."
            ).format(id=notification.pk, status=notification.get_status_display())
        )
    if notification.channel != Channel.EMAIL:
        ep = notification.endpoint
        if ep is None:
            raise NotificationError(
                _("Notification {id} cannot be replayed: its endpoint was deleted.").format(
                    id=notification.pk
                )
            )
        if not ep.is_active:
            raise NotificationError(
                _(
                    "Notification {id} cannot be replayed: endpoint “{name}” is disabled; enable it first."
                ).format(id=notification.pk, name=ep.name)
            )
    else:
        user = notification.recipient
        if user is None or not (getattr(user, "email", "") or "").strip():
            raise NotificationError(
                _("Notification {id} cannot be replayed: the recipient has no e-mail address.").format(
                    id=notification.pk
                )
            )
    with transaction.atomic():
        moved = Notification.objects.filter(pk=notification.pk, status=notification.status).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            replays=F("replays") + 1,
            next_attempt_at=now,
            queued_at=now,
            lease_until=None,
            last_error="",
            updated_at=now,
        )
        if not moved:
            raise NotificationError(
                _("Notification {id} changed while it was being replayed; try again.").format(
                    id=notification.pk
                )
            )
        nid = notification.pk
        transaction.on_commit(lambda: _enqueue([nid]))
    notification.refresh_from_db()
    return notification


# --- endpoints ---------------------------------------------------------------------------------

SECRET_BYTES = 32


def new_webhook_secret() -> str:
    """A fresh Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _check_webhook_secret(secret: str) -> str | None:
    if not secret.startswith("whsec_"):
        return _("A webhook secret starts with “whsec_” followed by base64; leave it empty to generate one.")
    try:
        raw = base64.b64decode(secret[len("whsec_") :], validate=True)
    except ValueError:
        return _("The part after “whsec_” is not valid base64.")
    if not 24 <= len(raw) <= 64:
        return _("A webhook secret must hold 24 to 64 random bytes; this one holds {n}.").format(n=len(raw))
    return None


def _validated(
    *, unit: OrgUnit | None, name: str, kind: str, url: str, secret: str, events: list[str]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Give the endpoint a name.")
    elif len(name) > 100:
        errors["name"] = _("The name may have at most 100 characters.")
    if kind not in EndpointKind.values:
        errors["kind"] = _("Unknown kind {kind!r}; expected one of {kinds}.").format(
            kind=kind, kinds=", ".join(EndpointKind.values)
        )
    if unit is None:
        errors["unit"] = _("Choose the org unit whose events this endpoint receives.")
    unknown = [e for e in events if e not in EventType.values]
    if unknown:
        errors["events"] = _("Unknown event(s) {unknown}; expected some of {known}.").format(
            unknown=", ".join(unknown), known=", ".join(EventType.values)
        )
    try:
        parts = transport.check_url(url)
        if len(url) > 1000:
            raise transport.AddressRefused(_("The URL may have at most 1000 characters."))
        port = parts.port or (443 if parts.scheme == "https" else 80)
        transport.resolve_checked(parts.hostname or "", port, delivery.policy())
    except transport.AddressRefused as exc:
        errors["url"] = _("This URL is refused: {reason}").format(reason=exc)
    except transport.TransportError:
        pass  # the name does not resolve from here now; every send checks it again
    if kind == EndpointKind.WEBHOOK and secret and (problem := _check_webhook_secret(secret)):
        errors["secret"] = problem
    if len(secret) > 200:
        errors["secret"] = _("The secret may have at most 200 characters.")
    return errors


def do_create_endpoint(
    *,
    unit: OrgUnit | None,
    name: str,
    kind: str,
    url: str,
    secret: str = "",
    events: list[str] | None = None,
    is_active: bool = True,
    by: Any = None,
) -> Endpoint:
    """Create an endpoint; a webhook without a secret gets a new one (read it from ``endpoint.secret``).

    Raises ValidationError with a message per field that is wrong.
    """
    events = sorted(set(events or []))
    url, secret = url.strip(), secret.strip()
    errors = _validated(unit=unit, name=name, kind=kind, url=url, secret=secret, events=events)
    if errors:
        raise ValidationError(errors)
    assert unit is not None  # checked above
    if kind == EndpointKind.WEBHOOK and not secret:
        secret = new_webhook_secret()
    return Endpoint.objects.create(
        unit=unit,
        name=name.strip(),
        kind=kind,
        url=url,
        secret=secret,
        events=events,
        is_active=is_active,
        created_by=by if getattr(by, "pk", None) else None,
    )


def do_update_endpoint(
    endpoint: Endpoint,
    *,
    name: str,
    url: str,
    events: list[str],
    is_active: bool,
    secret: str | None = None,
) -> Endpoint:
    """Change an endpoint's name, URL, events and state; ``secret`` None keeps the current one."""
    events = sorted(set(events))
    url = url.strip()
    new_secret = endpoint.secret if secret is None else secret.strip()
    errors = _validated(
        unit=endpoint.unit, name=name, kind=endpoint.kind, url=url, secret=new_secret, events=events
    )
    if errors:
        raise ValidationError(errors)
    if endpoint.kind == EndpointKind.WEBHOOK and not new_secret:
        new_secret = new_webhook_secret()
    endpoint.name, endpoint.url, endpoint.events, endpoint.is_active = name.strip(), url, events, is_active
    endpoint.secret = new_secret
    endpoint.save(update_fields=["name", "url", "events", "is_active", "secret", "updated_at"])
    return endpoint


def do_rotate_secret(endpoint: Endpoint) -> str:
    """Give a webhook endpoint a new secret and return it (the old one stops working at once)."""
    if endpoint.kind != EndpointKind.WEBHOOK:
        raise NotificationError(_("Only webhook endpoints have a secret generated by Manyi."))
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint.secret


def do_send_test_event(endpoint: Endpoint, *, by: Any = None) -> Notification:
    """Send an ``endpoint.test`` event to one endpoint now and return its notification with the result."""
    who = by.get_username() if getattr(by, "pk", None) else "manyi"
    (n,) = notify(
        EventType.ENDPOINT_TEST,
        recipients=[],
        subject=_("Test event from Manyi"),
        body=_("This is a test sent by {who} to check that “{name}” receives Manyi events.").format(
            who=who, name=endpoint.name
        ),
        context={"endpoint_id": endpoint.pk, "sent_by": who},
        unit=endpoint.unit,
        endpoints=[endpoint],
        enqueue=False,
    )
    do_deliver(n.pk)
    n.refresh_from_db()
    return n
