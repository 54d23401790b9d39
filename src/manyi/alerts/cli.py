"""``manyi alerts``: list alerts, evaluate the rules now, add and list rules.

Loads Django only inside each command, so ``manyi --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

app = typer.Typer(help="Alerts from alert rules on the metrics (NPS, CSAT, CES).", no_args_is_help=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[Fmt, typer.Option("--format", help="table for people, json for programs.")]


def _setup() -> None:
    from manyi.cli import setup_django

    setup_django()


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@app.command("list")
def list_command(
    fmt: FormatOpt = Fmt.table,
    status: Annotated[str, typer.Option(help="open, acknowledged or all.")] = "all",
    unit: Annotated[str, typer.Option(help="Only this unit's alerts (unit code).")] = "",
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 100,
) -> None:
    """Alerts newest first: unit, period, figure with its n, and why the rule fired."""
    if status not in ("open", "acknowledged", "all"):
        raise typer.BadParameter(f"{status!r} is not one of open, acknowledged, all", param_hint="--status")
    _setup()
    from .queries import alert_as_dict, visible_alerts

    rows = [
        alert_as_dict(a)
        for a in visible_alerts(None, status="" if status == "all" else status, unit_code=unit)[:limit]
    ]
    if fmt == Fmt.json:
        _json(rows)
        return
    if not rows:
        typer.echo("no alerts")
        return
    for r in rows:
        typer.echo(
            f"#{r['id']} {r['status']:<12} {r['period_start']}–{r['period_end']} {r['unit']:<16} {r['message']}"
        )


@app.command("evaluate")
def evaluate_command(fmt: FormatOpt = Fmt.table) -> None:
    """Evaluate every active rule now for its last complete period (idempotent)."""
    _setup()
    from .actions import do_evaluate_alert_rules

    report = do_evaluate_alert_rules().as_dict()
    if fmt == Fmt.json:
        _json(report)
    else:
        typer.echo(f"rules: {report['rules']}, alerts created: {len(report['created'])}")
        for rule_id, error in report["errors"].items():
            typer.echo(f"rule {rule_id} failed: {error}", err=True)
    if report["errors"]:
        raise typer.Exit(1)


@app.command("add-rule")
def add_rule_command(
    name: Annotated[str, typer.Option(help="What the rule is called in alerts.")],
    metric: Annotated[str, typer.Option(help="nps, csat or ces.")],
    unit: Annotated[str, typer.Option(help="Code of the unit whose subtree the rule watches.")],
    condition: Annotated[str, typer.Option(help="drop, below or anomaly.")],
    period: Annotated[str, typer.Option(help="day, week or month (anomaly: day or month).")] = "week",
    level: Annotated[str, typer.Option(help="region, city, store, unit, or empty for the unit itself.")] = "",
    threshold: Annotated[float | None, typer.Option(help="For below: NPS points, CSAT %, CES units.")] = None,
    min_n: Annotated[int, typer.Option("--min-n", help="Responses a period needs before it can alert.")] = 30,
    confidence: Annotated[float, typer.Option(help="For drop: the confidence of the comparison.")] = 0.95,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Add an alert rule, e.g. --metric csat --condition below --threshold 80 --min-n 50."""
    _setup()
    from manyi.org.models import OrgUnit

    from .actions import AlertRuleError, do_create_alert_rule

    target = OrgUnit.objects.filter(code=unit).first()
    if target is None:
        raise _fail(f"no unit with code {unit!r}")
    try:
        rule = do_create_alert_rule(
            name=name,
            metric=metric,
            unit=target,
            condition=condition,
            period=period,
            level=level,
            threshold=threshold,
            min_n=min_n,
            confidence=confidence,
        )
    except AlertRuleError as exc:
        raise _fail(str(exc)) from None
    if fmt == Fmt.json:
        _json({"id": rule.pk, "name": rule.name})
    else:
        typer.echo(f"rule {rule.pk} added: {rule.name}")


@app.command("rules")
def rules_command(fmt: FormatOpt = Fmt.table) -> None:
    """The alert rules."""
    _setup()
    from .queries import visible_rules

    rows = [
        {
            "id": r.pk,
            "name": r.name,
            "metric": r.metric,
            "unit": r.unit.code,
            "level": r.level,
            "condition": r.condition,
            "period": r.period,
            "threshold": r.threshold,
            "min_n": r.min_n,
            "confidence": r.confidence,
            "active": r.is_active,
        }
        for r in visible_rules(None)
    ]
    if fmt == Fmt.json:
        _json(rows)
        return
    for r in rows:
        typer.echo(
            f"#{r['id']} {r['name']}: {r['metric']} {r['condition']} per {r['period']} under {r['unit']}"
        )
