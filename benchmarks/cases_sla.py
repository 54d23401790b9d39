"""Cases: how fast cases open (policy, business-hours deadlines, assignment, log) and how fast the
SLA scanner fires the escalation ladder, on SQLite and PostgreSQL.

    uv run python -m benchmarks.cases_sla --db both --n 2000

Each run gets a throw-away data dir and database (see ``_harness``). Figures:
- ``open``: ``open_case`` calls per second and mean milliseconds, one transaction each (what the
  rules worker does per matching response);
- ``scan_idle``: one scan with open cases but nothing due (the every-minute cost when all is well);
- ``scan_due``: one scan when every step of every case is due (6 steps a case: 50/100/150 % of both
  clocks, each recorded, logged and handed to notifications), steps per second.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

from ._harness import ROOT, Site, add_common_args, dbs_from_arg, emit, exit_on_sigterm, log, machine, site_for


def _inner(site: Site, *args: str, timeout: float = 3600) -> dict[str, Any]:
    import json

    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.cases_sla", "inner", *args],
        env=site.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmarks.cases_sla inner failed:\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout))


def run_one(db: str, n: int, keep: bool) -> dict[str, Any]:
    with site_for("cases", db, keep=keep) as site:
        result = _inner(site, "--n", str(n))
        log(
            f"{db}: {result['open']['per_second']}/s opened; idle scan {result['scan_idle']['ms']} ms; "
            f"{result['scan_due']['steps_per_second']} steps/s"
        )
        return {"db": db, **result}


# --- inside the site's environment ----------------------------------------------------------------


def _inner_run(n: int) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from manyi.cases.actions import do_save_sla_policy, open_case, scan_sla
    from manyi.cases.models import CaseEscalation
    from manyi.feedback.models import FeedbackRecord
    from manyi.org.actions import do_create_staff, do_create_unit
    from manyi.org.choices import Role, UnitKind

    company = do_create_unit(code="bench-co", name={"en": "Bench"}, kind=UnitKind.COMPANY)
    region = do_create_unit(code="bench-east", name={"en": "East"}, kind=UnitKind.REGION, parent=company)
    stores = [
        do_create_unit(code=f"bench-s{i}", name={"en": f"Store {i}"}, kind=UnitKind.STORE, parent=region)
        for i in range(20)
    ]
    do_create_staff(
        username="bench-region", password=None, unit=region, role=Role.UNIT_MANAGER, email="r@example.com"
    )
    for i, s in enumerate(stores):
        do_create_staff(
            username=f"bench-m{i}", password=None, unit=s, role=Role.UNIT_MANAGER, email=f"m{i}@example.com"
        )
    do_save_sla_policy(
        name="normal", unit=company, priority="normal", first_response_hours=4, resolution_hours=16
    )
    start = timezone.now() - timedelta(days=60)
    records = FeedbackRecord.objects.bulk_create(
        [
            FeedbackRecord(
                unit=stores[i % len(stores)],
                channel="phone",
                occurred_at=start,
                text="bench",
                severity="high",
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    t0 = time.perf_counter()
    for r in records:
        open_case(unit=r.unit, title="bench", feedback=r, now=start)
    opened = time.perf_counter() - t0
    t0 = time.perf_counter()
    idle_fired = scan_sla(start)  # nothing due at the opening instant
    idle = time.perf_counter() - t0
    t0 = time.perf_counter()
    fired = scan_sla(timezone.now(), limit=n)
    due = time.perf_counter() - t0
    return {
        "cases": n,
        "open": {
            "seconds": round(opened, 2),
            "per_second": round(n / opened),
            "mean_ms": round(opened / n * 1000, 2),
        },
        "scan_idle": {"fired": idle_fired, "ms": round(idle * 1000, 1)},
        "scan_due": {
            "fired": fired,
            "recorded": CaseEscalation.objects.count(),
            "seconds": round(due, 2),
            "steps_per_second": round(fired / due) if due else None,
        },
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "inner":
        p = argparse.ArgumentParser(prog="benchmarks.cases_sla inner")
        p.add_argument("--n", type=int, default=2000)
        emit(_inner_run(p.parse_args(sys.argv[2:]).n))
        return
    exit_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument("--n", type=int, default=2000, help="cases opened, then escalated")
    a = p.parse_args()
    results = [run_one(db, a.n, a.keep) for db in dbs_from_arg(a.db)]
    emit({"benchmark": "cases_sla", "machine": machine(), "results": results})


if __name__ == "__main__":
    main()
