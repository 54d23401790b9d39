"""API tokens: shown once, stored hashed, scoped, bound to a subtree, expiring, rate limited."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from typer.testing import CliRunner

from manyi.cli import app
from manyi.integrations.actions import do_create_token, do_revoke_token
from manyi.integrations.models import ApiToken

from .conftest import Api, make_token, response_body


@pytest.mark.django_db
def test_manyi_tokens_create_prints_the_token_once_and_stores_only_its_hash(org):
    out = CliRunner().invoke(
        app,
        ["tokens", "create", "--name", "POS", "--scopes", "responses:write,customers:read", "--unit", "east",
         "--expires-days", "30", "--format", "json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) == {"token", "id", "name", "scopes", "unit", "expires_at"}
    assert (data["name"], data["scopes"], data["unit"]) == (
        "POS",
        ["customers:read", "responses:write"],
        "east",
    )
    stored = ApiToken.objects.get(pk=data["id"])
    assert stored.secret_hash == hashlib.sha256(data["token"].encode()).hexdigest()
    assert data["token"] not in json.dumps(list(ApiToken.objects.values()), default=str)
    listed = CliRunner().invoke(app, ["tokens", "list", "--format", "json"])
    assert data["token"] not in listed.stdout and stored.prefix in listed.stdout


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scopes", "responses:delete"], "unknown scope"),
        (["--scopes", "responses:read", "--unit", "nowhere"], "no org unit"),
        (["--scopes", ""], "at least one scope"),
    ],
)
def test_manyi_tokens_create_refuses_bad_options_in_one_line(org, args, message):
    out = CliRunner().invoke(app, ["tokens", "create", "--name", "x", *args, "--format", "json"])
    assert out.exit_code == 1
    assert message in out.stderr and out.stdout == ""


@pytest.mark.django_db
def test_a_token_acts_only_within_its_units_subtree(org):
    east = Api(make_token("responses:write,responses:read", unit=org.region), Client())
    assert east.post("/responses", response_body(org, unit="sh-002")).status_code == 201
    refused = east.post("/responses", response_body(org, unit="cd-001"))
    assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "unit"


@pytest.mark.django_db
def test_expired_and_revoked_tokens_get_401_and_last_use_is_recorded(org):
    issued = do_create_token(name="t", scopes="units:read", expires_in=timedelta(days=1))
    client = Api(issued.token, Client())
    assert client.get("/units").status_code == 200
    issued.record.refresh_from_db()
    assert issued.record.last_used_at is not None
    do_revoke_token(token=issued.record)
    assert client.get("/units").status_code == 401
    ApiToken.objects.filter(pk=issued.record.pk).update(revoked_at=None, expires_at=issued.record.created_at)
    r = client.get("/units")
    assert r.status_code == 401 and r["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_requests_over_the_per_token_rate_get_429_with_retry_after(org, settings):
    settings.MANYI_API_RATE_LIMIT = "3/m"
    one, other = Api(make_token("units:read"), Client()), Api(make_token("units:read"), Client())
    assert [one.get("/units").status_code for _ in range(4)] == [200, 200, 200, 429]
    limited = one.get("/units")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert other.get("/units").status_code == 200


@pytest.mark.django_db
def test_bad_bodies_get_4xx_json_naming_the_problem_never_500(org, api):
    malformed = api.post("/responses", '{"survey": "store-csi",', raw=True)
    assert malformed.status_code == 400
    # The message names where the JSON breaks, in the default language (zh-hans here) or English.
    message = malformed.json()["error"]["message"]
    assert malformed.json()["error"]["code"] == "malformed_json"
    assert "line 1" in message or "第 1 行" in message, message
    nan = api.post("/feedback", '{"channel": "phone", "unit": "sh-001", "rating": NaN}', raw=True)
    assert nan.status_code == 400 and "NaN" in nan.json()["error"]["message"]
    unknown = api.post("/responses", response_body(org, score=10))
    assert unknown.status_code == 422
    assert unknown.json()["error"]["fields"] == [{"field": "score", "message": "unknown field"}]
    huge = api.post("/feedback", {"channel": "phone", "unit": "sh-001", "text": "长" * 70_000})
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "body_too_large"
    array = api.post("/customers", [1, 2])
    assert array.status_code == 422
    nul = api.post("/customers", {"external_id": "a\x00b", "unit": "sh-001"})
    assert nul.status_code == 422 and nul.json()["error"]["fields"][0]["field"] == "external_id"
    big_id = api.get(f"/cases/{2**70}")
    assert big_id.status_code == 422


@pytest.mark.django_db
def test_openapi_and_the_docs_page_load_nothing_from_a_cdn(org):
    client = Client()
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and "/api/v1/responses" in spec.json()["paths"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    # A CSRF token may spell "cdn" by chance; no URL may point at one.
    assert "https://" not in html and not re.search(r"(?i)//[^\s\"'<>]*cdn", html)
    assert "/static/ninja/swagger-ui-bundle" in html
