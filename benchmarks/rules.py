"""Rule-evaluation throughput: how many responses one ``manyi worker`` evaluates per minute.

    uv run python -m benchmarks.rules [--db sqlite|postgres|both] [--n 20000] [--per-task 2000]

A fresh site gets 20 stores (each with a manager who has an e-mail address), customers in every
tier, and three rules that exercise every kind of condition and action the issue names:

- ``detractors``: NPS ≤ 6 → open a case (high) and notify the unit manager;
- ``angry``: the comment raises the anger, legal or safety flag or is negative about waiting
  (text models run on the comment) → tag ``angry``;
- ``gold-unhappy``: gold or platinum customer with CSAT ≤ 2 → put on the ``vip`` re-survey list.

``--n`` responses (NPS spread as a service business sees it, 25 % detractors; about one in three with a comment drawn from real-looking
Chinese and English complaints and praise) are written directly, with no evaluation queued. Then:

1. **batch**: evaluation tasks of 1,000 ids each are enqueued, one ``manyi worker`` is started and
   timed until every response carries an evaluation marker;
2. **per task**: ``--per-task`` more responses each get their own task, as the submit path enqueues
   them, and the same worker drains them.

The rate is responses evaluated per minute of the worker's wall time (from its first marker to its
last, so Django's start-up is reported apart), and per minute of the worker's own CPU time (from
``wait4``: start-up, evaluation and the e-mails it sends afterwards all included), which is what
one worker with a core to itself does when the machine is shared. Prints JSON. Target: ≥ 10,000/minute.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from ._harness import ROOT, Site, add_common_args, dbs_from_arg, emit, exit_on_sigterm, log, machine, site_for

TARGET_PER_MINUTE = 10_000
# A service business's usual spread: about a quarter detractors (0–6), a third passives, the rest promoters.
NPS_WEIGHTS = (2, 1, 1, 2, 2, 3, 14, 12, 20, 20, 23)
COMMENTS = [
    "排队等了一个小时，太过分了",
    "服务员态度很差，我要投诉",
    "菜很好吃，环境也不错",
    "价格有点贵，但是服务很好",
    "吃完拉肚子了，要去医院",
    "洗手间很脏，没人打扫",
    "Waited 40 minutes and nobody came, absolutely furious",
    "Great staff, very friendly and quick",
    "The bill was wrong twice, I want a refund",
    "店员很专业，解决得很快",
    "",
]


def _inner(site: Site, *args: str, timeout: float = 1800) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.rules", "inner", *args],
        env=site.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmarks.rules inner {' '.join(args)} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout)


def _worker(site: Site) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "manyi.cli", "worker", "--until-idle"],
        env=site.env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(site.data_dir / "worker.log", "ab"),
    )


def _drain(site: Site, label: str) -> dict[str, Any]:
    t0 = time.monotonic()
    proc = _worker(site)
    # wait4 gives the worker's own CPU time: on a shared box the wall clock says how busy the
    # machine was, the CPU seconds say what one evaluation costs.
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    code = proc.returncode
    wall = time.monotonic() - t0
    cpu = usage.ru_utime + usage.ru_stime
    if code != 0:
        raise RuntimeError(f"worker exited {code}: {(site.data_dir / 'worker.log').read_text()[-3000:]}")
    stats = _inner(site, "stats", "--label", label)
    span = max(stats["span_seconds"], 1e-6)
    stats.update(
        worker_wall_seconds=round(wall, 2),
        worker_cpu_seconds=round(cpu, 2),
        per_minute=round(stats["evaluated"] / span * 60),
        per_minute_including_startup=round(stats["evaluated"] / wall * 60),
        # Everything the worker did (start-up, evaluation, the e-mails it then sent) per CPU-minute:
        # what one worker with a core to itself would evaluate.
        per_cpu_minute=round(stats["evaluated"] / max(cpu, 1e-6) * 60),
        cpu_ms_per_response=round(cpu / max(stats["evaluated"], 1) * 1000, 2),
        load_average=os.getloadavg()[0],
    )
    stats["target_met"] = stats["per_minute"] >= TARGET_PER_MINUTE
    log(
        f"{label}: {stats['evaluated']} evaluated in {span:.1f} s → {stats['per_minute']:,}/min wall, "
        f"{stats['per_cpu_minute']:,}/CPU-min ({stats['cpu_ms_per_response']} ms CPU each)"
    )
    return stats


def run_one(db: str, n: int, per_task: int, keep: bool) -> dict[str, Any]:
    with site_for("rules", db, keep=keep) as site:
        t0 = time.monotonic()
        setup = _inner(site, "setup", "--n", str(n), "--per-task", "0")
        log(f"{db}: {n} responses written in {time.monotonic() - t0:.1f} s; {setup['rules']} rules")
        _inner(site, "enqueue", "--mode", "batch")
        batch = _drain(site, "batch")
        _inner(site, "setup", "--n", str(per_task), "--per-task", "1")
        per = _drain(site, "per-task")
        return {"db": db, "setup": setup, "batch": batch, "per_task": per}


# --- inside the site's environment ----------------------------------------------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _inner_setup(n: int, per_task: bool) -> dict[str, Any]:
    import random
    import uuid
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from manyi.customers.models import Customer
    from manyi.org.actions import do_create_staff, do_create_unit
    from manyi.org.choices import Role, UnitKind
    from manyi.org.models import OrgUnit
    from manyi.responses.models import Response
    from manyi.rules.actions import do_save_rule
    from manyi.rules.models import Rule
    from manyi.rules.tasks import evaluate_sources
    from manyi.surveys.models import SurveyLink

    rng = random.Random(20261123 + n + int(per_task))
    link = SurveyLink.objects.select_related("survey").order_by("id").first()
    assert link is not None
    company = OrgUnit.objects.get(code="bench")
    if not Rule.objects.exists():
        for i in range(2, 21):
            do_create_unit(
                code=f"bench-{i:03d}", name={"zh-hans": f"压测{i}店", "en": f"Store {i}"},
                kind=UnitKind.STORE, parent=company,
            )  # fmt: skip
        for u in OrgUnit.objects.filter(kind=UnitKind.STORE):
            staff = do_create_staff(
                username=f"mgr-{u.code}", password="bench-password-1", unit=u, role=Role.UNIT_MANAGER
            )
            staff.email = f"mgr-{u.code}@example.com"
            staff.save(update_fields=["email"])
            for t, tier in enumerate(("standard", "silver", "gold", "platinum")):
                Customer.objects.create(name=f"{u.code}-{t}", home_unit=u, tier=tier)
        do_save_rule(
            slug="detractors", name="Detractors", unit=company,
            condition={"field": "nps", "op": "<=", "value": 6},
            actions=[{"type": "open_case", "priority": "high"}, {"type": "notify", "roles": ["unit_manager"]}],
        )  # fmt: skip
        do_save_rule(
            slug="angry", name="Angry comments", unit=company, position=200,
            condition={"any": [
                {"field": "text.flags", "op": "any", "value": ["anger", "legal", "safety"]},
                {"field": "text.aspect", "value": "wait_time", "sentiment": "negative"},
            ]},
            actions=[{"type": "tag", "tags": ["angry"]}],
        )  # fmt: skip
        do_save_rule(
            slug="gold-unhappy", name="Unhappy gold customers", unit=company, position=300,
            condition={"all": [
                {"field": "customer.tier", "op": "in", "value": ["gold", "platinum"]},
                {"field": "csat", "op": "<=", "value": 2},
            ]},
            actions=[{"type": "resurvey", "list": "vip"}],
        )  # fmt: skip
    stores = list(OrgUnit.objects.filter(kind=UnitKind.STORE).values_list("id", flat=True))
    customers: dict[int, list[int]] = {}
    for cid, uid in Customer.objects.values_list("id", "home_unit_id"):
        customers.setdefault(uid, []).append(cid)
    version = link.survey.published_version()
    now = timezone.now()
    rows = []
    for i in range(n):
        unit = rng.choice(stores)
        comment = rng.choice(COMMENTS) if rng.random() < 0.35 else ""
        at = now - timedelta(seconds=n - i)
        rows.append(
            Response(
                submission_id=uuid.uuid4(),
                survey_id=link.survey_id,
                version=version,
                link=link,
                unit_id=unit,
                customer_id=rng.choice(customers[unit]) if rng.random() < 0.6 else None,
                channel="link",
                language="zh-hans",
                started_at=at,
                submitted_at=at,
                nps=rng.choices(range(11), weights=NPS_WEIGHTS)[0],
                csat=rng.randint(1, 5),
                ces=rng.randint(1, 7),
                comment=comment,
            )
        )
    with transaction.atomic():
        created = Response.objects.bulk_create(rows, batch_size=1000)
    ids = [r.pk for r in created]
    if per_task:
        for rid in ids:
            evaluate_sources.enqueue("response", [rid])
    with open(os.environ["MANYI_DATA_DIR"] + "/ids.json", "w") as fh:
        json.dump(ids, fh)
    return {"responses": n, "rules": Rule.objects.count(), "stores": len(stores)}


def _inner_enqueue() -> dict[str, Any]:
    from manyi.rules.tasks import evaluate_sources

    with open(os.environ["MANYI_DATA_DIR"] + "/ids.json") as fh:
        ids = json.load(fh)
    for i in range(0, len(ids), 1000):
        evaluate_sources.enqueue("response", ids[i : i + 1000])
    return {"tasks": (len(ids) + 999) // 1000}


def _inner_stats(label: str) -> dict[str, Any]:
    from django.db.models import Max, Min

    from manyi.cases.models import Case
    from manyi.notifications.models import Notification
    from manyi.rules.models import Evaluation, ResurveyEntry, RuleMatch, Tagging

    with open(os.environ["MANYI_DATA_DIR"] + "/ids.json") as fh:
        ids = json.load(fh)
    marks = Evaluation.objects.filter(kind="response", source_id__gte=min(ids), source_id__lte=max(ids))
    agg = marks.aggregate(first=Min("evaluated_at"), last=Max("evaluated_at"))
    evaluated = marks.count()
    span = (agg["last"] - agg["first"]).total_seconds() if evaluated else 0.0
    failed = marks.filter(outcome="failed").count()
    in_run = {"source_id__gte": min(ids), "source_id__lte": max(ids)}
    return {
        "label": label,
        "responses": len(ids),
        "evaluated": evaluated,
        "failed": failed,
        "span_seconds": round(span, 3),
        "matches": RuleMatch.objects.filter(**in_run).count(),
        "cases": Case.objects.filter(response_id__in=ids).count()
        if len(ids) <= 5000
        else Case.objects.filter(response_id__gte=min(ids), response_id__lte=max(ids)).count(),
        "tagged": Tagging.objects.filter(**in_run).count(),
        "resurvey": ResurveyEntry.objects.filter(**in_run).count(),
        "notifications": Notification.objects.filter(event__case_id__isnull=False).count(),
    }


def _inner_main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(prog="benchmarks.rules inner")
    p.add_argument("cmd", choices=["setup", "enqueue", "stats"])
    p.add_argument("--n", type=int, default=0)
    p.add_argument("--per-task", type=int, default=0)
    p.add_argument("--mode", default="batch")
    p.add_argument("--label", default="")
    a = p.parse_args(argv)
    _django()
    if a.cmd == "setup":
        emit(_inner_setup(a.n, bool(a.per_task)))
    elif a.cmd == "enqueue":
        emit(_inner_enqueue())
    else:
        emit(_inner_stats(a.label))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "inner":
        _inner_main(sys.argv[2:])
        return
    exit_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument("--n", type=int, default=20000, help="responses evaluated in batches")
    p.add_argument("--per-task", type=int, default=2000, help="responses evaluated one task each")
    a = p.parse_args()
    results = [run_one(db, a.n, a.per_task, a.keep) for db in dbs_from_arg(a.db)]
    emit(
        {
            "benchmark": "rules",
            "target_per_minute": TARGET_PER_MINUTE,
            "machine": machine(),
            "results": results,
        }
    )


if __name__ == "__main__":
    main()
