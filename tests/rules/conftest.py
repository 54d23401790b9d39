"""Rules fixtures: the shared small organisation, rules saved through the real action, and answers
submitted through the real submit path."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.utils import translation

from manyi.responses.actions import check_submit_response
from manyi.responses.models import Response
from manyi.rules.actions import do_save_rule
from manyi.rules.models import Rule
from manyi.surveys.models import SurveyLink
from tests.conftest import csi_answers

DETRACTOR = {"field": "nps", "op": "<=", "value": 6}
OPEN_CASE = [{"type": "open_case", "priority": "high"}]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages are compared in English; pages pick their language per request anyway."""
    with translation.override("en"):
        yield


def make_rule(
    unit: Any,
    condition: Any = None,
    actions: Any = None,
    *,
    slug: str = "detractors",
    applies_to: str = "both",
    **kw: Any,
) -> Rule:
    return do_save_rule(
        condition=condition if condition is not None else DETRACTOR,
        actions=actions if actions is not None else OPEN_CASE,
        unit=unit,
        name=kw.pop("name", slug.replace("-", " ").title()),
        slug=slug,
        applies_to=applies_to,
        **kw,
    )


def submit(link: SurveyLink, nps: int, comment: str = "", **kw: Any) -> Response:
    result = check_submit_response(
        link=link,
        submission_id=uuid.uuid4(),
        data=csi_answers(nps=nps, comment=comment),
        language="zh-hans",
        **kw,
    )
    assert result.response is not None, result.errors
    return result.response
