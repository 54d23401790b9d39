"""The ``manyi`` command: one tree for serving, workers, set-up, demo data and reports.

JSON goes to stdout, human messages to stderr, and every failure exits non-zero. Commands that
need the database set Django up lazily, so ``manyi --help`` and file-only commands stay fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from enum import StrEnum
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="manyi",
    help="Manyi (满意): customer satisfaction for businesses with many outlets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
surveys_app = typer.Typer(help="Surveys: list definitions and links.", no_args_is_help=True)
app.add_typer(surveys_app, name="surveys")


class Fmt(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[Fmt, typer.Option("--format", help="table for people, json for programs.")]


def err(message: str) -> None:
    typer.echo(message, err=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err(f"error: {message}")
    return typer.Exit(code)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.settings")
    try:
        import django

        django.setup()
    except Exception as exc:  # configuration errors must read as one line, not a traceback
        from manyi.settings.env import ConfigError

        if isinstance(exc, ConfigError):
            raise fail(str(exc)) from exc
        raise


def call(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def emit(data: Any, fmt: Fmt, table: Any = None) -> None:
    if fmt == Fmt.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    elif table is not None:
        table()
    else:
        for k, v in data.items() if isinstance(data, dict) else enumerate(data):
            typer.echo(f"{k}: {v}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Run a Django management command with Manyi's settings (e.g. `manyi manage makemigrations`)."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manyi manage", *ctx.args])


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    setup_django()
    call("migrate", "--no-input")


@app.command()
def createadmin(
    username: Annotated[str, typer.Option(help="Login name.")] = "admin",
    password: Annotated[str | None, typer.Option(help="Password; asked for when omitted.")] = None,
    email: Annotated[str, typer.Option(help="E-mail address.")] = "",
) -> None:
    """Create an administrator with access to the whole organisation."""
    setup_django()
    from django.contrib.auth import get_user_model

    from manyi.org.choices import Role
    from manyi.org.models import OrgUnit, RoleAssignment

    if password is None:
        if not sys.stdin.isatty():
            raise fail("--password is required when not running in a terminal")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise fail("the password must have at least 10 characters")
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise fail(f"a user named {username!r} already exists")
    user = User.objects.create_superuser(username=username, password=password, email=email)
    root = OrgUnit.objects.filter(parent__isnull=True).order_by("id").first()
    if root:
        RoleAssignment.objects.get_or_create(user=user, unit=root, role=Role.ADMIN)
    err(f"created administrator {username}")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    workers: Annotated[int, typer.Option(help="Web processes; 0 = 2 × cores + 1.")] = 0,
) -> None:
    """Run the web server (gunicorn), with static files served by whitenoise."""
    setup_django()
    call("collectstatic", "--no-input", "--verbosity", "0")
    os.execvp(sys.executable, _gunicorn_argv(host, port, workers))


def _gunicorn_argv(host: str, port: int, workers: int) -> list[str]:
    from django.conf import settings

    from manyi.settings.env import ENV

    n = workers or ENV.web_workers or (2 * (os.cpu_count() or 1) + 1)
    return [
        sys.executable, "-m", "gunicorn", "manyi.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(n),
        "--worker-class", "sync",
        "--timeout", "60",
        "--graceful-timeout", "10",
        "--access-logfile", "-" if settings.DEBUG else "/dev/null",
        "--error-logfile", "-",
    ]  # fmt: skip


@app.command()
def worker(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Process what is queued, then exit.")
    ] = False,
    queue: Annotated[str, typer.Option(help="Queue name.")] = "default",
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Also enqueue periodic tasks when due (SLA scans, retries, syncs). Off with --until-idle.",
        ),
    ] = True,
) -> None:
    """Run background tasks (Django Tasks with the database backend) and the periodic scheduler."""
    setup_django()
    args = ["db_worker", "--queue-name", queue, "--no-reload"]
    if until_idle:
        args += ["--batch", "--no-startup-delay"]
    clock = None
    if scheduler and not until_idle:
        from manyi.core.periodic import Scheduler

        clock = Scheduler()
        clock.start()
    try:
        call(*args)
    finally:
        if clock is not None:
            clock.stop()


@app.command()
def tick(
    run_all: Annotated[bool, typer.Option("--all", help="Run every periodic task, due or not.")] = False,
    only: Annotated[
        str | None, typer.Option("--only", help="Only tasks whose dotted path contains this text.")
    ] = None,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Run the periodic tasks that are due, once, in this process (for cron, or without a worker)."""
    setup_django()
    from manyi.core.periodic import run_due

    reports = run_due(force=run_all, only=only)

    def table() -> None:
        if not reports:
            typer.echo("no periodic tasks match")
        for r in reports:
            state = ("ok" if r["ok"] else "FAILED: " + r["error"]) if r["ran"] else "not due"
            extra = f" in {r['seconds']:.2f} s" if r["ran"] else ""
            typer.echo(f"{r['task']:<60} every {r['every_seconds']:>5} s  {state}{extra}")

    emit(reports, fmt, table)
    if any(r["ran"] and not r["ok"] for r in reports):
        raise typer.Exit(1)


@app.command()
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Only load the demo data.")] = False,
    port: Annotated[int, typer.Option(help="TCP port for the web server.")] = 8000,
    responses: Annotated[int | None, typer.Option(help="How many responses to generate.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 20261123,
) -> None:
    """Migrate, load the seeded demo company (idempotently), then serve web and worker together."""
    setup_django()
    from django.conf import settings

    from manyi.core import demo as demo_data

    t0 = time.monotonic()
    call("migrate", "--no-input", "--verbosity", "0")
    call("collectstatic", "--no-input", "--verbosity", "0")
    n = responses if responses is not None else settings.MANYI_DEMO_RESPONSES
    try:
        report = demo_data.load(seed=seed, responses=n, progress=err)
    except RuntimeError as exc:
        raise fail(str(exc)) from exc
    err(
        "demo data ready in {s:.1f} s: {org_units} units ({stores} stores), {staff} staff, {surveys} surveys, "
        "{responses:,} responses, {feedback:,} feedback records, {cases:,} cases".format(
            s=time.monotonic() - t0, **{k: report.get(k, 0) for k in _REPORT_KEYS}
        )
    )
    url = f"http://127.0.0.1:{port}"
    err("")
    err(f"  Manyi is at {url}/   (survey example: {url}{report['example_survey_path']})")
    err("  Logins (password manyi-demo): demo-admin, demo-cx (whole company), demo-store (one store)")
    err("")
    if no_serve:
        return
    _serve_with_worker(port)


_REPORT_KEYS = ("org_units", "stores", "staff", "surveys", "responses", "feedback", "cases")


def _serve_with_worker(port: int) -> None:
    env = dict(os.environ)
    # Links in the demo's e-mails and text messages point at the server started here, unless the
    # operator set the public address.
    env.setdefault("MANYI_BASE_URL", f"http://127.0.0.1:{port}")
    procs = [
        subprocess.Popen([sys.executable, "-m", "manyi.cli", "worker"], env=env),
        subprocess.Popen(_gunicorn_argv("127.0.0.1", port, 0), env=env),
    ]

    def stop(*_: Any) -> None:
        for p in procs:
            if p.poll() is None:
                p.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    finally:
        stop()
        for p in procs:
            p.wait(timeout=15)
    codes = [p.returncode for p in procs]
    if any(c not in (0, -signal.SIGTERM, -signal.SIGINT) for c in codes):
        raise typer.Exit(1)


@app.command()
def stats(fmt: FormatOpt = Fmt.table) -> None:
    """Counts of the main records."""
    setup_django()
    from manyi.core.queries import record_counts

    data = record_counts()
    emit(data, fmt)


@surveys_app.command("list")
def surveys_list(fmt: FormatOpt = Fmt.table) -> None:
    """Every survey with its published (or draft) questions and its public links."""
    setup_django()
    from manyi.surveys.queries import survey_listing

    data = survey_listing()

    def table() -> None:
        from rich.console import Console
        from rich.table import Table

        t = Table("id", "slug", "status", "version", "questions", "links")
        for s in data:
            t.add_row(
                str(s["id"]),
                s["slug"],
                s["status"],
                str(s["version"]),
                str(len(s["questions"])),
                str(len(s["links"])),
            )
        Console().print(t)

    emit(data, fmt, table)


@app.command()
def check(
    fmt: FormatOpt = Fmt.table,
    production: Annotated[
        bool, typer.Option(help="Judge as a production deployment (default: unless MANYI_DEBUG).")
    ] = True,
) -> None:
    """Self-check of the settings and data for a production deployment; exits 1 on any error."""
    setup_django()
    from manyi.core.checks import run_checks

    findings = run_checks(production=production)
    if fmt == Fmt.json:
        emit(findings, fmt)
    else:
        for f in findings:
            typer.echo(f"[{f['level']}] {f['id']}: {f['message']}")
        if not findings:
            typer.echo("all checks passed")
    if any(f["level"] == "error" for f in findings):
        raise typer.Exit(1)


app.command("metrics")(__import__("manyi.metrics.cli", fromlist=["metrics_command"]).metrics_command)
app.add_typer(__import__("manyi.textanalytics.cli", fromlist=["text_app"]).text_app, name="text")
# `manyi text enrich` needs Django, so it lives in the enrichment app, not in the pure package.
__import__("manyi.textanalytics.cli", fromlist=["text_app"]).text_app.command("enrich")(
    __import__("manyi.enrichment.cli", fromlist=["x"]).enrich_command
)
app.add_typer(__import__("manyi.analytics.cli", fromlist=["app"]).app, name="analytics")
app.add_typer(__import__("manyi.alerts.cli", fromlist=["app"]).app, name="alerts")
app.add_typer(__import__("manyi.integrations.cli", fromlist=["app"]).app, name="tokens")
app.add_typer(__import__("manyi.distribution.cli", fromlist=["app"]).app, name="distribution")
app.add_typer(__import__("manyi.notifications.cli", fromlist=["app"]).app, name="notifications")
app.add_typer(__import__("manyi.rules.cli", fromlist=["app"]).app, name="rules")
app.add_typer(__import__("manyi.cases.cli", fromlist=["app"]).app, name="cases")
# Command modules sit outside their packages so `manyi --help` loads neither Django nor NumPy.
app.command("import")(__import__("manyi.integrations.import_cli", fromlist=["x"]).import_command)
app.command("export")(__import__("manyi.integrations.export_cli", fromlist=["x"]).export_command)
app.command("drivers")(__import__("manyi.analytics.drivers.cli", fromlist=["x"]).drivers_command)


def main() -> None:
    try:
        app()
    except Exception as exc:
        # A database that cannot be reached is an operating problem, not a bug: one line, exit 1.
        from django.db import DatabaseError

        if isinstance(exc, DatabaseError):
            err(
                f"error: cannot reach the database: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
            )
            raise SystemExit(1) from None
        raise


if __name__ == "__main__":
    main()
