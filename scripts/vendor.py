"""Fetch the browser libraries the console serves itself (no CDN, no Node at run time).

Each package in ``PACKAGES`` is looked up on the npm registry, its tarball is downloaded and checked
against the registry's sha512 integrity, and the listed files are copied into
``src/manyi/static/vendor/<dest>/`` with the package's licence and a ``VERSION`` file that records
the version, the tarball URL and its hashes. The result is committed, so a checkout serves without
network access.

    uv run python scripts/vendor.py            # fetch every package
    uv run python scripts/vendor.py htmx.org   # only these packages
    uv run python scripts/vendor.py --check    # verify the committed files against VERSION (offline)

To add a package (e.g. ECharts for dashboards), add a line to ``PACKAGES`` and run the script.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import sys
import tarfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "manyi" / "static" / "vendor"
LICENSE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "license")


@dataclass(frozen=True)
class Package:
    """An npm package to vendor.

    ``version`` is an exact version ("2.0.11") or a major/minor prefix ("2", "5.6") meaning the newest
    stable release in that line. ``files`` maps a path inside the tarball (without the leading
    ``package/``) to a file name under ``static/vendor/<dest>/``.
    """

    name: str
    version: str
    dest: str
    files: dict[str, str]
    license_files: tuple[str, ...] = field(default=LICENSE_NAMES)


PACKAGES: list[Package] = [
    Package(name="htmx.org", version="2", dest="htmx", files={"dist/htmx.min.js": "htmx.min.js"}),
    # The "common" build (line, bar, pie, scatter; tooltip, markers, legend, dataZoom, aria, dataset):
    # 240 KB gzipped against 368 KB for the full build, which keeps a dashboard page under the
    # 300 KB budget of compressed JavaScript. The NOTICE travels with the code (Apache-2.0 §4d).
    Package(
        name="echarts",
        version="6",
        dest="echarts",
        files={"dist/echarts.common.min.js": "echarts.common.min.js", "NOTICE": "NOTICE"},
    ),
]

STABLE = re.compile(r"^\d+\.\d+\.\d+$")


def _get(url: str, accept: str = "*/*") -> bytes:
    req = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "manyi-vendor/1"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        data: bytes = resp.read()
        return data


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def resolve(pkg: Package) -> tuple[str, dict[str, str]]:
    """The version to fetch and its ``dist`` record (tarball URL, integrity) from the registry."""
    # The abbreviated ("corgi") document lists every version with its dist record and is much smaller.
    doc = json.loads(_get(f"{REGISTRY}/{pkg.name}", accept="application/vnd.npm.install-v1+json"))
    versions: dict[str, dict[str, dict[str, str]]] = doc["versions"]
    if pkg.version in versions:
        chosen = pkg.version
    else:
        prefix = pkg.version.rstrip(".") + "."
        candidates = [v for v in versions if STABLE.match(v) and v.startswith(prefix)]
        if not candidates:
            raise SystemExit(f"error: {pkg.name}: no stable version matches {pkg.version!r}")
        chosen = max(candidates, key=_key)
    return chosen, versions[chosen]["dist"]


def _check_integrity(name: str, data: bytes, integrity: str) -> str:
    algo, _, expected = integrity.partition("-")
    if algo != "sha512":
        raise SystemExit(f"error: {name}: unsupported integrity algorithm {algo!r}")
    got = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if got != expected:
        raise SystemExit(f"error: {name}: tarball sha512 does not match the registry ({got} != {expected})")
    return integrity


def vendor(pkg: Package) -> Path:
    """Download, verify and copy one package; return its directory."""
    version, dist = resolve(pkg)
    url = dist["tarball"]
    print(f"{pkg.name} {version}: {url}", file=sys.stderr)
    data = _get(url)
    integrity = _check_integrity(pkg.name, data, dist["integrity"])
    out = VENDOR / pkg.dest
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"package: {pkg.name}",
        f"version: {version}",
        f"source: {url}",
        f"tarball-sha512: {integrity}",
        f"tarball-sha256: {hashlib.sha256(data).hexdigest()}",
    ]
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if m.isfile() and "/" in m.name}
        wanted = dict(pkg.files)
        lic = next((n for n in pkg.license_files if n in members), None)
        if lic is None:
            raise SystemExit(f"error: {pkg.name} {version}: no licence file in the tarball")
        wanted[lic] = "LICENSE"
        for src, dest in wanted.items():
            member = members.get(src)
            if member is None:
                raise SystemExit(f"error: {pkg.name} {version}: {src} is not in the tarball")
            fh = tar.extractfile(member)
            assert fh is not None
            content = fh.read()
            (out / dest).write_bytes(content)
            lines.append(f"file: {dest} sha256={hashlib.sha256(content).hexdigest()} from={src}")
    (out / "VERSION").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def check(pkg: Package) -> list[str]:
    """Differences between the committed files and their VERSION record; empty when all match."""
    out = VENDOR / pkg.dest
    record = out / "VERSION"
    if not record.exists():
        return [f"{pkg.name}: {record.relative_to(ROOT)} is missing; run scripts/vendor.py"]
    problems = []
    for line in record.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^file: (\S+) sha256=([0-9a-f]{64})", line)
        if not m:
            continue
        path = out / m.group(1)
        if not path.exists():
            problems.append(f"{pkg.name}: {path.relative_to(ROOT)} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != m.group(2):
            problems.append(f"{pkg.name}: {path.relative_to(ROOT)} differs from its VERSION record")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="package names to fetch (default: all)")
    parser.add_argument("--check", action="store_true", help="verify committed files offline")
    args = parser.parse_args(argv)
    known = {p.name: p for p in PACKAGES}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"error: unknown package(s) {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    chosen = [known[n] for n in args.names] if args.names else PACKAGES
    if args.check:
        problems = [p for pkg in chosen for p in check(pkg)]
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        return 1 if problems else 0
    for pkg in chosen:
        path = vendor(pkg)
        print(f"  -> {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
