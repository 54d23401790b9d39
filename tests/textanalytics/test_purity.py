"""manyi.textanalytics stays pure Python: no Django, and registering ``manyi text`` costs nothing."""

from __future__ import annotations

import subprocess
import sys

from manyi import textanalytics as ta


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_package_and_its_command_import_no_django_and_no_scikit_learn():
    code = (
        "import sys, manyi.textanalytics as ta, manyi.textanalytics.cli\n"
        "ta.analyze('菜很好吃，但是等了一个小时'); ta.analyze('great food'); ta.emerging_topics([['a']], [['b']])\n"
        "print(sorted({k.split('.')[0] for k in sys.modules if k.split('.')[0] in ('django', 'sklearn', 'pandas')}))"
    )
    assert _run(code) == "[]"


def test_registering_the_text_command_loads_no_numpy():
    code = "import sys, manyi.textanalytics.cli\nprint('numpy' in sys.modules)"
    assert _run(code) == "False"


def test_the_public_names_are_all_exported():
    assert all(hasattr(ta, n) for n in ta.__all__)
    assert repr(ta.Analyzer).startswith("<class 'manyi.textanalytics.Analyzer'")
