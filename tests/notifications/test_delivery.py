"""notify() end to end against real local servers: e-mail by SMTP, signed webhooks, chat robots,
retries with backoff, dead letters, replay, crash recovery and the SSRF rules."""

from __future__ import annotations

import email.header
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from manyi.notifications.actions import (
    NotificationError,
    do_create_endpoint,
    do_deliver,
    do_replay,
    do_scan,
    do_send_test_event,
    notify,
)
from manyi.notifications.choices import DeliveryStatus, EventType
from manyi.notifications.models import Endpoint, Notification
from manyi.notifications.transport import mask_url
from manyi.org.actions import do_create_staff
from manyi.org.choices import Role
from tests.conftest import PASSWORD, Org

from .conftest import Inbox, Receiver

pytestmark = pytest.mark.django_db


def endpoint(org: Org, url: str, *, unit: Any = None, kind: str = "webhook", **kw: Any) -> Endpoint:
    return do_create_endpoint(unit=unit or org.store_a, name=f"hook {url[-12:]}", kind=kind, url=url, **kw)


def opened(
    org: Org, *, unit: Any = None, recipients: list[Any] | None = None, **kw: Any
) -> list[Notification]:
    return notify(
        kw.pop("event", EventType.CASE_OPENED),
        recipients=recipients or [],
        subject="新的回访工单：上海一店",
        body="顾客 NPS 2：排队太久了。请在 4 小时内回访。",
        context={"case_url": "http://127.0.0.1:8000/console/cases/7/", "nps": 2, "due": timezone.now()},
        unit=unit or org.store_a,
        **kw,
    )


def deliver_all(ns: list[Notification]) -> list[str]:
    return [do_deliver(n.pk) for n in ns]


# --- fan-out -------------------------------------------------------------------------------------


def test_notify_records_one_notification_per_recipient_and_per_subscribed_endpoint(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    mgr = do_create_staff(
        username="li", password=PASSWORD, unit=org.store_a, role=Role.UNIT_MANAGER, email="li@a.example"
    )
    at_store = endpoint(org, receiver.url("/ok"))
    at_region = endpoint(org, receiver.url("/ok?r"), unit=org.region)
    endpoint(org, receiver.url("/ok?b"), unit=org.store_b)  # a sibling store: not told
    endpoint(org, receiver.url("/ok?closed"), events=[EventType.CASE_CLOSED])  # another event: not told
    ns = opened(org, recipients=[mgr, mgr], case=None)
    assert sorted((n.channel, n.target) for n in ns) == sorted(
        [("email", "li@a.example"), ("webhook", mask_url(at_store.url)), ("webhook", mask_url(at_region.url))]
    )
    assert {n.event_id for n in ns} == {ns[0].event.pk}
    assert all(n.status == DeliveryStatus.PENDING and n.next_attempt_at for n in ns)


def test_a_recipient_without_an_email_address_is_skipped_and_says_why(org: Org) -> None:
    (n,) = opened(org, recipients=[org.manager_a])
    assert n.status == DeliveryStatus.SKIPPED
    assert "mgr-a has no e-mail address" in n.last_error


def test_an_unknown_event_is_refused_listing_the_known_ones(org: Org) -> None:
    with pytest.raises(NotificationError, match=r"unknown notification event 'case\.exploded'.*case\.opened"):
        opened(org, event="case.exploded")


def test_the_case_is_kept_as_a_plain_id(org: Org) -> None:
    class FakeCase:
        pk = 41

    (n,) = opened(
        org, recipients=[], endpoints=[endpoint(org, "https://93.184.215.14/hook")], case=FakeCase()
    )
    assert n.event.case_id == 41


# --- e-mail --------------------------------------------------------------------------------------


def test_an_email_notification_arrives_at_a_real_smtp_server(org: Org, smtp_server: Inbox) -> None:
    user = do_create_staff(
        username="wang", password=PASSWORD, unit=org.store_a, role=Role.AGENT, email="wang@a.example"
    )
    (n,) = opened(org, recipients=[user])
    assert do_deliver(n.pk) == DeliveryStatus.DELIVERED
    [received] = smtp_server.messages
    assert smtp_server.envelopes[0].rcpt_tos == ["wang@a.example"]
    assert (
        str(email.header.make_header(email.header.decode_header(received["Subject"])))
        == "新的回访工单：上海一店"
    )
    assert "排队太久了" in received.get_payload(decode=True).decode(received.get_content_charset() or "utf-8")
    assert received["X-Manyi-Event"] == "case.opened"
    [attempt] = n.attempt_log.all()
    assert (attempt.outcome, attempt.target, attempt.response_code) == ("ok", "wang@a.example", 250)


def test_an_address_the_mail_server_refuses_goes_straight_to_the_dead_letters(
    org: Org, smtp_server: Inbox
) -> None:
    user = do_create_staff(
        username="x", password=PASSWORD, unit=org.store_a, role=Role.AGENT, email="x@refused.example"
    )
    (n,) = opened(org, recipients=[user])
    assert do_deliver(n.pk) == DeliveryStatus.DEAD
    n.refresh_from_db()
    assert "refused x@refused.example" in n.last_error
    assert smtp_server.messages == []


# --- webhooks ------------------------------------------------------------------------------------


def test_a_webhook_is_signed_to_the_standard_webhooks_spec(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    ep = endpoint(org, receiver.url("/ok"))
    assert ep.secret.startswith("whsec_")
    (n,) = opened(org, case=None)
    assert do_deliver(n.pk) == DeliveryStatus.DELIVERED
    [req] = receiver.requests
    payload = Webhook(ep.secret).verify(req.body, req.headers)  # what a receiver does; raises if wrong
    assert req.headers["webhook-id"] == n.event.message_id
    assert payload["type"] == "case.opened"
    assert payload["data"]["subject"] == "新的回访工单：上海一店"
    assert payload["data"]["unit"]["code"] == "sh-001"
    assert payload["data"]["context"]["nps"] == 2
    with pytest.raises(Exception, match="No matching signature"):
        Webhook("whsec_" + "A" * 43 + "=").verify(req.body, req.headers)


def test_a_failing_endpoint_is_retried_with_backoff_then_dead_lettered_and_replayed(
    org: Org, allow_local: None, receiver: Receiver, settings: Any
) -> None:
    ep = endpoint(org, receiver.url("/fail"))
    (n,) = opened(org)
    t0 = timezone.now()
    assert do_deliver(n.pk, now=t0) == DeliveryStatus.RETRYING
    n.refresh_from_db()
    # First retry after 60 s ± 20 %.
    assert timedelta(seconds=47) < n.next_attempt_at - t0 < timedelta(seconds=73)
    assert n.last_error == "HTTP 500: database unavailable"
    assert do_deliver(n.pk, now=t0).startswith("not due"), "not before its time"
    n.refresh_from_db()
    assert do_deliver(n.pk, now=n.next_attempt_at) == DeliveryStatus.RETRYING
    n.refresh_from_db()
    assert n.next_attempt_at - t0 > timedelta(seconds=96)  # the second wait is about 120 s more
    assert do_deliver(n.pk, now=n.next_attempt_at) == DeliveryStatus.DEAD  # 3 attempts (settings)
    n.refresh_from_db()
    log = list(n.attempt_log.values_list("number", "outcome", "response_code"))
    assert log == [(1, "error", 500), (2, "error", 500), (3, "error", 500)]
    assert list(Notification.objects.filter(status=DeliveryStatus.DEAD)) == [n]

    ep.url = receiver.url("/ok")
    ep.save(update_fields=["url"])
    do_replay(n)
    n.refresh_from_db()
    assert (n.status, n.attempts, n.replays) == (DeliveryStatus.PENDING, 0, 1)
    assert do_deliver(n.pk) == DeliveryStatus.DELIVERED
    assert n.attempt_log.count() == 4
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {n.event.message_id}, "every retry and the replay carry the same webhook-id"


def test_a_flaky_endpoint_is_delivered_on_a_later_attempt(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    receiver.fail_first = 1
    endpoint(org, receiver.url("/flaky"))
    (n,) = opened(org)
    assert do_deliver(n.pk) == DeliveryStatus.RETRYING
    n.refresh_from_db()
    assert do_deliver(n.pk, now=n.next_attempt_at) == DeliveryStatus.DELIVERED


def test_a_notification_that_is_queued_cannot_be_replayed(org: Org) -> None:
    (n,) = opened(org, endpoints=[endpoint(org, "https://93.184.215.14/hook")])
    with pytest.raises(NotificationError, match="already queued"):
        do_replay(n)


def test_a_hanging_endpoint_does_not_hold_up_the_next_delivery(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    endpoint(org, receiver.url("/hang"))
    endpoint(org, receiver.url("/ok"))
    hanging, fine = sorted(opened(org), key=lambda n: "ok" in n.target)
    assert do_deliver(hanging.pk) == DeliveryStatus.RETRYING
    hanging.refresh_from_db()
    assert "no answer within 1.5 s" in hanging.last_error
    assert hanging.attempt_log.get().duration_ms < 5000
    assert do_deliver(fine.pk) == DeliveryStatus.DELIVERED


def test_a_redirect_to_an_internal_address_is_a_failure_naming_the_location(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    endpoint(org, receiver.url("/redirect"))
    (n,) = opened(org)
    do_deliver(n.pk)
    n.refresh_from_db()
    assert n.last_error.startswith("HTTP 302: redirected to http://127.0.0.1:22/internal")
    assert receiver.paths() == ["/redirect"]


def test_an_endpoint_answering_410_gone_is_dead_lettered_at_once(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    endpoint(org, receiver.url("/gone"))
    (n,) = opened(org)
    assert do_deliver(n.pk) == DeliveryStatus.DEAD


def test_without_the_allow_list_a_loopback_endpoint_cannot_be_saved(org: Org, receiver: Receiver) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        endpoint(org, receiver.url("/ok"))
    assert "resolves to 127.0.0.1, a loopback address" in exc.value.message_dict["url"][0]


def test_without_the_allow_list_a_delivery_to_loopback_is_refused_and_never_sent(
    org: Org, allow_local: None, receiver: Receiver, settings: Any
) -> None:
    endpoint(org, receiver.url("/ok"))
    settings.MANYI_WEBHOOK_ALLOW_HOSTS = []  # the allow-list was narrowed after the endpoint was saved
    (n,) = opened(org)
    assert do_deliver(n.pk) == DeliveryStatus.DEAD
    n.refresh_from_db()
    assert "127.0.0.1, a loopback address; refused" in n.last_error
    assert receiver.requests == []


# --- chat robots ---------------------------------------------------------------------------------


def test_a_wecom_robot_gets_markdown(org: Org, allow_local: None, receiver: Receiver) -> None:
    endpoint(org, receiver.url("/bot/" + quote('{"errcode":0,"errmsg":"ok"}')), kind="wecom")
    (n,) = opened(org)
    assert do_deliver(n.pk) == DeliveryStatus.DELIVERED
    body = json.loads(receiver.requests[0].body)
    assert body["msgtype"] == "markdown"
    assert "**新的回访工单：上海一店**" in body["markdown"]["content"]
    assert "`case.opened`" in body["markdown"]["content"]


def test_a_robot_that_answers_200_with_an_error_code_is_a_failure(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    endpoint(
        org, receiver.url("/bot/" + quote('{"errcode":93000,"errmsg":"invalid webhook url"}')), kind="wecom"
    )
    (n,) = opened(org)
    assert do_deliver(n.pk) == DeliveryStatus.RETRYING
    n.refresh_from_db()
    assert n.last_error == "the robot refused the message: code 93000: invalid webhook url"
    assert n.attempt_log.get().response_code == 200


def test_a_signed_dingtalk_robot_gets_timestamp_and_sign_in_the_query(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    endpoint(
        org,
        receiver.url("/bot/" + quote('{"errcode":0,"errmsg":"ok"}')) + "?access_token=t0k",
        kind="dingtalk",
        secret="SECabc",
    )
    (n,) = opened(org)
    assert do_deliver(n.pk) == DeliveryStatus.DELIVERED
    query = parse_qs(urlsplit(receiver.requests[0].path).query)
    assert set(query) == {"access_token", "timestamp", "sign"}
    assert json.loads(receiver.requests[0].body)["msgtype"] == "markdown"
    assert "t0k" not in n.attempt_log.get().target, "robot keys are masked in the log"


def test_a_signed_feishu_bot_gets_a_card_with_timestamp_and_sign(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    endpoint(
        org, receiver.url("/bot/" + quote('{"code":0,"msg":"success","data":{}}')), kind="feishu", secret="fs"
    )
    (n,) = opened(org)
    assert do_deliver(n.pk) == DeliveryStatus.DELIVERED
    body = json.loads(receiver.requests[0].body)
    assert body["msg_type"] == "interactive" and body["sign"] and body["timestamp"].isdigit()


# --- scan, claims and crashes --------------------------------------------------------------------


def test_a_notification_is_sent_once_even_when_two_tasks_run_for_it(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    endpoint(org, receiver.url("/ok"))
    (n,) = opened(org)
    assert do_deliver(n.pk) == DeliveryStatus.DELIVERED
    assert do_deliver(n.pk) == "not due (delivered)"
    assert len(receiver.requests) == 1


def test_the_scan_requeues_due_notifications_once_and_not_again_right_away(org: Org) -> None:
    ns = opened(org, endpoints=[endpoint(org, "https://93.184.215.14/hook")], enqueue=False)
    later = timezone.now() + timedelta(seconds=1)
    assert do_scan(now=later).queued == len(ns) == 1
    assert do_scan(now=later).queued == 0
    assert do_scan(now=later + timedelta(minutes=6)).queued == 1, "a task lost in the queue is queued again"


def test_a_send_interrupted_by_a_crash_is_recovered_by_the_scan_and_logged(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    endpoint(org, receiver.url("/ok"))
    (n,) = opened(org)
    t0 = timezone.now()
    # The worker claimed it (attempt 1) and died before it could write the result.
    Notification.objects.filter(pk=n.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=t0 + timedelta(seconds=40)
    )
    assert do_scan(now=t0).recovered == 0, "the lease has not run out yet"
    report = do_scan(now=t0 + timedelta(minutes=1))
    assert (report.recovered, report.queued) == (1, 1)
    n.refresh_from_db()
    assert n.status == DeliveryStatus.RETRYING
    assert "interrupted" in n.attempt_log.get().error
    assert do_deliver(n.pk, now=t0 + timedelta(minutes=1)) == DeliveryStatus.DELIVERED
    assert list(n.attempt_log.values_list("number", "outcome")) == [(1, "error"), (2, "ok")]


def test_a_test_event_is_sent_at_once_and_not_retried(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    ok = do_send_test_event(endpoint(org, receiver.url("/ok")))
    assert ok.status == DeliveryStatus.DELIVERED and ok.event.type == "endpoint.test"
    failed = do_send_test_event(endpoint(org, receiver.url("/fail")))
    assert failed.status == DeliveryStatus.DEAD and failed.last_error == "HTTP 500: database unavailable"


def test_a_disabled_endpoint_is_not_told_and_cannot_be_replayed_to(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    ep = endpoint(org, receiver.url("/gone"))
    (n,) = opened(org)
    do_deliver(n.pk)
    ep.is_active = False
    ep.save(update_fields=["is_active"])
    assert opened(org) == []
    with pytest.raises(NotificationError, match="is disabled; enable it first"):
        do_replay(Notification.objects.get(pk=n.pk))


def test_an_endpoint_that_times_out_is_paused_so_its_other_notifications_wait_without_a_worker(
    org: Org, allow_local: None, receiver: Receiver
) -> None:
    ep = endpoint(org, receiver.url("/hang"))
    first, second = (opened(org)[0], opened(org)[0])
    t0 = timezone.now()
    assert do_deliver(first.pk, now=t0) == DeliveryStatus.RETRYING
    ep.refresh_from_db()
    assert ep.paused_until is not None and ep.paused_until > t0
    assert "no answer within 1.5 s" in ep.pause_reason
    assert do_deliver(second.pk, now=t0) == "deferred"
    second.refresh_from_db()
    assert (second.status, second.attempts) == (DeliveryStatus.RETRYING, 0)
    assert second.next_attempt_at >= ep.paused_until
    assert "endpoint is paused until" in second.last_error
    assert second.attempt_log.count() == 0 and len(receiver.requests) == 1

    ep.url = receiver.url("/ok")
    ep.save(update_fields=["url"])
    assert do_deliver(second.pk, now=second.next_attempt_at) == DeliveryStatus.DELIVERED
    ep.refresh_from_db()
    assert ep.paused_until is None and ep.pause_reason == ""


def test_the_worker_finds_the_periodic_scan_and_a_tick_runs_it(org: Org) -> None:
    from manyi.core.periodic import discover, run_due

    [scan] = [p for p in discover() if p.name.endswith("notifications.tasks.scan_notifications")]
    assert scan.every == 15
    opened(org, endpoints=[endpoint(org, "https://93.184.215.14/hook")], enqueue=False)
    [report] = run_due(force=True, only="notifications.tasks")
    assert report["ok"] and report["result"] == {"queued": 1, "recovered": 0, "dead": 0}
