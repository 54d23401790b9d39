"""notify_many: several events of one case in one write, and a failure that leaves the caller's
own writes alone."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from manyi.notifications.actions import Message, notify, notify_many
from manyi.notifications.models import Event, Notification
from manyi.rules.models import Tag

pytestmark = pytest.mark.django_db


def test_two_events_are_written_with_their_recipients_in_order(org):
    made = notify_many(
        [
            Message("case.opened", [], "opened", "", {"n": 1}),
            Message("case.assigned", [org.admin], "yours", "", {"n": 2}),
        ],
        unit=org.store_a,
        case=7,
    )
    assert [(e.type, e.case_id, e.context) for e in Event.objects.order_by("id")] == [
        ("case.opened", 7, {"n": 1}),
        ("case.assigned", 7, {"n": 2}),
    ]
    assert [(n.event.type, n.recipient_id) for n in made] == [("case.assigned", org.admin.pk)]


def test_a_failed_notify_inside_the_callers_transaction_keeps_the_callers_writes(org):
    ghost = get_user_model()(username="ghost", email="ghost@example.com")  # never saved
    with transaction.atomic():
        Tag.objects.create(slug="before")
        with pytest.raises(ValueError):
            notify("case.opened", recipients=[ghost], subject="x", body="", context={}, unit=org.store_a)
        Tag.objects.create(slug="after")
    assert sorted(Tag.objects.values_list("slug", flat=True)) == ["after", "before"]
    assert not Event.objects.exists() and not Notification.objects.exists()
