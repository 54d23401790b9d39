"""Reads for the public survey pages."""

from __future__ import annotations

import re

from manyi.surveys.models import SurveyLink

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


def link_by_token(token: str) -> SurveyLink | None:
    """The link for a well-formed token, with its survey and unit; None for malformed or unknown ones."""
    if not TOKEN_RE.match(token):
        return None
    return SurveyLink.objects.select_related("survey", "unit").filter(token=token).first()
