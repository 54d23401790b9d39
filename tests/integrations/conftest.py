"""Fixtures for the API: tokens made through the real action, and a JSON client that sends them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from manyi.integrations.actions import do_create_token
from manyi.org.models import OrgUnit
from tests.conftest import Org


@dataclass
class Api:
    """A test client that speaks JSON with one bearer token."""

    token: str
    client: Client

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(f"/api/v1{path}", params or {}, headers=self.headers(headers))

    def post(self, path: str, body: Any, raw: bool = False, **headers: str) -> Any:
        data = body if raw else json.dumps(body)
        return self.client.post(
            f"/api/v1{path}", data, content_type="application/json", headers=self.headers(headers)
        )

    def patch(self, path: str, body: Any, **headers: str) -> Any:
        return self.client.patch(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=self.headers(headers)
        )


def make_token(
    scopes: str = "*", unit: OrgUnit | None = None, expires_in: timedelta | None = None, name: str = "test"
) -> str:
    return do_create_token(name=name, scopes=scopes, unit=unit, expires_in=expires_in).token


@pytest.fixture
def api(org: Org) -> Api:
    """Every scope, the whole organisation."""
    return Api(make_token("*"), Client())


@pytest.fixture
def api_a(org: Org) -> Api:
    """Every scope, bound to store A."""
    return Api(make_token("*", unit=org.store_a), Client())


def response_body(org: Org, **overrides: Any) -> dict[str, Any]:
    """A complete valid API response body for the store CSI survey at store A."""
    body: dict[str, Any] = {
        "survey": org.survey.slug,
        "unit": org.store_a.code,
        "answers": {
            "nps": 9,
            "csat": 4,
            "csi": {r: 4 for r in ("tangibles", "reliability", "responsiveness", "assurance", "empathy")},
            "contact_ok": True,
        },
        "language": "zh-hans",
        "channel": "api",
        "submitted_at": "2026-05-01T09:30:00+08:00",
    }
    body.update(overrides)
    return body
