"""Senders: one attempt to deliver one notification over its channel; they never raise.

E-mail goes through Django's default mailer (SMTP, see ``MANYI_EMAIL_URL``); webhooks are signed to
the Standard Webhooks spec; chat robots get their own JSON formats. HTTP goes through
:mod:`manyi.notifications.transport`, which applies the SSRF rules and the timeouts.
"""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from . import chatbots, transport
from .choices import Channel
from .models import Endpoint, Event, Notification

__all__ = ["Outcome", "policy", "send", "webhook_payload"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Outcome:
    """How one attempt went. ``permanent`` failures are not retried."""

    ok: bool
    target: str
    response_code: int | None = None
    error: str = ""
    permanent: bool = False


def policy() -> transport.Policy:
    """The SSRF allow-list and timeouts from the settings."""
    return transport.Policy(
        allow_hosts=tuple(settings.MANYI_WEBHOOK_ALLOW_HOSTS),
        connect_timeout=float(settings.MANYI_WEBHOOK_CONNECT_TIMEOUT),
        total_timeout=float(settings.MANYI_WEBHOOK_TIMEOUT),
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_payload(event: Event) -> dict[str, Any]:
    """The JSON body of a webhook: the Standard Webhooks ``type``/``timestamp``/``data`` envelope."""
    unit = event.unit
    return {
        "type": event.type,
        "timestamp": _iso(event.created_at),
        "data": {
            "schema": SCHEMA_VERSION,
            "event_id": event.message_id,
            "subject": event.subject,
            "body": event.body,
            "unit": {"id": unit.pk, "code": unit.code, "name": unit.name} if unit else None,
            "case_id": event.case_id,
            "context": event.context,
        },
    }


def _chat_message(event: Event) -> chatbots.ChatMessage:
    unit = event.unit
    lang = unit.locale if unit else settings.LANGUAGE_CODE
    where = unit.display_name(lang) if unit else ""
    tz = unit.timezone if unit else settings.TIME_ZONE
    from zoneinfo import ZoneInfo

    when = event.created_at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    meta = " · ".join(p for p in (where, f"`{event.type}`", when) if p)
    text = "\n\n".join(p for p in (event.body.strip(), f"> {meta}") if p)
    ctx = event.context if isinstance(event.context, dict) else {}
    link = str(ctx.get("url") or ctx.get("case_url") or "")
    if not link.startswith(("https://", "http://")):
        link = ""
    return chatbots.ChatMessage(title=event.subject, text=text, link=link, link_label="Manyi")


def _http_outcome(kind: str, target: str, result: transport.HttpResult) -> Outcome:
    code = result.status
    if 300 <= code < 400:
        where = result.location or "(no Location header)"
        return Outcome(
            False,
            target,
            code,
            f"HTTP {code}: redirected to {where}; redirects are not followed, set the endpoint to the final URL",
        )
    if not 200 <= code < 300:
        snippet = result.body[:300].decode("utf-8", errors="replace").strip()
        # 410 Gone: the receiver says the endpoint no longer exists (Standard Webhooks guidance).
        return Outcome(
            False, target, code, f"HTTP {code}: {snippet}" if snippet else f"HTTP {code}", code == 410
        )
    if kind != Channel.WEBHOOK:
        refused = chatbots.reply_error(kind, code, result.body)
        if refused:
            return Outcome(False, target, code, refused)
    return Outcome(True, target, code)


def _send_http(n: Notification, endpoint: Endpoint) -> Outcome:
    event = n.event
    # Signatures carry the real time: receivers compare it with their clock (5 min tolerance).
    now = timezone.now()
    target = transport.mask_url(endpoint.url)
    url = endpoint.url
    headers: dict[str, str] = {}
    if endpoint.kind == Channel.WEBHOOK:
        data = json.dumps(
            webhook_payload(event), ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
        )
        try:
            signer = Webhook(endpoint.secret)
        except Exception as exc:  # a corrupted secret must read as a failure, not crash the worker
            return Outcome(False, target, error=f"the endpoint's secret is not valid: {exc}", permanent=True)
        stamp = now.astimezone(UTC).replace(microsecond=0)
        headers = {
            "webhook-id": event.message_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": signer.sign(event.message_id, stamp, data),
        }
        body = data.encode()
    else:
        message = chatbots.message_for(
            endpoint.kind, _chat_message(event), secret=endpoint.secret, now_s=now.timestamp()
        )
        if endpoint.kind == Channel.DINGTALK:
            url = chatbots.dingtalk_url(url, endpoint.secret, int(now.timestamp() * 1000))
        body = json.dumps(message, ensure_ascii=False).encode()
    try:
        result = transport.post(url, body, headers, policy())
    except transport.TransportError as exc:
        return Outcome(False, target, error=str(exc), permanent=exc.permanent)
    return _http_outcome(endpoint.kind, target, result)


def _send_email(n: Notification) -> Outcome:
    user = n.recipient
    address = (getattr(user, "email", "") or "").strip()
    if not address:
        return Outcome(False, n.target, error="the recipient has no e-mail address", permanent=True)
    event = n.event
    email = mail.EmailMessage(
        subject=event.subject,
        body=event.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={
            # The same Message-ID on every attempt, so a mail system that saw it can drop a repeat.
            "Message-ID": f"<n{n.pk}.{event.uuid.hex}@manyi.invalid>",
            "X-Manyi-Event": event.type,
        },
    )
    try:
        mail.mailers.default.send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        return Outcome(
            False, address, error=f"the mail server refused {address}: {exc.recipients}", permanent=True
        )
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(False, address, error=f"mail server: {exc.__class__.__name__}: {exc}")
    return Outcome(True, address, 250)


def send(n: Notification) -> Outcome:
    """Make one attempt to deliver ``n``; every failure comes back as an Outcome."""
    if n.channel == Channel.EMAIL:
        return _send_email(n)
    endpoint = n.endpoint
    if endpoint is None:
        return Outcome(False, n.target, error="the endpoint was deleted", permanent=True)
    if not endpoint.is_active:
        return Outcome(False, n.target, error=f"the endpoint {endpoint.name!r} is disabled", permanent=True)
    return _send_http(n, endpoint)
