"""``manyi distribution``: run the invitation scanner once or on a timer."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated

import typer

app = typer.Typer(help="Survey distribution: send due invitations and reminders.", no_args_is_help=True)


@app.command()
def scan(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Send what is due now, print a JSON summary, then exit.")
    ] = False,
    every: Annotated[float, typer.Option(help="Seconds between scans when running continuously.")] = 60.0,
) -> None:
    """Send due survey invitations and reminders; safe to run in several processes at once."""
    from manyi.cli import setup_django

    setup_django()
    from manyi.distribution.actions import do_scan

    if until_idle:
        sys.stdout.write(json.dumps(do_scan().as_dict()) + "\n")
        return
    if every <= 0:
        raise typer.BadParameter("must be more than 0", param_hint="--every")
    while True:
        report = do_scan()
        if report.touched:
            typer.echo(json.dumps(report.as_dict()), err=True)
        time.sleep(every)
