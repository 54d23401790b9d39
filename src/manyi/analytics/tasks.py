"""Background work for the analytics store."""

from __future__ import annotations

from typing import Any

from django.tasks import task


@task()
def sync_store() -> dict[str, Any]:
    """Append the rows committed since the last sync to the analytics store.

    Idempotent and safe to enqueue often: it copies only ids above the watermark, and concurrent
    runs queue on the store's write lock.
    """
    from .store import sync

    return sync().as_dict()
