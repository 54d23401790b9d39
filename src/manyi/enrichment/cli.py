"""``manyi text enrich``: enrich every pending feedback record and open-text answer (backfill).

Registered under ``manyi text`` by ``manyi.cli``; loads Django only when it runs.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer


class Fmt(StrEnum):
    table = "table"
    json = "json"


def enrich_command(
    everything: Annotated[
        bool, typer.Option("--all", help="Re-read every text with the current models, not only pending ones.")
    ] = False,
    fmt: Annotated[Fmt, typer.Option("--format", help="table for people, json for programs.")] = Fmt.table,
) -> None:
    """Enrich feedback records and open-text answers not yet read by the current models (progress on stderr)."""
    from manyi.cli import setup_django

    setup_django()
    from .actions import do_enrich_pending

    report = do_enrich_pending(everything=everything, limit=None, progress=lambda m: typer.echo(m, err=True))
    data = report.as_dict()
    if fmt == Fmt.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        typer.echo(
            f"enriched {data['feedback']} feedback records and {data['answers']} answers; "
            f"re-enriched {data['reenriched']} ({data['model']} {data['model_version']})"
        )
    for line in data["errors"][:20]:
        typer.echo(f"error: {line}", err=True)
    if data["errors"]:
        raise typer.Exit(1)
