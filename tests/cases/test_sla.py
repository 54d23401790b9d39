"""SLA policies, business-hour deadlines with Chinese holidays, the pause while waiting, and the
escalation ladder driven by a clock the test controls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from manyi.cases import actions, queries
from manyi.cases.choices import CaseStatus, EventKind, SlaTrack
from manyi.cases.models import Case, CaseEscalation, Holiday
from tests.cases.conftest import MONDAY_10, complaint, sh

pytestmark = pytest.mark.django_db


def test_the_2026_holidays_include_spring_festival_and_its_make_up_saturdays():
    days = dict(Holiday.objects.filter(region="CN", date__year=2026).values_list("date", "kind"))
    assert all(days[sh(2026, 2, d).date()] == "holiday" for d in range(15, 24))
    assert days[sh(2026, 2, 14).date()] == "workday" and days[sh(2026, 2, 28).date()] == "workday"
    assert days[sh(2026, 10, 10).date()] == "workday" and days[sh(2026, 9, 20).date()] == "workday"
    assert days[sh(2026, 1, 4).date()] == "workday"
    assert sum(1 for k in days.values() if k == "holiday") == 3 + 9 + 3 + 5 + 3 + 3 + 7


def test_the_most_specific_policy_wins(cw):
    org = cw.org
    actions.do_save_sla_policy(
        name="company any", unit=org.company, first_response_hours=8, resolution_hours=40
    )
    actions.do_save_sla_policy(
        name="company high", unit=org.company, priority="high", first_response_hours=4, resolution_hours=24
    )
    actions.do_save_sla_policy(
        name="store any", unit=org.store_a, first_response_hours=6, resolution_hours=30
    )
    actions.do_save_sla_policy(
        name="company high phone",
        unit=org.company,
        priority="high",
        channel="phone",
        first_response_hours=2,
        resolution_hours=8,
    )
    assert queries.policy_for(org.store_a, "high", "phone").name == "company high phone"
    assert queries.policy_for(org.store_a, "high", "email").name == "company high"
    assert queries.policy_for(org.store_a, "normal", "email").name == "store any"
    assert queries.policy_for(org.store_b, "normal", "email").name == "company any"


def test_a_second_active_policy_for_the_same_cases_is_refused(cw):
    actions.do_save_sla_policy(
        name="a", unit=cw.org.company, priority="high", first_response_hours=4, resolution_hours=24
    )
    with pytest.raises(ValidationError, match="already covers this priority and channel: a"):
        actions.do_save_sla_policy(
            name="b", unit=cw.org.company, priority="high", first_response_hours=2, resolution_hours=8
        )


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"first_response_hours": "soon"}, "Hours must be a number"),
        ({"first_response_hours": 0}, "more than 0"),
        ({"resolution_hours": 1}, "cannot be shorter than the first-response target"),
        ({"channel": "fax"}, "Unknown channel fax"),
        ({"priority": "asap"}, "Unknown priority asap"),
    ],
)
def test_bad_policies_are_refused_with_the_exact_problem(cw, kw, message):
    base = {"name": "p", "unit": cw.org.company, "first_response_hours": 4, "resolution_hours": 24}
    with pytest.raises(ValidationError, match=message):
        actions.do_save_sla_policy(**{**base, **kw})


def test_deadlines_are_counted_in_business_hours_of_the_units_calendar(cw, normal_policy):
    # Friday 16:00: 4 business hours reach Monday 11:00; 16 reach Tuesday 14:00.
    case, _ = actions.open_case(
        unit=cw.org.store_a, title="x", feedback=complaint(cw.org), now=sh(2026, 11, 20, 16)
    )
    assert case.sla_policy == normal_policy
    assert case.first_response_due == sh(2026, 11, 23, 11)
    assert case.resolution_due == sh(2026, 11, 24, 14)


def test_a_case_opened_before_spring_festival_is_due_after_it(cw, normal_policy):
    # Friday 13 Feb 2026 17:00: 1 h that day, 9 h on make-up Saturday 14 Feb... first response due Sat 12:00.
    case, _ = actions.open_case(
        unit=cw.org.store_a, title="x", feedback=complaint(cw.org), now=sh(2026, 2, 13, 17)
    )
    assert case.first_response_due == sh(2026, 2, 14, 12)
    # 16 h: 1 (Fri) + 9 (Sat 14th, worked) + 6 on Tuesday 24 Feb, the first day after the holiday.
    assert case.resolution_due == sh(2026, 2, 24, 15)


def test_each_unit_keeps_its_own_calendar_and_time_zone(cw, normal_policy):
    org = cw.org
    actions.do_save_calendar(
        unit=org.store_c, hours={str(d): [["10:00", "22:00"]] for d in range(1, 8)}, holiday_region=""
    )
    # Saturday 21 Nov 2026 10:00 in Urumqi (UTC+6) is 12:00 in Shanghai.
    case, _ = actions.open_case(
        unit=org.store_c, title="x", feedback=complaint(org), now=sh(2026, 11, 21, 12)
    )
    assert case.first_response_due == sh(2026, 11, 21, 16)


def test_a_calendar_with_bad_hours_is_refused_with_the_exact_problem(cw):
    with pytest.raises(ValidationError, match="ends before it starts"):
        actions.do_save_calendar(unit=cw.org.store_a, hours={"1": [["18:00", "09:00"]]})


def test_the_clock_stops_while_waiting_for_the_customer(cw, normal_policy):
    org = cw.org
    case, _ = actions.open_case(unit=org.store_a, title="x", feedback=complaint(org), now=MONDAY_10)
    assert case.first_response_due == sh(2026, 11, 23, 14)
    assert case.resolution_due == sh(2026, 11, 24, 17)  # 8 h on Monday, 8 on Tuesday
    actions.do_log_contact(case, "已致电", actor=org.manager_a, now=sh(2026, 11, 23, 11))
    actions.do_transition(case, CaseStatus.WAITING, actor=org.manager_a, now=sh(2026, 11, 23, 12))
    case.refresh_from_db()
    assert case.next_escalation_at is None and case.sla_paused_at == sh(2026, 11, 23, 12)
    # Long past the old deadline, nothing fires while the customer has the ball.
    assert actions.scan_sla(sh(2026, 11, 25, 9)) == 0
    # 14 working hours were left at Monday 12:00; the customer answers Wednesday 10:00.
    actions.do_log_contact(case, "顾客回复", direction="in", actor=org.manager_a, now=sh(2026, 11, 25, 10))
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS and case.sla_paused_at is None
    assert case.resolution_due == sh(2026, 11, 26, 15)
    assert case.first_response_due == sh(2026, 11, 23, 14)  # already met: it does not move


def test_the_escalation_ladder_notifies_assignee_then_unit_manager_then_region_manager_once_each(
    cw, normal_policy
):
    from manyi.notifications.models import Event, Notification

    org = cw.org
    case, _ = actions.open_case(unit=org.store_a, title="x", feedback=complaint(org), now=MONDAY_10)
    # The timer is database state: the next step is stored on the case.
    assert case.next_escalation_at == sh(2026, 11, 23, 12)
    assert actions.scan_sla(sh(2026, 11, 23, 11, 59)) == 0
    assert actions.scan_sla(sh(2026, 11, 23, 12)) == 1
    assert actions.scan_sla(sh(2026, 11, 23, 12, 30)) == 0  # fired once, not again
    assert actions.scan_sla(sh(2026, 11, 23, 16)) == 2  # 100 % and 150 % of the 4-hour target
    steps = {(e.track, e.level): e for e in CaseEscalation.objects.filter(case=case)}
    assert steps[("first_response", 50)].recipients == [org.manager_a.pk]  # the assignee
    assert steps[("first_response", 100)].recipients == [org.manager_a.pk]  # the unit manager
    assert steps[("first_response", 150)].recipients == [cw.region_manager.pk]  # the region manager
    assert all(e.notified for e in steps.values())
    events = Event.objects.filter(case_id=case.pk, type="case.escalated")
    assert events.count() == 3
    assert Notification.objects.filter(event__in=events, recipient=cw.region_manager).exists()
    case.refresh_from_db()
    assert case.escalation_level == 150
    assert queries.sla_state(case, sh(2026, 11, 23, 16)) == "breached"
    # The resolution clock (16 h) climbs its own ladder: 50 % Tuesday 09:00 ... 150 % Wednesday 16:00.
    assert actions.scan_sla(sh(2026, 11, 25, 16)) == 3
    assert CaseEscalation.objects.filter(case=case).count() == 6
    assert case.events.filter(kind=EventKind.ESCALATION).count() == 6
    case.refresh_from_db()
    assert case.next_escalation_at is None


def test_a_first_response_stops_the_first_response_ladder(cw, normal_policy):
    org = cw.org
    case, _ = actions.open_case(unit=org.store_a, title="x", feedback=complaint(org), now=MONDAY_10)
    actions.do_log_contact(case, "已致电", actor=org.manager_a, now=sh(2026, 11, 23, 11))
    case.refresh_from_db()
    # Resolution at 50 %: 8 of 16 working hours are used up at Monday's close, so the step falls due
    # when work resumes, Tuesday 09:00 (the same business instant).
    assert case.next_escalation_at == sh(2026, 11, 24, 9)
    assert actions.scan_sla(sh(2026, 11, 23, 17)) == 0


def test_an_escalation_step_can_be_recorded_only_once(cw, normal_policy):
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", feedback=complaint(cw.org), now=MONDAY_10)
    actions.scan_sla(sh(2026, 11, 23, 12))
    with pytest.raises(IntegrityError):
        CaseEscalation.objects.create(
            case=case, track=SlaTrack.FIRST_RESPONSE, level=50, cycle=0, due_at=MONDAY_10, fired_at=MONDAY_10
        )


def test_a_reopened_case_climbs_the_ladder_again(cw, normal_policy):
    from manyi.cases.models import RootCause

    org = cw.org
    case, _ = actions.open_case(unit=org.store_a, title="x", feedback=complaint(org), now=MONDAY_10)
    actions.scan_sla(sh(2026, 11, 25, 16))
    actions.do_close(
        case,
        root_cause=RootCause.objects.get(code="people-attitude"),
        resolution="apology",
        now=sh(2026, 11, 25, 17),
    )
    actions.do_reopen(case, reason="again", now=sh(2026, 11, 30, 10))
    assert actions.scan_sla(sh(2026, 12, 1, 9)) == 1  # resolution at 50 % of a fresh 16 h
    assert CaseEscalation.objects.filter(case=case, cycle=1).count() == 1


def test_the_periodic_task_is_registered_and_scans(cw, normal_policy):
    from manyi.cases import tasks

    assert (tasks.scan_sla, 60) in tasks.PERIODIC
    actions.open_case(
        unit=cw.org.store_a, title="x", feedback=complaint(cw.org), now=MONDAY_10 - timedelta(days=30)
    )
    assert tasks.scan_sla.call() == 6
    assert Case.objects.get().escalation_level == 150
