"""``manyi import customers|responses|feedback --file F``: the JSON summary on stdout, progress and
per-row problems on stderr, exit 1 when the file cannot be read, 2 when some rows were rejected."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Kind(StrEnum):
    customers = "customers"
    responses = "responses"
    feedback = "feedback"


class Fmt(StrEnum):
    table = "table"
    json = "json"


SHOW_ERRORS = 20


def import_command(
    kind: Annotated[Kind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Option("--file", help="A .csv (UTF-8, GBK/GB18030) or .xlsx file.")],
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="TOML file mapping the file's columns to Manyi's.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count, write nothing.")] = False,
    errors: Annotated[
        Path | None, typer.Option("--errors", help="Write rejected rows here (row, column, value, reason).")
    ] = None,
    fmt: Annotated[Fmt, typer.Option("--format", help="table for people, json for programs.")] = Fmt.table,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Rows per transaction.", min=1)] = 10_000,
) -> None:
    """Import customers, responses or feedback records; a second import of the same file changes nothing."""
    from manyi.cli import err, fail, setup_django

    setup_django()
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    from manyi.integrations.importing import ImportFailed, import_file

    console = Console(stderr=True)
    bar = Progress(
        TextColumn(f"import {kind.value}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with bar:
        task = bar.add_task("import", total=None, rows=0)

        def progress(read: int, position: int, total: int) -> None:
            bar.update(task, completed=position, total=total or None, rows=read)

        try:
            summary = import_file(
                kind.value,
                file,
                mapping=mapping,
                dry_run=dry_run,
                errors=errors,
                progress=progress,
                batch_size=batch_size,
            )
        except ImportFailed as exc:
            raise fail(str(exc)) from exc
    for e in summary.errors[:SHOW_ERRORS]:
        err(e.line())
    if summary.rejected > SHOW_ERRORS:
        more = f"; all of them are in {errors}" if errors else "; use --errors FILE to get them all"
        err(f"… {summary.rejected:,} rows rejected in all{more}")
    data = summary.as_dict()
    if dry_run:
        err("dry run: nothing was written")
    if fmt == Fmt.json:
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        typer.echo(
            "read {read:,}, created {created:,}, updated {updated:,}, unchanged {unchanged:,}, "
            "rejected {rejected:,} in {seconds:.1f} s".format(**data)
        )
    if summary.rejected:
        raise typer.Exit(2)
