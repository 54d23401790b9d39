"""Whole-installation reads for the CLI."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from manyi.cases.models import Case
from manyi.feedback.models import FeedbackRecord
from manyi.org.models import OrgUnit
from manyi.responses.models import Response
from manyi.surveys.models import Survey


def record_counts() -> dict[str, int]:
    """``{"org_units", "staff", "surveys", "responses", "feedback", "cases"}``; staff are active accounts."""
    return {
        "org_units": OrgUnit.objects.count(),
        "staff": get_user_model().objects.filter(is_active=True).count(),
        "surveys": Survey.objects.count(),
        "responses": Response.objects.count(),
        "feedback": FeedbackRecord.objects.count(),
        "cases": Case.objects.count(),
    }
