"""A customer's timeline: events, decisions with their invitations, and responses, in time order."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Any

import pytest
from django.utils import translation
from typer.testing import CliRunner

from manyi.cli import app
from manyi.distribution.actions import do_create_rule, do_scan
from manyi.distribution.queries import customer_timeline
from manyi.distribution.tasks import scan_invitations
from manyi.responses.actions import check_submit_response
from tests.conftest import Org, csi_answers

from .conftest import T0, customer, days, event, second_program

pytestmark = pytest.mark.django_db


def test_the_timeline_tells_the_story_in_time_order(org: Org, rule: Any, adapters: Any) -> None:
    do_create_rule(code="delivery", survey=second_program(org), event_types=["delivered"])
    c = customer(org.store_a)
    event(c, org.store_a, "e-1")
    do_scan(now=T0 + days(1), adapters=adapters)
    from manyi.distribution.models import Invitation

    link = Invitation.objects.get().link
    check_submit_response(
        link=link, submission_id=uuid.uuid4(), data=csi_answers(), language="zh-hans", now=T0 + days(1.5)
    )
    event(c, org.store_a, "o-1", source="oms", event_type="delivered", at=T0 + days(3))
    do_scan(now=T0 + days(3), adapters=adapters)
    with translation.override("en"):
        lines = [(e.kind, e.text) for e in customer_timeline(c)]
    assert lines == [
        ("event", "checkout at sh-001 (pos e-1)"),
        ("decision", "scheduled: e-mail at 2026-11-24 10:00 Asia/Shanghai under rule store-visit"),
        ("decision", "sent by e-mail to l***@example.com under rule store-visit"),
        ("response", "answered store-csi at sh-001"),
        ("event", "delivered at sh-001 (oms o-1)"),
        (
            "decision",
            # The answer is the latest contact: it counts, not the invitation before it.
            "not sent: answered survey store-csi 1 day ago "
            "(rule delivery: at most one survey every 30 days across all programs)",
        ),
        ("decision", "no reminder: answered at 2026-11-24 22:00 Asia/Shanghai"),
    ]
    timeline = customer_timeline(c)
    assert timeline[1].data["invitation"]["answered_at"] == T0 + days(1.5)


def test_the_timeline_speaks_chinese(org: Org, rule: Any) -> None:
    c = customer(org.store_a, opted_out=True)
    event(c, org.store_a)
    with translation.override("zh-hans"):
        entry = customer_timeline(c)[1]
    assert entry.kind == "decision" and entry.data["reason"] == "opted_out"
    assert entry.text == "未发送：客户已退订调查（规则 store-visit）"


def test_the_fatigue_reason_reads_in_chinese(org: Org, rule: Any, adapters: Any) -> None:
    do_create_rule(code="delivery", survey=second_program(org), event_types=["delivered"])
    c = customer(org.store_a)
    event(c, org.store_a, "e-1")
    do_scan(now=T0 + days(1), adapters=adapters)
    event(c, org.store_a, "o-1", event_type="delivered", at=T0 + days(13))
    with translation.override("zh-hans"):
        texts = [e.text for e in customer_timeline(c) if e.kind == "decision"]
    assert texts == [
        "已安排：按规则 store-visit 于 2026-11-24 10:00 Asia/Shanghai 通过邮件发送",
        "已按规则 store-visit 通过邮件发送至 l***@example.com",
        "未发送：12 天前已按规则 store-visit 调查过（规则 delivery：所有项目合计每 30 天最多调查一次）",
    ]


def test_the_scan_task_and_the_command_send_what_is_due(org: Org, sms_file: Any, settings: Any) -> None:
    # The task and the command read the wall clock: no quiet hours, so the test passes at any hour.
    do_create_rule(code="always", survey=org.survey, window=(time(0), time(0)), fatigue_days=0)
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    event(customer(org.store_a, "c-1"), org.store_a, "e-1", at=T0 - days(2))
    event(customer(org.store_a, "c-2"), org.store_a, "e-2", at=T0 - days(2), preferred_channel="sms")
    assert scan_invitations.call()["sent"] == 2
    event(customer(org.store_a, "c-3"), org.store_a, "e-3", at=T0 - days(2), preferred_channel="sms")
    result = CliRunner().invoke(app, ["distribution", "scan", "--until-idle"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert '"sent": 1' in result.stdout
    assert len(sms_file.messages()) == 2
