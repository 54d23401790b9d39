"""`manyi cases list|scan|holidays`: the JSON contract, filters and errors."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from typer.testing import CliRunner

from manyi.cases import actions
from manyi.cli import app
from tests.cases.conftest import MONDAY_10, complaint, respond

pytestmark = pytest.mark.django_db
runner = CliRunner()
KEYS = [
    "id",
    "status",
    "priority",
    "unit",
    "assignee",
    "source",
    "first_response_due",
    "resolution_due",
    "created_at",
]


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_cases_list_json_gives_exactly_the_documented_fields(cw, normal_policy):
    org = cw.org
    by_response, _ = actions.open_case(
        unit=org.store_a, title="r", response=respond(org, cw.customer, nps=1), now=MONDAY_10
    )
    by_feedback, _ = actions.open_case(
        unit=org.store_c, title="f", feedback=complaint(org), priority="high", now=MONDAY_10
    )
    result = run("cases", "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert all(list(r) == KEYS for r in rows.values())
    r = rows[by_response.pk]
    assert r["status"] == "assigned" and r["priority"] == "normal" and r["unit"] == "sh-001"
    assert r["assignee"] == "mgr-a"
    assert r["source"] == {"type": "response", "id": by_response.response_id}
    assert datetime.fromisoformat(r["first_response_due"]) == by_response.first_response_due
    assert datetime.fromisoformat(r["created_at"]) == MONDAY_10
    f = rows[by_feedback.pk]
    assert f["source"] == {"type": "feedback", "id": by_feedback.feedback_id}
    assert f["resolution_due"] is None  # no policy for high priority


def test_cases_list_filters_by_status_and_by_unit_subtree(cw):
    org = cw.org
    a, _ = actions.open_case(unit=org.store_a, title="a", feedback=complaint(org))
    c, _ = actions.open_case(unit=org.store_c, title="c", feedback=complaint(org))
    east = json.loads(run("cases", "list", "--format", "json", "--unit", "east").stdout)
    assert [r["id"] for r in east] == [a.pk]
    actions.do_transition(a, "in_progress")
    working = json.loads(run("cases", "list", "--format", "json", "--status", "in_progress").stdout)
    assert [r["id"] for r in working] == [a.pk]
    assigned = json.loads(run("cases", "list", "--format", "json", "--status", "assigned").stdout)
    assert [r["id"] for r in assigned] == [c.pk]


def test_cases_list_table_lists_each_case(cw):
    actions.open_case(unit=cw.org.store_a, title="a", feedback=complaint(cw.org))
    result = runner.invoke(app, ["cases", "list"], env={"COLUMNS": "200"}, catch_exceptions=False)
    assert result.exit_code == 0
    assert "sh-001" in result.stdout and "feedback" in result.stdout
    assert "1 cases" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "done"], "--status must be one of new, assigned"),
        (["--unit", "nowhere"], "no org unit with code 'nowhere'"),
    ],
)
def test_cases_list_refuses_bad_filters_in_one_line(cw, args, message):
    result = run("cases", "list", "--format", "json", *args)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_cases_scan_fires_due_escalations_at_the_given_instant(cw, normal_policy):
    actions.open_case(unit=cw.org.store_a, title="a", feedback=complaint(cw.org), now=MONDAY_10)
    result = run("cases", "scan", "--now", "2026-11-23T12:00:00+08:00")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"escalations": 1, "resurveys": 0}
    bad = run("cases", "scan", "--now", "2026-11-23T12:00:00")
    assert bad.exit_code == 1 and "UTC offset" in bad.stderr


def test_a_holiday_file_with_a_bad_entry_is_refused_naming_it(cw, tmp_path):
    f = tmp_path / "h.json"
    f.write_text(json.dumps({"region": "CN", "holidays": [{"from": "2027-02-30", "to": "2027-03-01"}]}))
    result = run("cases", "holidays", "load", str(f))
    assert result.exit_code == 1
    assert 'holidays entry 1: "from" and "to" must be dates' in result.stderr
    good = tmp_path / "g.json"
    good.write_text(
        json.dumps(
            {"region": "CN", "holidays": [{"from": "2027-01-01", "to": "2027-01-01", "en": "New Year"}]}
        )
    )
    assert json.loads(run("cases", "holidays", "load", str(good)).stdout) == {"days": 1}
