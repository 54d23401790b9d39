"""Complaint intake: the public form per unit, its QR code, and the staff entry of phone and counter
complaints. Each one is a feedback record with channel, customer, unit, category and severity."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from manyi.cases.models import Case
from manyi.core.models import ExternalRef
from manyi.customers.models import Customer
from manyi.feedback.models import FeedbackRecord
from manyi.rules.actions import do_evaluate

from .conftest import make_rule


def form_page(client: Client, code: str, lang: str = "zh-hans") -> dict[str, str]:
    page = client.get(f"/c/{code}?lang={lang}")
    assert page.status_code == 200
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.content.decode()))


@pytest.mark.django_db
def test_the_public_form_speaks_both_languages_and_names_the_store(org):
    zh = Client().get("/c/sh-001?lang=zh-hans").content.decode()
    en = Client().get("/c/sh-001?lang=en").content.decode()
    assert "上海一店" in zh and 'name="sid"' in zh
    assert "Shanghai 1" in en and "What happened?" in en


@pytest.mark.django_db
def test_a_complaint_from_the_public_form_is_a_feedback_record_with_its_customer(org):
    client = Client()
    hidden = form_page(client, "sh-001")
    data = {
        **hidden,
        "category": "wait_time",
        "text": "排队一个小时没人管",
        "name": "王女士",
        "phone": "138 0013 8000",
        "contact_ok": "on",
    }
    resp = client.post("/c/sh-001", data)
    assert resp.status_code == 303 and resp["Location"].startswith("/c/sh-001/thanks")
    again = client.post("/c/sh-001", data)  # a double tap or the back button
    assert again.status_code == 303
    record = FeedbackRecord.objects.get()
    assert (record.channel, record.unit, record.category, record.severity) == (
        "web_form",
        org.store_a,
        "wait_time",
        "medium",
    )
    assert (record.customer.phone, record.customer.name, record.customer.consent_contact) == (
        "+8613800138000",
        "王女士",
        True,
    )
    assert record.customer.home_unit == org.store_a
    assert ExternalRef.objects.get(kind="complaint_form").external_id == hidden["sid"]


@pytest.mark.django_db
def test_a_safety_complaint_starts_high_and_opens_a_case_through_a_rule(org):
    make_rule(
        org.company,
        {"field": "severity", "op": ">=", "value": "high"},
        [{"type": "open_case", "priority": "urgent"}],
        slug="severe",
    )
    client = Client()
    hidden = form_page(client, "sh-002")
    client.post("/c/sh-002", {**hidden, "category": "other", "text": "吃完以后拉肚子，要去医院"})
    record = FeedbackRecord.objects.get()
    assert record.severity == "high" and record.customer is None
    do_evaluate("feedback", [record.pk])
    assert Case.objects.get().feedback == record


@pytest.mark.django_db
def test_a_bad_form_answers_422_naming_each_field_and_stores_nothing(org):
    client = Client()
    hidden = form_page(client, "sh-001", "en")
    resp = client.post(
        "/c/sh-001?lang=en",
        {**hidden, "category": "nonsense", "text": "bad", "phone": "12", "contact_ok": "on"},
    )
    assert resp.status_code == 422
    body = resp.content.decode()
    assert "Select a valid choice" in body
    assert "at least 5 characters" in body
    assert "is not a phone number" in body or "is not a valid phone number" in body
    assert not FeedbackRecord.objects.exists()


@pytest.mark.django_db
def test_contact_permission_without_contact_details_is_refused(org):
    client = Client()
    hidden = form_page(client, "sh-001", "en")
    resp = client.post(
        "/c/sh-001?lang=en",
        {**hidden, "category": "service", "text": "rude staff at the till", "contact_ok": "on"},
    )
    assert resp.status_code == 422
    assert "Give a phone number or an e-mail address" in resp.content.decode()


@pytest.mark.django_db
def test_the_honeypot_thanks_a_bot_and_stores_nothing(org):
    client = Client()
    hidden = form_page(client, "sh-001")
    resp = client.post(
        "/c/sh-001", {**hidden, "category": "service", "text": "buy cheap watches", "website": "http://spam"}
    )
    assert resp.status_code == 303
    assert not FeedbackRecord.objects.exists()


@pytest.mark.django_db
def test_unknown_units_missing_ids_and_json_bodies_get_clear_errors(org):
    client = Client()
    assert client.get("/c/no-such-store").status_code == 404
    assert client.post("/c/sh-001", {"category": "service", "text": "hello there"}).status_code == 400
    assert client.post("/c/sh-001", "{}", content_type="application/json").status_code == 415


@pytest.mark.django_db
def test_the_complaint_form_is_rate_limited_like_the_survey_page(org, settings):
    settings.MANYI_SUBMIT_RATE_LIMIT = "2/m"
    client = Client()
    hidden = form_page(client, "sh-001")
    codes = [
        client.post(
            "/c/sh-001", {**hidden, "sid": str(uuid.uuid4()), "category": "service", "text": "too slow again"}
        ).status_code
        for _ in range(3)
    ]
    assert codes == [303, 303, 429]


@pytest.mark.django_db
def test_staff_enter_a_phone_complaint_for_a_unit_they_can_see(org):
    client = Client()
    client.force_login(org.manager_a)
    page = client.get("/complaints/new/").content.decode()
    assert "上海一店" in page and "成都一店" not in page
    resp = client.post(
        "/complaints/new/",
        {
            "unit": org.store_a.pk,
            "channel": "phone",
            "category": "billing",
            "severity": "high",
            "text": "多收了两次钱",
            "customer_phone": "+8613900139000",
            "customer_name": "李先生",
        },
    )
    record = FeedbackRecord.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/feedback/{record.pk}/"
    assert (record.channel, record.category, record.severity, record.touchpoint) == (
        "phone",
        "billing",
        "high",
        "staff_entry",
    )
    assert Customer.objects.get().phone == "+8613900139000"


@pytest.mark.django_db
def test_staff_cannot_file_a_complaint_against_a_unit_outside_their_scope(org):
    client = Client()
    client.force_login(org.manager_a)
    resp = client.post(
        "/complaints/new/",
        {"unit": org.store_c.pk, "channel": "counter", "category": "service", "severity": "low", "text": "x"},
    )
    assert resp.status_code == 422
    assert not FeedbackRecord.objects.exists()


@pytest.mark.django_db
def test_each_unit_has_a_qr_code_for_its_complaint_form(org):
    client = Client()
    client.force_login(org.manager_a)
    svg = client.get(f"/units/{org.store_a.pk}/complaint-qr.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    png = client.get(f"/units/{org.store_a.pk}/complaint-qr.png?download=1")
    assert png.content[:4] == b"\x89PNG" and "complaint-qr-sh-001.png" in png["Content-Disposition"]
    assert client.get(f"/units/{org.store_c.pk}/complaint-qr.svg").status_code == 404
    listing = client.get("/complaints/forms/").content.decode()
    assert "/c/sh-001" in listing and "/c/cd-001" not in listing


@pytest.mark.django_db
def test_an_export_of_complaint_emails_imports_with_a_mapping_and_links_known_senders(org, tmp_path):
    import csv

    from manyi.integrations.importing import import_file
    from manyi.rules.actions import do_catch_up

    known = Customer.objects.create(name="周女士", email="zhou@example.com", home_unit=org.store_a)
    f = tmp_path / "mail.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["邮件编号", "门店", "发件人", "收到时间", "正文"])
        w.writerow(["m-1", "sh-001", "zhou@Example.COM", "2026-11-20 09:30", "你们的店员太过分了，我要投诉"])
        w.writerow(["m-2", "sh-002", "stranger@example.org", "2026-11-20 10:00", "The bill was wrong"])
        w.writerow(["m-3", "sh-002", "not-an-address", "2026-11-20 10:05", "?"])
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[columns]\n"邮件编号" = "external_id"\n"门店" = "unit"\n"发件人" = "customer_email"\n'
        '"收到时间" = "occurred_at"\n"正文" = "text"\n[defaults]\nchannel = "email"\ncategory = "email"\n',
        encoding="utf-8",
    )
    errors = tmp_path / "errors.csv"
    summary = import_file("feedback", f, mapping=mapping, errors=errors)
    assert (summary.created, summary.rejected) == (2, 1)
    assert "customer_email" in errors.read_text(encoding="utf-8-sig")
    by_ext = {r.text: r for r in FeedbackRecord.objects.all()}
    assert by_ext["你们的店员太过分了，我要投诉"].customer == known
    assert by_ext["The bill was wrong"].customer is None
    assert {r.channel for r in by_ext.values()} == {"email"}
    # Imports write in bulk; the rules' catch-up evaluates them.
    make_rule(
        org.company,
        {"field": "text.flags", "value": ["complaint", "anger"]},
        [{"type": "open_case"}],
        slug="angry-mail",
    )
    do_catch_up()
    assert Case.objects.get().feedback.customer == known
