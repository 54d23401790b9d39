"""Server time of the home dashboard over the demo data, against p95 ≤ 300 ms (200,000 responses)
and p95 ≤ 1.5 s (5,000,000 responses).

    uv run python -m benchmarks.dashboard [--responses 200000] [--repeat 30] [--reuse] [--keep]

Loads the seeded demo company with ``manyi demo --no-serve --responses N`` into its own data dir
(``/tmp/h-bench-dashboard/<N>``; SQLite), builds the analytics store (``manyi analytics rebuild``),
then, in a subprocess with that environment, times ``GET /`` through Django's test client (the
whole view: filters, every runner query, comments with their sentiment, cases, the template) for
two readers: ``demo-cx`` (CX manager of the whole company) and ``demo-store`` (manager of one
store). Each reader is timed under several filter sets: the default (last 30 days, NPS), 90 days
with CSI as the focus metric (trend and league by CSI, from the answers), a custom range of one
year (trended by month), and a language filter (which the store does not hold, so it runs on the
operational database). The first request of each set is a warm-up and is not counted.

Each reader is timed twice: ``cold``, with the dashboard's cache off (every request computes every
figure), and ``warm``, with the cache on (the analytics figures of a scope and filter set are kept
for 5 minutes, keyed by the newest response and answer ids; comments and cases are read fresh).

``--engine database`` times the same requests with the store out of the way (every figure from
SQLite), for comparison. ``--reuse`` keeps an existing data dir of the same size (loading 1M+
responses takes minutes). Prints JSON with p50/p95/max per reader and filter set.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_ROOT = Path(os.environ.get("H_BENCH_DASHBOARD_ROOT", "/tmp/h-bench-dashboard"))
TARGETS_MS = {200_000: 300.0, 5_000_000: 1500.0}
READERS = ("demo-cx", "demo-store")
FILTER_SETS = {
    "default_30d": "",
    "90d_csi": "period=90d&metric=csi",
    "one_year": "period=custom&from={year_ago}&to={today}",
    "lang_en_db": "lang=en",
}


def log(msg: str) -> None:
    print(f"[dashboard-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdout=sys.stderr)
    return time.perf_counter() - start


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def time_requests(repeat: int, engine: str) -> dict[str, Any]:
    """Runs inside the data dir's environment: time the view for each reader and filter set."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.settings")
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    from manyi.console import dashboard
    from manyi.responses.models import Response

    setup_test_environment()
    if engine == "database":
        original = dashboard.dashboard_engine

        def database_only(f: Any, prefer: str = "auto") -> Any:
            return original(f, "database")

        dashboard.dashboard_engine = database_only  # type: ignore[assignment]
    today = datetime.now(UTC).date()
    out: dict[str, Any] = {"responses": Response.objects.count(), "engine": engine, "readers": {}}
    users = get_user_model().objects
    for username, mode in [(u, m) for u in READERS for m in ("cold", "warm")]:
        # cold: every request computes every figure; warm: the analytics figures come from the cache
        # (keyed by scope, filters and the newest ids), comments and cases are still read fresh.
        dashboard.CACHE_SECONDS = 0 if mode == "cold" else 300
        client = Client()
        client.force_login(users.get(username=username))
        client.get("/")  # the session's first request also stores the reader's time zone
        per_set: dict[str, Any] = {}
        for name, query in FILTER_SETS.items():
            query = query.format(today=today, year_ago=today - timedelta(days=364))
            url = f"/?{query}" if query else "/"
            resp = client.get(url)
            assert resp.status_code == 200, (url, resp.status_code)
            source = resp.context["dash"].source if resp.context else "?"
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                resp = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                assert resp.status_code == 200
            per_set[name] = {
                "url": url,
                "source": source,
                "n_requests": repeat,
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(_percentile(times, 0.95), 1),
                "max_ms": round(max(times), 1),
            }
            log(
                f"{username} {name}: p50 {per_set[name]['p50_ms']} ms, p95 {per_set[name]['p95_ms']} ms ({source})"
            )
        out["readers"][f"{username}/{mode}"] = per_set
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--responses", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--engine", choices=("auto", "database"), default="auto")
    p.add_argument("--reuse", action="store_true", help="reuse a data dir of the same size if present")
    p.add_argument("--keep", action="store_true", help="keep the data dir afterwards")
    p.add_argument("--_time", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._time:
        print(json.dumps(time_requests(args.repeat, args.engine)))
        return 0

    data_dir = BENCH_ROOT / str(args.responses)
    env = {**os.environ, "MANYI_DATA_DIR": str(data_dir), "MANYI_DEBUG": "false"}
    env.pop("MANYI_DATABASE_URL", None)
    result: dict[str, Any] = {"responses_requested": args.responses, "data_dir": str(data_dir)}
    ready = data_dir / "ready"
    if not (args.reuse and ready.exists()):
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        log(f"loading the demo with {args.responses:,} responses into {data_dir}")
        result["demo_load_s"] = round(
            _run(["uv", "run", "manyi", "demo", "--no-serve", "--responses", str(args.responses)], env), 1
        )
        log("building the analytics store")
        result["store_rebuild_s"] = round(_run(["uv", "run", "manyi", "analytics", "rebuild"], env), 1)
        ready.write_text("ok\n")
    log("timing the dashboard")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.dashboard",
            "--_time",
            "--repeat",
            str(args.repeat),
            "--engine",
            args.engine,
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    sys.stderr.write(out.stderr)
    result.update(json.loads(out.stdout.strip().splitlines()[-1]))
    target = TARGETS_MS.get(args.responses)
    if target is not None:
        result["target_p95_ms"] = target
        for mode in ("cold", "warm"):
            worst = max(
                s["p95_ms"]
                for reader, r in result["readers"].items()
                if reader.endswith(mode)
                for s in r.values()
            )
            result[f"worst_p95_ms_{mode}"] = worst
            result[f"meets_target_{mode}"] = worst <= target
    if not args.keep and not args.reuse:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
