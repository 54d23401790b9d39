"""Background enrichment: one feedback record after it is saved, and a periodic catch-up that
enriches whatever is pending (missed texts, bulk imports, texts read by an older model version)."""

from __future__ import annotations

from typing import Any

from django.tasks import task


@task()
def enrich_feedback(feedback_id: int) -> int | None:
    """Enrich one feedback record (idempotent), then ask for a store sync."""
    from manyi.analytics.tasks import request_sync

    from .actions import do_enrich_feedback

    enrichment = do_enrich_feedback(feedback_id)
    request_sync()
    return enrichment.pk if enrichment is not None else None


@task()
def enrich_pending() -> dict[str, Any]:
    """Enrich up to a batch of pending texts of each kind; a new model version re-enriches here."""
    from manyi.analytics.tasks import request_sync

    from .actions import do_enrich_pending

    report = do_enrich_pending()
    if report.total:
        request_sync()
    return report.as_dict()


PERIODIC = [(enrich_pending, 120)]
