"""POST /api/v1/service-events: idempotent by (source, external_id), decisions in the answer, no leaks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from manyi.distribution.models import Invitation, ServiceEvent
from tests.conftest import Org

from .conftest import customer

pytestmark = pytest.mark.django_db


def token(scopes: str = "*", unit: Any = None) -> str:
    from manyi.integrations.actions import do_create_token

    return do_create_token(name="pos", scopes=scopes, unit=unit, expires_in=None).token


def post(body: Any, tok: str, raw: bool = False) -> Any:
    return Client().post(
        "/api/v1/service-events",
        body if raw else json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {tok}", "Accept-Language": "en"},
    )


def get(path: str, tok: str, params: dict[str, Any] | None = None) -> Any:
    return Client().get(
        f"/api/v1/service-events{path}",
        params or {},
        headers={"Authorization": f"Bearer {tok}", "Accept-Language": "en"},
    )


def body(**kw: Any) -> dict[str, Any]:
    return {
        "source": "pos",
        "external_id": "ORD-1",
        "type": "checkout",
        "unit": "sh-001",
        "customer_external_id": "c-1",
        "occurred_at": "2026-11-23T10:00:00+08:00",
    } | kw


@pytest.fixture
def setup(org: Org, rule: Any) -> Org:
    customer(org.store_a)
    return org


def test_a_new_event_answers_201_with_its_decisions_and_a_repeat_answers_200_with_the_same(
    setup: Org,
) -> None:
    tok = token("service_events:write")
    first = post(body(), tok)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["created"] is True
    [decision] = data["decisions"]
    assert decision["outcome"] == "scheduled" and decision["rule"] == "store-visit"
    # The API decides at the wall-clock time, so the due time depends on when the test runs.
    assert decision["message"].startswith("scheduled: e-mail at ")
    assert decision["message"].endswith(("under rule store-visit", "in Asia/Shanghai)"))
    again = post(body(), tok)
    assert again.status_code == 200
    assert again.json()["id"] == data["id"] and again.json()["decisions"] == data["decisions"]
    assert ServiceEvent.objects.count() == 1 and Invitation.objects.count() == 1


def test_reusing_an_event_id_for_another_event_is_a_409_naming_the_field(setup: Org) -> None:
    tok = token("service_events:write")
    post(body(), tok)
    resp = post(body(type="refund", occurred_at="2026-11-23T11:00:00+08:00"), tok)
    assert resp.status_code == 409
    assert resp.json()["error"]["fields"][0]["field"] in ("event_type", "occurred_at")


def test_a_wrong_token_is_401_and_a_missing_scope_403(setup: Org) -> None:
    assert post(body(), "mny_00000000_" + "x" * 43).status_code == 401
    assert post(body(), token("service_events:read")).status_code == 403


def test_a_unit_outside_the_tokens_subtree_reads_as_unknown(setup: Org) -> None:
    tok = token("service_events:write", unit=setup.store_c)
    resp = post(body(), tok)
    assert resp.status_code == 422
    assert resp.json()["error"]["fields"][0]["field"] == "unit"
    assert not ServiceEvent.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"unit": "nowhere"}, "unit"),
        ({"customer_external_id": "nobody"}, "customer_external_id"),
        ({"occurred_at": "23/11/2026 10:00"}, "occurred_at"),
        ({"occurred_at": "2026-11-23T10:00:00"}, "occurred_at"),
        ({"preferred_channel": "fax"}, "preferred_channel"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_fields_are_refused_with_the_field_named(setup: Org, change: dict[str, Any], field: str) -> None:
    resp = post(body(**change), token("service_events:write"))
    assert resp.status_code == 422, resp.content
    assert field in json.dumps(resp.json()["error"])


def test_malformed_json_is_refused(setup: Org) -> None:
    resp = post('{"source": "pos",', token("service_events:write"), raw=True)
    assert resp.status_code in (400, 422)
    assert "error" in resp.json()


def test_an_event_and_the_decision_log_can_be_read_back(setup: Org) -> None:
    created = post(body(), token("service_events:write")).json()
    tok = token("service_events:read")
    with translation.override("en"):
        one = get(f"/{created['id']}", tok)
        log = get("/decisions", tok, {"customer_external_id": "c-1"})
    assert one.status_code == 200 and one.json()["decisions"] == created["decisions"]
    assert [d["reason"] for d in log.json()] == ["scheduled"]
    hidden = get(f"/{created['id']}", token("service_events:read", unit=setup.store_c))
    assert hidden.status_code == 404
    assert get("/decisions", token("service_events:read", unit=setup.store_c)).json() == []


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(setup: Org) -> None:
    tok = token("service_events:write")

    def send(payload: dict[str, Any]) -> Any:
        return Client().post(
            "/api/v1/service-events",
            json.dumps(payload),
            content_type="application/json",
            headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": "evt-1", "Accept-Language": "en"},
        )

    first = send(body())
    again = send(body())
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    other = send(body(external_id="ORD-2"))
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    from manyi.distribution.models import ServiceEvent

    assert ServiceEvent.objects.count() == 1
