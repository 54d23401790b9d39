"""Server time of the responses table (keyset paging) at 1,000,000+ responses.

    uv run python -m benchmarks.responses_table [--rows 1000000] [--repeat 20] [--reuse] [--keep]

Seeds its own SQLite data dir (``/tmp/h-bench-responses/<rows>``): a company with 3 regions and 30
stores, one published survey, and ``--rows`` responses spread over two years (bulk inserted; the
submit path has its own benchmark). Then, in a subprocess with that environment, times
``GET /responses/`` through Django's test client (filters, keyset query, capped count, template) for
the company's CX manager and for one store's manager, on: the first page, the page 2,000 pages deep
(its cursor is taken from the data, as the "Next" link would carry it), a unit + NPS-group filter,
oldest-first, and sorted by a column (NPS lowest first, also 2,000 pages deep; CSAT highest first;
unit A–Z; channel Z–A in a half-year; language). The first request of each set is a warm-up. Prints JSON with p50/p95/max in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_ROOT = Path(os.environ.get("H_BENCH_RESPONSES_ROOT", "/tmp/h-bench-responses"))


def log(msg: str) -> None:
    print(f"[responses-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.settings")
    django.setup()


def seed(rows: int) -> dict[str, Any]:
    _django()
    from django.core.management import call_command
    from django.db import connection, transaction

    from manyi.org.actions import do_create_staff, do_create_unit
    from manyi.org.choices import Role, UnitKind
    from manyi.responses.models import Response
    from manyi.surveys.actions import do_create_survey, do_publish

    call_command("migrate", verbosity=0)
    company = do_create_unit(code="co", name={"zh-hans": "公司", "en": "Company"}, kind=UnitKind.COMPANY)
    stores = []
    for r in range(3):
        region = do_create_unit(code=f"r{r}", name={"zh-hans": f"区{r}", "en": f"R{r}"}, kind=UnitKind.REGION,
                                parent=company)  # fmt: skip
        for s in range(10):
            stores.append(
                do_create_unit(
                    code=f"s{r}-{s}",
                    name={"zh-hans": f"店{r}-{s}", "en": f"S{r}-{s}"},
                    kind=UnitKind.STORE,
                    parent=region,
                )
            )
    survey = do_create_survey(slug="bench", unit=company, template="relational_nps")
    version = do_publish(survey=survey)
    do_create_staff(username="bench-cx", password="x" * 12, unit=company, role=Role.CX_MANAGER)
    do_create_staff(username="bench-store", password="x" * 12, unit=stores[0], role=Role.UNIT_MANAGER)
    rng = random.Random(7)
    end = datetime(2026, 11, 1, tzinfo=UTC)
    span = 730 * 86_400
    t0 = time.perf_counter()
    batch = 20_000
    done = 0
    while done < rows:
        n = min(batch, rows - done)
        objs = []
        for _ in range(n):
            when = end - timedelta(seconds=rng.randrange(span))
            objs.append(
                Response(
                    submission_id=uuid.uuid4(),
                    survey=survey,
                    version=version,
                    unit=rng.choice(stores),
                    channel=rng.choice(("link", "link", "qr", "email", "sms")),
                    language=rng.choice(("zh-hans", "en")),
                    started_at=when,
                    submitted_at=when,
                    nps=rng.randrange(11),
                    csat=rng.randrange(1, 6) if rng.random() < 0.5 else None,
                    comment=rng.choice(("", "", "排队太久了", "服务很好", "price too high")),
                )
            )
        with transaction.atomic():
            Response.objects.bulk_create(objs, batch_size=2000)
        done += n
        if done % 200_000 == 0:
            log(f"{done:,} responses")
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return {"rows": rows, "seed_seconds": round(time.perf_counter() - t0, 1)}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))]


def measure(repeat: int) -> dict[str, Any]:
    _django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a reused data dir gets the newer indexes (sorting by a column)
    call_command("collectstatic", interactive=False, verbosity=0)  # as ``manyi serve`` does
    from django.contrib.auth import get_user_model
    from django.test import Client

    from manyi.console.responses_queries import make_cursor
    from manyi.org.models import OrgUnit
    from manyi.responses.models import Response

    User = get_user_model()
    store = OrgUnit.objects.get(code="s0-0")
    out: dict[str, Any] = {}
    for username in ("bench-cx", "bench-store"):
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        scoped = Response.objects.visible_to(user).order_by("-submitted_at", "-id")
        deep = scoped[2000 * 50 : 2000 * 50 + 1].first() or scoped.last()
        assert deep is not None
        by_nps = Response.objects.visible_to(user).order_by("nps", "-submitted_at", "-id")
        deep_nps = by_nps[2000 * 50 : 2000 * 50 + 1].first() or by_nps.last()
        assert deep_nps is not None
        sets = {
            "first_page": "",
            "page_2000_deep": f"after={make_cursor(deep)}",
            "unit_and_detractors": f"unit={store.pk}&bucket=detractor&period=custom&from=2026-01-01&to=2026-06-30",
            "oldest_first": "sort=submitted",
            "nps_lowest_first": "sort=nps",
            "nps_lowest_2000_deep": f"sort=nps&after={make_cursor(deep_nps, 'nps')}",
            "csat_highest_first": "sort=-csat",
            "unit_a_to_z": "sort=unit",
            "channel_z_to_a_half_year": "sort=-channel&period=custom&from=2026-01-01&to=2026-06-30",
            "language_newest_in_group": "sort=language",
        }
        for name, query in sets.items():
            times = []
            for i in range(repeat + 1):
                t = time.perf_counter()
                resp = client.get(f"/responses/?{query}")
                elapsed = (time.perf_counter() - t) * 1000
                assert resp.status_code == 200, (name, resp.status_code)
                if i:
                    times.append(elapsed)
            out[f"{username}/{name}"] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(_pct(times, 0.95), 1),
                "max_ms": round(max(times), 1),
            }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--reuse", action="store_true", help="keep an existing data dir of the same size")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--inner", choices=["seed", "measure"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner == "seed":
        print(json.dumps(seed(args.rows)))
        return 0
    if args.inner == "measure":
        print(json.dumps(measure(args.repeat)))
        return 0
    data_dir = BENCH_ROOT / str(args.rows)
    env = {**os.environ, "MANYI_DATA_DIR": str(data_dir)}
    env.pop("MANYI_DATABASE_URL", None)  # SQLite in the data dir
    result: dict[str, Any] = {"rows": args.rows, "engine": "sqlite"}
    if not (args.reuse and (data_dir / "seeded").exists()):
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        log(f"seeding {args.rows:,} responses in {data_dir}")
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.responses_table",
            "--rows",
            str(args.rows),
            "--inner",
            "seed",
        ]
        seeded = subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
        result.update(json.loads(seeded.stdout.strip().splitlines()[-1]))
        (data_dir / "seeded").write_text("ok")
    log("timing GET /responses/")
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.responses_table",
        "--repeat",
        str(args.repeat),
        "--inner",
        "measure",
    ]
    measured = subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    result["timings"] = json.loads(measured.stdout.strip().splitlines()[-1])
    print(json.dumps(result, indent=2))
    if not args.keep and not args.reuse:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
