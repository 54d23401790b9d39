"""Bulk import and export against the issue-8 targets, on SQLite or PostgreSQL.

    uv run python benchmarks/import_export.py --rows 200000 [--database-url postgres://…/h_import_bench]

Builds an empty database (a fresh SQLite file in a temporary data dir, or the PostgreSQL database
named, dropped and recreated), one company with 60 stores and the store CSI survey, writes a CSV
of responses with 10 answers each, imports it (and again, to time the idempotent re-import),
then exports the responses as CSV. Prints JSON with the figures and their ratios to the targets:
import >= 20,000 rows/s, peak memory < 300 MB (for 1,000,000 rows), export >= 50,000 rows/s.

Each phase also reports the CPU time of this process per row (``cpu_us_per_row``: every thread,
including the import's writing thread and the export's reading-ahead thread) and the load average,
since wall-clock rates on a shared machine say more about the neighbours than about Manyi. On
PostgreSQL the server's own CPU is not in that figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

IMPORT_TARGET = 20_000
EXPORT_TARGET = 50_000
MEMORY_TARGET_MB = 300
HEADER = ["external_id", "survey", "unit", "submitted_at", "channel", "language", "customer_external_id",
          "nps", "csat", "csi.tangibles", "csi.reliability", "csi.responsiveness", "csi.assurance",
          "csi.empathy", "sq_wait.expectation", "sq_wait.perception", "comment", "contact_ok"]  # fmt: skip
COMMENTS = [
    "",
    "",
    "",
    "服务很好",
    "排队太久了",
    "staff were friendly",
    "收银员态度不好",
    "=cmd|' /C calc'!A0",
]


def server_cpu_s() -> float:
    """CPU seconds used so far by the PostgreSQL processes on this machine (from /proc).

    The server runs on the same machine, so the import's whole cost is this process's CPU plus
    what the server's backends spent on its rows (and anything else they did meanwhile)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if name.startswith("postgres"):
            # utime, stime, and cutime, cstime: the backends that have exited, in the postmaster's
            total += sum(int(x) for x in rest[11:15])
    return total / tick


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_csv(path: Path, rows: int, stores: list[str]) -> None:
    rnd = random.Random(8)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(rows):
            day, minute = 1 + i % 28, i % 1440
            w.writerow([
                f"POS-{i:08d}", "store-csi", stores[i % len(stores)],
                f"2026-{1 + i % 10:02d}-{day:02d} {minute // 60:02d}:{minute % 60:02d}", "qr", "zh-hans", "",
                rnd.randint(0, 10), rnd.randint(1, 5), *(rnd.randint(1, 5) for _ in range(5)),
                rnd.randint(1, 7), rnd.randint(1, 7), COMMENTS[i % len(COMMENTS)], "yes" if i % 3 else "no",
            ])  # fmt: skip


def prepare_database(url: str | None) -> None:
    if url and url.startswith("postgres"):
        base, name = url.rsplit("/", 1)
        admin = f"{base}/postgres"
        for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
            subprocess.run(["psql", admin, "-qc", sql], check=True)


def build_org() -> list[str]:
    from manyi.org.actions import do_create_unit
    from manyi.org.choices import UnitKind
    from manyi.surveys.actions import do_create_survey, do_publish

    company = do_create_unit(code="bench", name={"zh-hans": "基准", "en": "Bench"}, kind=UnitKind.COMPANY)
    stores = []
    for i in range(60):
        do_create_unit(code=f"s{i:03d}", name={"zh-hans": f"店{i}", "en": f"S{i}"}, kind=UnitKind.STORE,
                       parent=company)  # fmt: skip
        stores.append(f"s{i:03d}")
    survey = do_create_survey(slug="store-csi", unit=company, template="store_csi")
    do_publish(survey=survey)
    return stores


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--skip-reimport", action="store_true")
    ap.add_argument("--batch-size", type=int, default=None, help="rows per transaction (default: the CLI's)")
    ap.add_argument(
        "--skip-export", action="store_true", help="import only (e.g. to measure memory at 1M rows)"
    )
    args = ap.parse_args()
    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="manyi-bench-"))
    os.environ["MANYI_DATA_DIR"] = str(work / "var")
    if args.database_url:
        os.environ["MANYI_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("MANYI_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.settings")
    prepare_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "--no-input", "--verbosity", "0")
    stores = build_org()
    src = work / "responses.csv"
    t = time.perf_counter()
    write_csv(src, args.rows, stores)
    gen_s = time.perf_counter() - t
    rss_before = maxrss_mb()

    from manyi.integrations.importing import BATCH_SIZE, import_file
    from manyi.responses.models import Answer, Response

    batch = args.batch_size or BATCH_SIZE
    pg = connection.vendor == "postgresql"
    cpu, server = time.process_time(), server_cpu_s() if pg else 0.0
    first = import_file("responses", src, batch_size=batch)
    import_cpu = time.process_time() - cpu
    server_cpu = server_cpu_s() - server if pg else None
    rss_import = maxrss_mb()
    assert first.created == args.rows and first.rejected == 0, first.as_dict()
    answers = Answer.objects.count()
    again = None
    if not args.skip_reimport:
        cpu = time.process_time()
        again = import_file("responses", src, batch_size=batch)
        reimport_cpu = time.process_time() - cpu
        assert again.unchanged == args.rows, again.as_dict()

    from manyi.integrations.exporting import export_to_file

    out = work / "export.csv"
    exp = None
    if not args.skip_export:
        cpu = time.process_time()
        exp = export_to_file("responses", "csv", out)
        export_cpu = time.process_time() - cpu
        assert exp.rows == args.rows == Response.objects.count()
    rss_end = maxrss_mb()
    import_rate = args.rows / first.seconds
    result: dict[str, Any] = {
        "database": connection.vendor,
        "rows": args.rows,
        "answers_per_row": answers / args.rows,
        "csv_mb": round(src.stat().st_size / 1e6, 1),
        "csv_generation_s": round(gen_s, 1),
        "import": {
            "seconds": round(first.seconds, 2),
            "rows_per_s": round(import_rate),
            "target_rows_per_s": IMPORT_TARGET,
            "ratio": round(import_rate / IMPORT_TARGET, 2),
            "cpu_us_per_row": round(import_cpu / args.rows * 1e6, 1),
            "server_cpu_us_per_row": None if server_cpu is None else round(server_cpu / args.rows * 1e6, 1),
            "batch_size": batch,
        },
        "reimport_unchanged": None
        if again is None
        else {
            "seconds": round(again.seconds, 2),
            "rows_per_s": round(args.rows / again.seconds),
            "cpu_us_per_row": round(reimport_cpu / args.rows * 1e6, 1),
        },
        "memory": {
            "maxrss_before_import_mb": round(rss_before),
            "maxrss_after_import_mb": round(rss_import),
            "target_mb": MEMORY_TARGET_MB,
            "ratio": round(rss_import / MEMORY_TARGET_MB, 2),
        },
        "export_csv": None
        if exp is None
        else {
            "seconds": round(exp.seconds, 2),
            "rows_per_s": round(exp.rows / exp.seconds),
            "target_rows_per_s": EXPORT_TARGET,
            "ratio": round(exp.rows / exp.seconds / EXPORT_TARGET, 2),
            "cpu_us_per_row": round(export_cpu / exp.rows * 1e6, 1),
            "mb": round(out.stat().st_size / 1e6, 1),
            "maxrss_after_export_mb": round(rss_end),
        },
        "load_average": {
            "start": [round(x, 2) for x in load_start],
            "end": [round(x, 2) for x in os.getloadavg()],
        },
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
