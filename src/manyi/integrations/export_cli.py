"""``manyi export responses|feedback|cases --format csv|xlsx|parquet --output F``: a summary on stdout."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Kind(StrEnum):
    responses = "responses"
    feedback = "feedback"
    cases = "cases"


class FileFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


class Language(StrEnum):
    zh = "zh-hans"
    en = "en"


def _day(value: str | None, flag: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{flag} must be a date such as 2026-01-31, got {value!r}") from None


def export_command(
    kind: Annotated[Kind, typer.Argument(help="What to export.")],
    fmt: Annotated[FileFormat, typer.Option("--format", help="csv, xlsx or parquet.")],
    output: Annotated[Path, typer.Option("--output", help="File to write (replaced when complete).")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only this org unit and the units below it.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this day (YYYY-MM-DD), inclusive.")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="To this day (YYYY-MM-DD), inclusive.")] = None,
    survey: Annotated[str | None, typer.Option("--survey", help="Only this survey (slug).")] = None,
    include_pii: Annotated[
        bool, typer.Option("--include-pii", help="Customer names, phones and e-mails unmasked.")
    ] = False,
    language: Annotated[Language, typer.Option("--language", help="Language of the labels.")] = Language.zh,
) -> None:
    """Export rows as a file, streamed in chunks; every export is written to the audit log."""
    from manyi.cli import err, fail, setup_django

    setup_django()
    from manyi.integrations.exporting import ExportFilters, ExportRefused, export_to_file

    filters = ExportFilters(
        unit=unit, since=_day(since, "--since"), until=_day(until, "--until"), survey=survey
    )
    try:
        summary = export_to_file(
            kind.value, fmt.value, output, filters=filters, include_pii=include_pii, language=language.value,
            progress=None,
        )  # fmt: skip
    except ExportRefused as exc:
        raise fail(str(exc)) from exc
    err(f"exported {summary.rows:,} {kind.value} to {output} in {summary.seconds:.1f} s")
    sys.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False) + "\n")
