"""``manyi tokens``: create, list and revoke API tokens. The token itself is printed once, on create."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

# Nothing from manyi.cli at import time: it imports this module while it loads (also as __main__).


class Fmt(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[Fmt, typer.Option("--format", help="table for people, json for programs.")]


def setup_django() -> None:
    from manyi.cli import setup_django as setup

    setup()


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def emit(data: Any, fmt: Fmt) -> None:
    if fmt == Fmt.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        for row in data if isinstance(data, list) else [data]:
            typer.echo("  ".join(f"{k}={v}" for k, v in row.items()))


app = typer.Typer(help="API tokens for the REST API under /api/v1.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. 'POS sync'.")],
    scopes: Annotated[
        str,
        typer.Option(
            "--scopes",
            help="Comma-separated resource:read|write (e.g. responses:write,customers:read), or *.",
        ),
    ],
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="Code of the org unit whose subtree the token acts in; default: all."),
    ] = None,
    expires_days: Annotated[
        int | None,
        typer.Option("--expires-days", min=1, max=3650, help="Days until the token expires; default: never."),
    ] = None,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Create a token; it is shown once and only its hash is kept."""
    setup_django()
    from datetime import timedelta

    from manyi.org.models import OrgUnit

    from .actions import do_create_token

    bound = None
    if unit is not None:
        bound = OrgUnit.objects.filter(code=unit).first()
        if bound is None:
            raise fail(f"no org unit with code {unit!r}")
    try:
        issued = do_create_token(
            name=name,
            scopes=scopes,
            unit=bound,
            expires_in=timedelta(days=expires_days) if expires_days else None,
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc
    record = issued.record
    data = {
        "token": issued.token,
        "id": record.pk,
        "name": record.name,
        "scopes": record.scopes,
        "unit": bound.code if bound else None,
        "expires_at": record.expires_at.isoformat() if record.expires_at else None,
    }
    if fmt == Fmt.json:
        emit(data, fmt)
    else:
        typer.echo(issued.token)
        typer.echo(
            f"token {record.pk} ({record.name}) for {bound.code if bound else 'the whole organisation'}: "
            f"{', '.join(record.scopes)}; shown once, keep it safe",
            err=True,
        )


@app.command("list")
def list_tokens(fmt: FormatOpt = Fmt.table) -> None:
    """Every token with its prefix, scopes, unit and dates (never the secret)."""
    setup_django()
    from .models import ApiToken

    data = [
        {
            "id": t.pk,
            "name": t.name,
            "prefix": t.prefix,
            "scopes": t.scopes,
            "unit": t.unit.code if t.unit else None,
            "created_at": t.created_at,
            "expires_at": t.expires_at,
            "last_used_at": t.last_used_at,
            "revoked_at": t.revoked_at,
        }
        for t in ApiToken.objects.select_related("unit").order_by("id")
    ]
    emit(data, fmt)


@app.command("revoke")
def revoke(token_id: Annotated[int, typer.Argument(help="The token's id.")]) -> None:
    """Revoke a token; requests with it get 401 from now on."""
    setup_django()
    from .actions import do_revoke_token
    from .models import ApiToken

    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None:
        raise fail(f"no token {token_id}")
    do_revoke_token(token=token)
    typer.echo(f"revoked token {token_id} ({token.name})", err=True)
