"""Recovery: the re-survey after closing, and the metrics per unit and agent."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from manyi.cases import actions, queries, recovery
from manyi.cases.choices import ResurveyStatus
from manyi.cases.models import Case, RootCause
from manyi.surveys.choices import LinkKind
from tests.cases.conftest import MONDAY_10, complaint, respond, sh

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms_file(settings, tmp_path):
    settings.MANYI_SMS_BACKEND = "file"
    settings.MANYI_SMS_FILE = tmp_path / "sms.jsonl"
    return tmp_path / "sms.jsonl"


def close(case, now, **kw):
    kw.setdefault("root_cause", RootCause.objects.get(code="process-waiting"))
    kw.setdefault("resolution", "apology")
    return actions.do_close(case, now=now, **kw)


def test_closing_a_case_enqueues_the_re_survey(cw, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    response = respond(cw.org, cw.customer, nps=2)
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", response=response)
    with django_capture_on_commit_callbacks(execute=True):
        close(case, MONDAY_10 + timedelta(hours=2))
    queued = DBTaskResult.objects.filter(task_path="manyi.cases.tasks.send_resurvey")
    assert [q.args_kwargs["args"] for q in queued] == [[case.pk]]


def test_the_closed_cases_customer_gets_a_personal_re_survey_link_by_sms_once(cw, sms_file):
    response = respond(cw.org, cw.customer, nps=2)
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", response=response)
    close(case, MONDAY_10 + timedelta(hours=2))
    assert recovery.send_resurvey(case.pk, MONDAY_10 + timedelta(hours=3)) is True
    assert recovery.send_resurvey(case.pk, MONDAY_10 + timedelta(hours=4)) is False  # once
    case.refresh_from_db()
    assert case.resurvey_status == ResurveyStatus.SENT
    link = case.resurvey_link
    assert link.kind == LinkKind.PERSONAL and link.customer == cw.customer and link.survey == cw.org.survey
    assert link.service_event_ref == f"case:{case.pk}"
    sent = [json.loads(line) for line in sms_file.read_text().splitlines()]
    assert len(sent) == 1
    assert sent[0]["to"] == "+8613800138000" and f"/s/{link.token}" in sent[0]["text"]
    assert "王芳" in sent[0]["text"]


def test_a_customer_without_a_phone_gets_the_re_survey_by_e_mail(cw, sms_file):
    cw.customer.phone = ""
    cw.customer.save(update_fields=["phone"])
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", response=respond(cw.org, cw.customer, nps=1))
    close(case, MONDAY_10)
    assert recovery.send_resurvey(case.pk, MONDAY_10)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["wang@example.com"]


def test_no_re_survey_for_an_opted_out_or_anonymous_customer_and_the_case_says_why(cw, sms_file):
    cw.customer.opted_out = True
    cw.customer.save(update_fields=["opted_out"])
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", response=respond(cw.org, cw.customer, nps=1))
    close(case, MONDAY_10)
    assert not recovery.send_resurvey(case.pk, MONDAY_10)
    case.refresh_from_db()
    assert case.resurvey_status == ResurveyStatus.SKIPPED
    assert case.events.filter(kind="resurvey").get().body == "customer opted out"
    anonymous, _ = actions.open_case(unit=cw.org.store_a, title="y", feedback=complaint(cw.org))
    close(anonymous, MONDAY_10)
    assert not recovery.send_resurvey(anonymous.pk, MONDAY_10)
    assert Case.objects.get(pk=anonymous.pk).resurvey_status == ResurveyStatus.SKIPPED


def test_the_periodic_catch_up_sends_what_the_close_did_not(cw, sms_file):
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", response=respond(cw.org, cw.customer, nps=1))
    close(case, MONDAY_10)
    assert recovery.catch_up(MONDAY_10 + timedelta(minutes=10)) == 1
    assert recovery.catch_up(MONDAY_10 + timedelta(minutes=20)) == 0


def test_recovery_rate_counts_detractors_who_later_answer_passive_or_promoter(cw, sms_file):
    org = cw.org
    c1 = cw.customer
    from manyi.customers.models import Customer

    c2 = Customer.objects.create(name="李雷", home_unit=org.store_a, phone="+8613900139000")
    case_1, _ = actions.open_case(
        unit=org.store_a, title="1", response=respond(org, c1, nps=2, now=MONDAY_10), now=MONDAY_10
    )
    case_2, _ = actions.open_case(
        unit=org.store_a, title="2", response=respond(org, c2, nps=4, now=MONDAY_10), now=MONDAY_10
    )
    actions.do_log_contact(case_1, "致歉", actor=org.manager_a, now=MONDAY_10 + timedelta(hours=1))
    close(case_1, MONDAY_10 + timedelta(hours=2), resolution="compensation", compensation_amount="88.50")
    close(case_2, MONDAY_10 + timedelta(hours=5))
    respond(org, c1, nps=8, now=MONDAY_10 + timedelta(days=2))  # recovered: passive now
    respond(org, c2, nps=5, now=MONDAY_10 + timedelta(days=2))  # still a detractor
    m = queries.metrics_by_unit(org.admin, org.store_a)
    assert (m.cases, m.closed, m.detractor_cases, m.recovered) == (2, 2, 2, 1)
    assert m.recovery_rate == 50.0
    assert m.first_response_hours_median == pytest.approx(3.0)  # 1 h and 5 h (answered when closed)
    assert m.resolution_hours_median == pytest.approx(3.5)
    assert m.first_contact_resolution == 100.0
    assert m.reopen_rate == 0.0
    assert m.compensation_cost == Decimal("88.50")
    agent = queries.metrics_by_agent(org.admin, org.manager_a)
    assert agent.cases == 2


def test_sla_attainment_is_the_share_resolved_on_time(cw, normal_policy, sms_file):
    org = cw.org
    on_time, _ = actions.open_case(unit=org.store_a, title="1", feedback=complaint(org), now=MONDAY_10)
    late, _ = actions.open_case(unit=org.store_a, title="2", feedback=complaint(org), now=MONDAY_10)
    close(on_time, sh(2026, 11, 23, 15))
    close(late, sh(2026, 11, 30, 15))  # due Tuesday 24 November 17:00
    m = queries.metrics_by_unit(org.admin, org.store_a)
    assert m.sla_attainment == 50.0
    actions.do_reopen(late, reason="again", now=sh(2026, 12, 1, 9))
    actions.do_close(late, now=sh(2026, 12, 1, 10))
    m = queries.metrics_by_unit(org.admin, org.store_a)
    assert m.reopen_rate == 50.0


def test_a_store_manager_gets_metrics_of_their_own_store_only(cw, sms_file):
    org = cw.org
    actions.open_case(unit=org.store_c, title="c", feedback=complaint(org))
    assert queries.metrics_by_unit(org.manager_a, org.company).cases == 0
