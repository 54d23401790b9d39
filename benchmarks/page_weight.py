"""Weight of the survey page's first load, as transferred (compressed), against the 50 KB target.

    uv run python -m benchmarks.page_weight [--db sqlite|postgres|both]

Starts ``manyi serve`` (which runs collectstatic, so whitenoise serves its pre-compressed files),
GETs ``/s/<token>`` for each survey template and language with ``Accept-Encoding: gzip, br`` like
a phone browser on a first visit (no cookies, empty cache), then every stylesheet and script the
page links. Counts the bytes on the wire: the body as sent (compressed when the server
compressed it) and the response headers. The target is for the page without JavaScript (HTML +
CSS; the script is deferred enhancement); the figure with the script is printed too. Also prints
what the HTML would weigh gzipped, for the case the server sends it uncompressed.

Target: at most 50 KB = 50,000 bytes (the stricter reading of "KB"). Prints JSON.

The staff console is measured too: a staff member signs in, and for each console page (the
dashboard with its charts, the lists) every script the page loads is fetched with
``Accept-Encoding: gzip, br``; the JavaScript bytes on the wire per page are held against the
console target of 300 KB = 300,000 bytes of compressed JavaScript (ECharts included, and loaded
only on pages with charts).
"""

from __future__ import annotations

import argparse
import gzip
import html.parser
import sys
from typing import Any

from ._harness import (
    Server,
    add_common_args,
    dbs_from_arg,
    emit,
    exit_on_sigterm,
    free_port,
    log,
    machine,
    site_for,
)

TARGET_BYTES = 50_000
CONSOLE_JS_TARGET_BYTES = 300_000
CONSOLE_PAGES = ("/", "/?period=90d&metric=csi", "/responses/", "/units/", "/surveys/", "/cases/")
STAFF_USER, STAFF_PASSWORD = "weight-admin", "weight-bench-password-1"
TEMPLATES = ("store_csi", "relational_nps")
LANGS = ("zh-hans", "en")
ACCEPT = {
    "Accept-Encoding": "gzip, br",
    "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
    "User-Agent": "Mozilla/5.0 (Linux; Android 14) manyi-page-weight",
}


class _Assets(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.css: list[str] = []
        self.js: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and "stylesheet" in (a.get("rel") or "") and a.get("href"):
            self.css.append(str(a["href"]))
        elif tag == "script" and a.get("src"):
            self.js.append(str(a["src"]))
        elif tag == "img" and a.get("src"):
            self.images.append(str(a["src"]))


def _fetch(client: Any, url: str) -> dict[str, Any]:
    r = client.get(url, headers=ACCEPT)
    header_bytes = (
        len(f"HTTP/1.1 {r.status_code} {r.reason_phrase}\r\n")
        + sum(len(k) + len(v) + 4 for k, v in r.headers.raw)
        + 2
    )
    return {
        "url": url,
        "status": r.status_code,
        "content_encoding": r.headers.get("content-encoding", "identity"),
        "body_bytes_on_wire": r.num_bytes_downloaded,
        "body_bytes_decoded": len(r.content),
        "header_bytes": header_bytes,
        "cache_control": r.headers.get("cache-control", ""),
        "_content": r.content,
    }


def measure_page(base: str, token: str, lang: str) -> dict[str, Any]:
    import httpx

    with httpx.Client(base_url=base, timeout=10, follow_redirects=False) as client:
        page = _fetch(client, f"/s/{token}?lang={lang}")
        p = _Assets()
        p.feed(page["_content"].decode("utf-8", "replace"))
        html_bytes = page.pop("_content")
        page["html_gzip6_bytes_if_compressed"] = len(gzip.compress(html_bytes, 6))
        css = [_fetch(client, u) for u in p.css]
        js = [_fetch(client, u) for u in p.js]
        img = [_fetch(client, u) for u in p.images]
        favicon = _fetch(client, "/favicon.ico")  # browsers ask for it when the page names no icon
    for r in (*css, *js, *img, favicon):
        r.pop("_content")

    def wire(rs: list[dict[str, Any]]) -> int:
        return sum(r["body_bytes_on_wire"] + r["header_bytes"] for r in rs)

    without_js = wire([page, *css, *img])
    with_js = without_js + wire(js)
    html_if_gzipped = (
        without_js - page["body_bytes_on_wire"] + page["html_gzip6_bytes_if_compressed"]
        if page["content_encoding"] == "identity"
        else without_js
    )
    return {
        "lang": lang,
        "html": page,
        "css": css,
        "js": js,
        "images": img,
        "favicon_request": {k: favicon[k] for k in ("status", "body_bytes_on_wire", "header_bytes")},
        "total_without_js_bytes": without_js,
        "total_with_js_bytes": with_js,
        "total_without_js_if_html_gzipped_bytes": html_if_gzipped,
        "ratio_without_js_to_target": round(without_js / TARGET_BYTES, 3),
        "ratio_with_js_to_target": round(with_js / TARGET_BYTES, 3),
        "met_without_js": without_js <= TARGET_BYTES,
        "met_with_js": with_js <= TARGET_BYTES,
    }


def _create_staff(site: Any) -> None:
    """A company-wide administrator for the console pages (the harness's company is ``bench``)."""
    import subprocess

    code = (
        "from manyi.org.actions import do_create_staff; from manyi.org.choices import Role; "
        "from manyi.org.models import OrgUnit; "
        f"do_create_staff(username={STAFF_USER!r}, password={STAFF_PASSWORD!r}, "
        "unit=OrgUnit.objects.get(code='bench'), role=Role.ADMIN)"
    )
    subprocess.run(
        ["uv", "run", "manyi", "manage", "shell", "-c", code], env=site.env, check=True, capture_output=True
    )


def measure_console(base: str) -> list[dict[str, Any]]:
    """Compressed JavaScript per console page, for a signed-in staff member."""
    import httpx

    out = []
    with httpx.Client(base_url=base, timeout=20, follow_redirects=False) as client:
        client.get("/login/")
        token = client.cookies.get("csrftoken", "")
        r = client.post(
            "/login/",
            data={"username": STAFF_USER, "password": STAFF_PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/login/"},
        )
        if r.status_code != 302:
            raise SystemExit(f"console sign-in failed: {r.status_code}")
        for url in CONSOLE_PAGES:
            page = _fetch(client, url)
            p = _Assets()
            p.feed(page.pop("_content").decode("utf-8", "replace"))
            js = [_fetch(client, u) for u in p.js]
            for item in js:
                item.pop("_content")
            js_bytes = sum(item["body_bytes_on_wire"] for item in js)
            out.append(
                {
                    "url": url,
                    "status": page["status"],
                    "scripts": [
                        {
                            k: item[k]
                            for k in ("url", "content_encoding", "body_bytes_on_wire", "body_bytes_decoded")
                        }
                        for item in js
                    ],
                    "js_bytes_compressed": js_bytes,
                    "js_bytes_decoded": sum(item["body_bytes_decoded"] for item in js),
                    "met": js_bytes <= CONSOLE_JS_TARGET_BYTES,
                }
            )
    return out


def one_db(db: str, args: argparse.Namespace) -> dict[str, Any]:
    with site_for("weight", db, keep=args.keep, template=",".join(TEMPLATES)) as site:
        _create_staff(site)
        server = Server(site, free_port(), 1)
        log(f"{db}: manyi serve ready in {server.start():.1f} s")
        try:
            pages = []
            for template in TEMPLATES:
                token = site.info["surveys"][template]["token"]
                for lang in LANGS:
                    pages.append({"template": template, **measure_page(server.base, token, lang)})
            console = measure_console(server.base)
        finally:
            server.stop()
    worst = max(pages, key=lambda r: r["total_without_js_bytes"])
    return {
        "db": db,
        "pages": pages,
        "worst_without_js_bytes": worst["total_without_js_bytes"],
        "worst_with_js_bytes": max(r["total_with_js_bytes"] for r in pages),
        "met": all(r["met_without_js"] for r in pages),
        "console": console,
        "console_worst_js_bytes_compressed": max(c["js_bytes_compressed"] for c in console),
        "console_met": all(c["met"] for c in console),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.page_weight", description=__doc__.split("\n\n")[0])
    add_common_args(p)
    p.set_defaults(db="sqlite")
    args = p.parse_args(argv)
    exit_on_sigterm()
    out: dict[str, Any] = {
        "benchmark": "page_weight",
        "machine": machine(),
        "target_bytes": TARGET_BYTES,
        "console_js_target_bytes": CONSOLE_JS_TARGET_BYTES,
        "results": [one_db(db, args) for db in dbs_from_arg(args.db)],
    }
    emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
