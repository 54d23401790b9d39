"""Follow-up work after a response is stored."""

from __future__ import annotations

from django.tasks import task

from manyi.feedback.actions import do_record_survey_comment


@task()
def enrich_response(response_id: int) -> int | None:
    """Turn a response's comment into a feedback record (idempotent: once per response), then read
    it and the response's other open-text answers with the text models (idempotent per model version)."""
    from manyi.analytics.tasks import request_sync
    from manyi.enrichment.actions import do_enrich_feedback, do_enrich_response_answers

    record = do_record_survey_comment(response_id=response_id)
    if record is not None:
        do_enrich_feedback(record.pk)
    do_enrich_response_answers(response_id)
    request_sync()
    return record.pk if record else None
