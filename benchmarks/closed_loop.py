"""Closed-loop latency: from a detractor's submit on the public survey page to its case and the
first notification leaving, end to end, with a real server and a real worker.

    uv run python -m benchmarks.closed_loop [--db sqlite|postgres|both] [--n 20] [--gap 1.5]

A fresh site gets a rule ``NPS ≤ 6 → open a case (high), notify the unit manager`` and a store
manager with an e-mail address. ``manyi serve`` and one ``manyi worker`` run against it; e-mail goes
by SMTP to a local aiosmtpd server started by this script. Then ``--n`` detractor answers are
submitted one after another (``--gap`` seconds apart) through ``/s/<token>`` exactly as a browser
without JavaScript posts the form, each with a marker in its comment, and for each one:

- **case**: the time from sending the POST until the case row exists (polled every 10 ms straight
  from the database with sqlite3/psycopg; the benchmark itself never imports Django);
- **logged**: until the first delivery-log row (``DeliveryAttempt``) of the case's notification;
- **e-mail**: until the SMTP server has received the first e-mail about the case (the manager is
  the case's assignee, so that is "Case N is yours"; the rule does not e-mail them twice).

The first answer is sent before the measured ones and reported apart as ``cold_start``: the
worker's first evaluation loads the text models.

Target: case and first notification within 5 s of submission. Prints JSON with p50/p95/max.
"""

from __future__ import annotations

import argparse
import email
import json
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from email import policy
from typing import Any

from ._harness import (
    ROOT,
    Server,
    Site,
    add_common_args,
    csi_answers,
    dbs_from_arg,
    emit,
    exit_on_sigterm,
    fetch_form,
    free_port,
    log,
    machine,
    site_for,
)

TARGET_SECONDS = 5.0


class Inbox:
    """A local SMTP server that notes when each message arrived."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.arrived: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        inbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                msg = email.message_from_bytes(envelope.content, policy=policy.default)
                body = msg.get_body(preferencelist=("plain",))
                text = body.get_content() if body is not None else ""
                with inbox.lock:
                    inbox.arrived.append((time.monotonic(), f"{msg['Subject']}\n{text}"))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Inbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def first_with(self, marker: str) -> float | None:
        with self.lock:
            return next((t for t, text in self.arrived if marker in text), None)


class Db:
    """Read-only polling of the site's database without Django."""

    def __init__(self, site: Site) -> None:
        self.vendor = site.info.get("vendor", "sqlite")
        if self.vendor == "sqlite":
            self.conn: Any = sqlite3.connect(str(site.data_dir / "manyi.sqlite3"), timeout=20)
        else:
            import psycopg

            self.conn = psycopg.connect(site.env["MANYI_DATABASE_URL"], autocommit=True)

    def _one(self, sql: str, arg: Any) -> Any:
        ph = "?" if self.vendor == "sqlite" else "%s"
        cur = self.conn.execute(sql.replace("?", ph), (arg,))
        row = cur.fetchone()
        return row[0] if row else None

    def case_of(self, sid: str) -> int | None:
        key = uuid.UUID(sid).hex if self.vendor == "sqlite" else sid
        return self._one(
            "SELECT c.id FROM cases_case c JOIN responses_response r ON c.response_id = r.id "
            "WHERE r.submission_id = ?",
            key,
        )

    def delivery_logged(self, case_id: int) -> bool:
        return bool(
            self._one(
                "SELECT count(*) FROM notifications_deliveryattempt a "
                "JOIN notifications_notification n ON a.notification_id = n.id "
                "JOIN notifications_event e ON n.event_id = e.id WHERE e.case_id = ?",
                case_id,
            )
        )


def _inner(site: Site, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.closed_loop", "inner", *args],
        env=site.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmarks.closed_loop inner failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout)


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(values),
        "p50": round(statistics.median(ordered), 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
        "within_target": sum(1 for v in values if v <= TARGET_SECONDS),
    }


def run_one(db: str, n: int, gap: float, keep: bool) -> dict[str, Any]:
    import httpx

    with Inbox() as inbox, site_for("closed-loop", db, keep=keep) as site:
        site.env["MANYI_EMAIL_URL"] = f"smtp://127.0.0.1:{inbox.port}"
        _inner(site, "setup")
        server = Server(site, free_port(), workers=2)
        server.start()
        worker = subprocess.Popen(
            [sys.executable, "-m", "manyi.cli", "worker"],
            env=site.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=open(site.data_dir / "worker.log", "ab"),  # noqa: SIM115 - the worker owns it
        )
        dbc = Db(site)
        rows: list[dict[str, Any]] = []
        cold: dict[str, Any] = {}
        try:
            time.sleep(3)
            # One answer first, reported apart: the worker's first task loads the text models.
            for i in range(-1, n):
                form = fetch_form(server.base, site.token)
                sid = str(uuid.uuid4())
                marker = f"loop-{i}-{sid[:8]}"
                body = form.body(sid, csi_answers(nps=i % 7, comment=f"等了很久 {marker}"))
                t0 = time.monotonic()
                r = httpx.post(
                    f"{server.base}{form.path}", data=body, headers={"Cookie": form.cookie}, timeout=30
                )
                posted = time.monotonic() - t0
                if r.status_code != 303:
                    raise RuntimeError(f"submit answered {r.status_code}")
                row: dict[str, Any] = {"posted": round(posted, 3)}
                deadline = t0 + 30
                case_id = None
                while time.monotonic() < deadline:
                    now = time.monotonic()
                    if case_id is None and (case_id := dbc.case_of(sid)) is not None:
                        row["case"] = round(now - t0, 3)
                    if case_id is not None and "logged" not in row and dbc.delivery_logged(case_id):
                        row["logged"] = round(now - t0, 3)
                    if (
                        "email" not in row
                        and case_id is not None
                        and (arrived := inbox.first_with(f"/cases/{case_id}/")) is not None
                    ):
                        row["email"] = round(arrived - t0, 3)
                    if {"case", "logged", "email"} <= row.keys():
                        break
                    time.sleep(0.01)
                if i < 0:
                    cold = row
                else:
                    rows.append(row)
                log(f"{db} #{i}: {row}")
                time.sleep(gap)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            server.stop()
        result = {
            "db": db,
            "n": n,
            "case_seconds": _summary([r["case"] for r in rows if "case" in r]),
            "logged_seconds": _summary([r["logged"] for r in rows if "logged" in r]),
            "email_seconds": _summary([r["email"] for r in rows if "email" in r]),
            "missing": sum(1 for r in rows if not {"case", "logged", "email"} <= r.keys()),
            "cold_start": cold,
            "rows": rows,
        }
        worst = max([r.get("logged", 99) for r in rows] + [r.get("email", 99) for r in rows] or [99])
        result["target_met"] = result["missing"] == 0 and worst <= TARGET_SECONDS
        return result


def _inner_setup() -> dict[str, Any]:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from manyi.org.actions import do_create_staff
    from manyi.org.choices import Role
    from manyi.org.models import OrgUnit
    from manyi.rules.actions import do_save_rule

    store = OrgUnit.objects.get(code="bench-001")
    manager = do_create_staff(
        username="loop-manager", password="bench-password-1", unit=store, role=Role.UNIT_MANAGER
    )
    manager.email = "manager@example.com"
    manager.save(update_fields=["email"])
    rule = do_save_rule(
        slug="detractors",
        name="Detractors",
        unit=OrgUnit.objects.get(code="bench"),
        condition={"field": "nps", "op": "<=", "value": 6},
        actions=[{"type": "open_case", "priority": "high"}, {"type": "notify", "roles": ["unit_manager"]}],
    )
    return {"rule": rule.pk}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "inner":
        from ._harness import emit as out

        out(_inner_setup())
        return
    exit_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument("--n", type=int, default=20, help="detractor submissions")
    p.add_argument("--gap", type=float, default=1.5, help="seconds between submissions")
    a = p.parse_args()
    results = [run_one(db, a.n, a.gap, a.keep) for db in dbs_from_arg(a.db)]
    emit(
        {
            "benchmark": "closed_loop",
            "target_seconds": TARGET_SECONDS,
            "machine": machine(),
            "results": results,
        }
    )


if __name__ == "__main__":
    main()
