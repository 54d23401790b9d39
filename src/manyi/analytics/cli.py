"""``manyi analytics``: rebuild or sync the DuckDB analytics store."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

app = typer.Typer(help="The analytics store (DuckDB in the data dir).", no_args_is_help=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[Fmt, typer.Option("--format", help="table for people, json for programs.")]


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _emit(data: dict[str, Any], fmt: Fmt) -> None:
    if fmt == Fmt.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    typer.echo(f"store: {data['path']}")
    for table, n in data["rows"].items():
        typer.echo(f"{table}: {n} rows")
    typer.echo(f"units: {data['units']}, questions: {data['questions']}, {data['seconds']} s")


def _setup() -> None:
    from manyi.cli import setup_django

    setup_django()


@app.command()
def rebuild(fmt: FormatOpt = Fmt.table) -> None:
    """Rebuild the store from scratch from the operational database (progress on stderr)."""
    _setup()
    from .store import rebuild as do_rebuild

    _emit(do_rebuild(progress=_say).as_dict(), fmt)


@app.command()
def sync(fmt: FormatOpt = Fmt.table) -> None:
    """Append the rows added since the last sync (creates the store when missing)."""
    _setup()
    from .store import sync as do_sync

    _emit(do_sync(progress=_say).as_dict(), fmt)
