"""Crash test: SIGKILL the whole server in the middle of the load, restart it, lose and double nothing.

    uv run python -m benchmarks.crash [--db sqlite|postgres|both] [--n 3000] [--concurrency 16] [--kills 1]

An asyncio client (httpx) submits N complete survey forms, each with its own submission id, at a
steady concurrency. A submission is retried with the same id on connection errors, time-outs and
5xx answers (backing off up to 1 s) until it gets its 303; any other answer is a failure. When
1/(kills+1), 2/(kills+1), ... of the submissions are done, the gunicorn master and all its
workers are killed at once with SIGKILL (``os.killpg`` on the session ``manyi serve`` was started
in) and ``manyi serve`` is started again on the same port.

At the end the database must hold exactly N responses for this run, one per submission id, none
missing, none extra, every one with the same number of answers (no half-written response).
Retried submissions whose stored ``submitted_at`` is older than their first failed attempt were
committed by the killed server although the client never heard back: the retry got the idempotent 303 and wrote
nothing, which is the case this test is about; their count is reported.

Prints JSON; exits 1 when a response was lost or doubled or a submission failed for good.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import sys
import time
import urllib.parse
from typing import Any

from ._harness import (
    Form,
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
    sid_for,
    site_for,
)


class Stats:
    def __init__(self) -> None:
        self.done = 0
        self.failed: dict[str, str] = {}
        self.attempts = 0
        self.transport_errors: collections.Counter[str] = collections.Counter()
        self.statuses: collections.Counter[int] = collections.Counter()
        self.retried: set[str] = set()
        self.max_attempts = 0
        self.in_flight = 0
        self.bad_location = 0
        self.first_failure: dict[str, float] = {}  # sid -> wall time its first attempt failed


async def _submit_one(
    client: Any, form: Form, body_prefix: str, sid: str, st: Stats, deadline: float, max_attempts: int
) -> None:
    import httpx

    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": form.cookie}
    body = f"{body_prefix}&sid={sid}"
    attempt = 0
    while True:
        attempt += 1
        st.attempts += 1
        if attempt > max_attempts or time.monotonic() > deadline:
            st.failed[sid] = "gave up after retries"
            return
        if attempt > 1:
            st.retried.add(sid)
            await asyncio.sleep(min(1.0, 0.05 * 2 ** min(attempt - 2, 5)) * (0.5 + random.random()))
        st.in_flight += 1
        try:
            r = await client.post(form.path, content=body, headers=headers)
        except httpx.TransportError as exc:  # refused, reset, time-out: the server may or may not have it
            st.transport_errors[type(exc).__name__] += 1
            st.first_failure.setdefault(sid, time.time())
            continue
        finally:
            st.in_flight -= 1
        st.statuses[r.status_code] += 1
        if r.status_code == 303:
            if sid not in r.headers.get("location", ""):
                st.bad_location += 1
            st.done += 1
            st.max_attempts = max(st.max_attempts, attempt)
            return
        if r.status_code >= 500:
            st.first_failure.setdefault(sid, time.time())
            continue
        st.failed[sid] = f"HTTP {r.status_code}"
        return


async def _drive(site: Site, server: Server, args: argparse.Namespace, nonce: int) -> dict[str, Any]:
    import httpx

    form = fetch_form(server.base, site.token)
    fields = {k: v for k, v in form.fields.items() if k != "sid"}
    body_prefix = urllib.parse.urlencode({**fields, **csi_answers()})
    sids = [sid_for(nonce, 0, i) for i in range(args.n)]
    queue: asyncio.Queue[str] = asyncio.Queue()
    for s in sids:
        queue.put_nowait(s)
    st = Stats()
    t0 = time.monotonic()
    deadline = t0 + args.max_seconds
    kills: list[dict[str, Any]] = []
    thresholds = [args.n * (k + 1) // (args.kills + 1) for k in range(args.kills)]

    async def client_task(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            try:
                sid = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await _submit_one(client, form, body_prefix, sid, st, deadline, args.max_attempts)

    async def killer() -> None:
        for threshold in thresholds:
            while st.done < threshold and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            if time.monotonic() >= deadline:
                return
            in_flight, done_at_kill = st.in_flight, st.done
            t_kill = time.monotonic()
            await asyncio.to_thread(server.kill)
            killed_at = time.time()  # after every server process is gone: later rows are the new server's
            log(
                f"{site.db}: SIGKILL at {done_at_kill}/{args.n} done, {in_flight} requests in flight; restarting"
            )
            ready = await asyncio.to_thread(server.start)
            kills.append(
                {
                    "done_at_kill": done_at_kill,
                    "in_flight_at_kill": in_flight,
                    "killed_at_epoch": killed_at,
                    "restart_ready_s": round(ready, 2),
                    "down_s": round(time.monotonic() - t_kill, 2),
                }
            )

    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(
        base_url=server.base, timeout=httpx.Timeout(10.0), limits=limits, follow_redirects=False
    ) as client:
        await asyncio.gather(killer(), *(client_task(client) for _ in range(args.concurrency)))
    elapsed = time.monotonic() - t0

    expected = site.data_dir / f"crash-expected-{nonce:08x}.txt"
    expected.write_text("\n".join(sids) + "\n")
    retried = site.data_dir / f"crash-retried-{nonce:08x}.txt"
    retried.write_text("\n".join(sorted(st.retried)) + "\n")
    verify = site.django(
        "verify", "--link-id", str(site.info["link_id"]), "--prefix", f"{nonce:08x}",
        "--answered-file", str(expected), "--expect", str(args.n), "--times-for", str(retried),
    )  # fmt: skip
    times = verify.pop("submitted_at", {})
    # A retried submission whose stored row is older than its first failed attempt's failure: the
    # killed server committed it (``submitted_at`` is taken when the request is processed), the
    # client never got the 303, and the retry after the restart was answered from the stored row.
    committed_before_kill = sum(
        1 for sid, failed_at in st.first_failure.items() if sid in times and times[sid] < failed_at
    )
    verify["answered_but_missing"] = verify.pop("answered_but_missing")
    verify["extra_not_submitted"] = verify.pop("stored_but_unanswered")
    verify.pop("answered_303", None)
    exact = (
        verify["stored"] == args.n
        and verify["distinct_sids"] == args.n
        and verify["doubled_sids"] == 0
        and verify["answered_but_missing"] == 0
        and verify["extra_not_submitted"] == 0
        and verify["answers_per_response_min"] == verify["answers_per_response_max"]
    )
    return {
        "db": site.db,
        "n": args.n,
        "concurrency": args.concurrency,
        "workers": server.workers,
        "elapsed_s": round(elapsed, 1),
        "kills": kills,
        "client": {
            "got_303": st.done,
            "failed": len(st.failed),
            "failed_examples": dict(list(st.failed.items())[:5]),
            "attempts": st.attempts,
            "retried_submissions": len(st.retried),
            "max_attempts_for_one": st.max_attempts,
            "transport_errors": dict(st.transport_errors),
            "statuses": {str(k): v for k, v in sorted(st.statuses.items())},
            "redirects_to_wrong_sid": st.bad_location,
        },
        "retried_and_committed_before_kill": committed_before_kill,
        "verify": verify,
        "met": {
            "every_submission_got_303": st.done == args.n and not st.failed,
            "no_response_lost": verify["answered_but_missing"] == 0,
            "no_response_doubled": verify["doubled_sids"] == 0
            and verify["distinct_sids"] == verify["stored"],
            "stored_equals_n": exact,
            "server_was_killed": len(kills) == args.kills,
        },
    }


def one_db(db: str, args: argparse.Namespace) -> dict[str, Any]:
    with site_for("crash", db, keep=args.keep) as site:
        server = Server(site, free_port(), args.workers)
        log(f"{db}: manyi serve --workers {args.workers} ready in {server.start():.1f} s")
        try:
            nonce = random.getrandbits(32)
            return asyncio.run(_drive(site, server, args, nonce))
        finally:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.crash", description=__doc__.split("\n\n")[0])
    add_common_args(p)
    p.add_argument("--n", type=int, default=3000, help="submissions, each with its own id")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--kills", type=int, default=1, help="SIGKILL + restart this many times, evenly spread")
    p.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    p.add_argument("--max-attempts", type=int, default=200, help="tries per submission before giving up")
    p.add_argument("--max-seconds", type=float, default=600, help="hard bound on the whole client run")
    args = p.parse_args(argv)
    exit_on_sigterm()
    if not (1 <= args.n <= 100_000 and 1 <= args.concurrency <= 256 and 0 <= args.kills <= 20):
        p.error("--n 1..100000, --concurrency 1..256, --kills 0..20")
    out: dict[str, Any] = {"benchmark": "crash", "machine": machine(), "results": []}
    for db in dbs_from_arg(args.db):
        out["results"].append(one_db(db, args))
    out["all_met"] = all(all(r["met"].values()) for r in out["results"])
    emit(out)
    return 0 if out["all_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
