"""Deciding at ingestion: delay, quiet hours, sampling, channels, quotas, fatigue, cadence, opt-out."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import translation

from manyi.distribution.actions import DistributionError, do_create_rule
from manyi.distribution.choices import InvitationStatus, Outcome, Reason
from manyi.distribution.models import Decision, Invitation, ServiceEvent
from manyi.distribution.queries import decisions
from manyi.distribution.schedule import next_send_time, period_bounds, sample_point
from tests.conftest import Org

from .conftest import T0, customer, days, event, second_program

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def only_decision(result: Any) -> Decision:
    assert len(result.decisions) == 1, [d.message for d in result.decisions]
    return result.decisions[0]


def test_event_schedules_an_invitation_after_the_rules_delay(org: Org, rule: Any) -> None:
    d = only_decision(event(customer(org.store_a), org.store_a))
    inv = Invitation.objects.get()
    assert d.outcome == Outcome.SCHEDULED
    assert inv.due_at == T0 + timedelta(hours=24)  # 10:00 the next day in Shanghai: inside the window
    assert inv.status == InvitationStatus.SCHEDULED
    assert inv.channel == "email"
    assert d.message == "scheduled: e-mail at 2026-11-24 10:00 Asia/Shanghai under rule store-visit"


def test_event_of_another_type_triggers_nothing(org: Org, rule: Any) -> None:
    result = event(customer(org.store_a), org.store_a, event_type="ticket_solved")
    assert result.created and result.decisions == []
    assert not Invitation.objects.exists()


def test_send_due_in_quiet_hours_moves_to_the_next_window_opening_in_the_units_time_zone(org: Org) -> None:
    do_create_rule(code="now", survey=org.survey, delay=timedelta(0), window=(time(9), time(21)))
    at = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # 21:30 in Shanghai, 19:30 in Urumqi
    shanghai = only_decision(event(customer(org.store_a, "c-sh"), org.store_a, "e-sh", at=at))
    urumqi = only_decision(event(customer(org.store_c, "c-ur"), org.store_c, "e-ur", at=at))
    assert shanghai.invitation.due_at == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    assert urumqi.invitation.due_at == at  # still inside the window in Urumqi
    assert shanghai.message == (
        "scheduled: e-mail at 2026-11-24 09:00 Asia/Shanghai under rule now "
        "(moved out of quiet hours; the send window is 09:00–21:00 in Asia/Shanghai)"
    )


def test_early_morning_in_urumqi_waits_for_the_local_opening_not_shanghais(org: Org) -> None:
    do_create_rule(code="now", survey=org.survey, delay=timedelta(0), window=(time(9), time(21)))
    at = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai, 07:30 in Urumqi
    d = only_decision(event(customer(org.store_c), org.store_c, at=at))
    assert d.invitation.due_at == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 09:00 in Urumqi


def test_a_send_window_may_run_past_midnight() -> None:
    window = (time(22), time(6))
    inside = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai
    assert next_send_time(inside, "Asia/Shanghai", *window) == inside
    noon = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai -> 22:00 the same day
    assert next_send_time(noon, "Asia/Shanghai", *window) == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def test_an_event_reported_late_is_never_scheduled_in_the_past(org: Org, rule: Any) -> None:
    late = T0 + days(3)
    d = only_decision(event(customer(org.store_a), org.store_a, at=T0, now=late))
    assert d.invitation.due_at == late


def test_sampling_is_decided_by_the_event_id_so_a_retry_decides_the_same(org: Org) -> None:
    do_create_rule(code="half", survey=org.survey, sampling_rate=0.5, fatigue_days=0, cadence_days=0)
    c = customer(org.store_a)
    first = {}
    for i in range(60):
        d = only_decision(event(c, org.store_a, f"e-{i}"))
        first[f"e-{i}"] = d.outcome
        expected = Outcome.SCHEDULED if sample_point("pos", f"e-{i}", "half") < 0.5 else Outcome.NOT_SENT
        assert d.outcome == expected
    assert 15 < sum(o == Outcome.SCHEDULED for o in first.values()) < 45
    # The source system resends everything after losing its acknowledgements, and again after we
    # lost the events: every decision comes out as before.
    for i in range(60):
        assert only_decision(event(c, org.store_a, f"e-{i}")).outcome == first[f"e-{i}"]
    ServiceEvent.objects.all().delete()
    for i in range(60):
        assert only_decision(event(c, org.store_a, f"e-{i}")).outcome == first[f"e-{i}"]


def test_an_event_outside_the_sample_says_so(org: Org) -> None:
    do_create_rule(code="none", survey=org.survey, sampling_rate=0.0)
    d = only_decision(event(customer(org.store_a), org.store_a))
    assert d.reason == Reason.NOT_SAMPLED
    assert d.message.startswith("not sent: outside the 0% sample of rule none (sample point 0.")


def test_quota_per_unit_and_day_stops_the_third_invitation_and_reopens_the_next_day(org: Org) -> None:
    do_create_rule(
        code="q", survey=org.survey, quota_limit=2, quota_period="day", fatigue_days=0, cadence_days=0
    )
    outcomes = [
        only_decision(event(customer(org.store_a, f"c-{i}"), org.store_a, f"e-{i}")).outcome for i in range(3)
    ]
    assert outcomes == [Outcome.SCHEDULED, Outcome.SCHEDULED, Outcome.NOT_SENT]
    third = Decision.objects.get(outcome=Outcome.NOT_SENT)
    assert third.message == "not sent: the quota of 2 per day at unit sh-001 is reached under rule q"
    other_store = only_decision(event(customer(org.store_b, "c-b"), org.store_b, "e-b"))
    next_day = only_decision(event(customer(org.store_a, "c-x"), org.store_a, "e-x", at=T0 + days(1)))
    assert other_store.outcome == next_day.outcome == Outcome.SCHEDULED


def test_quota_periods_follow_the_units_calendar() -> None:
    at = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # Tuesday 1 December 01:00 in Shanghai
    assert period_bounds(at, "Asia/Shanghai", "month") == (
        datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 16, 0, tzinfo=UTC),
    )
    assert period_bounds(at, "Asia/Shanghai", "week")[0] == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)
    # Still Monday 30 November (23:00) in Urumqi.
    assert period_bounds(at, "Asia/Urumqi", "day")[0] == datetime(2026, 11, 29, 18, 0, tzinfo=UTC)


def test_fatigue_across_programs_refuses_a_second_survey_and_names_the_earlier_rule(
    org: Org, rule: Any, adapters: Any
) -> None:
    from manyi.distribution.actions import do_scan

    delivery = do_create_rule(
        code="delivery", survey=second_program(org), event_types=["delivered"], fatigue_days=30
    )
    c = customer(org.store_a)
    event(c, org.store_a, "e-1")
    assert do_scan(now=T0 + days(1), adapters=adapters).sent == 1
    later = T0 + days(13)
    d = only_decision(event(c, org.store_a, "o-9", source="oms", event_type="delivered", at=later))
    assert d.rule == delivery
    assert d.reason == Reason.FATIGUE
    assert d.message == (
        "not sent: surveyed 12 days ago under rule store-visit "
        "(rule delivery: at most one survey every 30 days across all programs)"
    )
    assert d.params["days"] == 12 and d.params["last_rule"] == "store-visit"


def test_fatigue_counts_a_survey_already_planned(org: Org, rule: Any) -> None:
    do_create_rule(code="delivery", survey=second_program(org), event_types=["delivered"])
    c = customer(org.store_a)
    event(c, org.store_a, "e-1")
    d = only_decision(event(c, org.store_a, "o-1", event_type="delivered", at=T0 + timedelta(hours=2)))
    assert d.message.startswith(
        "not sent: a survey is already planned for 2026-11-24 10:00 Asia/Shanghai under rule store-visit"
    )


def test_fatigue_ends_after_its_days(org: Org, rule: Any, adapters: Any) -> None:
    from manyi.distribution.actions import do_scan

    do_create_rule(code="delivery", survey=second_program(org), event_types=["delivered"], fatigue_days=30)
    c = customer(org.store_a)
    event(c, org.store_a, "e-1")
    do_scan(now=T0 + days(1), adapters=adapters)
    d = only_decision(event(c, org.store_a, "o-1", event_type="delivered", at=T0 + days(31)))
    assert d.outcome == Outcome.SCHEDULED


def test_cadence_per_program_refuses_the_same_program_but_not_another(org: Org, adapters: Any) -> None:
    from manyi.distribution.actions import do_scan

    do_create_rule(code="visit", survey=org.survey, event_types=["checkout"], fatigue_days=0, cadence_days=90)
    do_create_rule(code="delivery", survey=second_program(org), event_types=["delivered"], fatigue_days=0)
    c = customer(org.store_a)
    event(c, org.store_a, "e-1")
    do_scan(now=T0 + days(1), adapters=adapters)
    same = only_decision(event(c, org.store_a, "e-2", at=T0 + days(40)))
    other = only_decision(event(c, org.store_a, "o-2", event_type="delivered", at=T0 + days(40)))
    assert same.reason == Reason.CADENCE
    assert same.message == (
        "not sent: surveyed 39 days ago under rule visit (rule visit: at most one survey every 90 days in this program)"
    )
    assert other.outcome == Outcome.SCHEDULED


def test_an_answer_through_a_qr_code_counts_for_fatigue(org: Org, rule: Any) -> None:
    import uuid

    from manyi.responses.actions import check_submit_response
    from tests.conftest import csi_answers

    c = customer(org.store_a)
    from manyi.surveys.actions import do_create_link

    link = do_create_link(survey=org.survey, kind="personal", customer=c, unit=org.store_a)
    check_submit_response(
        link=link, submission_id=uuid.uuid4(), data=csi_answers(), language="en", now=T0 - days(5)
    )
    d = only_decision(event(c, org.store_a))
    assert d.message.startswith("not sent: answered survey store-csi 5 days ago")


def test_an_opted_out_customer_is_never_invited(org: Org, rule: Any) -> None:
    d = only_decision(event(customer(org.store_a, opted_out=True), org.store_a))
    assert d.reason == Reason.OPTED_OUT
    assert d.message == "not sent: the customer opted out of surveys (rule store-visit)"
    assert not Invitation.objects.exists()


def test_a_rule_may_require_consent_to_contact(org: Org) -> None:
    do_create_rule(code="consent", survey=org.survey, require_consent=True)
    d = only_decision(event(customer(org.store_a), org.store_a))
    assert d.reason == Reason.NO_CONSENT


def test_the_preferred_channel_wins_when_the_customer_can_be_reached_there(org: Org, rule: Any) -> None:
    d = only_decision(event(customer(org.store_a), org.store_a, preferred_channel="sms"))
    assert d.invitation.channel == "sms"


def test_channel_falls_back_to_the_next_one_with_an_address(org: Org, rule: Any) -> None:
    d = only_decision(event(customer(org.store_a, phone=""), org.store_a, preferred_channel="sms"))
    assert d.invitation.channel == "email"
    d2 = only_decision(event(customer(org.store_a, "c-2", email=""), org.store_a, "e-2"))
    assert d2.invitation.channel == "sms"


def test_a_customer_without_any_address_is_not_invited_and_the_log_says_why(org: Org, rule: Any) -> None:
    d = only_decision(event(customer(org.store_a, email="", phone=""), org.store_a))
    assert d.message == "not sent: no address for any channel of rule store-visit (e-mail, SMS)"


def test_an_inactive_rule_or_a_rule_for_another_subtree_does_not_apply(org: Org) -> None:
    do_create_rule(code="east-only", survey=org.survey, unit=org.region)
    assert event(customer(org.store_c), org.store_c).decisions == []
    assert len(event(customer(org.store_a, "c-2"), org.store_a, "e-2").decisions) == 1


def test_the_same_event_twice_is_recorded_once_with_the_first_decisions(org: Org, rule: Any) -> None:
    c = customer(org.store_a)
    first = event(c, org.store_a)
    again = event(c, org.store_a, now=T0 + days(2))
    assert first.created and not again.created
    assert [d.pk for d in again.decisions] == [d.pk for d in first.decisions]
    assert ServiceEvent.objects.count() == 1 and Invitation.objects.count() == 1


def test_reusing_an_event_id_for_another_event_is_refused_naming_the_field(org: Org, rule: Any) -> None:
    event(customer(org.store_a), org.store_a)
    with pytest.raises(DistributionError) as exc:
        event(customer(org.store_b, "c-2"), org.store_b)
    assert exc.value.field == "customer" and exc.value.code == "conflict"


def test_a_naive_event_time_is_refused(org: Org, rule: Any) -> None:
    with pytest.raises(DistributionError) as exc:
        event(customer(org.store_a), org.store_a, at=datetime(2026, 11, 23, 10, 0))  # noqa: DTZ001
    assert exc.value.field == "occurred_at"


def test_the_decision_log_is_queryable_by_reason_and_rule(org: Org, rule: Any) -> None:
    event(customer(org.store_a), org.store_a)
    event(customer(org.store_a, "c-2", opted_out=True), org.store_a, "e-2")
    assert [d.reason for d in decisions(reason=Reason.OPTED_OUT)] == [Reason.OPTED_OUT]
    assert decisions(rule_code="store-visit").count() == 2
    assert decisions(visible_to=org.manager_c).count() == 0
    assert decisions(visible_to=org.manager_a).count() == 2


def test_rules_refuse_unknown_channels_and_impossible_rates(org: Org) -> None:
    with pytest.raises(DistributionError) as exc:
        do_create_rule(code="x", survey=org.survey, channels=["fax"])
    assert exc.value.field == "channels"
    with pytest.raises(DistributionError):
        do_create_rule(code="y", survey=org.survey, sampling_rate=1.5)
