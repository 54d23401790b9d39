"""Console fixtures: store A and store C (another region), each with a full set of records.

Everything of store C carries ``C_SECRET`` in its text, so a page that leaks any of it is caught by
looking for that one string.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from manyi.cases.models import Case
from manyi.customers.models import Customer
from manyi.feedback.actions import do_record_survey_comment
from manyi.feedback.models import FeedbackRecord
from manyi.org.models import OrgUnit
from manyi.responses.actions import check_submit_response
from manyi.responses.models import Response
from manyi.surveys.actions import do_create_link, do_create_survey, do_publish
from manyi.surveys.choices import LinkKind
from manyi.surveys.models import Survey, SurveyLink
from tests.conftest import Org, csi_answers

A_MARK = "A-OWN-7d2e"
C_SECRET = "C-SECRET-4b91"
# Store C's own unit names are its data too.
C_LEAKS = (C_SECRET, "成都一店", "Chengdu 1")
SUBMITTED = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, 10:00 in Urumqi


@dataclass
class StoreData:
    survey: Survey  # owned by the store itself
    survey_link: SurveyLink
    customer: Customer
    response: Response
    feedback: FeedbackRecord
    case: Case


@dataclass
class World:
    org: Org
    a: StoreData
    c: StoreData
    # A customer of store C who answered at store A: A sees the response, not the customer.
    visiting_response: Response


def submit(link: SurveyLink, *, nps: int, comment: str, now: datetime = SUBMITTED) -> Response:
    result = check_submit_response(
        link=link,
        submission_id=uuid.uuid4(),
        data=csi_answers(nps=nps, comment=comment),
        language="zh-hans",
        now=now,
    )
    assert result.response is not None, result.errors
    return result.response


def store_data(org: Org, unit: OrgUnit, mark: str, slug: str) -> StoreData:
    survey = do_create_survey(
        slug=slug,
        unit=unit,
        template="store_csi",
        name={"zh-hans": f"门店调查 {mark}", "en": f"Store survey {mark}"},
    )
    do_publish(survey=survey)
    survey_link = do_create_link(survey=survey, kind=LinkKind.ANONYMOUS, unit=unit)
    customer = Customer.objects.create(name=f"顾客 {mark}", external_id=f"cust-{mark}", home_unit=unit)
    personal = do_create_link(survey=org.survey, kind=LinkKind.PERSONAL, unit=unit, customer=customer)
    response = submit(personal, nps=2, comment=f"排队太久了 {mark}")
    feedback = do_record_survey_comment(response_id=response.pk)
    assert feedback is not None
    case = Case.objects.create(
        unit=unit,
        response=response,
        feedback=feedback,
        customer=customer,
        title=f"回访 {mark}",
        created_at=SUBMITTED,
    )
    return StoreData(survey, survey_link, customer, response, feedback, case)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 costs most of a second per account; these tests are about pages, not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(org: Org) -> World:
    a = store_data(org, org.store_a, A_MARK, "store-a-own")
    c = store_data(org, org.store_c, C_SECRET, "store-c-own")
    visiting_link = do_create_link(
        survey=org.survey, kind=LinkKind.PERSONAL, unit=org.store_a, customer=c.customer
    )
    visiting = submit(visiting_link, nps=10, comment="visiting customer")
    return World(org, a, c, visiting)


def login(user: Any) -> Client:
    """A client signed in as ``user`` (the sign-in form itself is tested in test_pages.py)."""
    client = Client()
    client.force_login(user)
    return client
