"""The API's resources end to end: what goes in, what is stored, what comes out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from manyi.cases.models import Case
from manyi.customers.models import Customer
from manyi.feedback.models import FeedbackRecord
from manyi.responses.models import Answer, Response

from .conftest import response_body


@pytest.mark.django_db
def test_units_list_shows_the_tokens_subtree_with_parent_codes(org, api, api_a):
    everything = api.get("/units").json()["items"]
    assert [u["code"] for u in everything][:2] == ["acme", "east"]
    only_a = api_a.get("/units").json()
    assert [u["code"] for u in only_a["items"]] == ["sh-001"]
    assert only_a["items"][0]["parent"] == "shanghai"
    assert api_a.get(f"/units/{org.store_a.pk}").json()["code"] == "sh-001"


@pytest.mark.django_db
def test_units_list_pages_with_an_opaque_cursor_and_never_repeats(org, api):
    first = api.get("/units", {"limit": 3}).json()
    second = api.get("/units", {"limit": 3, "cursor": first["next_cursor"]}).json()
    third = api.get("/units", {"limit": 3, "cursor": second["next_cursor"]}).json()
    codes = [u["code"] for page in (first, second, third) for u in page["items"]]
    assert len(codes) == len(set(codes)) == 7
    assert third["next_cursor"] is None


@pytest.mark.django_db
def test_customer_upsert_creates_then_matches_by_external_id_phone_and_email(org, api):
    created = api.post(
        "/customers",
        {"external_id": "crm-1", "phone": "138 0013 8000", "email": "Li.Lei@Example.COM", "unit": "sh-001"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["created"] is True
    assert body["customer"]["phone"] == "+8613800138000"
    assert body["customer"]["email"] == "Li.Lei@example.com"
    by_phone = api.post("/customers", {"phone": "+86 138-0013-8000", "name": "李雷"})
    assert by_phone.status_code == 200
    assert by_phone.json()["changed"] == ["name"]
    by_email = api.post("/customers", {"email": "Li.Lei@example.com", "tier": "gold"})
    assert by_email.json()["customer"]["id"] == body["customer"]["id"]
    again = api.post("/customers", {"external_id": "crm-1", "tier": "gold"})
    assert again.status_code == 200 and again.json()["changed"] == []
    assert Customer.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12345", "unit": "sh-001"}, "phone"),
        ({"phone": "+86 138 0013 80001", "unit": "sh-001"}, "phone"),
        ({"email": "not-an-address", "unit": "sh-001"}, "email"),
        ({"email": "a@b", "unit": "sh-001"}, "email"),
        ({"external_id": "x", "unit": "no-such-unit"}, "unit"),
        ({"external_id": "x"}, "unit"),
        ({"name": "nobody"}, "external_id"),
        ({"external_id": "x", "unit": "sh-001", "nickname": "x"}, "nickname"),
    ],
)
def test_customer_upsert_refuses_bad_values_naming_the_field(org, api, body, field):
    r = api.post("/customers", body)
    assert r.status_code == 422, r.content
    err = r.json()["error"]
    assert field in [f["field"] for f in err["fields"]], err
    assert field in err["message"]
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_surveys_are_read_only_and_list_their_questions(org, api_a):
    listing = api_a.get("/surveys").json()["items"]
    assert [s["slug"] for s in listing] == [org.survey.slug]  # company survey applies to store A
    survey = api_a.get(f"/surveys/{org.survey.pk}").json()
    assert survey["version"] == 1
    nps = next(q for q in survey["questions"] if q["code"] == "nps")
    assert nps["options"] == list(range(11)) and nps["label"]["en"]
    assert api_a.post("/surveys", {}).status_code == 405


@pytest.mark.django_db
def test_response_is_recorded_with_answers_through_the_published_version(org, api):
    r = api.post(
        "/responses", response_body(org, answers={**response_body(org)["answers"], "comment": "很好"})
    )
    assert r.status_code == 201, r.content
    body = r.json()
    stored = Response.objects.get()
    assert (stored.unit, stored.nps, stored.csat, stored.channel, stored.comment) == (
        org.store_a,
        9,
        4,
        "api",
        "很好",
    )
    assert stored.submitted_at == datetime(2026, 5, 1, 1, 30, tzinfo=UTC)
    assert stored.link is None
    assert Answer.objects.filter(response=stored).count() == len(body["answers"]) >= 9
    assert api.get(f"/responses/{stored.pk}").json() == body


@pytest.mark.django_db
def test_invalid_answers_are_refused_per_question_and_nothing_is_stored(org, api):
    answers = {**response_body(org)["answers"], "nps": 11, "unknown_q": 1}
    del answers["csat"]
    r = api.post("/responses", response_body(org, answers=answers))
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["error"]["fields"]}
    assert fields == {"answers.nps", "answers.csat", "answers.unknown_q"}
    assert Response.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    ["2026/05/01 09:30", "01.05.2026", "2026-05-01", "2026-05-01T09:30:00", 1777600000, "yesterday"],
)
def test_dates_in_other_formats_or_without_an_offset_are_refused_naming_the_field(org, api, value):
    r = api.post("/responses", response_body(org, submitted_at=value))
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "submitted_at"


@pytest.mark.django_db
def test_a_repeated_submission_id_returns_the_stored_response(org, api):
    body = response_body(org, submission_id="6f1c5a2e-7d0b-4a8e-9c61-3b2f1e0d9a77")
    first = api.post("/responses", body)
    second = api.post("/responses", body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Response.objects.count() == 1


@pytest.mark.django_db
def test_responses_list_filters_and_pages_by_submitted_at_then_id(org, api):
    for day in (1, 2, 2, 3, 4):
        assert (
            api.post("/responses", response_body(org, submitted_at=f"2026-05-0{day}T10:00:00Z")).status_code
            == 201
        )
    api.post(
        "/responses", response_body(org, unit="cd-001", channel="sms", submitted_at="2026-05-02T10:00:00Z")
    )
    seen = []
    cursor = None
    while True:
        params = {
            "limit": 2,
            "since": "2026-05-02T00:00:00Z",
            "until": "2026-05-04T00:00:00Z",
            "unit": "east",
        }
        if cursor:
            params["cursor"] = cursor
        page = api.get("/responses", params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [r["submitted_at"][:10] for r in seen] == ["2026-05-02", "2026-05-02", "2026-05-03"]
    assert len({r["id"] for r in seen}) == 3
    sms = api.get("/responses", {"channel": "sms"}).json()["items"]
    assert [r["unit"] for r in sms] == ["cd-001"]
    assert api.get("/responses", {"cursor": "garbage!"}).json()["error"]["fields"][0]["field"] == "cursor"


@pytest.mark.django_db
def test_feedback_is_created_and_listed(org, api):
    r = api.post(
        "/feedback",
        {"channel": "phone", "unit": "sh-002", "text": "等了四十分钟", "occurred_at": "2026-05-01T12:00:00+08:00",
         "severity": "high"},
    )  # fmt: skip
    assert r.status_code == 201, r.content
    assert FeedbackRecord.objects.get().severity == "high"
    items = api.get("/feedback", {"unit": "shanghai"}).json()["items"]
    assert [f["text"] for f in items] == ["等了四十分钟"]
    assert api.get(f"/feedback/{items[0]['id']}").json()["channel"] == "phone"


@pytest.mark.django_db
def test_cases_are_listed_and_updated_with_status_priority_and_assignee(org, api):
    case = Case.objects.create(unit=org.store_a, title="回访", created_at=datetime(2026, 5, 1, tzinfo=UTC))
    assert [c["id"] for c in api.get("/cases").json()["items"]] == [case.pk]
    r = api.patch(f"/cases/{case.pk}", {"assignee": "mgr-a", "priority": "high"})
    assert r.status_code == 200, r.content
    assert (r.json()["assignee"], r.json()["status"], r.json()["priority"]) == ("mgr-a", "assigned", "high")
    # A manager of another store cannot be handed this case.
    refused = api.patch(f"/cases/{case.pk}", {"assignee": "mgr-c"})
    assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "assignee"
    unassigned = api.patch(f"/cases/{case.pk}", {"assignee": None}).json()
    assert (unassigned["assignee"], unassigned["status"]) == (None, "new")
    api.patch(f"/cases/{case.pk}", {"assignee": "mgr-a"})
    assert api.patch(f"/cases/{case.pk}", {"status": "in_progress"}).status_code == 200
    closed = api.patch(
        f"/cases/{case.pk}",
        {"status": "closed", "root_cause": "process-waiting", "resolution": "apology", "note": "called back"},
    ).json()
    assert closed["closed_at"] is not None
    assert (closed["status"], closed["root_cause"], closed["resolution"]) == (
        "closed",
        "process-waiting",
        "apology",
    )
    kinds = list(case.events.order_by("pk").values_list("kind", flat=True))
    assert kinds.count("assignment") == 3 and "status" in kinds


@pytest.mark.django_db
def test_a_case_cannot_be_closed_through_the_api_without_a_root_cause_and_a_resolution(org, api):
    case = Case.objects.create(unit=org.store_a, title="回访", created_at=datetime(2026, 5, 1, tzinfo=UTC))
    r = api.patch(f"/cases/{case.pk}", {"status": "closed"})
    assert r.status_code == 422, r.content
    fields = {f["field"] for f in r.json()["error"]["fields"]}
    assert {"root_cause", "resolution"} <= fields
    case.refresh_from_db()
    assert (case.status, case.closed_at) == ("new", None)
    unknown = api.patch(f"/cases/{case.pk}", {"status": "closed", "root_cause": "nope", "resolution": "fix"})
    assert unknown.status_code == 422 and unknown.json()["error"]["fields"][0]["field"] == "root_cause"
    jump = api.patch(f"/cases/{case.pk}", {"status": "waiting"})
    assert jump.status_code == 422 and jump.json()["error"]["fields"][0]["field"] == "status"


@pytest.mark.django_db
def test_an_external_id_held_outside_the_tokens_units_is_a_conflict_and_changes_nothing(org, api_a):
    west = Customer.objects.create(external_id="crm-west", name="West", home_unit=org.store_c)
    r = api_a.post("/customers", {"external_id": "crm-west", "name": "Hijack", "unit": "sh-001"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "external_id_taken"
    west.refresh_from_db()
    assert (west.name, west.home_unit_id) == ("West", org.store_c.pk)
    assert "West" not in r.content.decode()


def test_a_date_time_with_an_impossible_offset_is_refused_naming_the_field_not_a_500():
    from pydantic import TypeAdapter, ValidationError

    from manyi.integrations.schemas import IsoDateTime

    adapter = TypeAdapter(IsoDateTime)
    assert adapter.validate_python("2026-05-01T09:30:00+08:00").utcoffset().total_seconds() == 0
    with pytest.raises(ValidationError, match="offset must be between"):
        adapter.validate_python("0577-06-20T14:16:02+20:43")
