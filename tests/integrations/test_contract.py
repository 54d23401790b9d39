"""Contract tests: schemathesis generates requests from /api/v1/openapi.json and checks every answer.

All of schemathesis' checks run (status codes, content types, headers and bodies against the
schema, no 5xx, negative data rejected, positive data accepted, ...), through the Django WSGI app,
with a token that has every scope. The stateful test follows the OpenAPI links (create a response,
then read it back). Examples are kept few so the suite stays fast.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from manyi.integrations.api import api
from manyi.integrations.models import ApiToken
from manyi.integrations.tokens import all_scopes, hash_token, split_token
from manyi.wsgi import application

# Only the resources this module owns: other routers bring their own contract tests.
OWN_TAGS = ["org units", "customers", "surveys", "responses", "feedback", "cases"]
EXAMPLES = 25
# "Valid data is accepted" also allows 422: a request can match the schema and still name a unit,
# survey, customer or cursor that does not exist (or not for this token), or answers that do not
# fit the survey's questions. The schema cannot express that; the 422 names the field.
CONFIG = schemathesis.config.SchemathesisConfig.from_str(
    """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""
)
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@pytest.fixture
def _keep_test_connection() -> Any:
    """WSGI requests end with close_old_connections, which would close the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def load_schema() -> Any:
    """The schema the API serves, answered by the Django WSGI app in-process."""
    raw = json.loads(json.dumps(api.get_openapi_schema(), default=str))
    schema = schemathesis.openapi.from_dict(raw, config=CONFIG)
    schema.app = application
    return schema.include(tag_regex="^(" + "|".join(OWN_TAGS) + ")$")


schema = load_schema()
# One fixed token, re-created in each test's database, so schemathesis' auth cache stays valid.
TOKEN = "mny_5c4e3a71_" + "T" * 43


@schema.auth()
class BearerToken:
    """Explicit auth for schemathesis, which its auth checks then take away and spoil on purpose."""

    def get(self, case: Any, ctx: Any) -> str:
        return TOKEN

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def api_schema(org: Any, _keep_test_connection: Any) -> Any:
    return schema


@pytest.fixture
def token(org: Any) -> str:
    prefix = split_token(TOKEN)
    assert prefix is not None
    ApiToken.objects.create(
        name="contract", prefix=prefix, secret_hash=hash_token(TOKEN), scopes=all_scopes()
    )
    return TOKEN


@schema.parametrize()
@HYPOTHESIS
@pytest.mark.django_db
def test_every_operation_honours_its_openapi_contract(case: Any, api_schema: Any, token: str) -> None:
    case.call_and_validate()


@pytest.mark.django_db
def test_stateful_links_hold(api_schema: Any, token: str) -> None:
    machine = api_schema.as_state_machine()

    machine.run(
        settings=settings(
            max_examples=10,
            stateful_step_count=5,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
    )
