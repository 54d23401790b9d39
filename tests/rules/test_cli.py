"""``manyi rules``: dry-run a rule by id or slug, save one from a file, run the catch-up."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from manyi.cases.models import Case
from manyi.cli import app
from manyi.rules.models import Evaluation, Rule, RuleMatch

from .conftest import make_rule, submit

runner = CliRunner()
OLD = datetime(2026, 3, 2, 4, tzinfo=UTC)


def run(*args: str):
    return runner.invoke(app, ["rules", *args], catch_exceptions=False)


@pytest.mark.django_db
def test_dry_run_json_counts_matches_since_a_date_and_lists_a_sample(org):
    rule = make_rule(org.company)
    for n in (0, 5, 7, 10):
        submit(org.link_a, nps=n, comment=f"nps {n}", now=OLD)
    submit(org.link_b, nps=2, comment="before", now=datetime(2026, 2, 1, tzinfo=UTC))
    for ref in (str(rule.pk), "detractors"):
        result = run("dry-run", ref, "--since", "2026-03-01", "--format", "json")
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["rule"] == {"id": rule.pk, "slug": "detractors", "version": 1}
        assert (data["count"], data["matched"]["response"], data["scanned"]["response"]) == (2, 2, 4)
        assert sorted(m["text"] for m in data["sample"]) == ["nps 0", "nps 5"]
        assert data["since"] == "2026-03-01T00:00:00+08:00"
    assert not RuleMatch.objects.exists() and not Case.objects.exists() and not Evaluation.objects.exists()


@pytest.mark.django_db
def test_dry_run_as_a_table_says_what_matched(org):
    make_rule(org.company)
    submit(org.link_a, nps=1, comment="差", now=OLD)
    result = run("dry-run", "detractors", "--since", "2026-03-01T00:00:00+08:00")
    assert result.exit_code == 0
    assert "1 matched (1 responses of 1" in result.stdout


@pytest.mark.django_db
def test_dry_run_of_an_unknown_rule_or_a_bad_date_fails_with_a_message(org):
    make_rule(org.company)
    unknown = run("dry-run", "nope", "--since", "2026-03-01")
    assert unknown.exit_code == 1 and "no rule has the id or slug 'nope'" in unknown.stderr
    bad = run("dry-run", "detractors", "--since", "March")
    assert bad.exit_code == 2 and "expected a date like 2026-11-01" in bad.stderr


@pytest.mark.django_db
def test_save_from_a_file_refuses_an_invalid_condition_line_by_line(org, tmp_path):
    f = tmp_path / "rule.json"
    f.write_text(
        json.dumps(
            {
                "slug": "x",
                "name": "X",
                "unit": "acme",
                "condition": {"field": "nps", "op": "<=", "value": 12},
                "actions": [{"type": "frobnicate"}],
            }
        )
    )
    result = run("save", "--file", str(f))
    assert result.exit_code == 1
    assert "error: condition.value: nps is on a scale from 0 to 10, got 12" in result.stderr
    assert "error: actions[0]: unknown action type" in result.stderr
    assert not Rule.objects.exists()
    f.write_text(
        json.dumps(
            {
                "slug": "x",
                "name": "X",
                "unit": "acme",
                "condition": {"field": "nps", "op": "<=", "value": 6},
                "actions": [{"type": "open_case"}],
            }
        )
    )
    saved = run("save", "--file", str(f), "--format", "json")
    assert json.loads(saved.stdout) == {"id": Rule.objects.get().pk, "slug": "x", "version": 1}


@pytest.mark.django_db
def test_catch_up_evaluates_and_prints_a_summary(org):
    make_rule(org.company)
    submit(org.link_a, nps=1)
    data = json.loads(run("catch-up").stdout)
    assert (data["evaluated"], data["cases_opened"]) == (1, 1)
