"""Settings come from the environment through one typed helper."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_py(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("MANYI_")} | env
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60)


def test_secret_key_is_generated_once_and_kept_in_the_data_dir(tmp_path):
    code = "from manyi.settings.env import load; print(load().secret_key)"
    first = run_py(code, MANYI_DATA_DIR=str(tmp_path))
    second = run_py(code, MANYI_DATA_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) >= 50
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first.stdout.strip()
    assert oct(key_file.stat().st_mode)[-3:] == "600"


def test_default_database_is_sqlite_in_wal_mode_inside_the_data_dir(tmp_path):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='manyi.settings'; django.setup();"
        "from django.db import connection; c=connection.cursor(); c.execute('PRAGMA journal_mode');"
        "print(connection.settings_dict['NAME']); print(c.fetchone()[0])"
    )
    out = run_py(code, MANYI_DATA_DIR=str(tmp_path))
    assert out.returncode == 0, out.stderr
    name, mode = out.stdout.split()
    assert name == str(tmp_path / "manyi.sqlite3")
    assert mode == "wal"


def test_database_url_switches_to_postgresql(tmp_path):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='manyi.settings'; django.setup();"
        "from django.db import connection; print(connection.vendor, connection.settings_dict['NAME'])"
    )
    out = run_py(
        code, MANYI_DATA_DIR=str(tmp_path), MANYI_DATABASE_URL="postgres://postgres@127.0.0.1:5432/manyi_x"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["postgresql", "manyi_x"]


def test_an_unsupported_database_url_is_refused_with_a_clear_message(tmp_path):
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='manyi.settings'; django.setup()"
    out = run_py(code, MANYI_DATA_DIR=str(tmp_path), MANYI_DATABASE_URL="mysql://root@localhost/x")
    assert out.returncode != 0
    assert "MANYI_DATABASE_URL must start with postgres:// or sqlite://" in out.stderr


def test_every_variable_the_code_reads_is_documented_in_env_example():
    source = (ROOT / "src/manyi/settings/env.py").read_text()
    import re

    read = set(re.findall(r'"(MANYI_[A-Z_]+)"', source))
    documented = set(re.findall(r"^#?\s*(MANYI_[A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "no variables found"
    assert read <= documented, f"undocumented: {sorted(read - documented)}"
