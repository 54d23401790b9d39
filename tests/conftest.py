"""Shared fixtures: a small organisation built through the real actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache

from manyi.org.actions import do_create_staff, do_create_unit
from manyi.org.choices import Role, UnitKind
from manyi.org.models import OrgUnit
from manyi.surveys.actions import do_create_link, do_create_survey, do_publish
from manyi.surveys.choices import LinkKind
from manyi.surveys.models import Survey, SurveyLink

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _isolated_cache_and_limits(settings: Any) -> Any:
    """Each test gets an empty in-memory cache and no rate limits unless it sets them."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.MANYI_SUBMIT_RATE_LIMIT = "off"
    settings.MANYI_PUBLIC_RATE_LIMIT = "off"
    settings.AXES_ENABLED = False
    cache.clear()
    yield
    cache.clear()


@dataclass
class Org:
    company: OrgUnit
    region: OrgUnit
    city: OrgUnit
    store_a: OrgUnit
    store_b: OrgUnit
    other_region: OrgUnit
    store_c: OrgUnit
    survey: Survey
    link_a: SurveyLink
    link_b: SurveyLink
    link_c: SurveyLink
    admin: Any
    manager_a: Any
    manager_c: Any


def build_org(template: str = "store_csi") -> Org:
    company = do_create_unit(code="acme", name={"zh-hans": "顶点公司", "en": "Acme"}, kind=UnitKind.COMPANY)
    region = do_create_unit(
        code="east", name={"zh-hans": "华东区", "en": "East"}, kind=UnitKind.REGION, parent=company
    )
    city = do_create_unit(
        code="shanghai", name={"zh-hans": "上海", "en": "Shanghai"}, kind=UnitKind.CITY, parent=region
    )
    store_a = do_create_unit(
        code="sh-001", name={"zh-hans": "上海一店", "en": "Shanghai 1"}, kind=UnitKind.STORE, parent=city
    )
    store_b = do_create_unit(
        code="sh-002", name={"zh-hans": "上海二店", "en": "Shanghai 2"}, kind=UnitKind.STORE, parent=city
    )
    other_region = do_create_unit(
        code="west",
        name={"zh-hans": "西区", "en": "West"},
        kind=UnitKind.REGION,
        parent=company,
        timezone="Asia/Urumqi",
    )
    store_c = do_create_unit(
        code="cd-001",
        name={"zh-hans": "成都一店", "en": "Chengdu 1"},
        kind=UnitKind.STORE,
        parent=other_region,
    )
    survey = do_create_survey(slug=template.replace("_", "-"), unit=company, template=template)
    do_publish(survey=survey)
    links = [do_create_link(survey=survey, kind=LinkKind.UNIT, unit=u) for u in (store_a, store_b, store_c)]
    admin = do_create_staff(username="admin1", password=PASSWORD, unit=company, role=Role.ADMIN)
    manager_a = do_create_staff(username="mgr-a", password=PASSWORD, unit=store_a, role=Role.UNIT_MANAGER)
    manager_c = do_create_staff(username="mgr-c", password=PASSWORD, unit=store_c, role=Role.UNIT_MANAGER)
    return Org(
        company,
        region,
        city,
        store_a,
        store_b,
        other_region,
        store_c,
        survey,
        *links,
        admin,
        manager_a,
        manager_c,
    )


@pytest.fixture
def org(db: Any) -> Org:
    return build_org()


def csi_answers(nps: int = 9, comment: str = "") -> dict[str, str]:
    """A complete valid answer set for the store CSI template."""
    data = {"q_nps": str(nps), "q_csat": "4", "q_comment": comment, "q_contact_ok": "yes"}
    for row in ("tangibles", "reliability", "responsiveness", "assurance", "empathy"):
        data[f"q_csi__{row}"] = "4"
    return data
