"""Delivery adapters: e-mail through Django's mailers (SMTP), SMS through a pluggable provider.

An adapter sends one message and says whether its provider honours idempotency keys. The scanner
relies on that after a crash: a message interrupted mid-send is sent again (same key) only through
an adapter that cannot deliver it twice; otherwise it is marked "delivery unknown" and not resent.
"""

from __future__ import annotations

import fcntl
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core import mail
from django.utils import timezone
from django.utils.module_loading import import_string

__all__ = [
    "Adapter",
    "ConsoleSmsBackend",
    "DeliveryError",
    "EmailAdapter",
    "FileSmsBackend",
    "OutboundMessage",
    "SmsAdapter",
    "SmsBackend",
    "adapter_for",
]


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one address; ``idempotency_key`` is the same on every attempt."""

    channel: str
    to: str
    subject: str
    body: str
    idempotency_key: str
    language: str = ""


class DeliveryError(Exception):
    """The provider refused or failed; ``permanent`` means retrying cannot help (a bad address)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Adapter(Protocol):
    channel: str
    idempotent: bool

    def send(self, message: OutboundMessage) -> str:
        """Deliver the message; return the provider's reference. Raise DeliveryError on failure."""
        ...


class EmailAdapter:
    """E-mail through the default Django mailer (SMTP in production, see MANYI_EMAIL_URL)."""

    channel = "email"
    # SMTP has no idempotency keys. The Message-ID is derived from the key, so mail systems that
    # drop repeated Message-IDs would catch a repeat, but we do not count on it.
    idempotent = False

    def send(self, message: OutboundMessage) -> str:
        import smtplib

        msg_id = f"<{message.idempotency_key}@manyi.invalid>"
        email = mail.EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Message-ID": msg_id, "X-Manyi-Idempotency-Key": message.idempotency_key},
        )
        try:
            mail.mailers.default.send_messages([email])
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"address refused: {message.to}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"e-mail server: {exc}") from exc
        return msg_id


class SmsBackend(Protocol):
    """What an SMS provider integration implements (one class per provider)."""

    idempotent: bool

    def send_sms(self, *, to: str, text: str, idempotency_key: str) -> str: ...


class ConsoleSmsBackend:
    """Development: print each SMS to standard error."""

    idempotent = False

    def send_sms(self, *, to: str, text: str, idempotency_key: str) -> str:
        sys.stderr.write(f"[sms to {to}] {text}\n")
        return f"console:{idempotency_key}"


class FileSmsBackend:
    """Development and tests: append each SMS as a JSON line; a repeated key is not written again.

    It behaves like a provider that honours idempotency keys, which is what production SMS
    gateways (Aliyun, Tencent Cloud, Twilio) offer in one form or another.
    """

    idempotent = True

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path or settings.MANYI_SMS_FILE)

    def send_sms(self, *, to: str, text: str, idempotency_key: str) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # two scanners in two processes append one at a time
            f.seek(0)
            for line in f:
                if line.strip() and json.loads(line).get("idempotency_key") == idempotency_key:
                    return f"file:{idempotency_key}"
            record = {
                "to": to,
                "text": text,
                "idempotency_key": idempotency_key,
                "at": timezone.now().isoformat(),
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
        return f"file:{idempotency_key}"

    def messages(self) -> list[dict[str, str]]:
        """Everything sent so far (for tests and the development console)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


_SMS_BACKENDS = {"console": ConsoleSmsBackend, "file": FileSmsBackend}


def sms_backend() -> SmsBackend:
    """The backend named by MANYI_SMS_BACKEND: ``console``, ``file`` or a dotted class path."""
    name = settings.MANYI_SMS_BACKEND
    cls = _SMS_BACKENDS.get(name) or import_string(name)
    backend: SmsBackend = cls()
    return backend


class SmsAdapter:
    """SMS through the configured provider backend."""

    channel = "sms"

    def __init__(self, backend: SmsBackend | None = None) -> None:
        self.backend = backend or sms_backend()
        self.idempotent = bool(getattr(self.backend, "idempotent", False))

    def send(self, message: OutboundMessage) -> str:
        return self.backend.send_sms(
            to=message.to, text=message.body, idempotency_key=message.idempotency_key
        )


def adapter_for(channel: str) -> Adapter:
    """The adapter for a channel, built from the settings."""
    if channel == "email":
        return EmailAdapter()
    if channel == "sms":
        return SmsAdapter()
    raise ValueError(f"no delivery adapter for channel {channel!r}")
