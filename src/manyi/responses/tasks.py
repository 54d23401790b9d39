"""Follow-up work after a response is stored."""

from __future__ import annotations

from django.tasks import task

from manyi.feedback.actions import do_record_survey_comment


@task()
def enrich_response(response_id: int) -> int | None:
    """Turn a response's comment into a feedback record (idempotent: once per response)."""
    record = do_record_survey_comment(response_id=response_id)
    return record.pk if record else None
