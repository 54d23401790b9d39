"""Notification delivery through a real worker: latency from commit to arrival, burst throughput,
and what a hanging endpoint costs the others.

    uv run python -m benchmarks.notifications [--db sqlite|postgres|both] [--n 50] [--burst 200]

A throw-away site (``benchmarks._harness``) gets one webhook endpoint at its store pointing at a
threaded HTTP receiver in this process (127.0.0.1, allow-listed through MANYI_WEBHOOK_ALLOW_HOSTS),
and ``manyi worker`` runs in the background. A child process with Django calls ``notify()`` and
records the commit time of each event; the receiver records when each ``webhook-id`` arrives.

1. latency: N events, 0.2 s apart; arrival − commit per event (p50, p95, max);
2. burst: B events at once; deliveries per second from the first commit to the last arrival;
3. hanging: a second endpoint at the same store that never answers (it is cut at the 10 s timeout);
   latency of the good endpoint's deliveries (N/2 events, 1 s apart) while the worker also serves
   the hanging one: the first timeout holds the one worker 10 s, then the endpoint is paused.

Prints JSON. Nothing here is a pass/fail test: the figures go to docs/notifications.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ._harness import ROOT, add_common_args, dbs_from_arg, emit, exit_on_sigterm, log, machine, site_for


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: dict[str, float] = {}
        self.release = threading.Event()


def receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/hang"):
                arrivals.release.wait(60)
                return
            with arrivals.lock:
                arrivals.at.setdefault(self.headers.get("webhook-id", ""), time.time())
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def child(env: dict[str, str], *args: str, timeout: float = 600) -> Any:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.notifications", "_child", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-4000:])
    return json.loads(out.stdout)


def wait_for(arrivals: Arrivals, ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with arrivals.lock:
            if all(i in arrivals.at for i in ids):
                return
        time.sleep(0.05)


def latencies(arrivals: Arrivals, commits: dict[str, float]) -> dict[str, Any]:
    got = sorted(arrivals.at[i] - t for i, t in commits.items() if i in arrivals.at)
    if not got:
        return {"n": len(commits), "arrived": 0}
    return {
        "n": len(commits),
        "arrived": len(got),
        "p50_s": round(statistics.median(got), 3),
        "p95_s": round(got[max(0, int(len(got) * 0.95) - 1)], 3),
        "max_s": round(got[-1], 3),
    }


def run_db(db: str, n: int, burst: int, keep: bool) -> dict[str, Any]:
    arrivals = Arrivals()
    server = receiver(arrivals)
    port = int(server.server_address[1])
    result: dict[str, Any] = {"db": db}
    with site_for("notify", db, keep=keep) as site:
        env = {**site.env, "MANYI_WEBHOOK_ALLOW_HOSTS": "127.0.0.1", "MANYI_LOG_LEVEL": "WARNING"}
        ok_url = f"http://127.0.0.1:{port}/ok"
        endpoint = child(env, "endpoint", ok_url)
        worker = subprocess.Popen(
            [sys.executable, "-m", "manyi.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            # Warm-up: wait until the worker has started and delivered one event.
            warm = child(env, "notify", "1", "0")
            wait_for(arrivals, list(warm), 120)
            if not all(i in arrivals.at for i in warm):
                raise RuntimeError("the worker delivered nothing within 120 s")
            commits = child(env, "notify", str(n), "0.2")
            wait_for(arrivals, list(commits), 30)
            result["latency"] = latencies(arrivals, commits)
            log(f"{db}: latency {result['latency']}")

            commits = child(env, "notify", str(burst), "0")
            wait_for(arrivals, list(commits), 120)
            first, last = min(commits.values()), max((arrivals.at.get(i, 0) for i in commits), default=0)
            arrived = sum(1 for i in commits if i in arrivals.at)
            result["burst"] = {
                "n": burst,
                "arrived": arrived,
                "seconds": round(last - first, 2),
                "deliveries_per_s": round(arrived / (last - first), 1) if last > first else None,
                **{k: v for k, v in latencies(arrivals, commits).items() if k != "n"},
            }
            log(f"{db}: burst {result['burst']}")

            hang = child(env, "endpoint", f"http://127.0.0.1:{port}/hang")
            commits = child(env, "notify", str(max(10, n // 2)), "1.0")
            wait_for(arrivals, list(commits), 120)
            result["with_a_hanging_endpoint"] = latencies(arrivals, commits)
            log(f"{db}: with a hanging endpoint {result['with_a_hanging_endpoint']}")
            result["endpoints"] = [endpoint, hang]
        finally:
            arrivals.release.set()
            os.killpg(worker.pid, 15)
            worker.wait(timeout=30)
            server.shutdown()
    return result


def _child(args: list[str]) -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from manyi.notifications.actions import do_create_endpoint, notify
    from manyi.org.models import OrgUnit

    store = OrgUnit.objects.get(code="bench-001")
    if args[0] == "endpoint":
        ep = do_create_endpoint(unit=store, name=args[1][-8:], kind="webhook", url=args[1])
        return ep.pk
    count, gap = int(args[1]), float(args[2])
    commits: dict[str, float] = {}
    for i in range(count):
        t = time.time()  # before the write: latency counts the write, the queue and the send
        ns = notify(
            "case.opened",
            recipients=[],
            subject=f"bench {i}",
            body="NPS 2",
            context={"i": i},
            unit=store,
        )
        commits[ns[0].event.message_id] = t
        if gap:
            time.sleep(gap)
    return commits


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        emit(_child(sys.argv[2:]))
        return
    exit_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(p)
    p.add_argument("--n", type=int, default=50, help="events for the latency run")
    p.add_argument("--burst", type=int, default=200, help="events for the burst run")
    a = p.parse_args()
    runs = [run_db(db, a.n, a.burst, a.keep) for db in dbs_from_arg(a.db)]
    emit({"benchmark": "notifications", "machine": machine(), "runs": runs})


if __name__ == "__main__":
    main()
