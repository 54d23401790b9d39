"""Run every benchmark in benchmarks/ that exists and collect their JSON.

    uv run python -m benchmarks.run [--db sqlite|postgres|both] [--seconds 20] [--only a,b] [--out FILE]

Runs submit_load, crash, page_weight, demo_load and metrics_bench, then any other module of
benchmarks/ not starting with "_". Each runs as ``python -m benchmarks.<name>`` in its own process
(with ``--db`` when its --help lists it, and ``--seconds`` for submit_load); its progress goes to
stderr as it runs and its JSON (stdout) is collected under its name. Missing benchmarks are
skipped with a message. The load benchmarks need wrk (/usr/bin/wrk) and PostgreSQL on
127.0.0.1:5432 for ``--db postgres|both``. Exits 1 when a benchmark failed to run or its own
exactness checks failed (never because a performance target was missed).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ._harness import ROOT, emit, log, machine

# These first, in this order (a missing one is reported as skipped); then every other module in
# benchmarks/ whose name does not start with "_", alphabetically.
KNOWN = ["submit_load", "crash", "page_weight", "demo_load", "metrics_bench"]
TIMEOUT_S = 45 * 60


def discover() -> list[str]:
    here = Path(__file__).resolve().parent
    others = sorted(
        f.stem for f in here.glob("*.py") if not f.stem.startswith("_") and f.stem not in (*KNOWN, "run")
    )
    return [*KNOWN, *others]


def _args_for(name: str, a: argparse.Namespace) -> list[str]:
    helptext = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    out = []
    if "--db" in helptext:
        out += ["--db", a.db]
    if name == "submit_load" and "--seconds" in helptext:
        out += ["--seconds", str(a.seconds)]
    return out


def _last_json(text: str) -> Any:
    """The benchmark's JSON document: the whole stdout, else its last top-level JSON object."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    start = text.rfind("\n{")
    while start != -1:
        try:
            return json.loads(text[start + 1 :])
        except ValueError:
            start = text.rfind("\n{", 0, start)
    return json.loads(text) if text.startswith("{") else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--seconds", type=int, default=20, help="duration of each measured load run")
    p.add_argument("--only", help="comma-separated benchmark names")
    p.add_argument("--out", help="also write the collected JSON to this file")
    a = p.parse_args(argv)
    only = set(a.only.split(",")) if a.only else None

    results: dict[str, Any] = {}
    failed = False
    for name in discover():
        if only and name not in only:
            continue
        if importlib.util.find_spec(f"benchmarks.{name}") is None:
            log(f"skipping {name}: benchmarks/{name}.py does not exist")
            results[name] = {"skipped": "not present"}
            continue
        cmd = [sys.executable, "-m", f"benchmarks.{name}", *_args_for(name, a)]
        log(f"running {' '.join(cmd[1:])}")
        t0 = time.monotonic()
        try:
            proc = subprocess.run(
                cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            results[name] = {"error": f"timed out after {TIMEOUT_S} s"}
            failed = True
            continue
        elapsed = round(time.monotonic() - t0, 1)
        try:
            data = _last_json(proc.stdout)
        except ValueError:
            data = None
        if data is None:
            results[name] = {
                "error": "printed no JSON",
                "returncode": proc.returncode,
                "stdout_tail": proc.stdout[-2000:],
            }
            failed = True
            continue
        results[name] = {"returncode": proc.returncode, "elapsed_s": elapsed, "result": data}
        if proc.returncode != 0:
            failed = True
            log(f"{name} exited {proc.returncode}")

    out = {"benchmark": "run", "machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "results": results}  # fmt: skip
    if a.out:
        Path(a.out).write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str) + "\n")
    emit(out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
