"""The SSRF-safe transport on its own: address rules, allow-list, pinning, timeouts, redirects."""

from __future__ import annotations

import ipaddress
import socket
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from manyi.notifications.transport import (
    AddressRefused,
    Policy,
    TransportError,
    address_refusal,
    check_url,
    mask_url,
    post,
    resolve_checked,
)

from .conftest import Receiver

LOCAL = Policy(allow_hosts=("127.0.0.1",), connect_timeout=1.0, total_timeout=1.5)
STRICT = Policy(connect_timeout=1.0, total_timeout=1.5)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not a globally routable"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a00:1", "private"),
        ("2002:7f00:1::", "loopback"),
    ],
)
def test_internal_addresses_are_refused_with_the_reason(address: str, reason: str) -> None:
    refusal = address_refusal(ipaddress.ip_address(address))
    assert refusal is not None and reason in refusal


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


@given(st.ip_addresses(v=4))
def test_an_ipv4_mapped_ipv6_address_gets_the_same_verdict_as_its_ipv4_address(ip: Any) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{ip}")
    assert (address_refusal(mapped) is None) == (address_refusal(ip) is None)


@given(st.ip_addresses(network="10.0.0.0/8") | st.ip_addresses(network="192.168.0.0/16"))
def test_every_private_ipv4_address_is_refused(ip: Any) -> None:
    assert address_refusal(ip) is not None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/x", "https:// or http://"),
        ("file:///etc/passwd", "https:// or http://"),
        ("https:///nohost", "no host"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https://example.com:99999/", "not valid"),
    ],
)
def test_malformed_urls_are_refused_naming_the_problem(url: str, problem: str) -> None:
    with pytest.raises(AddressRefused, match=problem):
        check_url(url)


def test_localhost_is_refused_unless_allow_listed_by_name_or_network() -> None:
    with pytest.raises(AddressRefused, match="MANYI_WEBHOOK_ALLOW_HOSTS"):
        resolve_checked("localhost", 80, STRICT)
    assert resolve_checked("localhost", 80, Policy(allow_hosts=("localhost",)))
    assert resolve_checked("127.0.0.1", 80, Policy(allow_hosts=("127.0.0.0/8",)))
    with pytest.raises(AddressRefused):
        resolve_checked("127.0.0.1", 80, Policy(allow_hosts=("10.0.0.0/8",)))


def test_a_name_resolving_to_one_public_and_one_private_address_is_refused(monkeypatch: Any) -> None:
    def fake(host: str, port: Any, *a: Any, **kw: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(AddressRefused, match=r"10\.0\.0\.5, a private address"):
        resolve_checked("mixed.example", 443, STRICT)


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(
    receiver: Receiver, monkeypatch: Any
) -> None:
    """DNS rebinding: the first answer is checked, and the socket is opened to that very address."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: str, port: Any, *a: Any, **kw: Any) -> Any:
        if host == "hooks.example":
            lookups.append(host)
            # First lookup: a loopback address the allow-list permits; any later one would be 10.x.
            ip = "127.0.0.1" if len(lookups) == 1 else "10.9.9.9"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]
        return real(host, port, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    result = post(receiver.url("/ok", host="hooks.example"), b"{}", {}, LOCAL)
    assert result.status == 200 and result.address == "127.0.0.1"
    assert lookups == ["hooks.example"]
    assert receiver.requests[0].headers["Host"] == f"hooks.example:{receiver.port}"


def test_a_local_server_is_reached_only_when_allow_listed(receiver: Receiver) -> None:
    with pytest.raises(AddressRefused, match=r"127\.0\.0\.1, a loopback address"):
        post(receiver.url("/ok"), b"{}", {}, STRICT)
    assert receiver.requests == []
    result = post(receiver.url("/ok"), b'{"a":1}', {"webhook-id": "msg_1"}, LOCAL)
    assert result.status == 200
    assert receiver.requests[0].body == b'{"a":1}'
    assert receiver.requests[0].headers["webhook-id"] == "msg_1"


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    result = post(receiver.url("/redirect"), b"{}", {}, LOCAL)
    assert result.status == 302
    assert result.location == "http://127.0.0.1:22/internal"
    assert receiver.paths() == ["/redirect"]


def test_a_hanging_endpoint_is_given_up_at_the_total_timeout(receiver: Receiver) -> None:
    t0 = time.monotonic()
    with pytest.raises(TransportError, match=r"no answer within 1\.5 s"):
        post(receiver.url("/hang"), b"{}", {}, LOCAL)
    assert time.monotonic() - t0 < 5


def test_an_endpoint_that_drips_its_answer_is_cut_at_the_total_timeout(receiver: Receiver) -> None:
    t0 = time.monotonic()
    with pytest.raises(TransportError, match=r"within 1\.5 s"):
        post(receiver.url("/drip"), b"{}", {}, LOCAL)
    assert time.monotonic() - t0 < 5


def test_a_closed_port_is_a_temporary_failure_naming_the_address() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransportError, match="refused") as exc:
        post(f"http://127.0.0.1:{port}/x", b"{}", {}, LOCAL)
    assert not exc.value.permanent


def test_query_values_are_masked_in_urls_shown_to_people() -> None:
    masked = mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx")
    assert masked == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
    assert "693a91f6" not in masked
    assert mask_url("http://[::1]:8080/a?x=1&y=2") == "http://[::1]:8080/a?x=…&y=…"
