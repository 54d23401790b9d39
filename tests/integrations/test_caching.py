"""The write path's per-process caches (token, survey, unit, published version) and its single
write transaction: what they save, and that no contract gets weaker for them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from manyi.integrations import auth, queries
from manyi.integrations.actions import do_create_token, do_revoke_token
from manyi.integrations.models import ApiToken, IdempotencyKey
from manyi.integrations.tokens import hash_token
from manyi.org.models import OrgUnit
from manyi.responses.models import Response
from manyi.surveys.actions import do_edit_draft, do_publish
from manyi.surveys.choices import SurveyStatus
from manyi.surveys.models import Survey

from .conftest import Api, make_token, response_body


class FrozenClock:
    """Stands in for the caches' clock, so a test can let their seconds pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    frozen = FrozenClock()
    monkeypatch.setattr(queries.TtlCache, "clock", staticmethod(frozen))
    return frozen


def _writes(captured: list[dict[str, Any]]) -> list[str]:
    """The statements that are not savepoint bookkeeping, shortened to verb and table."""
    out = []
    for q in captured:
        sql = q["sql"]
        if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT")):
            continue
        words = sql.replace('"', "").split()
        table = next(
            (w for w in words if w.startswith(("integrations_", "responses_", "surveys_", "org_"))), ""
        )
        out.append(f"{words[0]} {table}")
    return out


@pytest.mark.django_db
def test_a_create_with_an_idempotency_key_reads_nothing_and_writes_response_answers_and_key_once(org, api):
    api.post("/responses", response_body(org), **{"Idempotency-Key": "warm"})  # fills the caches
    with CaptureQueriesContext(connection) as captured:
        r = api.post("/responses", response_body(org), **{"Idempotency-Key": "measured"})
    assert r.status_code == 201
    assert _writes(captured.captured_queries) == [
        "INSERT responses_response",
        "INSERT responses_answer",
        "INSERT integrations_idempotencykey",
    ]
    kept = IdempotencyKey.objects.get(key="measured")
    assert kept.status_code == 201 and kept.body.encode() == r.content


@pytest.mark.django_db
def test_the_201_body_equals_what_a_read_of_the_response_returns(org, api):
    created = api.post("/responses", response_body(org), **{"Idempotency-Key": "k"})
    plain = api.post("/responses", response_body(org))
    answers = {**response_body(org)["answers"], "nps": 3, "comment": "排队太久 <b>&"}
    commented = api.post(
        "/responses", response_body(org, answers=answers, submitted_at="2026-05-01T09:30:00.123456Z")
    )
    for r in (created, plain, commented):
        assert r.status_code == 201
        assert r.content == api.get(f"/responses/{r.json()['id']}").content  # byte for byte


@pytest.mark.django_db
def test_a_token_revoked_in_this_process_is_refused_at_once(org, clock):
    issued = do_create_token(name="t", scopes="responses:write")
    client = Api(issued.token, Client())
    assert client.post("/responses", response_body(org)).status_code == 201
    do_revoke_token(token=issued.record)
    assert client.post("/responses", response_body(org)).status_code == 401


@pytest.mark.django_db
def test_a_token_revoked_by_another_process_is_refused_within_the_cache_seconds(org, clock):
    issued = do_create_token(name="t", scopes="responses:write")
    client = Api(issued.token, Client())
    assert client.post("/responses", response_body(org)).status_code == 201
    # Another process (the console, `manyi tokens revoke`) sends no signal here: only time tells.
    ApiToken.objects.filter(pk=issued.record.pk).update(revoked_at=timezone.now())
    clock.now += queries.API_CACHE_SECONDS + 0.01
    r = client.post("/responses", response_body(org))
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"
    assert Response.objects.count() == 1


@pytest.mark.django_db
def test_a_cached_token_still_expires_on_time(org, clock):
    issued = do_create_token(name="t", scopes="responses:write")
    client = Api(issued.token, Client())
    assert client.post("/responses", response_body(org)).status_code == 201
    (token, _paths) = auth._TOKENS.get(hash_token(issued.token))
    token.expires_at = timezone.now()  # as if the expiry had come while the row sat in the cache
    assert client.post("/responses", response_body(org)).status_code == 401


@pytest.mark.django_db
def test_last_used_is_written_at_most_once_a_minute_per_token(org, api):
    assert api.post("/responses", response_body(org)).status_code == 201
    first = ApiToken.objects.get(prefix=api.token.split("_")[1]).last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as captured:
        assert api.post("/responses", response_body(org)).status_code == 201
    assert not [q for q in captured.captured_queries if "integrations_apitoken" in q["sql"]]


@pytest.mark.django_db
def test_closing_a_survey_is_seen_at_once_in_this_process_and_within_the_cache_seconds_elsewhere(
    org, api, clock
):
    assert api.post("/responses", response_body(org)).status_code == 201
    org.survey.status = SurveyStatus.CLOSED
    org.survey.save(update_fields=["status"])
    refused = api.post("/responses", response_body(org))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "survey_closed"

    Survey.objects.filter(pk=org.survey.pk).update(status=SurveyStatus.ACTIVE)  # "another process"
    clock.now += queries.API_CACHE_SECONDS + 0.01
    assert api.post("/responses", response_body(org)).status_code == 201


@pytest.mark.django_db
def test_a_newly_published_version_takes_the_answers_at_once(org, api):
    first = api.post("/responses", response_body(org)).json()
    definition = dict(org.survey.published_version().definition)
    do_edit_draft(survey=org.survey, definition=definition)
    v2 = do_publish(survey=org.survey)
    second = api.post("/responses", response_body(org)).json()
    assert (first["version"], second["version"]) == (v2.number - 1, v2.number)


@pytest.mark.django_db
def test_a_closed_unit_is_refused_at_once_and_a_token_bound_to_it_sees_nothing(org, clock):
    bound = Api(make_token("responses:write", unit=org.store_a), Client())
    everywhere = Api(make_token("responses:write"), Client())
    assert bound.post("/responses", response_body(org)).status_code == 201
    assert everywhere.post("/responses", response_body(org)).status_code == 201
    unit = OrgUnit.objects.get(pk=org.store_a.pk)
    unit.is_active = False
    unit.save(update_fields=["is_active"])
    r = everywhere.post("/responses", response_body(org))
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "unit"
    # The bound token now sees no unit and so no survey either: the first name it sends is unknown.
    r = bound.post("/responses", response_body(org))
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_survey"
    assert Response.objects.count() == 2


@pytest.mark.django_db
def test_a_retry_replays_the_original_also_with_debug_on(org, api, settings):
    settings.DEBUG = True
    first = api.post("/responses", response_body(org), **{"Idempotency-Key": "dbg"})
    retry = api.post("/responses", response_body(org), **{"Idempotency-Key": "dbg"})
    assert first.status_code == retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert first.content == retry.content and Response.objects.count() == 1
