"""Every endpoint, found by walking the API's routes: no token 401, no scope 403, another unit 404/422.

A new endpoint cannot be forgotten: ``test_every_route_is_covered`` fails until its operation
is listed in CROSS_UNIT (how to aim it at another unit's object) or, with a reason, in PENDING.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from manyi.cases.models import Case
from manyi.customers.models import Customer
from manyi.distribution.models import ServiceEvent
from manyi.feedback.models import FeedbackRecord
from manyi.integrations.api import api
from manyi.integrations.models import ApiToken
from manyi.responses.actions import do_record_response
from manyi.responses.models import Response
from manyi.surveys.actions import do_create_survey, do_publish

from .conftest import make_token, response_body


def routes() -> list[tuple[str, str, Any]]:
    """(method, path under /api/v1, operation) for every operation of the API."""
    out = []
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for op in view.operations:
                for method in op.methods:
                    full = (prefix.rstrip("/") + "/" + path.lstrip("/")).rstrip("/") or "/"
                    out.append((method, re.sub(r"\{(?:\w+:)?(\w+)\}", r"{\1}", full), op))
    return out


def key(method: str, path: str) -> str:
    return f"{method} {path}"


# Requests aimed at objects of store C (west region) made by a token bound to store A.
# "ids" fills path parameters; "body" is a request that names store C's unit; "query" a filter.
CROSS_UNIT: dict[str, dict[str, Any]] = {
    "GET /units": {"query": {"cursor": None}},
    "GET /units/{unit_id}": {},
    "POST /customers": {"body": {"external_id": "c-west", "name": "changed", "unit": "cd-001"}},
    "GET /customers/{customer_id}": {},
    "GET /surveys": {},
    "GET /surveys/{survey_id}": {},
    "POST /responses": {"body": "response_at_c"},
    "GET /responses": {"query": {"unit": "cd-001"}},
    "GET /responses/{response_id}": {},
    "POST /feedback": {
        "body": {"channel": "phone", "unit": "cd-001", "text": "x", "occurred_at": "2026-05-01T00:00:00Z"}
    },
    "GET /feedback": {"query": {"unit": "cd-001"}},
    "GET /feedback/{feedback_id}": {},
    "GET /cases": {"query": {"unit": "cd-001"}},
    "GET /cases/{case_id}": {},
    "PATCH /cases/{case_id}": {"body": {"status": "closed"}},
    "POST /service-events": {
        "body": {
            "source": "pos",
            "external_id": "evt-1",
            "type": "checkout",
            "unit": "cd-001",
            "customer_external_id": "c-west",
            "occurred_at": "2026-05-01T00:00:00Z",
        }
    },
    "GET /service-events/decisions": {"query": {"customer_external_id": "c-west"}, "empty": True},
    "GET /service-events/{event_id}": {},
}
# Operations whose owners have not added a cross-unit case yet (auth and scope are still checked).
PENDING: dict[str, str] = {}


@pytest.fixture
def west(org):
    """One object of each kind in store C, outside store A's subtree."""
    survey = do_create_survey(slug="west-only", unit=org.other_region, template="store_csi")
    do_publish(survey=survey)
    customer = Customer.objects.create(external_id="c-west", name="West customer", home_unit=org.store_c)
    response = do_record_response(
        survey=org.survey, unit=org.store_c, answers=response_body(org)["answers"], language="zh-hans",
        customer_id=customer.pk,
    ).response  # fmt: skip
    feedback = FeedbackRecord.objects.create(
        unit=org.store_c, channel="phone", text="west secret", occurred_at=datetime(2026, 5, 1, tzinfo=UTC)
    )
    case = Case.objects.create(
        unit=org.store_c, title="west case", created_at=datetime(2026, 5, 1, tzinfo=UTC), customer=customer
    )
    event = ServiceEvent.objects.create(
        source="pos", external_id="west-evt", event_type="checkout", customer=customer, unit=org.store_c,
        occurred_at=datetime(2026, 5, 1, tzinfo=UTC), received_at=datetime(2026, 5, 1, tzinfo=UTC),
    )  # fmt: skip
    assert response is not None
    return {
        "unit_id": org.store_c.pk,
        "customer_id": customer.pk,
        "survey_id": survey.pk,
        "response_id": response.pk,
        "feedback_id": feedback.pk,
        "case_id": case.pk,
        "event_id": event.pk,
        "secrets": [
            "west-evt",
            "cd-001",
            "West customer",
            "west secret",
            "west case",
            "west-only",
            str(response.submission_id),
        ],
    }


def fill(path: str, ids: dict[str, Any]) -> str:
    """The path with its ids; a parameter of a PENDING operation gets 1."""
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)


def call(
    client: Client, method: str, path: str, token: str | None, body: Any = None, query: Any = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"/api/v1{path}"
    if method == "GET":
        return client.get(url, {k: v for k, v in (query or {}).items() if v is not None}, headers=headers)
    return client.generic(
        method, url, json.dumps(body or {}), content_type="application/json", headers=headers
    )


def test_every_route_is_covered():
    listed = set(CROSS_UNIT) | set(PENDING)
    missing = [key(m, p) for m, p, _op in routes() if key(m, p) not in listed]
    assert not missing, f"add these operations to CROSS_UNIT (or PENDING with a reason): {missing}"
    for _m, _p, op in routes():
        scopes = [getattr(a, "scope", None) for a in op.auth_callbacks]
        assert scopes and all(scopes), f"{_m} {_p} must require a token scope (auth=TokenAuth(...))"


@pytest.mark.django_db
def test_every_route_answers_401_without_a_valid_token(org, west):
    client = Client()
    expired = make_token("*", unit=org.store_a)
    ApiToken.objects.update(expires_at=datetime(2020, 1, 1, tzinfo=UTC))
    revoked = make_token("*", unit=org.store_a)
    ApiToken.objects.filter(expires_at__isnull=True).update(revoked_at=datetime(2020, 1, 1, tzinfo=UTC))
    bad = [None, "", "mny_00000000_" + "x" * 43, "Basic dXNlcjpwYXNz", expired, revoked, revoked[:-1] + "A"]
    for method, path, _op in routes():
        concrete = fill(path, west)
        for token in bad:
            r = call(client, method, concrete, token, body={})
            assert r.status_code == 401, (method, path, token, r.status_code, r.content[:200])
            assert r.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_every_route_answers_403_to_a_token_without_its_scope(org, west):
    client = Client()
    all_scopes = {getattr(a, "scope", "") for _m, _p, op in routes() for a in op.auth_callbacks}
    for method, path, op in routes():
        needed = op.auth_callbacks[0].scope
        token = make_token(",".join(sorted(all_scopes - {needed})), unit=org.store_a)
        r = call(client, method, fill(path, west), token, body={})
        assert r.status_code == 403, (method, path, r.status_code, r.content[:200])
        assert needed in r.json()["error"]["message"]


@pytest.mark.django_db
def test_every_route_hides_another_units_objects_and_leaks_nothing(org, west):
    client = Client()
    token = make_token("*", unit=org.store_a)
    before = {
        "customers": list(Customer.objects.values_list("id", "name", "home_unit_id")),
        "responses": Response.objects.count(),
        "feedback": FeedbackRecord.objects.count(),
        "cases": list(Case.objects.values_list("id", "status")),
        "events": ServiceEvent.objects.count(),
    }
    for method, path, _op in routes():
        spec = CROSS_UNIT.get(key(method, path))
        if spec is None:
            continue
        body = spec.get("body")
        if body == "response_at_c":
            body = response_body(org, unit="cd-001")
        r = call(client, method, fill(path, west), token, body=body, query=spec.get("query"))
        text = r.content.decode()
        if spec.get("empty"):
            assert r.status_code == 200 and r.json() == [], (method, path, r.status_code, text[:300])
        elif "{" in path or "unit" in (spec.get("query") or {}):
            assert r.status_code == 404, (method, path, r.status_code, text[:300])
        elif method == "GET":
            assert r.status_code == 200, (method, path, r.status_code, text[:300])
        else:
            assert r.status_code in (404, 409, 422), (method, path, r.status_code, text[:300])
        leaked = [s for s in west["secrets"] if s in text and s not in json.dumps([body, spec.get("query")])]
        assert not leaked, (method, path, leaked)
        if method == "GET" and "{" not in path:
            # The same list without filters: none of store C's objects of this kind.
            name = path.strip("/").split("/")[0].removesuffix("s") + "_id"
            page = call(client, method, path, token).json()
            items = page["items"] if isinstance(page, dict) else page
            if name in west:
                assert west[name] not in [item["id"] for item in items], (path, items)
            assert not [s for s in west["secrets"] if s in json.dumps(items, ensure_ascii=False)]
    after = {
        "customers": list(Customer.objects.values_list("id", "name", "home_unit_id")),
        "responses": Response.objects.count(),
        "feedback": FeedbackRecord.objects.count(),
        "cases": list(Case.objects.values_list("id", "status")),
        "events": ServiceEvent.objects.count(),
    }
    assert after == before
