"""Distribution fixtures: the shared small organisation, customers, rules and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from manyi.customers.models import Customer
from manyi.distribution.actions import EventResult, do_create_rule, do_record_service_event
from manyi.distribution.adapters import EmailAdapter, FileSmsBackend, SmsAdapter
from manyi.distribution.models import DistributionRule
from manyi.org.models import OrgUnit
from manyi.surveys.actions import do_create_survey, do_publish
from manyi.surveys.models import Survey
from tests.conftest import Org

# Monday 23 November 2026, 10:00 in Shanghai (UTC+8), 08:00 in Urumqi (UTC+6).
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def customer(
    unit: OrgUnit,
    external_id: str = "c-1",
    *,
    email: str = "li.na@example.com",
    phone: str = "+8613812345678",
    **extra: Any,
) -> Customer:
    """A customer at ``unit`` (there is no customer action yet; the API upsert will replace this)."""
    return Customer.objects.create(
        external_id=external_id,
        name=extra.pop("name", "李娜"),
        email=email,
        phone=phone,
        home_unit=unit,
        **extra,
    )


def second_program(org: Org, slug: str = "delivery-nps") -> Survey:
    survey = do_create_survey(slug=slug, unit=org.company, template="post_service_csat")
    do_publish(survey=survey)
    return survey


def event(
    cust: Customer,
    unit: OrgUnit,
    external_id: str = "e-1",
    *,
    at: datetime = T0,
    now: datetime | None = None,
    event_type: str = "checkout",
    source: str = "pos",
    **kw: Any,
) -> EventResult:
    return do_record_service_event(
        source=source,
        external_id=external_id,
        event_type=event_type,
        customer=cust,
        unit=unit,
        occurred_at=at,
        now=now or at,
        **kw,
    )


@pytest.fixture
def rule(org: Org) -> DistributionRule:
    return do_create_rule(code="store-visit", survey=org.survey, event_types=["checkout"])


@pytest.fixture
def sms_file(tmp_path: Path, settings: Any) -> FileSmsBackend:
    settings.MANYI_SMS_BACKEND = "file"
    settings.MANYI_SMS_FILE = tmp_path / "sms.jsonl"
    return FileSmsBackend(tmp_path / "sms.jsonl")


@pytest.fixture
def adapters(sms_file: FileSmsBackend) -> dict[str, Any]:
    """E-mail into Django's test outbox, SMS into a JSON-lines file."""
    return {"email": EmailAdapter(), "sms": SmsAdapter(sms_file)}


def days(n: float) -> timedelta:
    return timedelta(days=n)
