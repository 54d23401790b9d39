"""Console pages of notifications: endpoints with a secret shown once, test events, the log, replay."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from manyi.notifications.actions import do_create_endpoint, do_deliver, notify
from manyi.notifications.choices import DeliveryStatus, EventType
from manyi.notifications.models import Endpoint, Notification
from manyi.org.actions import do_create_staff
from manyi.org.choices import Role
from tests.conftest import PASSWORD, Org

from .conftest import Receiver

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def create_form(org: Org, url: str, **kw: Any) -> dict[str, Any]:
    return {"name": "CRM", "kind": "webhook", "unit": org.store_a.pk, "url": url, "is_active": "on", **kw}


def test_a_manager_creates_a_webhook_endpoint_and_sees_its_secret_only_once(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    client = login(org.manager_a)
    resp = client.post(reverse("console:notification_endpoint_create"), create_form(org, receiver.url("/ok")))
    ep = Endpoint.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse(
        "console:notification_endpoint_detail", args=[ep.pk]
    )
    first = client.get(resp["Location"]).content.decode()
    assert ep.secret.startswith("whsec_") and ep.secret in first
    second = client.get(resp["Location"]).content.decode()
    assert ep.secret not in second


def test_an_endpoint_on_a_private_address_is_refused_on_the_form_with_the_reason(org: Org) -> None:
    client = login(org.admin)
    resp = client.post(
        reverse("console:notification_endpoint_create"),
        create_form(org, "http://169.254.169.254/latest/meta-data"),
    )
    assert resp.status_code == 200
    assert "169.254.169.254, a link-local address; refused" in resp.content.decode()
    assert not Endpoint.objects.exists()


def test_a_bad_webhook_secret_is_refused_naming_the_expected_form(org: Org) -> None:
    client = login(org.admin)
    resp = client.post(
        reverse("console:notification_endpoint_create"),
        create_form(org, "https://93.184.215.14/hook", secret="hunter2"),
    )
    assert "starts with “whsec_”" in resp.content.decode()


def test_a_store_manager_cannot_create_an_endpoint_for_another_store(org: Org) -> None:
    client = login(org.manager_a)
    resp = client.post(
        reverse("console:notification_endpoint_create"),
        create_form(org, "https://93.184.215.14/hook", unit=org.store_c.pk),
    )
    assert resp.status_code == 200 and not Endpoint.objects.exists()
    assert "Select a valid choice" in resp.content.decode()


def test_an_agent_may_read_endpoints_but_not_change_them(org: Org) -> None:
    agent = do_create_staff(username="agent", password=PASSWORD, unit=org.store_a, role=Role.AGENT)
    ep = do_create_endpoint(unit=org.store_a, name="CRM", kind="webhook", url="https://93.184.215.14/h")
    client = login(agent)
    assert client.get(reverse("console:notification_endpoint_detail", args=[ep.pk])).status_code == 200
    assert client.get(reverse("console:notification_endpoint_create")).status_code == 403
    assert client.post(reverse("console:notification_endpoint_test", args=[ep.pk])).status_code == 403
    assert client.post(reverse("console:notification_endpoint_rotate", args=[ep.pk])).status_code == 403


def test_the_send_test_event_button_delivers_and_opens_the_result(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    ep = do_create_endpoint(unit=org.store_a, name="CRM", kind="webhook", url=receiver.url("/ok"))
    client = login(org.manager_a)
    assert (
        "Send test event"
        in client.get(reverse("console:notification_endpoint_test", args=[ep.pk])).content.decode()
    )
    resp = client.post(reverse("console:notification_endpoint_test", args=[ep.pk]))
    n = Notification.objects.get()
    assert resp["Location"] == reverse("console:notification_detail", args=[n.pk])
    assert n.status == DeliveryStatus.DELIVERED and len(receiver.requests) == 1
    page = client.get(resp["Location"]).content.decode()
    assert "endpoint.test" in page and ">200<" in page


def test_rotating_the_secret_shows_the_new_one_once(org: Org) -> None:
    ep = do_create_endpoint(unit=org.store_a, name="CRM", kind="webhook", url="https://93.184.215.14/h")
    old = ep.secret
    client = login(org.manager_a)
    resp = client.post(reverse("console:notification_endpoint_rotate", args=[ep.pk]))
    ep.refresh_from_db()
    assert ep.secret != old
    assert ep.secret in client.get(resp["Location"]).content.decode()


def test_editing_an_endpoint_keeps_its_secret_when_the_field_is_left_empty(org: Org) -> None:
    ep = do_create_endpoint(unit=org.store_a, name="CRM", kind="webhook", url="https://93.184.215.14/h")
    client = login(org.manager_a)
    resp = client.post(
        reverse("console:notification_endpoint_detail", args=[ep.pk]),
        {"name": "CRM 2", "url": "https://93.184.215.14/h2", "events": ["case.opened", "case.closed"]},
    )
    assert resp.status_code == 302
    secret = ep.secret
    ep.refresh_from_db()
    assert (ep.name, ep.url, ep.events, ep.is_active, ep.secret) == (
        "CRM 2",
        "https://93.184.215.14/h2",
        ["case.closed", "case.opened"],
        False,
        secret,
    )


def test_the_delivery_log_filters_and_the_dead_letters_replay(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    bad = do_create_endpoint(unit=org.store_a, name="Broken", kind="webhook", url=receiver.url("/gone"))
    do_create_endpoint(unit=org.store_a, name="Fine", kind="webhook", url=receiver.url("/ok"))
    ns = notify(
        EventType.CASE_OPENED, recipients=[], subject="Case 7 opened", body="", context={}, unit=org.store_a
    )
    for n in ns:
        do_deliver(n.pk)
    dead = Notification.objects.get(endpoint=bad)
    client = login(org.manager_a)
    log = client.get(reverse("console:notification_list") + "?status=dead").content.decode()
    assert "/gone</code>" in log and "/ok</code>" not in log
    assert "Case 7 opened" in client.get(reverse("console:notification_dead_letters")).content.decode()
    bogus = client.get(
        reverse("console:notification_list") + "?status=exploded&since=yesterday"
    ).content.decode()
    assert "Unknown status “exploded” ignored." in bogus and "must be a date like 2026-11-23" in bogus

    bad.url = receiver.url("/ok")
    bad.save(update_fields=["url"])
    resp = client.post(reverse("console:notification_replay", args=[dead.pk]))
    assert resp.status_code == 302
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.PENDING and dead.replays == 1
    again = client.post(reverse("console:notification_replay", args=[dead.pk]), follow=True)
    assert "already queued" in again.content.decode()
