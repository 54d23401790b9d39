"""Writes of the analytics app to the operational database."""

from __future__ import annotations

from collections.abc import Iterable

from .models import FactChange


def record_changed_responses(response_ids: Iterable[int]) -> int:
    """Record that these responses (their headline scores or answers) were changed or are about to
    be deleted, so that the next sync of the store brings their copies and the rollups up to date
    without a rebuild. Call it in the same transaction as the change (before a delete), then
    ``transaction.on_commit(request_sync)`` as for new rows. Returns how many were recorded."""
    ids = sorted({int(i) for i in response_ids})
    FactChange.objects.bulk_create([FactChange(response_id=i) for i in ids], batch_size=1000)
    return len(ids)
