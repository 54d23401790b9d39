"""Delivery adapters against real transports: a local SMTP server, the SMS file, the e-mail URL."""

from __future__ import annotations

import email
import logging
import socket
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from manyi.distribution.actions import do_scan
from manyi.distribution.adapters import (
    DeliveryError,
    EmailAdapter,
    FileSmsBackend,
    OutboundMessage,
    SmsAdapter,
    adapter_for,
)
from manyi.distribution.models import Invitation
from manyi.settings.env import ConfigError, mailer
from tests.conftest import Org

from .conftest import T0, customer, days, event


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Inbox]:
    # aiosmtpd logs every connection at INFO from its own thread, after pytest closed the capture.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": mailer(f"smtp://127.0.0.1:{port}?timeout=5")}
    settings.DEFAULT_FROM_EMAIL = "Hejia CX <cx@hejia.example>"
    try:
        yield inbox
    finally:
        controller.stop()


def message(**kw: Any) -> OutboundMessage:
    base = {
        "channel": "email",
        "to": "wang.fang@example.com",
        "subject": "请评价您在上海一店的体验",
        "body": "王芳您好，请评价：http://127.0.0.1:8000/s/abc",
        "idempotency_key": "k-1",
    }
    return OutboundMessage(**(base | kw))


def test_the_email_adapter_delivers_to_a_real_smtp_server_in_utf8(smtp_server: Inbox) -> None:
    ref = EmailAdapter().send(message())
    [received] = smtp_server.messages
    assert smtp_server.envelopes[0].rcpt_tos == ["wang.fang@example.com"]
    assert received["Message-ID"] == ref == "<k-1@manyi.invalid>"
    assert received["X-Manyi-Idempotency-Key"] == "k-1"
    subject = str(email.header.make_header(email.header.decode_header(received["Subject"])))
    assert subject == "请评价您在上海一店的体验"
    body = received.get_payload(decode=True).decode(received.get_content_charset() or "utf-8")
    assert "王芳您好" in body


def test_an_unreachable_smtp_server_is_a_temporary_delivery_error(settings: Any) -> None:
    settings.MAILERS = {"default": mailer(f"smtp://127.0.0.1:{free_port()}?timeout=2")}
    with pytest.raises(DeliveryError) as exc:
        EmailAdapter().send(message())
    assert not exc.value.permanent


@pytest.mark.django_db
def test_the_scanner_sends_an_invitation_through_smtp_end_to_end(
    org: Org, rule: Any, smtp_server: Inbox
) -> None:
    event(customer(org.store_a, language="en"), org.store_a)
    assert do_scan(now=T0 + days(1)).sent == 1
    [received] = smtp_server.messages
    token = Invitation.objects.get().link.token
    assert received["Subject"] == "How was your visit to Shanghai 1?"
    assert f"/s/{token}" in received.get_payload(decode=True).decode()


def test_the_file_sms_backend_writes_one_json_line_per_key(tmp_path: Path) -> None:
    backend = FileSmsBackend(tmp_path / "out" / "sms.jsonl")
    adapter = SmsAdapter(backend)
    assert adapter.idempotent
    adapter.send(message(channel="sms", to="+8613812345678", idempotency_key="a"))
    adapter.send(message(channel="sms", to="+8613812345678", idempotency_key="a"))
    adapter.send(message(channel="sms", to="+8613912345678", idempotency_key="b"))
    sent = backend.messages()
    assert [m["idempotency_key"] for m in sent] == ["a", "b"]
    assert sent[0]["text"].startswith("王芳您好")


def test_the_sms_backend_comes_from_the_settings(settings: Any, tmp_path: Path) -> None:
    settings.MANYI_SMS_BACKEND = "file"
    settings.MANYI_SMS_FILE = tmp_path / "s.jsonl"
    adapter = adapter_for("sms")
    assert isinstance(adapter, SmsAdapter) and isinstance(adapter.backend, FileSmsBackend)
    settings.MANYI_SMS_BACKEND = "manyi.distribution.adapters.ConsoleSmsBackend"
    assert not adapter_for("sms").idempotent


def test_the_console_sms_backend_prints(capsys: Any, settings: Any) -> None:
    settings.MANYI_SMS_BACKEND = "console"
    adapter_for("sms").send(message(channel="sms", to="+8613812345678"))
    assert "[sms to +8613812345678] 王芳您好" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "options"),
    [
        (
            "smtp://mail.example.com",
            {"host": "mail.example.com", "port": 25, "use_tls": False, "use_ssl": False},
        ),
        (
            "smtp://cx%40hejia.cn:p%40ss@smtp.exmail.qq.com:587?tls=true",
            {"username": "cx@hejia.cn", "password": "p@ss", "port": 587, "use_tls": True},
        ),
        ("smtps://smtp.exmail.qq.com", {"port": 465, "use_ssl": True, "use_tls": False}),
    ],
)
def test_the_email_url_becomes_a_django_mailer(url: str, options: dict[str, Any]) -> None:
    config = mailer(url)
    assert config["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert options.items() <= config["OPTIONS"].items()


def test_console_email_url_prints_and_a_wrong_scheme_is_a_one_line_config_error() -> None:
    assert mailer("console:")["BACKEND"].endswith("console.EmailBackend")
    with pytest.raises(ConfigError, match="MANYI_EMAIL_URL must look like smtp://"):
        mailer("http://mail.example.com")
