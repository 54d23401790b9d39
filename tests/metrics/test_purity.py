"""manyi.metrics stays pure Python: no Django, and importing it costs nothing until it is used."""

from __future__ import annotations

import pickle
import subprocess
import sys

from manyi import metrics


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_metrics_package_and_its_command_import_no_django():
    code = (
        "import sys, manyi.metrics as m, manyi.metrics.cli\n"
        "m.nps([10, 9, 3]); m.csi([[1, 2]], [1, 1]); m.by_group(m.csat, [5], ['a'])\n"
        "from manyi.metrics import _files\n"
        "print(sorted(k for k in sys.modules if k == 'django' or k.startswith('django.')))"
    )
    assert _run(code) == "[]"


def test_registering_the_command_loads_neither_numpy_nor_pandas():
    code = (
        "import sys, manyi.cli\n"
        "print(sorted(k for k in ('numpy', 'scipy', 'pandas', 'django') if k in sys.modules))"
    )
    assert _run(code) == "[]"


def test_the_public_names_are_all_exported_and_results_pickle():
    assert sorted(metrics.__all__) == sorted(n for n in metrics.__all__ if hasattr(metrics, n))
    est = metrics.nps([10, 9, 3])
    assert pickle.loads(pickle.dumps(est)) == est
    assert repr(metrics.Estimate).startswith("<class 'manyi.metrics.Estimate'")
