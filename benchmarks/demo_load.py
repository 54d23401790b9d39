"""How long ``manyi demo --no-serve`` takes from an empty data dir (migrations included), against 90 s.

Run with ``uv run python -m benchmarks.demo_load`` (SQLite) or ``… --db postgres`` / ``--db both``.
Each run gets a fresh data dir under ``/tmp/h-bench-demo/`` and, for PostgreSQL, a fresh database
named ``h_bench_demo_*`` on ``$H_BENCH_POSTGRES`` (default ``postgres://postgres@127.0.0.1:5432``);
both are removed afterwards unless ``--keep``. JSON goes to stdout, the command's progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_ROOT = Path(os.environ.get("H_BENCH_DEMO_ROOT", "/tmp/h-bench-demo"))
PG_URL = os.environ.get("H_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
TARGET_SECONDS = 90.0


def log(msg: str) -> None:
    print(f"[demo-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def run_once(db: str, responses: int | None, keep: bool) -> dict[str, Any]:
    stamp = f"{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}"
    data_dir = BENCH_ROOT / f"{db}-{stamp}"
    data_dir.mkdir(parents=True, exist_ok=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANYI_")}
    env.update(MANYI_DATA_DIR=str(data_dir), MANYI_DATABASE_URL="", MANYI_CACHE_URL="")
    pg_name = None
    if db == "postgres":
        pg_name = f"h_bench_demo_{stamp}"
        _pg_admin(f'CREATE DATABASE "{pg_name}"')
        env["MANYI_DATABASE_URL"] = f"{PG_URL}/{pg_name}"
    cmd = [sys.executable, "-m", "manyi.cli", "demo", "--no-serve"]
    if responses is not None:
        cmd += ["--responses", str(responses)]
    try:
        log(f"{db}: {' '.join(cmd[2:])} in {data_dir}")
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t0
        sys.stderr.write(done.stderr)
        if done.returncode != 0:
            raise RuntimeError(f"manyi demo failed with exit code {done.returncode}")
        stats = subprocess.run(
            [sys.executable, "-m", "manyi.cli", "stats", "--format", "json"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        counts = json.loads(stats.stdout)
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            if pg_name:
                _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    return {
        "db": db,
        "seconds": round(seconds, 2),
        "responses": counts["responses"],
        "counts": counts,
        "target_seconds": TARGET_SECONDS,
        "ratio_to_target": round(seconds / TARGET_SECONDS, 3),
        "within_target": seconds <= TARGET_SECONDS,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    p.add_argument("--responses", type=int, default=None, help="default: the product default, 200,000")
    p.add_argument("--keep", action="store_true", help="keep the data dir and the PostgreSQL database")
    args = p.parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = [run_once(db, args.responses, args.keep) for db in dbs]
    for r in results:
        log(
            f"{r['db']}: {r['seconds']:.1f} s for {r['responses']:,} responses = {r['ratio_to_target']:.2f} × target"
        )
    sys.stdout.write(json.dumps(results if len(results) > 1 else results[0], indent=2) + "\n")


if __name__ == "__main__":
    main()
