"""API throughput and latency: POST /api/v1/responses on ``manyi serve``, with wrk, checked against the database.

    uv run python -m benchmarks.api_load [--db sqlite|postgres|both] [--seconds 20] [--workers 4]

The same harness as ``benchmarks.submit_load`` (``benchmarks._harness``: a throw-away data dir and
database with the published store CSI survey, ``manyi serve`` on a free port, CPU accounting, wrk
with a Lua script). Here a token with ``responses:write`` is created in the site's database, and wrk
POSTs the JSON body of a complete answer sheet (9 answers) with ``Authorization: Bearer`` and a
fresh ``Idempotency-Key`` per request (so storing the idempotency key is part of the measured cost).
The per-token rate limit is off for the run (all traffic comes from one token).

Afterwards the database must hold exactly one response per 201 wrk counted (plus at most one per
connection for requests in flight when wrk stopped) and every response must have its 8 answer rows
(the 9 fields minus the empty comment).

Targets (product issue): >= 300 requests/s, p99 < 300 ms. Prints JSON; exits non-zero only when the
run could not be made or the database disagrees with wrk (never because a target was missed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._harness import (
    ROOT,
    CpuMeter,
    Server,
    Site,
    add_common_args,
    dbs_from_arg,
    emit,
    free_port,
    log,
    machine,
    site_for,
    wait_idle,
)
from .submit_load import run_wrk

TARGET_RPS = 300.0
TARGET_P99_MS = 300.0

# Same WRKJSON summary as submit_load's script (run_wrk parses it); requests are JSON POSTs.
WRK_LUA = r"""
local mode = os.getenv("BENCH_MODE") or "get"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY") or ""
local token = os.getenv("BENCH_TOKEN") or ""
local nonce = os.getenv("BENCH_NONCE") or "00000000"

local threads = {}
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  statuses = {}
end

function request()
  n = n + 1
  local hdrs = {["Authorization"] = "Bearer " .. token}
  if mode == "post" then
    hdrs["Content-Type"] = "application/json"
    hdrs["Idempotency-Key"] = string.format("%s-%d-%d", nonce, tid, n)
    return wrk.format("POST", path, hdrs, body)
  end
  return wrk.format("GET", path, hdrs)
end

function response(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
end

function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    local st = t:get("statuses") or {}
    for k, v in pairs(st) do all[k] = (all[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(all) do table.insert(parts, string.format('"%s": %d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "stdev": %.1f, "max": %d, ' ..
    '"p50": %d, "p75": %d, "p90": %d, "p99": %d, "p999": %d}, "statuses": {%s}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), table.concat(parts, ", ")))
end
"""


def answer_body(submitted_at: str = "2026-05-01T09:30:00+08:00") -> dict[str, Any]:
    """A complete store CSI answer sheet as the API takes it (8 answer rows: nps, csat, 5 CSI rows, consent)."""
    return {
        "survey": "store-csi",
        "unit": "bench-001",
        "language": "zh-hans",
        "channel": "api",
        "submitted_at": submitted_at,
        "answers": {
            "nps": 9,
            "csat": 4,
            "csi": {r: 4 for r in ("tangibles", "reliability", "responsiveness", "assurance", "empathy")},
            "contact_ok": True,
        },
    }


# ----------------------------------------------------------------------------------------------
# Subprocess side (the site's environment): ``python -m benchmarks.api_load _token | _count``


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _sub_token() -> dict[str, Any]:
    _django()
    from manyi.integrations.actions import do_create_token

    issued = do_create_token(name="api load benchmark", scopes="responses:write,responses:read")
    return {"token": issued.token}


def _sub_count() -> dict[str, Any]:
    _django()
    from django.db.models import Count, Max, Min

    from manyi.integrations.models import IdempotencyKey
    from manyi.responses.models import Response

    qs = Response.objects.filter(channel="api")
    per = qs.annotate(n=Count("answers")).aggregate(lo=Min("n"), hi=Max("n"))
    return {
        "stored": qs.count(),
        "answers_per_response_min": per["lo"],
        "answers_per_response_max": per["hi"],
        "idempotency_keys": IdempotencyKey.objects.count(),
        "unfinished_keys": IdempotencyKey.objects.filter(status_code__isnull=True).count(),
    }


def _sub(site: Site, cmd: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.api_load", cmd],
        env=site.env, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"benchmarks.api_load {cmd} failed:\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout))


# ----------------------------------------------------------------------------------------------
# Load side


def one_db(db: str, args: argparse.Namespace, lua: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"db": db}
    with site_for("api", db, keep=args.keep) as site:
        site.env["MANYI_API_RATE_LIMIT"] = "off"
        token = _sub(site, "_token")["token"]
        runs = []
        for workers in args.workers:
            port = free_port()
            server = Server(site, port, workers)
            started = server.start()
            log(f"{db}: manyi serve --workers {workers} on :{port} ready in {started:.1f} s")
            try:
                runs.append(_measure(site, server, token, args, lua))
            finally:
                server.stop()
        result["runs"] = runs
        best = max(runs, key=lambda r: r["create_rps"])
        result["best"] = {
            k: best[k]
            for k in ("workers", "connections", "create_rps", "create_p99_ms", "list_rps", "create_cpu_ms_per_request",
                      "foreign_cores_during_create", "met")
        }  # fmt: skip
        result["vendor"] = site.info.get("vendor")
    return result


def _measure(site: Site, server: Server, token: str, args: argparse.Namespace, lua: Path) -> dict[str, Any]:
    base = server.base
    body = json.dumps(answer_body(), separators=(",", ":"))
    common = dict(seconds=args.seconds, connections=args.connections, threads=args.threads, lua=lua)
    url = f"{base}/api/v1/responses"
    post_env = {
        "BENCH_MODE": "post",
        "BENCH_PATH": "/api/v1/responses",
        "BENCH_BODY": body,
        "BENCH_TOKEN": token,
    }

    # Warm every worker (imports, connections) with a separate nonce.
    run_wrk(url, **{**common, "seconds": args.warmup},
            env_extra={**post_env, "BENCH_NONCE": f"w{random.getrandbits(32):08x}"})  # fmt: skip
    before = _sub(site, "_count")

    meter = CpuMeter(server, site.pg_name)

    def measured(target: str, env_extra: dict[str, str]) -> dict[str, Any]:
        quiet = wait_idle(args.max_wait)
        meter.start()
        res = run_wrk(target, **common, env_extra=env_extra)
        return {**res, "cpu": meter.stop(res["requests"]), "before": quiet}

    log(
        f"{site.db}: POST /api/v1/responses {args.seconds} s, {args.connections} connections, {server.workers} workers"
    )
    create = measured(url, {**post_env, "BENCH_NONCE": f"m{random.getrandbits(32):08x}"})
    time.sleep(1.0)  # requests in flight when wrk stopped finish on the server
    after = _sub(site, "_count")
    n201 = create["statuses"].get("201", 0)
    stored = after["stored"] - before["stored"]
    in_flight = stored - n201
    exact = (
        0 <= in_flight <= args.connections
        and after["unfinished_keys"] == 0
        and (stored == 0 or after["answers_per_response_min"] == after["answers_per_response_max"] == 8)
    )
    log(f"{site.db}: GET /api/v1/responses?limit=50 baseline")
    listing = measured(f"{url}?limit=50", {"BENCH_MODE": "get", "BENCH_PATH": "/api/v1/responses?limit=50",
                                            "BENCH_TOKEN": token})  # fmt: skip
    log(f"{site.db}: healthz baseline")
    healthz = measured(
        f"{base}/healthz", {"BENCH_MODE": "get", "BENCH_PATH": "/healthz", "BENCH_TOKEN": token}
    )
    rps, p99 = create["rps"], create["latency_ms"]["p99"]
    non201 = {k: v for k, v in create["statuses"].items() if k != "201"}
    return {
        "workers": server.workers,
        "connections": args.connections,
        "create_rps": rps,
        "create_p99_ms": p99,
        "list_rps": listing["rps"],
        "healthz_rps": healthz["rps"],
        "create_cpu_ms_per_request": create["cpu"]["server_plus_db_cpu_ms_per_request"],
        "foreign_cores_during_create": create["cpu"]["foreign_cores"],
        "create": {**create, "non_201": non201},
        "verify": {"stored_during_run": stored, "status_201": n201, "in_flight_at_stop": in_flight, **after},
        "list_50": listing,
        "healthz": healthz,
        "met": {
            "throughput_300_per_s": rps >= TARGET_RPS,
            "p99_under_300_ms": p99 < TARGET_P99_MS,
            "no_errors": not non201 and not any(create["socket_errors"].values()),
            "stored_equals_201": exact,
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.api_load", description=__doc__.split("\n\n")[0])
    add_common_args(p)
    p.add_argument("--seconds", type=int, default=20, help="duration of each measured wrk run")
    p.add_argument("--warmup", type=int, default=3, help="seconds of requests before measuring")
    p.add_argument("--connections", type=int, default=16, help="wrk connections (concurrent clients)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument("--workers", default="4", help="gunicorn sync workers; a comma list runs each in turn")
    p.add_argument(
        "--max-wait", type=float, default=180, help="seconds to wait for a quiet machine before each run"
    )
    args = p.parse_args(argv)
    args.workers = [int(w) for w in str(args.workers).split(",")]
    if not (1 <= args.seconds <= 600 and 0 < args.connections <= 256 and 1 <= args.warmup <= 60):
        p.error("--seconds 1..600, --connections 1..256, --warmup 1..60")
    lua = Path(tempfile.mkstemp(prefix="h-bench-api-", suffix=".lua")[1])
    lua.write_text(WRK_LUA)
    out: dict[str, Any] = {
        "benchmark": "api_load",
        "machine": machine(),
        "targets": {"rps": TARGET_RPS, "p99_ms": TARGET_P99_MS},
        "settings": {"seconds": args.seconds, "warmup": args.warmup, "connections": args.connections,
                     "wrk_threads": args.threads, "workers": args.workers,
                     "request": "POST /api/v1/responses, store CSI, 8 answer rows, Idempotency-Key per request"},
        "results": [],
    }  # fmt: skip
    ok = True
    try:
        for db in dbs_from_arg(args.db):
            r = one_db(db, args, lua)
            out["results"].append(r)
            ok = ok and all(run["met"]["stored_equals_201"] for run in r["runs"])
    finally:
        lua.unlink(missing_ok=True)
    emit(out)
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in ("_token", "_count"):
        emit(_sub_token() if sys.argv[1] == "_token" else _sub_count())
        sys.exit(0)
    sys.exit(main())
