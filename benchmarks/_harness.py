"""Shared plumbing for the benchmarks: a throw-away data dir and database, a survey, a live server.

The benchmark processes never import Django themselves: every value Manyi reads comes from the
environment at import time, and one run covers SQLite and PostgreSQL, so everything that touches
the database runs in a subprocess (``python -m benchmarks._harness setup|verify``) with that
database's environment. Load goes to 127.0.0.1 only.

Data dirs live under ``/tmp/h-bench/`` and PostgreSQL databases are named ``h_bench_*``; both are
removed at the end unless ``--keep`` is given (or the run failed, so the server log can be read).
"""

from __future__ import annotations

import argparse
import contextlib
import html.parser
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_ROOT = Path(os.environ.get("H_BENCH_ROOT", "/tmp/h-bench"))
PG_URL = os.environ.get("H_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
HOST = "127.0.0.1"


def log(msg: str) -> None:
    """Human progress goes to stderr; stdout is kept for the JSON result."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def exit_on_sigterm() -> None:
    """Turn SIGTERM (``timeout``, a CI cancel) into SystemExit, so servers are stopped and dirs kept."""

    def _exit(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)


def dbs_from_arg(value: str) -> list[str]:
    return ["sqlite", "postgres"] if value == "both" else [value]


def add_common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--keep", action="store_true", help="keep the data dir and the PostgreSQL database")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_gib = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    git = {}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True
        ).stdout
        git = {"commit": head.stdout.strip(), "uncommitted_files_in_src": len(dirty.splitlines())}
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": round(mem_gib, 1),
        "python": sys.version.split()[0],
        "load_avg_1m": round(os.getloadavg()[0], 2),
        **git,
    }


# ----------------------------------------------------------------------------------------------
# A fresh data dir + database + survey


@dataclass
class Site:
    """One throw-away installation: data dir, database, one published survey with a unit link."""

    name: str
    db: str
    data_dir: Path
    env: dict[str, str]
    pg_name: str | None = None
    token: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    server: Server | None = None

    def django(self, *args: str, timeout: float = 600) -> dict[str, Any]:
        """Run ``python -m benchmarks._harness ARGS`` with this site's environment; return its JSON."""
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks._harness", *args],
            env={**self.env, "H_BENCH_INFO": json.dumps(self.info)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"benchmarks._harness {' '.join(args)} failed:\n{out.stderr[-4000:]}")
        return json.loads(out.stdout)


def make_site(name: str, db: str, template: str = "store_csi") -> Site:
    stamp = f"{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}"
    data_dir = BENCH_ROOT / f"{name}-{db}-{stamp}"
    data_dir.mkdir(parents=True, exist_ok=False)
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("MANYI_"):
            del env[k]
    env.update(
        MANYI_DATA_DIR=str(data_dir),
        # Set even when empty, so a .env file in the checkout cannot point the run elsewhere.
        MANYI_DATABASE_URL="",
        MANYI_CACHE_URL="",
        MANYI_DEBUG="false",
        MANYI_LOG_LEVEL="WARNING",
        MANYI_SUBMIT_RATE_LIMIT="off",
        MANYI_PUBLIC_RATE_LIMIT="off",
        MANYI_WEB_WORKERS="0",
        PYTHONUNBUFFERED="1",
    )
    pg_name = None
    if db == "postgres":
        pg_name = f"h_bench_{name}_{stamp}".replace("-", "_").lower()
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", pg_name], check=True, timeout=60)
        env["MANYI_DATABASE_URL"] = f"{PG_URL}/{pg_name}"
    site = Site(name=name, db=db, data_dir=data_dir, env=env, pg_name=pg_name)
    t0 = time.monotonic()
    site.info = site.django("setup", "--template", template)
    site.token = site.info["token"]
    log(f"{name}/{db}: schema + survey ready in {time.monotonic() - t0:.1f} s ({data_dir})")
    return site


def drop_site(site: Site, keep: bool = False) -> None:
    if site.server is not None:
        site.server.stop()
    if keep:
        log(f"kept {site.data_dir}" + (f" and database {site.pg_name}" if site.pg_name else ""))
        return
    if site.pg_name:
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", "--if-exists", site.pg_name],
            check=False,
            timeout=60,
        )
    shutil.rmtree(site.data_dir, ignore_errors=True)


@contextlib.contextmanager
def site_for(name: str, db: str, *, keep: bool = False, template: str = "store_csi") -> Iterator[Site]:
    site = make_site(name, db, template)
    ok = False
    try:
        yield site
        ok = True
    finally:
        if not ok:
            log(f"run failed: keeping {site.data_dir} for its server log")
        drop_site(site, keep=keep or not ok)


# ----------------------------------------------------------------------------------------------
# The server


class _ExitedEarly(Exception):
    pass


class Server:
    """``manyi serve`` in its own session (process group), so a crash test can SIGKILL all of it."""

    def __init__(self, site: Site, port: int, workers: int) -> None:
        self.site = site
        self.port = port
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = site.data_dir / f"server-{port}.log"
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, ready_timeout: float = 90, tries: int = 3) -> float:
        """Start and wait for /healthz; return the seconds it took.

        The checkout is shared with people editing it, so a server that exits at once (an import
        error in a half-saved file) is started again, up to ``tries`` times, 10 s apart.
        """
        t0 = time.monotonic()
        for attempt in range(1, tries + 1):
            try:
                self._start_once(ready_timeout)
                return time.monotonic() - t0
            except _ExitedEarly as exc:
                if attempt == tries:
                    raise RuntimeError(str(exc)) from None
                log(f"{exc}; starting again in 10 s")
                time.sleep(10)
        raise AssertionError("unreachable")

    def _start_once(self, ready_timeout: float) -> None:
        t0 = time.monotonic()
        with self.log_path.open("ab") as logf:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "manyi.cli", "serve", "--port", str(self.port),
                 "--workers", str(self.workers)],
                env=self.site.env,
                cwd=ROOT,
                stdout=logf,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        self.starts += 1
        self.site.server = self
        deadline = t0 + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise _ExitedEarly(f"server exited with {self.proc.returncode}; see {self.log_path}")
            if _http_ok(f"{self.base}/healthz"):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {ready_timeout} s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the gunicorn master and every worker at once (the whole process group)."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        # Workers are in the same group; make sure none lingers on the port.
        _wait_port_closed(self.port, 10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True, check=False)
        return [int(x) for x in out.stdout.split() if int(x) != self.proc.pid]


def _http_ok(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _wait_port_closed(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((HOST, port)) != 0:
                return
        time.sleep(0.1)


# ----------------------------------------------------------------------------------------------
# CPU accounting: this box is shared (other engineers run test suites on it), so every measured
# run records how much CPU went to the server, the load generator, our own PostgreSQL backends
# and everything else ("foreign"), and the CPU cost per request, which contention does not change.

_TICK = os.sysconf("SC_CLK_TCK")


def _machine_busy_ticks() -> int:
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return sum(parts[:8]) - idle


def _proc_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _group_pids(pgid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _pg_backends(dbname: str) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if cmd.startswith("postgres: ") and f" {dbname} " in cmd:
                out.append(int(d.name))
    return out


class CpuMeter:
    """CPU used between ``start()`` and ``stop()`` by the server, wrk (our children), our PG backends, the rest."""

    def __init__(self, server: Server, pg_name: str | None) -> None:
        self.server = server
        self.pg_name = pg_name

    def _snap(self) -> dict[str, Any]:
        import resource

        assert self.server.proc is not None
        srv = {pid: _proc_ticks(pid) for pid in _group_pids(self.server.proc.pid)}
        pg = {pid: _proc_ticks(pid) for pid in _pg_backends(self.pg_name)} if self.pg_name else {}
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"t": time.monotonic(), "busy": _machine_busy_ticks(), "srv": srv, "pg": pg,
                "children": ch.ru_utime + ch.ru_stime}  # fmt: skip

    def start(self) -> None:
        self.a = self._snap()

    def stop(self, requests: int) -> dict[str, Any]:
        b = self._snap()
        a = self.a
        wall = b["t"] - a["t"]

        def delta(key: str) -> float:
            return sum(v - a[key].get(pid, 0) for pid, v in b[key].items()) / _TICK

        server = delta("srv")
        db = delta("pg")
        wrk = b["children"] - a["children"]
        busy = (b["busy"] - a["busy"]) / _TICK
        foreign = max(0.0, busy - server - db - wrk)
        per = (1000 * (server + db) / requests) if requests else None
        wrk_per = (1000 * wrk / requests) if requests else None
        cores = os.cpu_count() or 1
        return {
            "wall_s": round(wall, 2),
            "machine_busy_cores": round(busy / wall, 2),
            "server_cores": round(server / wall, 2),
            "db_backend_cores": round(db / wall, 2),
            "load_generator_cores": round(wrk / wall, 2),
            "foreign_cores": round(foreign / wall, 2),
            "server_plus_db_cpu_ms_per_request": round(per, 3) if per else None,
            "load_generator_cpu_ms_per_request": round(wrk_per, 3) if wrk_per else None,
            # What the same per-request CPU would allow if the whole box were ours (an upper bound).
            "cpu_bound_rps_if_box_idle": round(cores * 1000 / (per + (wrk_per or 0)), 0) if per else None,
        }


def foreign_load(seconds: float = 1.0) -> float:
    """Cores busy on this machine (all processes) over a short window."""
    a, t = _machine_busy_ticks(), time.monotonic()
    time.sleep(seconds)
    return (_machine_busy_ticks() - a) / _TICK / (time.monotonic() - t)


def wait_idle(max_wait: float, threshold: float = 0.3) -> dict[str, Any]:
    """Wait (bounded) until the machine is quiet, so a run is not measured against someone's test suite."""
    t0 = time.monotonic()
    load = foreign_load()
    while load > threshold and time.monotonic() - t0 < max_wait:
        log(f"machine busy ({load:.2f} cores in use by others); waiting for it to go quiet")
        time.sleep(4)
        load = foreign_load()
    return {"busy_cores_before": round(load, 2), "waited_s": round(time.monotonic() - t0, 1),
            "quiet": load <= threshold}  # fmt: skip


# ----------------------------------------------------------------------------------------------
# The survey form, as a browser without JavaScript would post it


class _Hidden(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[str(a["name"])] = a.get("value") or ""


@dataclass
class Form:
    fields: dict[str, str]  # hidden fields (csrfmiddlewaretoken, sid, v, started, lang)
    cookie: str  # "csrftoken=..."
    path: str

    def body(self, sid: str, answers: dict[str, str]) -> dict[str, str]:
        return {**self.fields, "sid": sid, **answers}


def fetch_form(base: str, token: str) -> Form:
    import httpx

    r = httpx.get(f"{base}/s/{token}", timeout=10)
    r.raise_for_status()
    p = _Hidden()
    p.feed(r.text)
    csrf = r.cookies.get("csrftoken")
    if not csrf or "csrfmiddlewaretoken" not in p.fields:
        raise RuntimeError("survey page has no CSRF token or cookie")
    return Form(fields=p.fields, cookie=f"csrftoken={csrf}", path=f"/s/{token}")


def csi_answers(nps: int = 9, comment: str = "") -> dict[str, str]:
    """A complete valid answer set for the store CSI template (as tests/conftest.py builds it)."""
    data = {"q_nps": str(nps), "q_csat": "4", "q_comment": comment, "q_contact_ok": "yes"}
    for row in ("tangibles", "reliability", "responsiveness", "assurance", "empathy"):
        data[f"q_csi__{row}"] = "4"
    return data


def sid_for(nonce: int, a: int, b: int) -> str:
    """A UUID-shaped submission id; the first group marks the run so counts can be told apart."""
    return str(uuid.UUID(f"{nonce:08x}-{a:04x}-4000-8000-{b:012x}"))


# ----------------------------------------------------------------------------------------------
# Subprocess side: runs with one site's environment and Django set up


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _cmd_setup(templates: str) -> dict[str, Any]:
    _django()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    from django.db import connection

    from manyi.org.actions import do_create_unit
    from manyi.org.choices import UnitKind
    from manyi.surveys.actions import do_create_link, do_create_survey, do_publish
    from manyi.surveys.choices import LinkKind

    company = do_create_unit(
        code="bench", name={"zh-hans": "压测公司", "en": "Bench Co"}, kind=UnitKind.COMPANY
    )
    store = do_create_unit(
        code="bench-001",
        name={"zh-hans": "压测一店", "en": "Bench store 1"},
        kind=UnitKind.STORE,
        parent=company,
    )
    out: dict[str, Any] = {"vendor": connection.vendor, "surveys": {}}
    for template in templates.split(","):
        survey = do_create_survey(slug=template.replace("_", "-"), unit=company, template=template)
        version = do_publish(survey=survey)
        link = do_create_link(survey=survey, kind=LinkKind.UNIT, unit=store)
        out["surveys"][template] = {"token": link.token, "link_id": link.pk, "survey_id": survey.pk,
                                    "version_id": version.pk}  # fmt: skip
        if "token" not in out:  # the first template is the one the load benchmarks use
            out.update(out["surveys"][template])
    return out


def _cmd_verify(
    link_id: int, prefix: str, answered_file: str | None, expect: int | None, times_for: str | None = None
) -> dict[str, Any]:
    """Count what is stored for one run (sids starting with ``prefix``) against what clients saw."""
    _django()
    from django.db.models import Count, Max, Min

    from manyi.responses.models import Answer, Response, ResponseDraft

    qs = Response.objects.filter(link_id=link_id, submission_id__startswith=prefix)
    stored = [str(s) for s in qs.values_list("submission_id", flat=True)]
    doubled = list(
        qs.values("submission_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("submission_id", flat=True)
    )
    answers = Answer.objects.filter(response__in=qs).count()
    per = qs.annotate(n=Count("answers")).aggregate(lo=Min("n"), hi=Max("n"))
    out: dict[str, Any] = {
        "stored": len(stored),
        "distinct_sids": len(set(stored)),
        "doubled_sids": len(doubled),
        "answers": answers,
        "answers_per_response_min": per["lo"],
        "answers_per_response_max": per["hi"],
        "drafts_left": ResponseDraft.objects.filter(link_id=link_id).count(),
        "all_responses_in_db": Response.objects.count(),
    }
    if answered_file:
        answered = {line.strip() for line in Path(answered_file).read_text().splitlines() if line.strip()}
        stored_set = set(stored)
        out["answered_303"] = len(answered)
        out["answered_but_missing"] = len(answered - stored_set)
        out["stored_but_unanswered"] = len(stored_set - answered)
        out["examples_missing"] = sorted(answered - stored_set)[:5]
    if expect is not None:
        out["expected"] = expect
    if times_for:
        wanted = [uuid.UUID(x.strip()) for x in Path(times_for).read_text().splitlines() if x.strip()]
        rows = qs.filter(submission_id__in=wanted).values_list("submission_id", "submitted_at")
        out["submitted_at"] = {str(sid): at.timestamp() for sid, at in rows}
    return out


def _cmd_breakdown(n: int) -> dict[str, Any]:
    """Milliseconds per step of one submission, in one process with no concurrency (CPU cost).

    Every figure is the median of ``n`` repetitions after a warm-up; the full requests go through
    the whole middleware stack with Django's test client (no sockets, no gunicorn), with CSRF
    checks on and the form URL-encoded as a browser sends it.
    """
    _django()
    import statistics
    from collections.abc import Callable

    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from manyi.responses.actions import answerable_version, check_submit_response
    from manyi.responses.models import Answer, Response, ResponseDraft
    from manyi.responses.queries import link_by_token
    from manyi.surveys.models import SurveyVersion
    from manyi.surveys.questions import answer_rows, parse_answers

    info = json.loads(os.environ["H_BENCH_INFO"])
    token = info["token"]
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/s/{token}")
    hidden = _Hidden()
    hidden.feed(page.content.decode())
    answers = csi_answers()
    base = urllib.parse.urlencode({**{k: v for k, v in hidden.fields.items() if k != "sid"}, **answers})
    link = link_by_token(token)
    assert link is not None
    version = SurveyVersion.objects.get(pk=info["version_id"])

    def timed(fn: Callable[[], Any]) -> float:
        for _ in range(max(5, n // 10)):
            fn()
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t) * 1000)
        return round(statistics.median(samples), 3)

    def post() -> None:
        r = client.post(
            f"/s/{token}", f"{base}&sid={uuid.uuid4()}", content_type="application/x-www-form-urlencoded"
        )
        assert r.status_code == 303, r.status_code

    def action() -> None:
        check_submit_response(
            link=link, submission_id=uuid.uuid4(), data=answers, language="zh-hans",
            version_id=str(version.pk), ip_hash="x" * 32,
        )  # fmt: skip

    def writes() -> None:
        parsed = parse_answers(version.questions, answers)
        at = timezone.now()
        sid = uuid.uuid4()
        with transaction.atomic():
            r = Response.objects.create(
                submission_id=sid, survey_id=link.survey_id, version=version, link=link, unit_id=link.unit_id,
                language="zh-hans", started_at=at, submitted_at=at, duration_seconds=0, ip_hash="x",
            )  # fmt: skip
            rows = answer_rows(version.questions, parsed.values)
            Answer.objects.bulk_create(
                [Answer(response=r, question_code=a.question_code, number=a.number, text=a.text, choices=a.choices)
                 for a in rows]
            )  # fmt: skip
            ResponseDraft.objects.filter(submission_id=sid).delete()

    def reconnect() -> None:
        connection.close()
        connection.ensure_connection()

    steps = {
        "full_request_submit": timed(post),
        "full_request_healthz": timed(lambda: client.get("/healthz")),
        "full_request_survey_get": timed(lambda: client.get(f"/s/{token}?new=1")),
        "db_connect_and_close": timed(reconnect),
        "q_link_by_token": timed(lambda: link_by_token(token)),
        "q_existing_response": timed(lambda: Response.objects.filter(submission_id=uuid.uuid4()).first()),
        "q_answerable_version": timed(lambda: answerable_version(link, str(version.pk))),
        "q_draft_started_at": timed(
            lambda: ResponseDraft.objects.filter(submission_id=uuid.uuid4()).only("started_at").first()
        ),
        "parse_answers": timed(lambda: parse_answers(version.questions, answers)),
        "write_transaction": timed(writes),
        "check_submit_response": timed(action),
    }
    return {
        "vendor": connection.vendor,
        "conn_max_age": connection.settings_dict.get("CONN_MAX_AGE"),
        "repetitions": n,
        "median_ms": steps,
    }


def _main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks._harness")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--template", default="store_csi")
    v = sub.add_parser("verify")
    v.add_argument("--link-id", type=int, required=True)
    v.add_argument("--prefix", required=True)
    v.add_argument("--answered-file")
    v.add_argument("--expect", type=int)
    v.add_argument("--times-for", help="file of submission ids whose submitted_at to report")
    b = sub.add_parser("breakdown")
    b.add_argument("-n", type=int, default=300)
    a = p.parse_args()
    if a.cmd == "setup":
        emit(_cmd_setup(a.template))
    elif a.cmd == "breakdown":
        emit(_cmd_breakdown(a.n))
    else:
        emit(_cmd_verify(a.link_id, a.prefix, a.answered_file, a.expect, a.times_for))


if __name__ == "__main__":
    _main()
