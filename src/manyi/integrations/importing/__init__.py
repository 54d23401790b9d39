"""Bulk import of customers, responses and feedback records from CSV and XLSX files.

``import_file(kind, path, …)`` is what the command line, the background task and (later) the
console and API call; it returns an ``ImportSummary`` whose ``as_dict()`` is the JSON summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._engine import BATCH_SIZE, ERROR_COLUMNS, ImportSummary, Progress, run_import
from ._errors import ImportFailed, RowError

__all__ = ["ERROR_COLUMNS", "KINDS", "ImportFailed", "ImportSummary", "RowError", "import_file"]

KINDS = ("customers", "responses", "feedback")


def import_file(
    kind: str,
    path: Path | str,
    *,
    mapping: Path | str | None = None,
    dry_run: bool = False,
    errors: Path | str | None = None,
    user: Any = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import ``path`` as ``kind``; ``user`` (None for the command line) limits the units written to."""
    if kind == "customers":
        from ._customers import CustomerImporter as factory
    elif kind == "responses":
        from ._responses import ResponseImporter as factory  # type: ignore[assignment]
    elif kind == "feedback":
        from ._feedback import FeedbackImporter as factory  # type: ignore[assignment]
    else:
        raise ImportFailed(f"unknown kind {kind!r}: choose from {', '.join(KINDS)}")
    return run_import(
        factory,
        Path(path),
        mapping_path=Path(mapping) if mapping else None,
        dry_run=dry_run,
        errors_path=Path(errors) if errors else None,
        user=user,
        progress=progress,
        batch_size=batch_size,
    )
