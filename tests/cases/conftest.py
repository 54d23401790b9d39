"""Case fixtures: the shared org, a team under store A, customers, and a clock the tests control."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from manyi.cases.actions import do_save_sla_policy
from manyi.customers.models import Customer
from manyi.integrations.actions import do_record_feedback
from manyi.org.actions import do_assign_role, do_create_staff, do_create_unit
from manyi.org.choices import Role, UnitKind
from manyi.responses.actions import check_submit_response
from manyi.responses.models import Response
from manyi.surveys.actions import do_create_link
from manyi.surveys.choices import LinkKind
from tests.conftest import PASSWORD, Org, csi_answers

SH = ZoneInfo("Asia/Shanghai")
# Monday 23 November 2026, 10:00 in Shanghai: an ordinary working morning.
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages are asserted in English, whatever the catalogues say in Chinese."""
    with translation.override("en"):
        yield


@dataclass
class CaseWorld:
    org: Org
    team: Any
    agent_1: Any
    agent_2: Any
    region_manager: Any
    customer: Any


@pytest.fixture
def cw(org: Org) -> CaseWorld:
    team = do_create_unit(
        code="sh-001-care",
        name={"zh-hans": "客服组", "en": "Care team"},
        kind=UnitKind.TEAM,
        parent=org.store_a,
    )
    agent_1 = do_create_staff(
        username="agent-1", password=PASSWORD, unit=team, role=Role.AGENT, email="a1@example.com"
    )
    agent_2 = do_create_staff(
        username="agent-2", password=PASSWORD, unit=team, role=Role.AGENT, email="a2@example.com"
    )
    # Team members hold the agent role at the store too: that is what lets them read its cases.
    for agent in (agent_1, agent_2):
        do_assign_role(user=agent, unit=org.store_a, role=Role.AGENT)
    region_manager = do_create_staff(
        username="mgr-east",
        password=PASSWORD,
        unit=org.region,
        role=Role.UNIT_MANAGER,
        email="east@example.com",
    )
    customer = Customer.objects.create(
        name="王芳",
        home_unit=org.store_a,
        phone="+8613800138000",
        email="wang@example.com",
        language="zh-hans",
    )
    return CaseWorld(org, team, agent_1, agent_2, region_manager, customer)


@pytest.fixture
def normal_policy(org: Org) -> Any:
    """Company-wide: normal cases answered within 4 business hours, resolved within 16."""
    return do_save_sla_policy(
        name="Normal", unit=org.company, priority="normal", first_response_hours=4, resolution_hours=16
    )


def respond(org: Org, customer: Any, *, nps: int, now: datetime = MONDAY_10, unit: Any = None) -> Response:
    link = do_create_link(
        survey=org.survey, kind=LinkKind.PERSONAL, unit=unit or org.store_a, customer=customer
    )
    result = check_submit_response(
        link=link, submission_id=uuid.uuid4(), data=csi_answers(nps=nps), language="zh-hans", now=now
    )
    assert result.response is not None, result.errors
    return result.response


def complaint(org: Org, customer: Any = None, *, channel: str = "phone", now: datetime = MONDAY_10) -> Any:
    return do_record_feedback(
        unit=org.store_a,
        channel=channel,
        occurred_at=now,
        text="菜里有头发",
        customer=customer,
        severity="high",
    )
