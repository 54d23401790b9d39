"""Optional sampling profile of the gunicorn workers while wrk runs (py-spy, when it can be found).

``py-spy`` is not a project dependency: it is looked up on PATH, else run with ``uv tool run
py-spy`` (which fetches it from PyPI once). The summary groups the samples of all workers into
the stages of a request, so a report can say where the time goes without a flame graph.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

# Stage name -> substrings of a frame ("function (file:line)"); the first stage found from the
# leaf upwards wins, so nested stages (SQL inside the view) are charged to the innermost one.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("sqlite/psycopg execute + commit", ("sqlite3/base.py", "psycopg/", "backends/utils.py")),
    (
        "ORM query compilation",
        ("db/models/sql/", "db/models/query.py", "db/models/base.py", "db/models/fields"),
    ),
    ("template rendering", ("django/template/",)),
    ("translation / gettext", ("utils/translation", "gettext.py")),
    ("answer parsing (surveys.questions)", ("manyi/surveys/questions.py",)),
    ("signing / hashing", ("core/signing.py", "hmac.py", "hashlib", "utils/crypto.py")),
    ("CSRF middleware", ("middleware/csrf.py",)),
    ("session / auth / axes middleware", ("contrib/sessions", "contrib/auth", "axes/")),
    ("whitenoise", ("whitenoise/",)),
    ("URL resolving", ("django/urls/",)),
    (
        "request parsing (QueryDict, multipart)",
        ("http/request.py", "http/multipartparser.py", "utils/datastructures.py"),
    ),
    ("gunicorn (socket, http parsing)", ("gunicorn/",)),
    ("manyi views/actions (own code)", ("manyi/",)),
    ("other django", ("django/",)),
]


def py_spy_cmd() -> list[str] | None:
    if shutil.which("py-spy"):
        return ["py-spy"]
    if shutil.which("uv"):
        return ["uv", "tool", "run", "py-spy"]
    return None


def start(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    cmd = py_spy_cmd()
    if cmd is None:
        return None
    return subprocess.Popen(
        [*cmd, "record", "--pid", str(pid), "--subprocesses", "--format", "raw", "--rate", "97",
         "--duration", str(seconds), "--nonblocking", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def summarize(raw: Path, top: int = 25) -> dict[str, Any]:
    """Per-stage share of busy worker samples, and the frames with the highest inclusive share."""
    stages: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n_s = line.rpartition(" ")
        if not stack or not n_s.isdigit():
            continue
        n = int(n_s)
        frames = stack.split(";")
        if any("gunicorn/arbiter.py" in f and "sleep" in f for f in frames[-2:]):
            continue  # the master waiting; not request work
        total += n
        for f in frames[::-1]:
            stage = next((name for name, keys in STAGES if any(k in f for k in keys)), None)
            if stage:
                stages[stage] += n
                break
        else:
            stages["other"] += n
        for f in set(frames):
            if "manyi/" in f or "django/" in f or "gunicorn/workers" in f:
                inclusive[_short(f)] += n
    if not total:
        return {"samples": 0}
    return {
        "samples": total,
        "self_time_by_stage_pct": {k: round(100 * v / total, 1) for k, v in stages.most_common()},
        "top_inclusive_pct": {k: round(100 * v / total, 1) for k, v in inclusive.most_common(top)},
    }


def _short(frame: str) -> str:
    # "get_response (django/core/handlers/base.py:140)" -> "get_response (django/core/handlers/base.py)"
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"
