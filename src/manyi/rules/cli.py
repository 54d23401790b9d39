"""``manyi rules``: list rules, save one from a JSON file, dry-run it over the past, run the catch-up.

Nothing from Django at import time, so ``manyi --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

app = typer.Typer(
    help="Rules: when a response or feedback matches, open a case, notify, tag, add to a re-survey.",
    no_args_is_help=True,
)


class Fmt(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[Fmt, typer.Option("--format", help="table for people, json for programs.")]


def _setup() -> None:
    from manyi.cli import setup_django

    setup_django()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def parse_since(text: str, tz: str) -> datetime:
    """``2026-11-01`` (midnight in ``tz``) or an ISO date-time (``tz`` when it has no offset)."""
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=ZoneInfo(tz))
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date like 2026-11-01 or a date-time like 2026-11-01T08:00+08:00, got {text!r}",
            param_hint="--since",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


@app.command("list")
def list_rules(fmt: FormatOpt = Fmt.table) -> None:
    """Every rule with its unit, current version and number of matches."""
    _setup()
    from django.db.models import Count

    from .models import Rule

    rows = [
        {
            "id": r.pk,
            "slug": r.slug,
            "name": r.name,
            "unit": r.unit.code,
            "applies_to": r.applies_to,
            "active": r.is_active,
            "version": r.current_version.number if r.current_version else None,
            "matches": r.n_matches,
        }
        for r in Rule.objects.select_related("unit", "current_version")
        .annotate(n_matches=Count("matches"))
        .order_by("position", "id")
    ]
    if fmt == Fmt.json:
        _json(rows)
        return
    for row in rows:
        typer.echo("  ".join(f"{k}={v}" for k, v in row.items()))
    if not rows:
        typer.echo("no rules", err=True)


@app.command("save")
def save(
    file: Annotated[
        Path, typer.Option("--file", help='JSON: {"slug", "name", "unit", "condition", "actions", …}.')
    ],
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Create a rule from a JSON file, or save a new version of the rule with the same slug."""
    _setup()
    from manyi.org.models import OrgUnit

    from .actions import do_save_rule
    from .conditions import InvalidRule
    from .models import Rule

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise _fail(f"{file} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict):
        raise _fail(f"{file} must hold one JSON object")
    unit = OrgUnit.objects.filter(code=str(data.get("unit", ""))).first()
    if unit is None:
        raise _fail(f"unit: no org unit has the code {data.get('unit')!r}")
    existing = Rule.objects.filter(slug=str(data.get("slug", ""))).first() if data.get("slug") else None
    try:
        rule = do_save_rule(
            condition=data.get("condition"),
            actions=data.get("actions"),
            unit=unit,
            name=str(data.get("name", "")),
            slug=str(data.get("slug", "")),
            rule=existing,
            description=str(data.get("description", "")),
            applies_to=str(data.get("applies_to", "both")),
            is_active=bool(data.get("active", True)),
            position=int(data.get("position", 100)),
            note=str(data.get("note", "")),
        )
    except InvalidRule as exc:
        for p in exc.problems:
            typer.echo(f"error: {p}", err=True)
        raise typer.Exit(1) from None
    out = {
        "id": rule.pk,
        "slug": rule.slug,
        "version": rule.current_version.number if rule.current_version else None,
    }
    if fmt == Fmt.json:
        _json(out)
    else:
        typer.echo(f"saved rule {rule.slug} (id {rule.pk}), version {out['version']}")


@app.command("dry-run")
def dry_run(
    rule: Annotated[str, typer.Argument(help="The rule's id or slug.")],
    since: Annotated[
        str, typer.Option("--since", help="From this date (2026-11-01) or date-time, inclusive.")
    ],
    sample: Annotated[int, typer.Option("--sample", help="How many matches to list.")] = 20,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Which past responses and feedback records the rule's current version would have matched.

    Nothing is written: no match, no case, no notification.
    """
    _setup()
    from . import queries

    found = queries.rule_by_ref(rule.strip())
    if found is None:
        raise _fail(f"no rule has the id or slug {rule!r}; see `manyi rules list`")
    if found.current_version is None:
        raise _fail(f"rule {found.slug} has no saved version")
    start = parse_since(since, found.unit.timezone)
    if start > datetime.now(UTC):
        raise typer.BadParameter("is in the future", param_hint="--since")
    if sample < 0:
        raise typer.BadParameter("must be 0 or more", param_hint="--sample")
    result = queries.dry_run(
        definition=queries.parsed_version(found.current_version),
        unit=found.unit,
        applies_to=found.applies_to,
        since=start,
        sample_size=sample,
    )
    data = {
        "rule": {"id": found.pk, "slug": found.slug, "version": found.current_version.number},
        **result.as_dict(),
    }
    if fmt == Fmt.json:
        _json(data)
        return
    typer.echo(
        f"rule {found.slug} v{found.current_version.number} since {start.isoformat()}: "
        f"{result.count} matched ({result.matched['response']} responses of {result.scanned['response']}, "
        f"{result.matched['feedback']} feedback records of {result.scanned['feedback']})"
    )
    for m in result.sample:
        typer.echo(f"  {m.kind} {m.id}  {m.unit}  {m.when.isoformat()}  {m.text[:80]}")


@app.command("catch-up")
def catch_up(
    limit: Annotated[int, typer.Option("--limit", help="At most this many sources of each kind.")] = 5000,
) -> None:
    """Evaluate every response and feedback record that no evaluation has seen yet; print a JSON summary."""
    _setup()
    from .actions import do_catch_up

    if limit <= 0:
        raise typer.BadParameter("must be more than 0", param_hint="--limit")
    _json(do_catch_up(limit=limit).as_dict())


@app.command("resurveys")
def resurveys(
    list_name: Annotated[str, typer.Option("--list", help="Only this re-survey list.")] = "",
    status: Annotated[str, typer.Option("--status", help="pending, invited, sent or skipped.")] = "",
    send: Annotated[
        bool, typer.Option("--send", help="First hand the waiting entries to the distribution.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many entries, newest first.")] = 100,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """The re-survey lists that rules fill: each entry with its status and the reason for it."""
    _setup()
    from django.utils import translation

    from .actions import do_send_resurveys
    from .choices import ResurveyStatus
    from .models import ResurveyEntry

    if status and status not in ResurveyStatus.values:
        raise typer.BadParameter(
            f"expected one of {', '.join(ResurveyStatus.values)}, got {status!r}", param_hint="--status"
        )
    if limit <= 0:
        raise typer.BadParameter("must be more than 0", param_hint="--limit")
    if send:
        typer.echo(json.dumps(do_send_resurveys().as_dict()), err=True)
    qs = ResurveyEntry.objects.select_related("unit", "customer", "decision", "invitation").order_by("-id")
    if list_name:
        qs = qs.filter(list_name=list_name)
    if status:
        qs = qs.filter(status=status)
    with translation.override("en"):
        rows: list[dict[str, Any]] = [
            {
                "id": e.pk,
                "list": e.list_name,
                "source": {"type": e.kind, "id": e.source_id},
                "unit": e.unit.code,
                "customer": e.customer.external_id if e.customer else None,
                "status": e.status,
                "reason": e.reason,
                "message": e.reason_text,
                "invitation": e.invitation_id,
                "invitation_status": e.invitation.status if e.invitation else None,
                "added_at": e.created_at,
                "decided_at": e.decided_at,
            }
            for e in qs[:limit]
        ]
    if fmt == Fmt.json:
        _json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['id']}  {row['list']}  {row['source']['type']} {row['source']['id']}  {row['unit']}  "
            f"{row['status']}  {row['message']}"
        )
    if not rows:
        typer.echo("no re-survey entries", err=True)
