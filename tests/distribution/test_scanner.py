"""The scanner: sends due invitations once, through personal links, with one reminder; survives crashes."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.utils import translation

from manyi.distribution.actions import do_create_rule, do_scan
from manyi.distribution.adapters import DeliveryError, OutboundMessage, SmsAdapter
from manyi.distribution.choices import InvitationStatus, Outcome, Reason, ReminderStatus
from manyi.distribution.models import Decision, Invitation
from manyi.responses.actions import check_submit_response
from manyi.surveys.choices import LinkKind
from tests.conftest import Org, build_org, csi_answers

from .conftest import T0, customer, days, event

DUE = T0 + timedelta(hours=24)


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


@pytest.mark.django_db
def test_nothing_is_sent_before_the_due_time(org: Org, rule: Any, adapters: Any) -> None:
    event(customer(org.store_a), org.store_a)
    assert do_scan(now=DUE - timedelta(minutes=1), adapters=adapters).touched == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_due_invitation_is_sent_once_with_a_personal_single_use_link(
    org: Org, rule: Any, adapters: Any
) -> None:
    event(customer(org.store_a, language="en"), org.store_a)
    report = do_scan(now=DUE, adapters=adapters)
    inv = Invitation.objects.select_related("link").get()
    assert report.sent == 1 and inv.status == InvitationStatus.SENT and inv.sent_at == DUE
    link = inv.link
    assert link is not None and link.kind == LinkKind.PERSONAL and link.customer_id == inv.customer_id
    assert link.service_event_ref == "pos:e-1"
    assert link.expires_at == DUE + timedelta(days=7)
    assert link.channel == "email" and link.language == "en"
    [message] = mail.outbox
    assert message.to == ["li.na@example.com"]
    assert message.subject == "How was your visit to Shanghai 1?"
    assert f"/s/{link.token}" in message.body
    assert message.extra_headers["X-Manyi-Idempotency-Key"] == inv.idempotency_key
    sent = Decision.objects.get(outcome=Outcome.SENT)
    assert sent.message == "sent by e-mail to l***@example.com under rule store-visit"


@pytest.mark.django_db
def test_running_the_scanner_twice_sends_nothing_the_second_time(org: Org, rule: Any, adapters: Any) -> None:
    for i in range(3):
        event(customer(org.store_a, f"c-{i}"), org.store_a, f"e-{i}", preferred_channel="sms")
    assert do_scan(now=DUE, adapters=adapters).sent == 3
    assert do_scan(now=DUE, adapters=adapters).touched == 0
    assert do_scan(now=DUE + timedelta(hours=1), adapters=adapters).touched == 0
    assert len(adapters["sms"].backend.messages()) == 3


@pytest.mark.django_db
def test_the_scanner_sends_in_batches_until_nothing_is_due(org: Org, rule: Any, adapters: Any) -> None:
    for i in range(7):
        event(customer(org.store_a, f"c-{i}"), org.store_a, f"e-{i}")
    assert do_scan(now=DUE, adapters=adapters, batch=3).sent == 7


@pytest.mark.django_db
def test_sms_goes_to_the_file_backend_in_the_customers_language(org: Org, rule: Any, adapters: Any) -> None:
    event(customer(org.store_a, language="zh-hans"), org.store_a, preferred_channel="sms")
    do_scan(now=DUE, adapters=adapters)
    [sms] = adapters["sms"].backend.messages()
    inv = Invitation.objects.get()
    assert sms["to"] == "+8613812345678"
    assert sms["text"].startswith("李娜您好，感谢光临上海一店。")
    assert sms["text"].endswith(f"/s/{inv.link.token}")
    assert sms["idempotency_key"] == inv.idempotency_key


@pytest.mark.django_db
def test_a_rules_own_message_text_is_used(org: Org, adapters: Any) -> None:
    do_create_rule(
        code="own", survey=org.survey, message={"zh-hans": "请评价：{url}", "en": "Rate us: {url}"}
    )
    event(customer(org.store_a), org.store_a, preferred_channel="sms")
    do_scan(now=DUE, adapters=adapters)
    assert adapters["sms"].backend.messages()[0]["text"].startswith("请评价：http")


@pytest.mark.django_db
def test_one_reminder_goes_out_when_the_survey_is_unanswered(org: Org, rule: Any, adapters: Any) -> None:
    event(customer(org.store_a), org.store_a, preferred_channel="sms")
    do_scan(now=DUE, adapters=adapters)
    assert do_scan(now=DUE + days(2) - timedelta(minutes=1), adapters=adapters).touched == 0
    assert do_scan(now=DUE + days(2), adapters=adapters).reminders_sent == 1
    assert do_scan(now=DUE + days(3), adapters=adapters).touched == 0
    first, reminder = adapters["sms"].backend.messages()
    assert reminder["text"].startswith("提醒：")
    assert reminder["idempotency_key"] == f"{first['idempotency_key']}-reminder"
    inv = Invitation.objects.get()
    assert inv.reminder_status == ReminderStatus.SENT
    assert Decision.objects.filter(outcome=Outcome.REMINDER_SENT).count() == 1


@pytest.mark.django_db
def test_no_reminder_once_the_survey_is_answered(org: Org, rule: Any, adapters: Any) -> None:
    event(customer(org.store_a), org.store_a)
    do_scan(now=DUE, adapters=adapters)
    inv = Invitation.objects.select_related("link").get()
    assert inv.link is not None
    result = check_submit_response(
        link=inv.link, submission_id=uuid.uuid4(), data=csi_answers(), language="en", now=DUE + days(1)
    )
    assert result.created
    report = do_scan(now=DUE + days(2), adapters=adapters)
    assert report.reminders_skipped == 1 and report.reminders_sent == 0
    assert len(mail.outbox) == 1
    skipped = Decision.objects.get(outcome=Outcome.NO_REMINDER)
    assert skipped.message == "no reminder: answered at 2026-11-25 10:00 Asia/Shanghai"


@pytest.mark.django_db
def test_a_rule_without_reminders_sends_none(org: Org, adapters: Any) -> None:
    do_create_rule(code="once", survey=org.survey, reminder_after=None)
    event(customer(org.store_a), org.store_a)
    do_scan(now=DUE, adapters=adapters)
    assert do_scan(now=DUE + days(5), adapters=adapters).touched == 0
    assert Invitation.objects.get().reminder_status == ReminderStatus.NONE


@pytest.mark.django_db
def test_opting_out_after_scheduling_stops_the_send_and_logs_why(org: Org, rule: Any, adapters: Any) -> None:
    c = customer(org.store_a)
    event(c, org.store_a)
    c.opted_out = True
    c.save(update_fields=["opted_out"])
    assert do_scan(now=DUE, adapters=adapters).suppressed == 1
    assert mail.outbox == []
    inv = Invitation.objects.get()
    assert inv.status == InvitationStatus.SUPPRESSED and inv.link is None
    assert Decision.objects.filter(reason=Reason.OPTED_OUT, invitation=inv).exists()


@pytest.mark.django_db
def test_a_contact_removed_before_sending_falls_back_to_the_other_channel(
    org: Org, rule: Any, adapters: Any
) -> None:
    c = customer(org.store_a)
    event(c, org.store_a)
    c.email = ""
    c.save(update_fields=["email"])
    do_scan(now=DUE, adapters=adapters)
    assert Invitation.objects.get().channel == "sms"
    assert len(adapters["sms"].backend.messages()) == 1


class Flaky:
    """Fails ``times`` times with a temporary error, then delivers."""

    channel = "email"
    idempotent = False

    def __init__(self, times: int, permanent: bool = False) -> None:
        self.times, self.permanent, self.sent = times, permanent, []

    def send(self, message: OutboundMessage) -> str:
        if self.times:
            self.times -= 1
            raise DeliveryError("421 try again later", permanent=self.permanent)
        self.sent.append(message)
        return "ok"


@pytest.mark.django_db
def test_a_temporary_failure_is_retried_later_with_the_same_link_and_key(org: Org, rule: Any) -> None:
    event(customer(org.store_a), org.store_a)
    flaky = Flaky(times=1)
    assert do_scan(now=DUE, adapters={"email": flaky}).retried == 1
    inv = Invitation.objects.get()
    link_id = inv.link_id
    assert inv.status == InvitationStatus.SCHEDULED and inv.due_at == DUE + timedelta(minutes=5)
    failed = Decision.objects.get(outcome=Outcome.FAILED)
    assert failed.message == (
        "sending by e-mail failed (421 try again later); retrying at 2026-11-24 10:05 Asia/Shanghai"
    )
    assert do_scan(now=DUE + timedelta(minutes=5), adapters={"email": flaky}).sent == 1
    inv.refresh_from_db()
    assert inv.link_id == link_id and inv.attempts == 2
    assert flaky.sent[0].idempotency_key == inv.idempotency_key


@pytest.mark.django_db
def test_a_permanent_failure_gives_up_at_once(org: Org, rule: Any) -> None:
    event(customer(org.store_a), org.store_a)
    assert do_scan(now=DUE, adapters={"email": Flaky(1, permanent=True)}).failed == 1
    assert Invitation.objects.get().status == InvitationStatus.FAILED


class Crash(BaseException):
    """The process dies: nothing after this line runs."""


class SendsThenCrashes:
    """Delivers through ``inner``, then the process dies before the invitation is marked sent."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.channel, self.idempotent = inner, inner.channel, inner.idempotent

    def send(self, message: OutboundMessage) -> str:
        self.inner.send(message)
        raise Crash


@pytest.mark.django_db
def test_a_crash_after_an_sms_left_is_resent_with_the_same_key_and_the_provider_keeps_one(
    org: Org, rule: Any, adapters: Any
) -> None:
    event(customer(org.store_a), org.store_a, preferred_channel="sms")
    with pytest.raises(Crash):
        do_scan(now=DUE, adapters={"sms": SendsThenCrashes(adapters["sms"])})
    assert Invitation.objects.get().status == InvitationStatus.SENDING
    # Another scanner within the lease leaves it alone: the first may still be working.
    assert do_scan(now=DUE + timedelta(minutes=5), adapters=adapters).touched == 0
    report = do_scan(now=DUE + timedelta(minutes=11), adapters=adapters)
    assert report.sent == 1
    assert len(adapters["sms"].backend.messages()) == 1
    assert Invitation.objects.get().status == InvitationStatus.SENT


@pytest.mark.django_db
def test_a_crash_during_an_email_send_is_not_resent_but_marked_unknown(
    org: Org, rule: Any, adapters: Any
) -> None:
    event(customer(org.store_a), org.store_a)
    with pytest.raises(Crash):
        do_scan(now=DUE, adapters={"email": SendsThenCrashes(adapters["email"])})
    report = do_scan(now=DUE + timedelta(minutes=11), adapters=adapters)
    assert report.unknown == 1 and report.sent == 0
    assert len(mail.outbox) == 1
    inv = Invitation.objects.get()
    assert inv.status == InvitationStatus.UNKNOWN
    assert Decision.objects.filter(reason=Reason.DELIVERY_UNKNOWN, invitation=inv).exists()
    assert do_scan(now=DUE + days(3), adapters=adapters).touched == 0


@pytest.mark.django_db
def test_a_second_invitation_due_within_the_fatigue_window_is_stopped_at_send_time(
    org: Org, adapters: Any
) -> None:
    """Two rules that scheduled at once (before either was visible) still send one survey."""
    rule = do_create_rule(code="a", survey=org.survey, fatigue_days=30, cadence_days=0)
    c = customer(org.store_a)
    event(c, org.store_a, "e-1")
    first = Invitation.objects.get()
    # As if a concurrent ingestion had scheduled another one without seeing the first.
    Invitation.objects.create(
        event=first.event, rule=do_create_rule(code="b", survey=org.survey), survey=org.survey,
        customer=c, unit=org.store_a, due_at=DUE + timedelta(hours=1), idempotency_key="k2",
    )  # fmt: skip
    assert do_scan(now=DUE, adapters=adapters).sent == 1
    assert do_scan(now=DUE + timedelta(hours=1), adapters=adapters).suppressed == 1
    assert len(mail.outbox) == 1
    assert Invitation.objects.filter(status=InvitationStatus.SUPPRESSED).count() == 1
    assert rule.invitations.get().status == InvitationStatus.SENT


@pytest.mark.django_db(transaction=True)
def test_scanners_running_at_the_same_time_send_each_invitation_once(tmp_path: Any, settings: Any) -> None:
    org = build_org()
    do_create_rule(code="visit", survey=org.survey, fatigue_days=0, cadence_days=0)
    for i in range(20):
        event(customer(org.store_a, f"c-{i}"), org.store_a, f"e-{i}", preferred_channel="sms")
    from manyi.distribution.adapters import FileSmsBackend

    backend = FileSmsBackend(tmp_path / "sms.jsonl")
    barrier = threading.Barrier(4)
    reports: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            reports.append(do_scan(now=DUE, adapters={"sms": SmsAdapter(backend)}, batch=2))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sum(r.sent for r in reports) == 20
    keys = [m["idempotency_key"] for m in backend.messages()]
    assert len(keys) == len(set(keys)) == 20
    assert Invitation.objects.filter(status=InvitationStatus.SENT).count() == 20


@pytest.mark.django_db
def test_a_scanner_catching_up_in_quiet_hours_waits_for_the_window(
    org: Org, rule: Any, adapters: Any
) -> None:
    event(customer(org.store_a), org.store_a)
    night = T0 + timedelta(hours=36)  # 22:00 in Shanghai, 12 hours after the invitation fell due
    report = do_scan(now=night, adapters=adapters)
    assert report.touched == 0 and mail.outbox == []
    inv = Invitation.objects.get()
    assert inv.status == InvitationStatus.SCHEDULED
    assert inv.due_at == T0 + timedelta(hours=47)  # 09:00 the next morning in Shanghai
    moved = Decision.objects.filter(outcome=Outcome.SCHEDULED).last()
    assert moved is not None and "moved out of quiet hours" in moved.message
    assert do_scan(now=inv.due_at, adapters=adapters).sent == 1


@pytest.mark.django_db
def test_a_reminder_due_in_quiet_hours_waits_for_the_window(org: Org, rule: Any, adapters: Any) -> None:
    event(customer(org.store_a), org.store_a)
    late = T0 + timedelta(hours=34)  # the scanner sends at 20:00 in Shanghai, inside the window
    do_scan(now=late, adapters=adapters)
    inv = Invitation.objects.get()
    # Two days later at 20:00 is fine; the reminder due time is kept inside the window either way.
    assert inv.reminder_due_at == late + days(2)
    assert do_scan(now=late + days(2) + timedelta(hours=2), adapters=adapters).touched == 0
    inv.refresh_from_db()
    assert inv.reminder_status == ReminderStatus.SCHEDULED
    assert inv.reminder_due_at == T0 + timedelta(hours=95)  # 09:00 on 27 November in Shanghai


@pytest.mark.django_db
def test_a_batch_full_of_suppressed_invitations_does_not_stop_the_scan(
    org: Org, rule: Any, adapters: Any
) -> None:
    for i in range(3):
        event(customer(org.store_a, f"out-{i}"), org.store_a, f"out-{i}")
    from manyi.customers.models import Customer

    Customer.objects.filter(external_id__startswith="out-").update(opted_out=True)
    for i in range(2):
        event(customer(org.store_a, f"in-{i}"), org.store_a, f"in-{i}", at=T0 + timedelta(minutes=1))
    report = do_scan(now=DUE + timedelta(minutes=1), adapters=adapters, batch=3)
    assert (report.suppressed, report.sent) == (3, 2)


@pytest.mark.django_db(transaction=True)
def test_two_events_for_one_customer_arriving_together_schedule_one_survey() -> None:
    """The customer row lock (PostgreSQL) or the write lock (SQLite) decides one after the other."""
    org = build_org()
    do_create_rule(code="visit", survey=org.survey, fatigue_days=30, cadence_days=0)
    c = customer(org.store_a)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def record(i: int) -> None:
        try:
            barrier.wait()
            event(c, org.store_a, f"e-{i}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert Invitation.objects.count() == 1
    assert Decision.objects.filter(reason=Reason.FATIGUE).count() == 5
