"""The console's case pages: inbox, case page with its forms, SLA policies, root causes, calendars."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from manyi.cases import actions
from manyi.cases.choices import CaseStatus
from manyi.cases.models import BusinessCalendar, Case, RootCause, SlaPolicy
from manyi.org.actions import do_create_staff
from manyi.org.choices import Role
from tests.cases.conftest import complaint
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}


def login(user) -> Client:
    client = Client(headers=EN)
    client.force_login(user)
    return client


def open_one(cw, title="排队太久", unit=None, **kw) -> Case:
    case, _ = actions.open_case(unit=unit or cw.org.store_a, title=title, feedback=complaint(cw.org), **kw)
    return case


def test_the_inbox_tabs_show_mine_my_team_and_my_units(cw):
    mine = open_one(cw, "assigned to agent 1")
    actions.do_assign(mine, cw.agent_1, actor=cw.org.manager_a)
    other = open_one(cw, "the manager's own")
    client = login(cw.agent_1)
    url = reverse("console:case_list")
    assert "assigned to agent 1" in client.get(url + "?tab=mine").content.decode()
    assert "the manager&#x27;s own" not in client.get(url + "?tab=mine").content.decode()
    # agent 1 sits in the care team only: the team tab shows the team's cases, not the store's.
    team = client.get(url + "?tab=team").content.decode()
    assert "assigned to agent 1" in team and "the manager" not in team
    manager = login(cw.org.manager_a).get(url + "?tab=unit").content.decode()
    assert "assigned to agent 1" in manager and other.title in manager.replace("&#x27;", "'")


def test_the_inbox_filters_by_sla_state_and_shows_a_countdown(cw, normal_policy):
    now = timezone.now()
    late = open_one(cw, "long overdue", now=now - timedelta(days=20))
    fresh = open_one(cw, "just in", now=now)
    client = login(cw.org.manager_a)
    page = client.get(reverse("console:case_list") + "?sla=breached").content.decode()
    assert late.title in page and fresh.title not in page
    assert "overdue by" in page


def test_bulk_assign_assigns_every_ticked_case(cw):
    a, b = open_one(cw, "a"), open_one(cw, "b")
    client = login(cw.org.manager_a)
    resp = client.post(
        reverse("console:case_bulk_assign"),
        {"case": [a.pk, b.pk], "assignee": cw.agent_2.pk, "next": "tab=unit"},
    )
    assert resp.status_code == 302 and resp["Location"] == reverse("console:case_list") + "?tab=unit"
    assert set(Case.objects.values_list("assignee__username", flat=True)) == {"agent-2"}


def test_bulk_assign_never_touches_another_stores_case(cw):
    c = open_one(cw, "c", unit=cw.org.store_c)
    client = login(cw.org.manager_a)
    client.post(reverse("console:case_bulk_assign"), {"case": [c.pk], "assignee": cw.agent_2.pk})
    c.refresh_from_db()
    assert c.assignee == cw.org.manager_c


def test_closing_from_the_case_page_without_a_root_cause_is_refused_with_the_reason(cw):
    case = open_one(cw)
    client = login(cw.org.manager_a)
    url = reverse("console:case_detail", args=[case.pk])
    resp = client.post(url, {"action": "close", "resolution": "apology"})
    assert resp.status_code == 400
    assert "A case can&#x27;t be closed without a root cause." in resp.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.ASSIGNED


def test_a_case_is_worked_and_closed_from_its_page(cw):
    case = open_one(cw)
    client = login(cw.org.manager_a)
    url = reverse("console:case_detail", args=[case.pk])
    assert client.post(url, {"action": "transition", "to": "in_progress"}).status_code == 302
    assert (
        client.post(
            url, {"action": "contact", "body": "已致电致歉", "direction": "out", "channel": "phone"}
        ).status_code
        == 302
    )
    assert client.post(url, {"action": "note", "body": "内部备注"}).status_code == 302
    cause = RootCause.objects.get(code="people-attitude")
    resp = client.post(
        url,
        {
            "action": "close",
            "root_cause": cause.pk,
            "resolution": "compensation",
            "compensation_voucher": "VC-1",
        },
    )
    assert resp.status_code == 302
    case.refresh_from_db()
    assert (
        case.status == CaseStatus.CLOSED and case.root_cause == cause and case.compensation_voucher == "VC-1"
    )
    page = client.get(url).content.decode()
    assert "已致电致歉" in page and "内部备注" in page and "Reopen" in page


def test_a_viewer_reads_a_case_but_cannot_work_it(cw):
    viewer = do_create_staff(username="viewer-a", password=PASSWORD, unit=cw.org.store_a, role=Role.VIEWER)
    case = open_one(cw)
    client = login(viewer)
    url = reverse("console:case_detail", args=[case.pk])
    assert "not work on it" in client.get(url).content.decode()
    resp = client.post(url, {"action": "note", "body": "x"})
    assert resp.status_code == 400 and not case.events.filter(kind="note").exists()


def test_an_administrator_adds_an_sla_policy_and_a_store_manager_only_reads_it(cw):
    admin = login(cw.org.admin)
    resp = admin.post(
        reverse("console:case_sla_create"),
        {
            "name": "Urgent",
            "unit": cw.org.company.pk,
            "priority": "urgent",
            "channel": "",
            "first_response_hours": "1",
            "resolution_hours": "8",
            "is_active": "on",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    policy = SlaPolicy.objects.get(name="Urgent")
    bad = admin.post(
        reverse("console:case_sla_edit", args=[policy.pk]),
        {
            "name": "Urgent",
            "unit": cw.org.company.pk,
            "priority": "urgent",
            "first_response_hours": "8",
            "resolution_hours": "1",
            "is_active": "on",
        },
    )
    assert bad.status_code == 400
    assert "cannot be shorter than the first-response target" in bad.content.decode()
    manager = login(cw.org.manager_a)
    page = manager.get(reverse("console:case_sla_edit", args=[policy.pk]))
    assert page.status_code == 200 and "Only administrators and CX managers" in page.content.decode()
    refused = manager.post(
        reverse("console:case_sla_edit", args=[policy.pk]),
        {
            "name": "Hacked",
            "unit": cw.org.company.pk,
            "first_response_hours": "100",
            "resolution_hours": "200",
        },
    )
    assert refused.status_code == 403
    assert SlaPolicy.objects.get(pk=policy.pk).name == "Urgent"


def test_an_administrator_extends_the_root_cause_taxonomy(cw):
    admin = login(cw.org.admin)
    process = RootCause.objects.get(code="process")
    url = reverse("console:case_root_causes")
    ok = admin.post(
        url,
        {
            "code": "process-queue",
            "name_zh": "排队",
            "name_en": "Queueing",
            "parent": process.pk,
            "is_active": "on",
        },
    )
    assert ok.status_code == 302
    assert RootCause.objects.get(code="process-queue").parent == process
    bad = admin.post(url, {"code": "Bad Code", "name_zh": "x", "name_en": "x"})
    assert bad.status_code == 400 and "lowercase letters, digits and hyphens" in bad.content.decode()
    refused = login(cw.org.manager_a).post(url, {"code": "x", "name_zh": "x", "name_en": "x"})
    assert refused.status_code == 400 and not RootCause.objects.filter(code="x").exists()


def test_working_hours_are_edited_per_unit_with_exact_errors(cw):
    admin = login(cw.org.admin)
    url = reverse("console:case_calendar", args=[cw.org.store_a.pk])
    days = {f"day{d}": "" for d in range(1, 8)}
    bad = admin.post(url, {**days, "day1": "9-18-20", "holiday_region": "CN"})
    assert bad.status_code == 400 and "Monday: write spans like 09:00-12:00" in bad.content.decode()
    ok = admin.post(
        url, {**days, "day1": "09:00-12:00, 13:00-18:00", "day6": "10:00-14:00", "holiday_region": "CN"}
    )
    assert ok.status_code == 302
    assert BusinessCalendar.objects.get(unit=cw.org.store_a).hours["1"] == [
        ["09:00", "12:00"],
        ["13:00", "18:00"],
    ]


def test_the_holiday_calendar_shows_spring_festival_and_make_up_days(cw):
    page = login(cw.org.manager_a).get(reverse("console:case_holidays") + "?year=2026").content.decode()
    assert "2026-02-15" in page and "2026-02-14" in page and "Make-up workday" in page


def test_the_metrics_page_shows_a_units_figures(cw):
    open_one(cw)
    page = login(cw.org.manager_a).get(reverse("console:case_metrics")).content.decode()
    assert "Recovery rate" in page and "Shanghai 1" in page


def test_a_unit_switches_to_round_robin_within_a_team_from_its_calendar_page(cw):
    admin = login(cw.org.admin)
    url = reverse("console:case_calendar", args=[cw.org.store_a.pk])
    missing = admin.post(url, {"form": "routing", "mode": "round_robin", "team": ""})
    assert missing.status_code == 400 and "Round-robin needs a team." in missing.content.decode()
    ok = admin.post(
        url, {"form": "routing", "mode": "round_robin", "team": cw.team.pk, "resurvey": cw.org.survey.pk}
    )
    assert ok.status_code == 302
    first, second = open_one(cw, "one"), open_one(cw, "two")
    assert [first.assignee.username, second.assignee.username] == ["agent-1", "agent-2"]
    refused = login(cw.org.manager_a).post(url, {"form": "routing", "mode": "manual"})
    assert refused.status_code == 400 and "Only administrators and CX managers" in refused.content.decode()


def test_a_team_outside_the_unit_is_refused_for_round_robin(cw):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Choose a team"):
        actions.do_save_routing(unit=cw.org.store_b, mode="round_robin", team=cw.team)


def test_the_timeline_names_whom_a_case_went_to_and_how(cw):
    cw.org.manager_a.first_name, cw.org.manager_a.last_name = "芳", "李"
    cw.org.manager_a.save(update_fields=["first_name", "last_name"])
    case = open_one(cw)
    actions.do_assign(case, cw.agent_1, actor=cw.org.manager_a)
    page = login(cw.org.manager_a).get(reverse("console:case_detail", args=[case.pk])).content.decode()
    assert "to 李芳 (To the unit&#x27;s manager)" in page
    assert f"to {cw.agent_1.get_username()} (By hand)" in page


def test_bulk_assign_says_what_it_did_and_what_was_missing_on_the_inbox(cw):
    a = open_one(cw, "a")
    client = login(cw.org.manager_a)
    url = reverse("console:case_bulk_assign")
    empty = client.post(url, {"assignee": cw.agent_2.pk}, follow=True).content.decode()
    assert "Tick the cases to assign." in empty
    done = client.post(url, {"case": [a.pk], "assignee": cw.agent_2.pk}, follow=True).content.decode()
    assert "1 case assigned to agent-2." in done
