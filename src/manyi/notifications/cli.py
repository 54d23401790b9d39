"""``manyi notifications``: the delivery log, replays and endpoint tests from scripts.

Loads Django only inside each command, so ``manyi --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="Notifications: delivery log, dead letters, replay, endpoint tests.", no_args_is_help=True
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


def _choice(value: str | None, allowed: list[str], option: str) -> str:
    if value and value not in allowed:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}", param_hint=option)
    return value or ""


@app.command("list")
def list_command(
    fmt: FormatOpt = Fmt.table,
    status: Annotated[
        str | None, typer.Option(help="pending, sending, retrying, delivered, dead or skipped.")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="email, webhook, wecom, dingtalk or feishu.")] = None,
    event: Annotated[str | None, typer.Option(help="Event type, e.g. case.opened.")] = None,
    endpoint: Annotated[int | None, typer.Option(help="Endpoint id.")] = None,
    case: Annotated[int | None, typer.Option(help="Case id.")] = None,
    since: Annotated[str | None, typer.Option(help="Created on or after this day (YYYY-MM-DD, UTC).")] = None,
    dead: Annotated[
        bool, typer.Option("--dead", help="Only the dead-letter list (same as --status dead).")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 100,
) -> None:
    """Notifications newest first, with their delivery state."""
    since_at = None
    if since:
        try:
            since_at = datetime.combine(date.fromisoformat(since), time.min, tzinfo=UTC)
        except ValueError:
            raise typer.BadParameter(
                f"{since!r} is not a date like 2026-11-23", param_hint="--since"
            ) from None
    _setup()
    from manyi.notifications.choices import Channel, DeliveryStatus, EventType
    from manyi.notifications.queries import NotificationFilters, notification_as_dict, notification_log

    filters = NotificationFilters(
        status="dead" if dead else _choice(status, DeliveryStatus.values, "--status"),
        channel=_choice(channel, Channel.values, "--channel"),
        event=_choice(event, EventType.values, "--event"),
        endpoint=endpoint,
        case=case,
        since=since_at,
    )
    rows = [notification_as_dict(n) for n in notification_log(None, filters)[:limit]]
    if fmt == Fmt.json:
        _json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table("id", "created", "event", "channel", "target", "status", "attempts", "last error")
    for r in rows:
        t.add_row(
            str(r["id"]),
            r["created_at"][:19],
            r["event"],
            r["channel"],
            r["target"][:50],
            r["status"],
            str(r["attempts"]),
            (r["last_error"] or "")[:60],
        )
    Console().print(t)


@app.command()
def replay(
    ids: Annotated[list[int] | None, typer.Argument(help="Notification ids.", show_default=False)] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Replay the whole dead-letter list.")] = False,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Send dead (or delivered) notifications again from their first attempt; the worker delivers them."""
    if not ids and not all_dead:
        raise typer.BadParameter("give notification ids or --all-dead", param_hint="IDS")
    _setup()
    from manyi.notifications.actions import NotificationError, do_replay
    from manyi.notifications.models import Notification
    from manyi.notifications.queries import dead_letters

    if all_dead:
        targets = list(dead_letters(None).order_by("id"))
    else:
        wanted = list(dict.fromkeys(ids or []))
        found = Notification.objects.select_related("endpoint", "recipient").in_bulk(wanted)
        missing = [i for i in wanted if i not in found]
        if missing:
            raise _fail(f"no notification with id {', '.join(map(str, missing))}")
        targets = [found[i] for i in wanted]
    results: list[dict[str, Any]] = []
    for n in targets:
        try:
            done = do_replay(n)
            results.append({"id": n.pk, "replayed": True, "status": done.status, "error": None})
        except NotificationError as exc:
            results.append({"id": n.pk, "replayed": False, "status": n.status, "error": str(exc)})
    if fmt == Fmt.json:
        _json(results)
    else:
        for r in results:
            typer.echo(f"{r['id']}: queued again" if r["replayed"] else f"{r['id']}: {r['error']}")
        if not results:
            typer.echo("the dead-letter list is empty")
    if any(not r["replayed"] for r in results):
        raise typer.Exit(1)


@app.command("test-endpoint")
def test_endpoint(
    endpoint_id: Annotated[int, typer.Argument(help="Endpoint id.", metavar="ID")],
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Send an endpoint.test event now and print what the endpoint answered; exits 1 when it failed."""
    _setup()
    from manyi.notifications.actions import do_send_test_event
    from manyi.notifications.models import Endpoint

    endpoint = Endpoint.objects.select_related("unit").filter(pk=endpoint_id).first()
    if endpoint is None:
        raise _fail(f"no endpoint with id {endpoint_id}")
    n = do_send_test_event(endpoint)
    attempt = n.attempt_log.order_by("-number", "-id").first()
    result = {
        "endpoint_id": endpoint.pk,
        "notification_id": n.pk,
        "delivered": n.status == "delivered",
        "status": n.status,
        "response_code": attempt.response_code if attempt else None,
        "duration_ms": attempt.duration_ms if attempt else None,
        "error": n.last_error or None,
    }
    if fmt == Fmt.json:
        _json(result)
    elif result["delivered"]:
        typer.echo(f"delivered to {n.target} (HTTP {result['response_code']}, {result['duration_ms']} ms)")
    else:
        typer.echo(f"failed: {n.last_error}", err=True)
    if not result["delivered"]:
        raise typer.Exit(1)


@app.command()
def scan(
    deliver: Annotated[
        bool,
        typer.Option("--deliver", help="Also deliver what is due now, in this process (no worker needed)."),
    ] = False,
) -> None:
    """Queue due retries and recover interrupted sends once; prints a JSON summary."""
    _setup()
    from manyi.notifications.actions import do_deliver, do_scan
    from manyi.notifications.choices import DUE_STATUSES
    from manyi.notifications.models import Notification

    report = do_scan().as_dict()
    if deliver:
        from django.utils import timezone

        due = Notification.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=timezone.now())
        outcomes = [
            do_deliver(pk) for pk in due.order_by("next_attempt_at", "id").values_list("pk", flat=True)
        ]
        report["delivered"] = outcomes.count("delivered")
        report["attempted"] = len(outcomes)
    _json(report)
