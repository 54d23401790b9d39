"""Submission throughput and latency on ``manyi serve``, with wrk, checked against the database.

    uv run python -m benchmarks.submit_load [--db sqlite|postgres|both] [--seconds 20]

For each database: a fresh data dir (and PostgreSQL database) with a published store CSI survey,
``manyi serve`` on a free port of 127.0.0.1, one GET of the survey page for the CSRF token and
cookie, then wrk POSTs the complete form with a new submission id per request (a per-run nonce,
the wrk thread and a counter). wrk's Lua ``response()`` counts statuses and keeps the submission
id of every 303 (from its Location header); afterwards the database must hold every one of those
exactly once, plus at most one per connection for requests still in flight when wrk stopped.

Baselines under the same wrk settings: ``/healthz`` (one ``SELECT 1``: the floor of the stack,
gunicorn + Django middleware + one query) and a GET of the survey page.

Targets (product issue): >= 300 submissions/s sustained, p99 < 300 ms, on this 2-core machine
with the load generator on the same box. Prints JSON; exits non-zero only when the run could not
be made or the database disagrees with the answers (never because a target was missed).
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
import urllib.parse
from pathlib import Path
from typing import Any

from . import _profile
from ._harness import (
    CpuMeter,
    Server,
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
    wait_idle,
)

TARGET_RPS = 300.0
TARGET_P99_MS = 300.0

# Runs in every wrk thread (and once in the main state for setup/done).
WRK_LUA = r"""
local mode = os.getenv("BENCH_MODE") or "get"
local path = os.getenv("BENCH_PATH") or "/"
local body_prefix = os.getenv("BENCH_BODY") or ""
local cookie = os.getenv("BENCH_COOKIE") or ""
local nonce = os.getenv("BENCH_NONCE") or "00000000"
local out = os.getenv("BENCH_OUT")

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
  answered = {}
  nanswered = 0
  if mode == "post" then
    hdrs = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = cookie}
  else
    hdrs = {}
  end
  get_req = wrk.format("GET", path, hdrs)
end

function request()
  if mode ~= "post" then
    return get_req
  end
  n = n + 1
  local sid = string.format("%s-%04x-4000-8000-%012x", nonce, tid, n)
  return wrk.format("POST", path, hdrs, body_prefix .. "&sid=" .. sid)
end

function response(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
  if status == 303 then
    local loc = headers["Location"] or headers["location"] or ""
    local sid = string.match(loc, "/thanks/([%x%-]+)")
    if sid then
      nanswered = nanswered + 1
      answered[nanswered] = sid
    end
  end
end

function done(summary, latency, requests)
  local all = {}
  local f = nil
  if out then f = io.open(out, "w") end
  for _, t in ipairs(threads) do
    local st = t:get("statuses") or {}
    for k, v in pairs(st) do all[k] = (all[k] or 0) + v end
    if f then
      local a = t:get("answered") or {}
      for _, sid in ipairs(a) do f:write(sid, "\n") end
    end
  end
  if f then f:close() end
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


def run_wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    lua: Path,
    env_extra: dict[str, str],
    timeout_s: int = 10,
) -> dict[str, Any]:
    env = {**os.environ, **env_extra}
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s",
        "--latency", "-s", str(lua), url,
    ]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr[-2000:]}")
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    raw = json.loads(line[len("WRKJSON ") :])
    lat = raw["latency_us"]
    secs = raw["duration_us"] / 1e6
    statuses = {k: int(v) for k, v in sorted(raw["statuses"].items())}
    return {
        "requests": raw["requests"],
        "seconds": round(secs, 2),
        "rps": round(raw["requests"] / secs, 1) if secs else 0.0,
        "latency_ms": {
            k: round(lat[k] / 1000, 2) for k in ("p50", "p75", "p90", "p99", "p999", "max", "mean")
        },
        "statuses": statuses,
        "socket_errors": {k: v for k, v in raw["errors"].items() if k != "status"},
        "wrk_status_errors": raw["errors"]["status"],
    }


def one_db(db: str, args: argparse.Namespace, lua: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"db": db}
    with site_for("submit", db, keep=args.keep) as site:
        runs = []
        for workers in args.workers:
            port = free_port()
            server = Server(site, port, workers)
            started = server.start()
            log(f"{db}: manyi serve --workers {workers} on :{port} ready in {started:.1f} s")
            try:
                runs.append(_measure(site, server, args, lua))
            finally:
                server.stop()
        result["runs"] = runs
        # Where the CPU of one submission goes, in-process (needs the static manifest serve wrote).
        result["before_breakdown"] = wait_idle(args.max_wait)
        log(f"{db}: in-process cost breakdown")
        result["breakdown"] = site.django("breakdown", "-n", "300")
        best = max(runs, key=lambda r: r["submit"]["rps"])
        result["best"] = {
            k: best[k]
            for k in (
                "workers", "connections", "submit_rps", "submit_p99_ms", "healthz_rps",
                "submit_cpu_ms_per_request", "healthz_cpu_ms_per_request", "foreign_cores_during_submit",
                "ratios", "met",
            )
        }  # fmt: skip
        result["vendor"] = site.info.get("vendor")
    return result


def _measure(site: Any, server: Server, args: argparse.Namespace, lua: Path) -> dict[str, Any]:
    base = server.base
    form = fetch_form(base, site.token)
    fields = {k: v for k, v in form.fields.items() if k != "sid"}
    body = urllib.parse.urlencode({**fields, **csi_answers()})
    common = dict(seconds=args.seconds, connections=args.connections, threads=args.threads, lua=lua)
    url = f"{base}{form.path}"

    # Warm up every worker (imports, connections, template cache) with submits of a separate nonce.
    warm_nonce = f"{random.getrandbits(32):08x}"
    run_wrk(
        url,
        **{**common, "seconds": args.warmup},
        env_extra={"BENCH_MODE": "post", "BENCH_PATH": form.path, "BENCH_BODY": body,
                   "BENCH_COOKIE": form.cookie, "BENCH_NONCE": warm_nonce},
    )  # fmt: skip

    meter = CpuMeter(server, site.pg_name)

    def measured(target: str, env_extra: dict[str, str]) -> dict[str, Any]:
        quiet = wait_idle(args.max_wait)
        meter.start()
        res = run_wrk(target, **common, env_extra=env_extra)
        return {**res, "cpu": meter.stop(res["requests"]), "before": quiet}

    nonce = f"{random.getrandbits(32):08x}"
    answered = Path(tempfile.mkstemp(prefix="answered-", suffix=".txt", dir=site.data_dir)[1])
    log(f"{site.db}: submit load {args.seconds} s, {args.connections} connections, {server.workers} workers")
    prof_out = site.data_dir / f"py-spy-submit-{server.workers}.txt"
    prof = _profile.start(server.proc.pid, args.seconds, prof_out) if args.profile and server.proc else None
    submit = measured(
        url,
        {"BENCH_MODE": "post", "BENCH_PATH": form.path, "BENCH_BODY": body,
         "BENCH_COOKIE": form.cookie, "BENCH_NONCE": nonce, "BENCH_OUT": str(answered)},
    )  # fmt: skip
    time.sleep(1.0)  # requests in flight when wrk stopped finish on the server
    profile: dict[str, Any] | None = None
    if prof is not None:
        prof.wait(timeout=60)
        profile = _profile.summarize(prof_out) if prof_out.exists() else {"error": "py-spy wrote nothing"}
    verify = site.django(
        "verify", "--link-id", str(site.info["link_id"]), "--prefix", nonce, "--answered-file", str(answered)
    )
    n303 = submit["statuses"].get("303", 0)
    non303 = {k: v for k, v in submit["statuses"].items() if k != "303"}
    in_flight = verify["stored"] - n303
    exact = (
        verify["answered_but_missing"] == 0
        and verify["doubled_sids"] == 0
        and verify["answered_303"] == n303
        and 0 <= in_flight <= args.connections
        and (
            verify["stored"] == 0
            or verify["answers_per_response_min"] == verify["answers_per_response_max"] > 0
        )
    )

    log(f"{site.db}: healthz baseline")
    healthz = measured(f"{base}/healthz", {"BENCH_MODE": "get", "BENCH_PATH": "/healthz"})
    log(f"{site.db}: survey page GET baseline")
    page = measured(url, {"BENCH_MODE": "get", "BENCH_PATH": form.path})

    rps = submit["rps"]
    p99 = submit["latency_ms"]["p99"]
    return {
        "workers": server.workers,
        "connections": args.connections,
        "wrk_threads": args.threads,
        "submit_rps": rps,
        "submit_p99_ms": p99,
        "healthz_rps": healthz["rps"],
        "submit_cpu_ms_per_request": submit["cpu"]["server_plus_db_cpu_ms_per_request"],
        "healthz_cpu_ms_per_request": healthz["cpu"]["server_plus_db_cpu_ms_per_request"],
        "foreign_cores_during_submit": submit["cpu"]["foreign_cores"],
        "submit": {**submit, "non_303": non303},
        "verify": {**verify, "answered_303_by_wrk": n303, "stored_minus_303_in_flight_at_stop": in_flight},
        "healthz": healthz,
        "survey_get": page,
        "ratios": {
            "rps_over_target_300": round(rps / TARGET_RPS, 2),
            "p99_over_target_300ms": round(p99 / TARGET_P99_MS, 2),
            "submit_over_healthz_rps": round(rps / healthz["rps"], 2) if healthz["rps"] else None,
            "submit_over_survey_get_rps": round(rps / page["rps"], 2) if page["rps"] else None,
        },
        **({"profile_submit": profile} if profile is not None else {}),
        "met": {
            "throughput_300_per_s": rps >= TARGET_RPS,
            "p99_under_300_ms": p99 < TARGET_P99_MS,
            "no_errors": not non303 and not any(submit["socket_errors"].values()),
            "stored_equals_answered": exact,
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.submit_load", description=__doc__.split("\n\n")[0])
    add_common_args(p)
    p.add_argument("--seconds", type=int, default=20, help="duration of each measured wrk run")
    p.add_argument("--warmup", type=int, default=3, help="seconds of submits before measuring")
    p.add_argument("--connections", type=int, default=16, help="wrk connections (concurrent clients)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument(
        "--workers", default="3", help="gunicorn sync workers; a comma list (e.g. 2,3,5) runs each in turn"
    )
    p.add_argument(
        "--max-wait", type=float, default=90, help="seconds to wait for a quiet machine before each run"
    )
    p.add_argument(
        "--profile", action="store_true", help="sample the workers with py-spy during the submit run"
    )
    args = p.parse_args(argv)
    exit_on_sigterm()
    args.workers = [int(w) for w in str(args.workers).split(",")]
    if not (1 <= args.seconds <= 600 and 0 < args.connections <= 256 and 1 <= args.warmup <= 60):
        p.error("--seconds 1..600, --connections 1..256, --warmup 1..60")

    lua = Path(tempfile.mkstemp(prefix="h-bench-wrk-", suffix=".lua")[1])
    lua.write_text(WRK_LUA)
    out: dict[str, Any] = {
        "benchmark": "submit_load",
        "machine": machine(),
        "targets": {"rps": TARGET_RPS, "p99_ms": TARGET_P99_MS},
        "settings": {
            "seconds": args.seconds,
            "warmup": args.warmup,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "workers": args.workers,
            "survey": "store_csi (9 answers, no comment)",
        },
        "results": [],
    }
    ok = True
    try:
        for db in dbs_from_arg(args.db):
            r = one_db(db, args, lua)
            out["results"].append(r)
            ok = ok and all(run["met"]["stored_equals_answered"] for run in r["runs"])
    finally:
        lua.unlink(missing_ok=True)
    emit(out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
