"""``manyi cases``: list cases for scripts, run the SLA scanner once, load public holidays."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

# Nothing from manyi.cli or Django at import time: manyi.cli imports this module while it loads.

app = typer.Typer(help="Cases: list them, run the SLA scanner, load public holidays.", no_args_is_help=True)
holidays_app = typer.Typer(
    help="Public holidays and make-up workdays of the business calendars.", no_args_is_help=True
)
app.add_typer(holidays_app, name="holidays")


class Fmt(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[Fmt, typer.Option("--format", help="table for people, json for programs.")]
STATUSES = ("new", "assigned", "in_progress", "waiting", "resolved", "closed")


def _setup() -> None:
    from manyi.cli import setup_django

    setup_django()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_row(case: Any) -> dict[str, Any]:
    """The JSON object of one case in ``manyi cases list``: exactly these keys."""
    return {
        "id": case.pk,
        "status": case.status,
        "priority": case.priority,
        "unit": case.unit.code,
        "assignee": case.assignee.get_username() if case.assignee_id else None,
        "source": case.source,
        "first_response_due": _iso(case.first_response_due),
        "resolution_due": _iso(case.resolution_due),
        "created_at": _iso(case.created_at),
    }


@app.command("list")
def list_cases(
    fmt: FormatOpt = Fmt.table,
    status: Annotated[
        str | None,
        typer.Option("--status", help=f"Only cases in this status: {', '.join(STATUSES)}, or open."),
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="Only cases of this org unit (by code) and the units below it."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many cases, newest first (0: all).")] = 0,
) -> None:
    """Cases, newest first, as a table or as JSON objects (id, status, priority, unit, assignee,
    source, first_response_due, resolution_due, created_at)."""
    if status is not None and status not in (*STATUSES, "open"):
        raise _fail(f"--status must be one of {', '.join(STATUSES)} or open; got {status!r}")
    if limit < 0:
        raise _fail(f"--limit must be 0 or more; got {limit}")
    _setup()
    from manyi.cases.choices import DONE_STATUSES
    from manyi.cases.models import Case
    from manyi.org.models import OrgUnit

    qs = Case.objects.select_related("unit", "assignee").order_by("-created_at", "-id")
    if unit is not None:
        found = OrgUnit.objects.filter(code=unit).first()
        if found is None:
            raise _fail(f"no org unit with code {unit!r}")
        qs = qs.filter(unit__path__startswith=found.path)
    if status == "open":
        qs = qs.exclude(status__in=DONE_STATUSES)
    elif status is not None:
        qs = qs.filter(status=status)
    if limit:
        qs = qs[:limit]
    rows = [case_row(c) for c in qs.iterator(chunk_size=2000)]
    if fmt == Fmt.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(
        "id",
        "status",
        "priority",
        "unit",
        "assignee",
        "source",
        "first response due",
        "resolution due",
        "created",
    )
    for r in rows:
        src = r["source"]
        t.add_row(
            str(r["id"]),
            r["status"],
            r["priority"],
            r["unit"],
            r["assignee"] or "—",
            f"{src['type']} {src['id']}" if src else "—",
            (r["first_response_due"] or "—")[:16],
            (r["resolution_due"] or "—")[:16],
            (r["created_at"] or "")[:16],
        )
    Console().print(t)
    typer.echo(f"{len(rows)} cases", err=True)


@app.command("scan")
def scan(
    now: Annotated[
        str | None,
        typer.Option(help="Pretend it is this ISO 8601 instant (with offset), for tests and replays."),
    ] = None,
) -> None:
    """Fire the escalation steps that are due and send pending re-surveys, once; prints a JSON summary."""
    at = None
    if now is not None:
        try:
            at = datetime.fromisoformat(now)
        except ValueError:
            raise _fail(
                f"--now must be an ISO 8601 instant like 2026-11-23T09:00:00+08:00; got {now!r}"
            ) from None
        if at.tzinfo is None:
            raise _fail("--now needs a UTC offset, like +08:00 or Z")
    _setup()
    from django.utils import timezone

    from manyi.cases.actions import scan_sla
    from manyi.cases.recovery import catch_up

    at = at or timezone.now()
    sys.stdout.write(json.dumps({"escalations": scan_sla(at), "resurveys": catch_up(at)}) + "\n")


@holidays_app.command("load")
def holidays_load(
    file: Annotated[Path, typer.Argument(help="A JSON file shaped like cases/data/holidays_cn.json.")],
) -> None:
    """Add or update public holidays and make-up workdays from a JSON file."""
    _setup()
    from manyi.cases.defaults import HolidayFileError, load_holidays
    from manyi.cases.models import Holiday

    try:
        n = load_holidays(Holiday, file)
    except HolidayFileError as exc:
        raise _fail(str(exc)) from None
    from manyi.cases.queries import forget_holidays

    forget_holidays()
    sys.stdout.write(json.dumps({"days": n}) + "\n")


@holidays_app.command("list")
def holidays_list(
    fmt: FormatOpt = Fmt.table,
    year: Annotated[int | None, typer.Option(help="Only this year.")] = None,
    region: Annotated[str, typer.Option(help="Holiday region.")] = "CN",
) -> None:
    """Public holidays and make-up workdays, by date."""
    _setup()
    from manyi.cases.models import Holiday

    qs = Holiday.objects.filter(region=region.upper()).order_by("date")
    if year is not None:
        qs = qs.filter(date__year=year)
    rows = [{"date": h.date.isoformat(), "kind": h.kind, "name": h.name} for h in qs]
    if fmt == Fmt.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    for r in rows:
        typer.echo(f"{r['date']}  {r['kind']:<8} {r['name'].get('zh-hans', '')} / {r['name'].get('en', '')}")
