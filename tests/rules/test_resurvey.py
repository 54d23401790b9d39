"""The rules' "resurvey" action: entries on a list go out through the distribution's invitations,
with its opt-out, fatigue and quiet-hour rules, and each entry records what happened and why."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from manyi.customers.models import Customer
from manyi.distribution.actions import do_create_rule, do_scan
from manyi.distribution.adapters import EmailAdapter, FileSmsBackend, SmsAdapter
from manyi.distribution.choices import InvitationStatus, Outcome, Reason
from manyi.distribution.models import Decision, DistributionRule, Invitation
from manyi.responses.actions import check_submit_response
from manyi.rules.actions import do_evaluate, do_send_resurveys
from manyi.rules.choices import ResurveySkip, ResurveyStatus
from manyi.rules.conditions import InvalidRule
from manyi.rules.models import ResurveyEntry
from manyi.surveys.actions import do_create_link, do_create_survey, do_publish
from manyi.surveys.choices import LinkKind
from tests.conftest import csi_answers
from tests.rules.conftest import DETRACTOR, make_rule

# Monday 23 November 2026, 10:00 in Shanghai.
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
RESURVEY = [{"type": "resurvey", "list": "detractors", "survey": "store-csi"}]


@pytest.fixture
def adapters(tmp_path: Any, settings: Any) -> dict[str, Any]:
    settings.MANYI_SMS_BACKEND = "file"
    settings.MANYI_SMS_FILE = tmp_path / "sms.jsonl"
    return {"email": EmailAdapter(), "sms": SmsAdapter(FileSmsBackend(tmp_path / "sms.jsonl"))}


def a_customer(org: Any, **kw: Any) -> Customer:
    return Customer.objects.create(
        name="王芳", home_unit=org.store_a, phone="+8613800138000", email="wang@example.com", **kw
    )


def answer(org: Any, customer: Customer, nps: int, at: datetime = T0) -> Any:
    link = do_create_link(survey=org.survey, kind=LinkKind.PERSONAL, unit=org.store_a, customer=customer)
    result = check_submit_response(
        link=link, submission_id=uuid.uuid4(), data=csi_answers(nps=nps), language="zh-hans", now=at
    )
    assert result.response is not None, result.errors
    return result.response


def detractor_on_the_list(org: Any, customer: Customer) -> ResurveyEntry:
    r = answer(org, customer, nps=2)
    do_evaluate("response", [r.pk], now=T0)
    return ResurveyEntry.objects.get(source_id=r.pk)


@pytest.mark.django_db
def test_a_detractor_on_the_list_is_invited_three_days_later_and_the_scanner_sends_the_re_survey(
    org, adapters
):
    make_rule(org.company, DETRACTOR, RESURVEY)
    program = DistributionRule.objects.get(code="resurvey-detractors")
    assert (program.survey, program.event_types, program.reminder_after) == (
        org.survey,
        ["resurvey:detractors"],
        None,
    )
    customer = a_customer(org)
    entry = detractor_on_the_list(org, customer)
    assert entry.status == ResurveyStatus.PENDING

    # The answer being followed up is not "surveyed 0 days ago": the entry is invited.
    report = do_send_resurveys(now=T0 + timedelta(minutes=1))
    assert report.as_dict() == {"invited": 1, "skipped": 0, "failed": 0}
    entry.refresh_from_db()
    assert entry.status == ResurveyStatus.INVITED
    inv = entry.invitation
    assert inv is not None and inv.status == InvitationStatus.SCHEDULED and inv.survey == org.survey
    assert inv.due_at.astimezone(SHANGHAI) == datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
    assert entry.reason_text == (
        "scheduled: e-mail at 2026-11-26 10:00 Asia/Shanghai under rule resurvey-detractors"
    )

    sent = do_scan(now=inv.due_at, adapters=adapters)
    assert sent.sent == 1
    inv.refresh_from_db()
    assert inv.status == InvitationStatus.SENT and inv.link is not None and inv.link.customer == customer


@pytest.mark.django_db
def test_running_the_sender_twice_invites_once(org):
    make_rule(org.company, DETRACTOR, RESURVEY)
    detractor_on_the_list(org, a_customer(org))
    do_send_resurveys(now=T0)
    ResurveyEntry.objects.update(status=ResurveyStatus.PENDING)  # as if the first run crashed after deciding
    assert do_send_resurveys(now=T0 + timedelta(minutes=5)).invited == 1
    assert Invitation.objects.count() == 1
    assert Decision.objects.filter(outcome=Outcome.SCHEDULED).count() == 1


@pytest.mark.django_db
def test_an_opted_out_customer_is_skipped_and_the_entry_says_why(org):
    make_rule(org.company, DETRACTOR, RESURVEY)
    entry = detractor_on_the_list(org, a_customer(org, opted_out=True))
    assert do_send_resurveys(now=T0).skipped == 1
    entry.refresh_from_db()
    assert (entry.status, entry.reason, entry.invitation) == (ResurveyStatus.SKIPPED, Reason.OPTED_OUT, None)
    assert entry.reason_text == "not sent: the customer opted out of surveys (rule resurvey-detractors)"


@pytest.mark.django_db
def test_another_recent_answer_counts_as_fatigue(org):
    make_rule(org.company, DETRACTOR, RESURVEY)
    customer = a_customer(org)
    answer(org, customer, nps=9, at=T0 - timedelta(days=5))
    entry = detractor_on_the_list(org, customer)
    do_send_resurveys(now=T0)
    entry.refresh_from_db()
    assert (entry.status, entry.reason) == (ResurveyStatus.SKIPPED, Reason.FATIGUE)
    assert "answered survey store-csi 5 days ago" in entry.reason_text


@pytest.mark.django_db
def test_a_decision_at_night_waits_for_the_send_window(org):
    program = do_create_rule(
        code="night-list",
        survey=org.survey,
        event_types=["resurvey:night"],
        delay=timedelta(0),
        reminder_after=None,
    )
    make_rule(org.company, DETRACTOR, [{"type": "resurvey", "list": "night"}])
    entry = detractor_on_the_list(org, a_customer(org))
    night = datetime(2026, 11, 23, 23, 30, tzinfo=SHANGHAI)
    do_send_resurveys(now=night)
    entry.refresh_from_db()
    assert entry.status == ResurveyStatus.INVITED and entry.invitation.rule == program
    assert entry.invitation.due_at.astimezone(SHANGHAI) == datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_an_old_rule_whose_list_no_program_sends_is_skipped_with_that_reason(org):
    make_rule(org.company, DETRACTOR, [{"type": "resurvey", "list": "after-callback"}])
    entry = detractor_on_the_list(org, a_customer(org))
    do_send_resurveys(now=T0)
    entry.refresh_from_db()
    assert (entry.status, entry.reason) == (ResurveyStatus.SKIPPED, ResurveySkip.NO_PROGRAM)
    assert "resurvey:after-callback" in entry.reason_text


@pytest.mark.django_db
def test_entries_without_a_customer_or_waiting_too_long_are_skipped(org):
    make_rule(org.company, DETRACTOR, RESURVEY)
    anonymous = check_submit_response(
        link=org.link_a, submission_id=uuid.uuid4(), data=csi_answers(nps=1), language="zh-hans", now=T0
    ).response
    assert anonymous is not None
    do_evaluate("response", [anonymous.pk], now=T0)
    late = detractor_on_the_list(org, a_customer(org))
    do_send_resurveys(now=T0 + timedelta(days=31))
    reasons = dict(ResurveyEntry.objects.values_list("source_id", "reason"))
    assert reasons == {anonymous.pk: ResurveySkip.NO_CUSTOMER, late.source_id: ResurveySkip.EXPIRED}


@pytest.mark.django_db
def test_an_unknown_survey_and_a_list_owned_by_another_survey_are_refused_on_save(org):
    with pytest.raises(InvalidRule) as exc:
        make_rule(org.company, DETRACTOR, [{"type": "resurvey", "list": "x", "survey": "nope"}])
    assert [str(p) for p in exc.value.problems] == [
        "actions[0].survey: no active survey with a published version is called nope; known: store-csi"
    ]
    make_rule(org.company, DETRACTOR, RESURVEY)
    other = do_create_survey(slug="delivery-nps", unit=org.company, template="post_service_csat")
    do_publish(survey=other)
    with pytest.raises(InvalidRule) as exc:
        make_rule(
            org.company,
            DETRACTOR,
            [{"type": "resurvey", "list": "detractors", "survey": "delivery-nps"}],
            slug="second",
        )
    assert [str(p) for p in exc.value.problems] == [
        "actions[0].survey: the list detractors already sends the survey store-csi "
        "(distribution rule resurvey-detractors); name that survey or use another list"
    ]
    assert DistributionRule.objects.filter(code__startswith="resurvey-").count() == 1


@pytest.mark.django_db
def test_the_cli_lists_entries_with_their_status_and_reason(org):
    from typer.testing import CliRunner

    from manyi.cli import app

    make_rule(org.company, DETRACTOR, RESURVEY)
    entry = detractor_on_the_list(org, a_customer(org, opted_out=True, external_id="c-9"))
    do_send_resurveys(now=T0)
    result = CliRunner().invoke(
        app, ["rules", "resurveys", "--list", "detractors", "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert (row["id"], row["status"], row["reason"], row["customer"]) == (
        entry.pk,
        "skipped",
        "opted_out",
        "c-9",
    )
    assert row["message"] == "not sent: the customer opted out of surveys (rule resurvey-detractors)"
    bad = CliRunner().invoke(app, ["rules", "resurveys", "--status", "lost"])
    assert bad.exit_code == 2 and "expected one of pending, invited, sent, skipped" in bad.stderr


@pytest.mark.django_db
def test_the_rule_page_shows_each_matchs_re_survey_status_and_reason(org):
    from tests.rules.test_console import signed_in

    rule = make_rule(org.company, DETRACTOR, RESURVEY)
    detractor_on_the_list(org, a_customer(org, opted_out=True))
    do_send_resurveys(now=T0)
    client = signed_in(org.admin)
    page = client.get(f"/rules/{rule.pk}/").content.decode()
    assert "Skipped" in page
    assert "not sent: the customer opted out of surveys (rule resurvey-detractors)" in page
