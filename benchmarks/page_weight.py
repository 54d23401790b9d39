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


def one_db(db: str, args: argparse.Namespace) -> dict[str, Any]:
    with site_for("weight", db, keep=args.keep, template=",".join(TEMPLATES)) as site:
        server = Server(site, free_port(), 1)
        log(f"{db}: manyi serve ready in {server.start():.1f} s")
        try:
            pages = []
            for template in TEMPLATES:
                token = site.info["surveys"][template]["token"]
                for lang in LANGS:
                    pages.append({"template": template, **measure_page(server.base, token, lang)})
        finally:
            server.stop()
    worst = max(pages, key=lambda r: r["total_without_js_bytes"])
    return {
        "db": db,
        "pages": pages,
        "worst_without_js_bytes": worst["total_without_js_bytes"],
        "worst_with_js_bytes": max(r["total_with_js_bytes"] for r in pages),
        "met": all(r["met_without_js"] for r in pages),
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
        "results": [one_db(db, args) for db in dbs_from_arg(args.db)],
    }
    emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
