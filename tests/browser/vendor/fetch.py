"""Fetch axe-core (the accessibility rules the browser tests inject) from the npm registry.

It is a test tool, not part of the app: it lives here, never under static/, and is injected into
pages by ``tests/browser/test_axe.py``. Same checks as ``scripts/vendor.py`` (sha512 integrity,
VERSION record with hashes, LICENSE).

    uv run python tests/browser/vendor/fetch.py           # fetch
    uv run python tests/browser/vendor/fetch.py --check   # verify the committed file offline
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def _vendor_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("manyi_vendor_script", ROOT / "scripts" / "vendor.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is made
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str]) -> int:
    mod = _vendor_module()
    mod.VENDOR = HERE.parent  # files land in tests/browser/vendor/
    pkg = mod.Package(name="axe-core", version="4", dest="vendor", files={"axe.min.js": "axe.min.js"})
    if "--check" in argv:
        problems = mod.check(pkg)
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        return 1 if problems else 0
    mod.vendor(pkg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
