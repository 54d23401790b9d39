"""A small demo company loaded once per module, and its analytics store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from manyi.analytics import store
from manyi.core import demo
from manyi.enrichment.actions import do_enrich_pending

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RESPONSES = 2000


@pytest.fixture(scope="module")
def demo_store(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[Path]:
    """The demo company with ~2000 responses, its comments enriched, and a store rebuilt from it.

    Loaded in a transaction that is rolled back after the module, so the tests of the module share
    one load (each test's own changes roll back to a savepoint inside it) and the database is empty
    again for the other modules.
    """
    path = tmp_path_factory.mktemp("analytics") / "analytics.duckdb"
    with django_db_blocker.unblock(), transaction.atomic():
        demo.load(seed=11, responses=RESPONSES, progress=lambda _m: None, now=NOW)
        do_enrich_pending(limit=None)  # the comments read by the text models, as the worker does
        store.rebuild(path)
        yield path
        transaction.set_rollback(True)
