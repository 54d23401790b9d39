"""Opening a case costs a bounded number of queries: it sits on the path from a detractor's
submission to the first notification (the 5-second closed-loop target)."""

from __future__ import annotations

import pytest

from manyi.cases.actions import open_case
from manyi.notifications.actions import do_create_endpoint
from manyi.notifications.models import Event, Notification

from .conftest import MONDAY_10, respond

# The existing-case check, the race savepoint, SLA policy, calendar, holidays, routing, managers,
# the case and its log, then one savepoint, the endpoints, the events and their notifications.
OPEN_CASE_QUERIES = 15


@pytest.mark.django_db
def test_opening_a_case_with_an_sla_an_assignee_and_a_webhook_stays_within_its_query_budget(
    cw, normal_policy, django_assert_max_num_queries, settings
):
    settings.MANYI_WEBHOOK_ALLOW = ["hooks.example.com"]
    do_create_endpoint(
        unit=cw.org.company,
        name="CRM",
        kind="webhook",
        url="https://hooks.example.com/manyi",
        events=["case.opened", "case.assigned"],
    )
    r = respond(cw.org, cw.customer, nps=2)
    unit = r.unit
    with django_assert_max_num_queries(OPEN_CASE_QUERIES):
        case, created = open_case(
            unit=unit, title="Slow service", response=r, customer=cw.customer, now=MONDAY_10
        )
    assert created and case.assignee == cw.org.manager_a and case.resolution_due is not None
    # Behaviour unchanged: one event per kind, the webhook gets both, the assignee the assignment.
    events = {e.type: e for e in Event.objects.filter(case_id=case.pk)}
    assert set(events) == {"case.opened", "case.assigned"}
    told = sorted((n.event.type, n.channel) for n in Notification.objects.select_related("event"))
    assert told == [
        ("case.assigned", "email"),
        ("case.assigned", "webhook"),
        ("case.opened", "webhook"),
    ]
    assert events["case.assigned"].context["assignee"] == "mgr-a"
