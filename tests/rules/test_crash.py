"""Kill a real worker in the middle of a batch of rule evaluations, start it again: every detractor
has exactly one case, one match and one notification; nothing is duplicated and nothing is missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from manyi.cases.models import Case
from manyi.notifications.models import Event
from manyi.responses.models import Response
from manyi.rules import actions as rule_actions
from manyi.rules.models import Evaluation, EvaluationCursor, RuleMatch
from manyi.rules.tasks import catch_up_rules

from .conftest import make_rule, submit

ROOT = Path(__file__).resolve().parents[2]
N = 600


def worker(tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MANYI_DATA_DIR": str(tmp_path),
        "MANYI_DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "manyi.cli", "worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "ab"),
        start_new_session=True,
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the worker is pointed at the SQLite test file")
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_and_restarted_leaves_one_case_per_detractor(org, tmp_path, monkeypatch):
    make_rule(
        org.company,
        {"field": "nps", "op": "<=", "value": 6},
        [{"type": "open_case", "priority": "high"}, {"type": "notify", "roles": ["admin"]}],
    )
    # Answers arrive while no worker runs and their own tasks are lost: one catch-up batch has it all.
    monkeypatch.setattr(rule_actions, "enqueue_evaluation", lambda kind, source_id: None)
    links = [org.link_a, org.link_b, org.link_c]
    for i in range(N):
        submit(links[i % 3], nps=i % 11)
    detractors = set(Response.objects.filter(nps__lte=6).values_list("id", flat=True))
    catch_up_rules.enqueue()

    first = worker(tmp_path)
    try:
        deadline = time.monotonic() + 120
        while Case.objects.count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        opened = Case.objects.count()
        assert 0 < opened < len(detractors), f"the kill must land mid-run (cases so far: {opened})"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    killed_at = Case.objects.count()
    assert killed_at < len(detractors)

    # The killed task stays "running" in the queue; the periodic catch-up is what picks the rest up.
    catch_up_rules.enqueue()
    second = worker(tmp_path, "--until-idle")
    assert second.wait(timeout=300) == 0, (tmp_path / "worker.log").read_text()[-3000:]

    cases = Case.objects.filter(response__isnull=False)
    assert set(cases.values_list("response_id", flat=True)) == detractors
    assert cases.count() == len(detractors)
    assert not RuleMatch.objects.values("source_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert RuleMatch.objects.count() == len(detractors)
    assert Event.objects.filter(type="rule.matched").count() == len(detractors)
    assert Event.objects.filter(type="case.opened").count() == len(detractors)
    marked = set(Evaluation.objects.filter(kind="response").values_list("source_id", flat=True))
    assert marked | set(range(1, EvaluationCursor.objects.get(kind="response").evaluated_through + 1)) >= set(
        Response.objects.values_list("id", flat=True)
    )
