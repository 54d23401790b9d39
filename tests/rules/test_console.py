"""The rule editor in the console: create, refuse with the exact problem, version, dry run."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from manyi.org.actions import do_create_staff
from manyi.org.choices import Role
from manyi.rules.models import Rule, RuleMatch
from tests.conftest import PASSWORD

from .conftest import make_rule, submit


def form(**kw):
    base = {
        "name": "Detractors",
        "slug": "",
        "applies_to": "both",
        "position": "100",
        "is_active": "on",
        "condition": json.dumps({"field": "nps", "op": "<=", "value": 6}),
        "actions": json.dumps([{"type": "open_case", "priority": "high"}]),
        "op": "save",
    }
    return {**base, **kw}


def signed_in(user) -> Client:
    from django.conf import settings

    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    c.force_login(user)
    return c


@pytest.mark.django_db
def test_an_admin_creates_a_rule_from_the_editor(org):
    client = signed_in(org.admin)
    assert client.get("/rules/new/").status_code == 200
    resp = client.post("/rules/new/", form(unit=org.company.pk))
    rule = Rule.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/rules/{rule.pk}/?saved=1"
    assert (rule.slug, rule.current_version.number) == ("detractors", 1)
    page = client.get(f"/rules/{rule.pk}/").content.decode()
    assert "v1" in page and "Detractors" in page


@pytest.mark.django_db
def test_an_invalid_condition_is_refused_on_save_with_the_path_and_reason(org):
    client = signed_in(org.admin)
    bad = json.dumps(
        {"any": [{"field": "nps", "op": "<=", "value": 6}, {"field": "csat", "op": "<=", "value": 9}]}
    )
    resp = client.post("/rules/new/", form(unit=org.company.pk, condition=bad))
    assert resp.status_code == 422
    assert "condition.any[1].value" in resp.content.decode()
    assert "csat is on a scale from 1 to 5, got 9" in resp.content.decode()
    assert not Rule.objects.exists()


@pytest.mark.django_db
def test_saving_a_changed_condition_adds_a_version_to_the_history(org):
    rule = make_rule(org.company)
    client = signed_in(org.admin)
    changed = json.dumps({"field": "nps", "op": "<=", "value": 4})
    client.post(f"/rules/{rule.pk}/", form(unit=org.company.pk, condition=changed, note="tighter"))
    rule.refresh_from_db()
    assert rule.current_version.number == 2
    page = client.get(f"/rules/{rule.pk}/").content.decode()
    assert "tighter" in page and "v2" in page and "v1" in page


@pytest.mark.django_db
def test_the_editor_dry_run_shows_counts_and_writes_nothing(org):
    for n in (1, 2, 9):
        submit(org.link_a, nps=n, comment=f"评论{n}号")
    client = signed_in(org.admin)
    resp = client.post("/rules/new/", form(unit=org.company.pk, op="dry_run"))
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "Would have matched 2: 2 of 3 responses" in body or "2 of 3" in body
    assert "评论1号" in body and "评论9号" not in body
    assert "<td>Shanghai 1</td>" in body and "<td>sh-001</td>" not in body  # by name, not code
    assert not Rule.objects.exists() and not RuleMatch.objects.exists()


@pytest.mark.django_db
def test_a_store_manager_reads_and_dry_runs_a_rule_of_their_store_but_cannot_change_it(org):
    rule = make_rule(org.store_a)
    client = signed_in(org.manager_a)
    assert client.get(f"/rules/{rule.pk}/").status_code == 200
    assert client.post(f"/rules/{rule.pk}/", form(unit=org.store_a.pk, op="dry_run")).status_code == 200
    assert client.post(f"/rules/{rule.pk}/", form(unit=org.store_a.pk)).status_code == 403
    draft = client.get("/rules/new/")
    assert draft.status_code == 200 and "Create rule" not in draft.content.decode()
    assert client.post("/rules/new/", form(unit=org.store_a.pk)).status_code == 403
    assert not Rule.objects.exclude(pk=rule.pk).exists()


@pytest.mark.django_db
def test_a_cx_manager_of_a_region_can_only_choose_units_of_that_region(org):
    cx = do_create_staff(username="cx-east", password=PASSWORD, unit=org.region, role=Role.CX_MANAGER)
    client = signed_in(cx)
    page = client.get("/rules/new/").content.decode()
    assert "Shanghai 1 (sh-001)" in page and "(cd-001)" not in page and "Chengdu" not in page
    resp = client.post("/rules/new/", form(unit=org.store_c.pk))
    assert resp.status_code == 422 and not Rule.objects.exists()
