"""Opening, assigning, working, closing and reopening cases through the actions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from manyi.cases import actions
from manyi.cases.choices import CaseStatus, EventKind, Resolution, RoutingMode
from manyi.cases.models import Case, CaseEvent, CaseRouting, RootCause
from tests.cases.conftest import MONDAY_10, complaint, respond

pytestmark = pytest.mark.django_db


def leaf(code: str = "process-waiting") -> RootCause:
    return RootCause.objects.get(code=code)


def test_the_default_taxonomy_has_six_bilingual_top_levels_each_with_a_second_level():
    tops = RootCause.objects.filter(parent=None)
    assert sorted(tops.values_list("code", flat=True)) == sorted(
        ["people", "process", "product", "environment", "system", "policy"]
    )
    for top in tops:
        assert top.name["zh-hans"] and top.name["en"]
        assert top.children.count() >= 3


def test_a_detractor_response_opens_one_case_assigned_to_the_unit_manager(cw):
    org = cw.org
    response = respond(org, cw.customer, nps=3)
    case, created = actions.open_case(unit=org.store_a, title="NPS 3", response=response, now=MONDAY_10)
    assert created
    assert case.status == CaseStatus.ASSIGNED
    assert case.assignee == org.manager_a
    assert case.customer == cw.customer  # taken from the response
    assert case.source == {"type": "response", "id": response.pk}
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == [EventKind.OPENED, EventKind.ASSIGNMENT]


def test_opening_a_case_twice_for_the_same_response_returns_the_first(cw):
    response = respond(cw.org, cw.customer, nps=2)
    first, created_1 = actions.open_case(unit=cw.org.store_a, title="a", response=response)
    again, created_2 = actions.open_case(unit=cw.org.store_a, title="b", response=response)
    assert (created_1, created_2) == (True, False)
    assert again.pk == first.pk
    assert Case.objects.filter(response=response).count() == 1


def test_opening_a_case_twice_for_the_same_feedback_record_returns_the_first(cw):
    record = complaint(cw.org, cw.customer)
    first, _ = actions.open_case(unit=cw.org.store_a, title="a", feedback=record)
    again, created = actions.open_case(unit=cw.org.store_a, title="b", feedback=record)
    assert not created and again.pk == first.pk


def test_a_race_lost_on_the_unique_index_reads_the_winners_case(cw, monkeypatch):
    """Two workers both see no case, both insert: the database keeps one and the loser reads it."""
    response = respond(cw.org, cw.customer, nps=2)
    winner, _ = actions.open_case(unit=cw.org.store_a, title="winner", response=response)
    calls = {"n": 0}
    real = actions._existing_case

    def blind_first(resp, fb):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(resp, fb)

    monkeypatch.setattr(actions, "_existing_case", blind_first)
    loser, created = actions.open_case(unit=cw.org.store_a, title="loser", response=response)
    assert not created and loser.pk == winner.pk
    assert Case.objects.filter(response=response).count() == 1


def test_a_rule_version_is_remembered_by_its_id(cw):
    class RuleVersion:
        pk = 41

    case, _ = actions.open_case(
        unit=cw.org.store_a, title="x", feedback=complaint(cw.org), opened_by_rule=RuleVersion()
    )
    assert case.rule_version_id == 41


def test_an_unknown_priority_is_refused(cw):
    with pytest.raises(ValidationError, match="Unknown priority"):
        actions.open_case(unit=cw.org.store_a, title="x", feedback=complaint(cw.org), priority="asap")


def test_round_robin_hands_cases_to_team_members_in_turn(cw):
    CaseRouting.objects.create(unit=cw.org.store_a, mode=RoutingMode.ROUND_ROBIN, team=cw.team)
    assignees = []
    for i in range(4):
        case, _ = actions.open_case(
            unit=cw.org.store_a,
            title=f"c{i}",
            feedback=complaint(cw.org),
            now=MONDAY_10 + timedelta(minutes=i),
        )
        assignees.append(case.assignee.username)
        assert case.team == cw.team
    assert assignees == ["agent-1", "agent-2", "agent-1", "agent-2"]


def test_manual_routing_leaves_new_cases_unassigned(cw):
    CaseRouting.objects.create(unit=cw.org.company, mode=RoutingMode.MANUAL)
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", feedback=complaint(cw.org))
    assert case.status == CaseStatus.NEW and case.assignee is None


def test_a_case_cannot_be_handed_to_someone_outside_its_unit(cw):
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", feedback=complaint(cw.org))
    with pytest.raises(ValidationError, match="cannot work cases of this unit"):
        actions.do_assign(case, cw.org.manager_c, actor=cw.org.admin)


def test_bulk_assign_reports_each_refused_case(cw):
    a, _ = actions.open_case(unit=cw.org.store_a, title="a", feedback=complaint(cw.org))
    b, _ = actions.open_case(unit=cw.org.store_a, title="b", feedback=complaint(cw.org))
    actions.do_close(b, root_cause=leaf(), resolution=Resolution.APOLOGY, actor=cw.org.admin)
    done, errors = actions.do_bulk_assign([a.pk, b.pk], cw.agent_1, actor=cw.org.admin)
    assert done == 1
    assert len(errors) == 1 and errors[0].startswith(f"Case {b.pk}:") and "reopen it first" in errors[0]


def test_a_case_cannot_be_closed_without_a_root_cause_and_the_refusal_says_so(cw):
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", feedback=complaint(cw.org))
    with pytest.raises(ValidationError) as exc:
        actions.do_close(case, resolution=Resolution.APOLOGY, actor=cw.org.manager_a)
    assert exc.value.message_dict == {"root_cause": ["A case can't be closed without a root cause."]}
    case.refresh_from_db()
    assert case.status == CaseStatus.ASSIGNED


def test_closing_without_anything_names_both_missing_parts(cw):
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", feedback=complaint(cw.org))
    with pytest.raises(ValidationError) as exc:
        actions.do_close(case, actor=cw.org.manager_a)
    assert set(exc.value.message_dict) == {"root_cause", "resolution"}


def test_a_top_level_root_cause_is_not_enough_when_it_has_a_second_level(cw):
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", feedback=complaint(cw.org))
    with pytest.raises(ValidationError, match="second-level root cause under process"):
        actions.do_close(case, root_cause=leaf("process"), resolution=Resolution.FIX)


def test_compensation_needs_an_amount_or_a_voucher(cw):
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", feedback=complaint(cw.org))
    with pytest.raises(ValidationError, match="amount or a voucher"):
        actions.do_close(case, root_cause=leaf(), resolution=Resolution.COMPENSATION)
    with pytest.raises(ValidationError, match="must be a number"):
        actions.do_close(
            case, root_cause=leaf(), resolution=Resolution.COMPENSATION, compensation_amount="fifty"
        )
    closed = actions.do_close(
        case,
        root_cause=leaf(),
        resolution=Resolution.COMPENSATION,
        compensation_amount="50.00",
        now=MONDAY_10,
    )
    assert closed.status == CaseStatus.CLOSED and closed.compensation_amount == Decimal("50.00")
    assert closed.closed_at == MONDAY_10 and closed.resolved_at == MONDAY_10


def test_a_voucher_is_a_valid_compensation(cw):
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", feedback=complaint(cw.org))
    closed = actions.do_close(
        case, root_cause=leaf(), resolution=Resolution.COMPENSATION, compensation_voucher="VC-2026-88"
    )
    assert closed.compensation_voucher == "VC-2026-88"


def test_the_whole_lifecycle_is_logged_step_by_step(cw):
    org = cw.org
    case, _ = actions.open_case(
        unit=org.store_a, title="x", feedback=complaint(org, cw.customer), now=MONDAY_10
    )
    t = MONDAY_10
    actions.do_transition(case, CaseStatus.IN_PROGRESS, actor=org.manager_a, now=t + timedelta(minutes=5))
    actions.do_log_contact(
        case,
        "打电话致歉",
        direction="out",
        channel="phone",
        actor=org.manager_a,
        now=t + timedelta(minutes=6),
    )
    actions.do_transition(case, CaseStatus.WAITING, actor=org.manager_a, now=t + timedelta(minutes=7))
    actions.do_log_contact(
        case, "顾客回电", direction="in", channel="phone", actor=org.manager_a, now=t + timedelta(hours=1)
    )
    actions.do_add_note(case, "厨房卫生检查已安排", actor=org.manager_a, now=t + timedelta(hours=2))
    actions.do_resolve(
        case,
        root_cause=leaf("product-safety"),
        resolution=Resolution.FIX,
        actor=org.manager_a,
        now=t + timedelta(hours=3),
    )
    actions.do_transition(case, CaseStatus.CLOSED, actor=org.manager_a, now=t + timedelta(hours=4))
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.first_responded_at == t + timedelta(minutes=6)
    statuses = [
        (e.from_status, e.to_status)
        for e in CaseEvent.objects.filter(case=case, kind=EventKind.STATUS).order_by("created_at", "id")
    ]
    assert statuses == [
        ("assigned", "in_progress"),
        ("in_progress", "waiting"),
        ("waiting", "in_progress"),  # the customer's reply restarts the clock
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    assert CaseEvent.objects.filter(case=case, kind=EventKind.NOTE).count() == 1
    assert (
        CaseEvent.objects.filter(case=case, kind__in=[EventKind.CONTACT_OUT, EventKind.CONTACT_IN]).count()
        == 2
    )


def test_a_transition_off_the_lifecycle_is_refused_naming_the_allowed_ones(cw):
    case, _ = actions.open_case(unit=cw.org.store_a, title="x", feedback=complaint(cw.org))
    with (
        translation.override("en"),
        pytest.raises(
            ValidationError, match="cannot become Resolved; it can become: In progress, Waiting for customer"
        ),
    ):
        actions.do_transition(case, CaseStatus.RESOLVED)


def test_reopening_needs_a_reason_and_restarts_the_resolution_clock(cw, normal_policy):
    org = cw.org
    case, _ = actions.open_case(unit=org.store_a, title="x", feedback=complaint(org), now=MONDAY_10)
    actions.do_close(
        case, root_cause=leaf(), resolution=Resolution.EXPLANATION, now=MONDAY_10 + timedelta(hours=1)
    )
    with pytest.raises(ValidationError, match="Say why"):
        actions.do_reopen(case, reason=" ")
    reopened = actions.do_reopen(
        case, reason="顾客又来电", actor=org.manager_a, now=MONDAY_10 + timedelta(days=1)
    )
    assert reopened.status == CaseStatus.IN_PROGRESS
    assert reopened.reopen_count == 1 and reopened.closed_at is None and reopened.resolved_at is None
    assert reopened.resolution_due > MONDAY_10 + timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_many_workers_opening_a_case_for_one_response_at_once_make_one_case(cw):
    """Real threads, real connections: whoever loses the race gets the winner's case back."""
    import threading

    from django.db import connection

    response = respond(cw.org, cw.customer, nps=0)
    barrier = threading.Barrier(6)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=30)
            case, created = actions.open_case(unit=cw.org.store_a, title="race", response=response)
            results.append((case.pk, created))
        except BaseException as exc:  # reported below with the others
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Case.objects.filter(response=response).count() == 1
