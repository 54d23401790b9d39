"""Writes for feedback records."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from .choices import FeedbackChannel
from .models import FeedbackRecord


def do_record_survey_comment(*, response_id: int) -> FeedbackRecord | None:
    """Create the feedback record for a response's comment; return the existing one on a repeat."""
    from manyi.responses.models import Response

    response = Response.objects.filter(pk=response_id).first()
    if response is None or not response.comment:
        return None
    try:
        with transaction.atomic():
            record, _ = FeedbackRecord.objects.get_or_create(
                response=response,
                defaults={
                    "channel": FeedbackChannel.SURVEY,
                    "unit_id": response.unit_id,
                    "customer_id": response.customer_id,
                    "touchpoint": response.survey.slug,
                    "rating": response.nps if response.nps is not None else response.csat,
                    "text": response.comment,
                    "language": response.language,
                    "occurred_at": response.submitted_at,
                },
            )
    except IntegrityError:
        record = FeedbackRecord.objects.get(response=response)
    return record
