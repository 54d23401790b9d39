"""Outgoing HTTP for webhooks and chat bots, safe against server-side request forgery.

Pure Python (standard library only), no Django. One request:

1. the URL must be ``http`` or ``https`` with a host and no user:password part;
2. the host is resolved once; if *any* address it resolves to is private, loopback, link-local,
   multicast, reserved, unspecified or otherwise not globally routable (IPv4 and IPv6, including
   IPv4-mapped, NAT64 and 6to4 forms of such addresses), the request is refused, unless the host
   name or every address is on the allow-list;
3. the connection goes to the address that was checked (pinned), never to a second lookup, so DNS
   rebinding cannot swap in an internal address; TLS still verifies the certificate for the name;
4. redirects are never followed: a 3xx is a failure that names its ``Location``;
5. connecting may take ``connect_timeout`` seconds and the whole exchange ``total_timeout``; a
   watchdog closes the socket at the deadline, so a server that drips bytes cannot hold a worker.

Exceptions::

    TransportError          the request did not complete (timeout, refused connection, TLS, DNS)
     └── AddressRefused     the URL or its addresses are not allowed; retrying cannot help
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, parse_qsl, quote, urlsplit, urlunsplit

__all__ = [
    "AddressRefused",
    "HttpResult",
    "Policy",
    "TransportError",
    "address_refusal",
    "check_url",
    "mask_url",
    "post",
    "resolve_checked",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
USER_AGENT = "Manyi-Notifications/1"


class TransportError(Exception):
    """The request did not complete; ``permanent`` means retrying the same request cannot help."""

    permanent = False


class AddressRefused(TransportError):
    """The URL is malformed or points at an address that is not allowed."""

    permanent = True


@dataclass(frozen=True)
class Policy:
    """Where requests may go and how long they may take."""

    allow_hosts: tuple[str, ...] = ()
    connect_timeout: float = 3.0
    total_timeout: float = 10.0
    max_body: int = 64 * 1024

    def allowed_names(self) -> frozenset[str]:
        return frozenset(h.strip().lower().rstrip(".") for h in self.allow_hosts if _network(h) is None)

    def allowed_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(n for h in self.allow_hosts if (n := _network(h)) is not None)


@dataclass(frozen=True)
class HttpResult:
    """What the endpoint answered (the body cut at ``Policy.max_body`` bytes)."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    address: str = ""

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


def _network(entry: str) -> IPNetwork | None:
    text = entry.strip().strip("[]")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def address_refusal(ip: IPAddress) -> str | None:
    """Why a connection to ``ip`` is refused, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip.teredo:
            embedded = ip.teredo[1]
        if embedded is not None:
            inner = address_refusal(embedded)
            return f"{inner} (embedded IPv4 {embedded})" if inner else None
        if ip in _NAT64_LOCAL:
            return "a local-use NAT64 address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a globally routable address"
    return None


def check_url(url: str) -> SplitResult:
    """The parsed URL, or AddressRefused saying what is wrong with it."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise AddressRefused(f"the URL is not valid: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise AddressRefused(f"the URL must start with https:// or http://, got {parts.scheme or url!r}")
    if not parts.hostname:
        raise AddressRefused("the URL has no host name")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("the URL may not carry a user name or password; use the endpoint's secret")
    return parts


def resolve_checked(host: str, port: int, policy: Policy) -> list[IPAddress]:
    """Every address ``host`` resolves to, after the SSRF rules; AddressRefused names the first bad one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TransportError(f"cannot resolve host {host!r}: {exc}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise TransportError(f"host {host!r} has no address")
    if host.lower().rstrip(".") in policy.allowed_names():
        return addresses
    networks = policy.allowed_networks()
    for ip in addresses:
        if any(ip.version == n.version and ip in n for n in networks):
            continue
        reason = address_refusal(ip)
        if reason:
            raise AddressRefused(
                f"host {host!r} resolves to {ip}, {reason}; refused (add the host to "
                "MANYI_WEBHOOK_ALLOW_HOSTS to allow it)"
            )
    return addresses


def mask_url(url: str) -> str:
    """The URL with query values hidden: chat robots carry their access key in the query string."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(invalid URL)"
    query = "&".join(f"{quote(k, safe='')}=…" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    try:
        if parts.port:
            netloc += f":{parts.port}"
    except ValueError:
        pass
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _connection(
    parts: SplitResult, ip: IPAddress, policy: Policy, timeout: float
) -> http.client.HTTPConnection:
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def pinned(
        address: tuple[str, int], timeout: float | None = None, source: object = None
    ) -> socket.socket:
        # Connect to the address that passed the checks, whatever the name resolves to now.
        return socket.create_connection((str(ip), address[1]), timeout)

    conn._create_connection = pinned  # type: ignore[attr-defined]
    return conn


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    policy: Policy,
) -> HttpResult:
    """POST ``body`` to ``url`` under ``policy``; raises TransportError (or AddressRefused)."""
    parts = check_url(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    started = time.monotonic()
    deadline = started + policy.total_timeout
    addresses = resolve_checked(parts.hostname or "", port, policy)
    ip = addresses[0]
    connect_timeout = max(0.05, min(policy.connect_timeout, deadline - time.monotonic()))
    conn = _connection(parts, ip, policy, connect_timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    watchdog: threading.Timer | None = None
    phase = "connect"
    try:
        conn.connect()
        phase = "request"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TransportError(f"no answer within {policy.total_timeout:g} s")
        assert conn.sock is not None
        conn.sock.settimeout(remaining)
        sock = conn.sock

        def cut() -> None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(remaining, cut)
        watchdog.daemon = True
        watchdog.start()
        all_headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json", **headers}
        conn.request("POST", path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = bytearray()
        while len(data) < policy.max_body:
            chunk = response.read(min(16384, policy.max_body - len(data)))
            if not chunk:
                break
            data += chunk
        if time.monotonic() > deadline:
            raise TransportError(f"no complete answer within {policy.total_timeout:g} s")
        return HttpResult(
            status=response.status,
            body=bytes(data),
            headers={k.lower(): v for k, v in response.getheaders()},
            address=str(ip),
        )
    except TransportError:
        raise
    except TimeoutError as exc:
        if phase == "connect":
            raise TransportError(f"could not connect to {ip} within {policy.connect_timeout:g} s") from exc
        raise TransportError(f"no answer within {policy.total_timeout:g} s") from exc
    except ssl.SSLError as exc:
        raise TransportError(f"TLS error with {parts.hostname}: {exc.reason or exc}") from exc
    except ConnectionRefusedError as exc:
        raise TransportError(f"connection refused by {ip} port {port}") from exc
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() >= deadline - 0.05:
            raise TransportError(f"no answer within {policy.total_timeout:g} s") from exc
        raise TransportError(f"{phase} to {ip} failed: {exc.__class__.__name__}: {exc}") from exc
    finally:
        if watchdog is not None:
            watchdog.cancel()
        conn.close()
