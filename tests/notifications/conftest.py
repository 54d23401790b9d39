"""Real local servers for notification tests: a threaded HTTP receiver and an SMTP server.

The HTTP receiver answers per path: ``/ok`` 200, ``/fail`` 500, ``/hang`` never answers,
``/drip`` sends its headers one byte at a time, ``/redirect`` 302 to an internal address,
``/gone`` 410, and ``/bot/<json>`` 200 with a chat robot's JSON answer. Every request is kept.
"""

from __future__ import annotations

import email
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest
from aiosmtpd.controller import Controller
from django.utils import translation

from manyi.settings.env import mailer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server; ``url(path)`` gives an address on it."""

    port: int
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    fail_first: int = 0  # /flaky fails this many times, then answers 200

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.requests.append(Received("POST", self.path, dict(self.headers.items()), body))
            path = self.path.split("?", 1)[0]
            if path == "/ok":
                self._answer(200, b'{"received": true}', {"Content-Type": "application/json"})
            elif path == "/fail":
                self._answer(500, b"database unavailable")
            elif path == "/flaky":
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self._answer(503, b"try later")
                else:
                    self._answer(204)
            elif path == "/gone":
                self._answer(410, b"endpoint removed")
            elif path == "/redirect":
                self._answer(302, b"", {"Location": "http://127.0.0.1:22/internal"})
            elif path == "/hang":
                receiver.release.wait(30)
            elif path == "/drip":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                self.wfile.flush()
                for ch in b"X-Slow: " + b"a" * 200:
                    if receiver.release.is_set():
                        break
                    self.wfile.write(bytes([ch]))
                    self.wfile.flush()
                    time.sleep(0.2)
            elif path.startswith("/bot/"):
                self._answer(
                    200, unquote(path[len("/bot/") :]).encode(), {"Content-Type": "application/json"}
                )
            else:
                self._answer(404, b"no such path")

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver(0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    server.daemon_threads = True
    rec.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        rec.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def allow_local(settings: Any) -> None:
    """Positive cases talk to 127.0.0.1, which only the allow-list lets through."""
    settings.MANYI_WEBHOOK_ALLOW_HOSTS = ["127.0.0.1"]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are asserted in English, whatever the catalogues say in Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _short_timeouts(settings: Any) -> None:
    settings.MANYI_WEBHOOK_ALLOW_HOSTS = []
    settings.MANYI_WEBHOOK_CONNECT_TIMEOUT = 1.0
    settings.MANYI_WEBHOOK_TIMEOUT = 1.5
    settings.MANYI_WEBHOOK_MAX_ATTEMPTS = 3
    settings.MANYI_WEBHOOK_RETRY_BASE = 60


class Inbox:
    """An aiosmtpd handler that keeps every message; it refuses recipients at refused.example."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

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
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": mailer(f"smtp://127.0.0.1:{port}?timeout=5")}
    settings.DEFAULT_FROM_EMAIL = "Manyi <noreply@manyi.example>"
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 costs most of a second per account; these tests are about notifications, not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
