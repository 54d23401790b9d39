"""Server time of the home dashboard over the demo data, against p95 ≤ 300 ms (200,000 responses)
and p95 ≤ 1.5 s (5,000,000 responses).

    uv run python -m benchmarks.dashboard [--responses 200000] [--repeat 30] [--rebuild] [--build-only]

Builds the benchmark set once in its own data dir (``/tmp/h-bench-dashboard/<N>``; SQLite) and
reuses it on later runs (``--rebuild`` throws it away and builds it again):

1. the seeded demo company with ``manyi demo --no-serve --responses B``, where B is
   ``min(N, --base)`` (1,000,000 by default: the demo holds every row in memory while it loads);
2. when N > B, the demo's responses and answers copied in bulk SQL (``INSERT … SELECT`` on one
   SQLite connection, nothing through the ORM) until there are N responses: copy k gets the ids
   ``id + k × max(id)``, a fresh submission id and its times moved by a pseudo-random −30…+30
   minutes (the same for ``started_at`` and ``submitted_at``), so the set keeps the demo's
   shape (units, surveys, channels, languages, scores, comments, 18 months) at N rows; feedback
   records and cases are not copied (the dashboard reads cases, which stay the demo's);
3. the analytics store from it (``manyi analytics rebuild``: the store's own batched Arrow copy).

A ``ready`` file in the data dir records how the set was built; a set built differently (another
base size) is rebuilt. Then, in a subprocess with that environment, times ``GET /`` through Django's test client (the
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
SQLite), for comparison. ``--reuse`` and ``--keep`` are accepted for older scripts (reusing and
keeping the set are the default now); ``--discard`` deletes the set after the run. Prints JSON
with p50/p95/max per reader and filter set, and the CPU time of the timed requests.
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
            times, cpu = [], []
            for _ in range(repeat):
                start, start_cpu = time.perf_counter(), time.process_time()
                resp = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
                assert resp.status_code == 200
            per_set[name] = {
                "url": url,
                "source": source,
                "n_requests": repeat,
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(_percentile(times, 0.95), 1),
                "max_ms": round(max(times), 1),
                # CPU of this process only (Django, DuckDB's threads, SQLite): robust to other load.
                "cpu_p50_ms": round(statistics.median(cpu), 1),
                "cpu_p95_ms": round(_percentile(cpu, 0.95), 1),
            }
            log(
                f"{username} {name}: p50 {per_set[name]['p50_ms']} ms, p95 {per_set[name]['p95_ms']} ms ({source})"
            )
        out["readers"][f"{username}/{mode}"] = per_set
    return out


#: Version of the way the set is built; a ``ready`` file with another recipe is rebuilt.
RECIPE = 2


def replicate(db_path: Path, target: int) -> dict[str, Any]:
    """Copy the demo's responses and answers in bulk SQL until the database holds ``target`` responses.

    One SQLite connection, ``INSERT … SELECT`` per copy (one transaction each), nothing through the
    ORM. Copy ``k`` of response ``id`` gets the id ``id + k × max(id)``, the submission id
    ``printf('%016x%016x', new id, k)`` (unique, 32 hex digits as Django stores a UUID on SQLite) and
    its times moved by ``(id × 2654435761 + k × 40503) mod 3601 − 1800`` seconds: deterministic,
    so two builds give the same set. Answers follow their response. The last copy is cut at the
    number of responses still missing.
    """
    import sqlite3

    t0 = time.perf_counter()
    con = sqlite3.connect(str(db_path), isolation_level=None)
    try:
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-1048576")  # 1 GiB: the indexes being appended to stay in memory
        con.execute("PRAGMA temp_store=MEMORY")
        lo, hi, have = con.execute("SELECT min(id), max(id), count(*) FROM responses_response").fetchone()
        if not have:
            raise RuntimeError("no responses to copy: load the demo first")
        if have != hi - lo + 1:
            raise RuntimeError(
                f"response ids are not contiguous ({have} rows in {lo}..{hi}); load a fresh demo"
            )
        base = have
        r_cols = [row[1] for row in con.execute("PRAGMA table_info(responses_response)")]
        a_cols = [row[1] for row in con.execute("PRAGMA table_info(responses_answer)") if row[1] != "id"]
        shift = "printf('%+d seconds', ((id * 2654435761 + {k} * 40503) % 3601) - 1800)"
        special = {
            "id": "id + {k} * {hi}",
            "submission_id": "printf('%016x%016x', id + {k} * {hi}, {k})",
            "started_at": f"datetime(started_at, {shift})",
            "submitted_at": f"datetime(submitted_at, {shift})",
        }
        r_select = ", ".join(special.get(c, c) for c in r_cols)
        a_select = ", ".join("response_id + {k} * {hi}" if c == "response_id" else c for c in a_cols)
        k = 0
        while have < target:
            k += 1
            take = min(base, target - have)
            last = lo + take - 1
            con.execute("BEGIN")
            con.execute(
                f"INSERT INTO responses_response ({', '.join(r_cols)}) SELECT "
                + r_select.format(k=k, hi=hi)
                + " FROM responses_response WHERE id BETWEEN ? AND ? ORDER BY id",
                (lo, last),
            )
            con.execute(
                f"INSERT INTO responses_answer ({', '.join(a_cols)}) SELECT "
                + a_select.format(k=k, hi=hi)
                + " FROM responses_answer WHERE response_id BETWEEN ? AND ? ORDER BY id",
                (lo, last),
            )
            con.execute("COMMIT")
            have += take
            log(f"copy {k}: {have:,} responses ({time.perf_counter() - t0:.0f} s)")
        answers = con.execute("SELECT count(*) FROM responses_answer").fetchone()[0]
        con.execute("ANALYZE")
    finally:
        con.close()
    return {"copies": k, "responses": have, "answers": answers, "seconds": round(time.perf_counter() - t0, 1)}


def build_set(data_dir: Path, responses: int, base: int, env: dict[str, str]) -> dict[str, Any]:
    """Build the benchmark set into ``data_dir`` (see the module's docstring); returns its timings."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    built: dict[str, Any] = {"recipe": RECIPE, "responses": responses, "base": base}
    log(f"loading the demo with {base:,} responses into {data_dir}")
    built["demo_load_s"] = round(
        _run(["uv", "run", "manyi", "demo", "--no-serve", "--responses", str(base)], env), 1
    )
    if responses > base:
        log(f"copying in bulk SQL up to {responses:,} responses")
        built["replicate"] = replicate(data_dir / "manyi.sqlite3", responses)
    log("building the analytics store")
    built["store_rebuild_s"] = round(_run(["uv", "run", "manyi", "analytics", "rebuild"], env), 1)
    (data_dir / "ready").write_text(json.dumps(built) + "\n")
    return built


def _ready(data_dir: Path, responses: int, base: int) -> dict[str, Any] | None:
    """How the set in ``data_dir`` was built, when it is complete and built the way asked."""
    try:
        built = json.loads((data_dir / "ready").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(built, dict) or (built.get("recipe"), built.get("responses"), built.get("base")) != (
        RECIPE,
        responses,
        base,
    ):
        return None
    return built


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--responses", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--engine", choices=("auto", "database"), default="auto")
    p.add_argument(
        "--base",
        type=int,
        default=1_000_000,
        help="responses the demo generates; beyond them the set is made of bulk SQL copies (default 1,000,000)",
    )
    p.add_argument("--rebuild", action="store_true", help="build the set again even if a built one is there")
    p.add_argument("--build-only", action="store_true", help="build (or check) the set, time nothing")
    p.add_argument("--discard", action="store_true", help="delete the set after the run")
    p.add_argument("--reuse", action="store_true", help="accepted for older scripts: reusing is the default")
    p.add_argument("--keep", action="store_true", help="accepted for older scripts: keeping is the default")
    p.add_argument("--_time", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._time:
        print(json.dumps(time_requests(args.repeat, args.engine)))
        return 0
    if args.responses < 1 or args.base < 1:
        p.error("--responses and --base must be at least 1")
    base = min(args.base, args.responses)

    data_dir = BENCH_ROOT / str(args.responses)
    env = {**os.environ, "MANYI_DATA_DIR": str(data_dir), "MANYI_DEBUG": "false"}
    env.pop("MANYI_DATABASE_URL", None)
    result: dict[str, Any] = {"responses_requested": args.responses, "data_dir": str(data_dir)}
    built = None if args.rebuild else _ready(data_dir, args.responses, base)
    if built is None:
        built = build_set(data_dir, args.responses, base, env)
        result["built_now"] = True
    else:
        log(f"reusing the set in {data_dir} (--rebuild builds it again)")
        result["built_now"] = False
    result["build"] = built
    if args.build_only:
        print(json.dumps(result, indent=2))
        return 0
    # A set built by older code gets the newer migrations (indexes) before it is timed.
    _run(["uv", "run", "manyi", "manage", "migrate", "--no-input", "--verbosity", "0"], env)
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
    if args.discard:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
