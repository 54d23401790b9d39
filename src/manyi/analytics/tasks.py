"""Background work for the analytics store.

Hook: enqueue :func:`sync_store` on commit wherever facts are written, e.g. in
``responses.actions.check_submit_response`` beside the ``enrich_response`` enqueue::

    transaction.on_commit(sync_store.enqueue)

Every run copies only what is above the watermark, so extra enqueues cost one short, empty sync;
under heavy load a periodic ``manyi analytics sync`` (or one enqueue per minute) does the same.
"""

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
