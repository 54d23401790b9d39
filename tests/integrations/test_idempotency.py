"""Idempotency-Key: a retry replays the first result, another body is refused, races leave one record."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from manyi.customers.models import Customer
from manyi.feedback.models import FeedbackRecord
from manyi.integrations.models import IdempotencyKey
from manyi.responses.models import Response

from .conftest import make_token, response_body


@pytest.mark.django_db
def test_a_retry_with_the_same_key_and_body_returns_the_original_result(org, api):
    body = response_body(org)
    first = api.post("/responses", body, **{"Idempotency-Key": "k-1"})
    retry = api.post("/responses", body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Response.objects.count() == 1


@pytest.mark.django_db
def test_the_same_body_with_other_spacing_and_key_order_counts_as_the_same(org, api):
    body = response_body(org)
    api.post("/responses", body, **{"Idempotency-Key": "k-2"})
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4)
    retry = api.post("/responses", reordered, raw=True, **{"Idempotency-Key": "k-2"})
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert Response.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused_with_a_clear_error(org, api):
    api.post("/responses", response_body(org), **{"Idempotency-Key": "k-3"})
    other = api.post("/responses", response_body(org, unit="sh-002"), **{"Idempotency-Key": "k-3"})
    assert other.status_code == 422
    err = other.json()["error"]
    assert err["code"] == "idempotency_key_reused" and "k-3" in err["message"]
    assert Response.objects.count() == 1


@pytest.mark.django_db
def test_an_error_result_is_replayed_too_but_a_missing_scope_is_not_kept(org, api):
    bad = response_body(org, answers={"nps": 99})
    assert api.post("/responses", bad, **{"Idempotency-Key": "k-4"}).status_code == 422
    again = api.post("/responses", bad, **{"Idempotency-Key": "k-4"})
    assert again.status_code == 422 and again["Idempotent-Replayed"] == "true"
    from .conftest import Api

    reader = Api(make_token("responses:read"), api.client)
    assert reader.post("/responses", response_body(org), **{"Idempotency-Key": "k-5"}).status_code == 403
    assert not IdempotencyKey.objects.filter(key="k-5").exists()


@pytest.mark.django_db
def test_keys_are_scoped_per_token(org, api):
    from .conftest import Api

    other = Api(make_token("*"), api.client)
    assert api.post("/responses", response_body(org), **{"Idempotency-Key": "shared"}).status_code == 201
    assert (
        other.post(
            "/responses", response_body(org, unit="sh-002"), **{"Idempotency-Key": "shared"}
        ).status_code
        == 201
    )
    assert Response.objects.count() == 2


@pytest.mark.django_db
def test_keys_older_than_24_hours_are_forgotten(org, api):
    body = {"phone": "+8613800138000", "unit": "sh-001"}
    assert api.post("/customers", body, **{"Idempotency-Key": "old"}).status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    fresh = api.post("/customers", {**body, "name": "x"}, **{"Idempotency-Key": "old"})
    assert fresh.status_code == 200 and "Idempotent-Replayed" not in fresh


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "中文"])
def test_a_malformed_key_is_refused_naming_the_header(org, api, key):
    r = api.client.post(
        "/api/v1/feedback",
        json.dumps({"channel": "phone", "unit": "sh-001", "occurred_at": "2026-05-01T00:00:00Z"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": key},
    )
    assert r.status_code == 422, r.content
    assert r.json()["error"]["fields"][0]["field"].lower() == "idempotency-key"
    assert FeedbackRecord.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_requests_with_one_key_store_one_record(live_server, org):
    token = make_token("*")
    body = response_body(org, answers={**response_body(org)["answers"], "comment": "并发"})
    key = str(uuid.uuid4())
    results: list[httpx.Response] = []
    barrier = threading.Barrier(10)

    def post() -> None:
        barrier.wait()
        results.append(
            httpx.post(
                f"{live_server.url}/api/v1/responses",
                json=body,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                timeout=60,
            )
        )

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [201] * 10, [r.text[:200] for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == 9
    assert Response.objects.count() == 1
    assert Customer.objects.count() == 0
