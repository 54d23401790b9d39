"""The `manyi` command's contracts: JSON shapes, exit codes, help, and one-line configuration errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from typer.testing import CliRunner

from manyi.cli import app
from manyi.customers.models import Customer
from manyi.surveys.actions import do_create_link, do_create_survey
from manyi.surveys.choices import LinkKind
from tests.conftest import csi_answers

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def run_json(*args: str) -> Any:
    result = run(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def all_command_paths() -> list[list[str]]:
    """Every command and group of the CLI, as the words typed after `manyi`."""
    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(group: Any, prefix: list[str]) -> None:
        # Typer ships its own click, so groups are recognised by their sub-commands, not their class.
        for name, cmd in group.commands.items():
            paths.append([*prefix, name])
            if getattr(cmd, "commands", None):
                walk(cmd, [*prefix, name])

    walk(root, [])
    return paths


@pytest.mark.django_db(transaction=True)
def test_stats_json_has_exactly_the_documented_counts_as_integers(org):
    client = Client()
    page = client.get(f"/s/{org.link_a.token}")
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.content.decode()))
    assert client.post(f"/s/{org.link_a.token}", {**hidden, **csi_answers()}).status_code == 303
    get_user_model().objects.create_user("left-the-company", is_active=False)

    data = run_json("stats", "--format", "json")
    assert set(data) == {"org_units", "staff", "surveys", "responses", "feedback", "cases"}
    assert all(type(v) is int for v in data.values()), data
    assert data == {"org_units": 7, "staff": 3, "surveys": 1, "responses": 1, "feedback": 0, "cases": 0}


@pytest.mark.django_db(transaction=True)
def test_stats_json_on_an_empty_database_is_all_zeros():
    data = run_json("stats", "--format", "json")
    assert data == dict.fromkeys(("org_units", "staff", "surveys", "responses", "feedback", "cases"), 0)


@pytest.mark.django_db(transaction=True)
def test_stats_as_a_table_prints_one_line_per_count(org):
    result = run("stats")
    assert result.exit_code == 0
    assert "org_units: 7" in result.stdout
    assert "responses: 0" in result.stdout


@pytest.mark.django_db(transaction=True)
def test_surveys_list_json_lists_questions_and_public_links(org):
    customer = Customer.objects.create(name="张伟", home_unit=org.store_a)
    do_create_link(survey=org.survey, kind=LinkKind.PERSONAL, customer=customer)  # never listed
    anon = do_create_link(survey=org.survey, kind=LinkKind.ANONYMOUS)
    draft = do_create_survey(slug="ces-draft", unit=org.company, template="support_ces")  # unpublished

    data = run_json("surveys", "list", "--format", "json")
    assert isinstance(data, list) and [s["slug"] for s in data] == ["store-csi", "ces-draft"]
    for s in data:
        assert {"id", "slug", "name", "status", "version", "questions", "links"} <= set(s), sorted(s)
        assert type(s["id"]) is int and type(s["version"]) is int
        assert set(s["name"]) == {"zh-hans", "en"}
        for q in s["questions"]:
            assert set(q) == {"code", "type", "required", "options"}, q
            assert isinstance(q["code"], str) and isinstance(q["type"], str)
            assert isinstance(q["required"], bool) and isinstance(q["options"], list)
        for link in s["links"]:
            assert set(link) == {"kind", "url", "unit"}, link

    csi = data[0]
    assert (csi["id"], csi["status"], csi["version"]) == (org.survey.pk, "active", 1)
    questions = {q["code"]: q for q in csi["questions"]}
    assert list(questions) == ["nps", "csat", "csi", "sq_wait", "comment", "contact_ok"]
    assert questions["nps"] == {"code": "nps", "type": "nps", "required": True, "options": list(range(11))}
    assert questions["csi"]["options"][0] == {"row": "tangibles", "scale": [1, 5]}
    assert questions["contact_ok"]["options"] == ["yes", "no"]
    assert questions["comment"]["required"] is False
    links = csi["links"]
    assert all(link["kind"] != "personal" for link in links)
    by_token = {link["url"].rsplit("/s/", 1)[1]: link for link in links}
    assert set(by_token) == {org.link_a.token, org.link_b.token, org.link_c.token, anon.token}
    assert by_token[org.link_a.token] == {
        "kind": "unit",
        "url": f"{settings.MANYI_BASE_URL}/s/{org.link_a.token}",
        "unit": "sh-001",
    }
    assert by_token[org.link_c.token]["unit"] == "cd-001"
    assert by_token[anon.token] == {**by_token[anon.token], "kind": "anonymous", "unit": "acme"}

    ces = data[1]
    assert (ces["id"], ces["status"], ces["version"]) == (draft.pk, "draft", 1)
    assert [q["code"] for q in ces["questions"]] == ["ces", "resolved", "comment"]
    assert next(q for q in ces["questions"] if q["code"] == "resolved")["options"] == ["yes", "partly", "no"]
    assert ces["links"] == []


@pytest.mark.django_db(transaction=True)
def test_surveys_list_json_is_an_empty_list_without_surveys():
    assert run_json("surveys", "list", "--format", "json") == []


@pytest.mark.django_db(transaction=True)
def test_check_json_reports_a_demo_account_as_an_error_and_exits_1(org):
    get_user_model().objects.create_user("demo-admin", password="manyi-demo")
    result = run("check", "--format", "json")
    assert result.exit_code == 1, (result.stdout, result.stderr)
    findings = json.loads(result.stdout)
    assert isinstance(findings, list)
    for f in findings:
        assert set(f) == {"level", "id", "message"}
        assert f["level"] in ("error", "warning")
    demo = [f for f in findings if f["id"] == "manyi.E011"]
    assert len(demo) == 1
    assert demo[0]["level"] == "error"
    assert "demo-admin" in demo[0]["message"]


@pytest.mark.django_db(transaction=True)
def test_check_does_not_flag_a_deactivated_demo_account(org):
    get_user_model().objects.create_user("demo-cx", password="manyi-demo", is_active=False)
    result = run("check", "--format", "json")
    findings = json.loads(result.stdout)
    assert not [f for f in findings if f["id"] == "manyi.E011"]
    errors = [f for f in findings if f["level"] == "error"]
    assert result.exit_code == (1 if errors else 0)


@pytest.mark.django_db(transaction=True)
def test_check_as_text_names_the_demo_account_and_exits_1(org):
    get_user_model().objects.create_user("demo-store", password="manyi-demo")
    result = run("check")
    assert result.exit_code == 1
    assert "[error] manyi.E011" in result.stdout
    assert "demo-store" in result.stdout


@pytest.mark.parametrize("words", all_command_paths(), ids=lambda w: " ".join(w) or "manyi")
def test_help_works_for_every_command(words):
    result = run(*words, "--help")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "Usage:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    if words:
        assert words[-1] in result.stdout


def test_every_documented_command_exists():
    paths = {" ".join(p) for p in all_command_paths()}
    expected = (
        "serve",
        "worker",
        "migrate",
        "createadmin",
        "check",
        "demo",
        "stats",
        "surveys list",
        "manage",
    )
    assert set(expected) <= paths


def test_format_must_be_table_or_json():
    result = runner.invoke(app, ["stats", "--format", "xml"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def manyi_subprocess(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `uv run manyi ...` as a person would, with its own data dir and the given environment."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MANYI_", "DJANGO_", "VIRTUAL_ENV"))}
    full_env.update({"MANYI_DATA_DIR": str(tmp_path / "var"), **env})
    uv = shutil.which("uv")
    cmd = [uv, "run", "--no-sync", "manyi", *args] if uv else [sys.executable, "-m", "manyi.cli", *args]
    return subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("url", ["mysql://manyi:secret@127.0.0.1:3306/manyi", "oracle://x", "nonsense"])
def test_a_database_url_with_an_unsupported_scheme_exits_non_zero_with_a_one_line_error(tmp_path, url):
    for args in (("stats",), ("surveys", "list", "--format", "json"), ("check",)):
        proc = manyi_subprocess(tmp_path, *args, MANYI_DATABASE_URL=url)
        assert proc.returncode != 0
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr[-500:]
        assert lines[0].startswith("error: MANYI_DATABASE_URL")
        assert "Traceback" not in proc.stderr
        assert "secret" not in proc.stderr  # the password in the URL is not echoed


def test_an_unreachable_database_exits_non_zero_with_a_one_line_error(tmp_path):
    proc = manyi_subprocess(
        tmp_path, "stats", "--format", "json", MANYI_DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere"
    )
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-500:]
    assert lines[0].startswith("error:")
