"""A printable A4 sheet of QR codes, one cell per store, with store names in Chinese and English.

PDF viewers have no Chinese glyphs of their own, so a CJK font is embedded (subset to the characters
used). It is looked for at the paths Debian's ``fonts-noto-cjk`` and other common packages install;
without one the sheet is refused with a message that says what to install, never printed as boxes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import segno
from django.utils.translation import gettext as _

#: (path, index in a font collection); the first that exists is used.
CJK_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # Noto Sans CJK SC
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),  # Arch, Fedora
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),  # macOS
)

COLUMNS, ROWS = 2, 3
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 12.0
QR_MM = 52.0


class QrSheetUnavailable(Exception):
    """No font that can write Chinese was found, so the sheet cannot be made."""


def find_cjk_font(candidates: Sequence[tuple[str, int]] = CJK_FONTS) -> tuple[str, int] | None:
    for path, index in candidates:
        if Path(path).is_file():
            return path, index
    return None


def _label(name: Any, lang: str) -> str:
    if isinstance(name, dict):
        return str(name.get(lang) or "")
    return str(name or "")


def qr_sheet_pdf(
    *,
    title: Any,
    stores: Sequence[tuple[Any, str, str]],
    fonts: Sequence[tuple[str, int]] = CJK_FONTS,
) -> bytes:
    """The PDF as bytes. ``stores`` are ``(name {"zh-hans", "en"}, unit code, survey URL)``."""
    from fpdf import FPDF

    found = find_cjk_font(fonts)
    if found is None:
        raise QrSheetUnavailable(
            _(
                "No Chinese font was found to print store names, so no PDF was made. Install the "
                "fonts-noto-cjk package (Debian/Ubuntu) or Noto Sans CJK, then try again. Looked in: {paths}"
            ).format(paths=", ".join(p for p, _i in fonts))
        )
    path, index = found
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # subsetting logs every table at INFO
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    kwargs: dict[str, Any] = {"collection_font_number": index} if path.endswith(".ttc") else {}
    pdf.add_font("cjk", "", path, **kwargs)
    pdf.set_title(_label(title, "en") or _label(title, "zh-hans"))
    heading = " · ".join(x for x in (_label(title, "zh-hans"), _label(title, "en")) if x)

    cell_w = (PAGE_W - 2 * MARGIN) / COLUMNS
    cell_h = (PAGE_H - 2 * MARGIN - 10) / ROWS
    per_page = COLUMNS * ROWS
    for i, (name, code, url) in enumerate(stores):
        slot = i % per_page
        if slot == 0:
            pdf.add_page()
            pdf.set_font("cjk", size=11)
            pdf.set_xy(MARGIN, MARGIN - 4)
            pdf.cell(PAGE_W - 2 * MARGIN, 6, heading, align="C")
        col, row = slot % COLUMNS, slot // COLUMNS
        x0 = MARGIN + col * cell_w
        y0 = MARGIN + 6 + row * cell_h
        pdf.set_draw_color(200, 200, 200)
        pdf.set_line_width(0.2)
        pdf.set_dash_pattern(dash=1.5, gap=1.5)  # cut lines
        pdf.rect(x0, y0, cell_w, cell_h)
        pdf.set_dash_pattern()
        pdf.set_font("cjk", size=15)
        pdf.set_xy(x0 + 3, y0 + 4)
        pdf.cell(cell_w - 6, 7, _label(name, "zh-hans") or code, align="C")
        pdf.set_font("cjk", size=10)
        pdf.set_xy(x0 + 3, y0 + 11)
        pdf.cell(cell_w - 6, 5, _label(name, "en"), align="C")
        _draw_qr(pdf, url, x0 + (cell_w - QR_MM) / 2, y0 + 18, QR_MM)
        pdf.set_font("cjk", size=9)
        pdf.set_xy(x0 + 3, y0 + 18 + QR_MM + 2)
        pdf.cell(cell_w - 6, 5, "扫码评价 · Scan to rate us", align="C")
        pdf.set_font("cjk", size=6.5)
        pdf.set_xy(x0 + 3, y0 + 18 + QR_MM + 7)
        pdf.cell(cell_w - 6, 4, f"{code} · {url}", align="C")
    return bytes(pdf.output())


def _draw_qr(pdf: Any, url: str, x: float, y: float, size: float) -> None:
    """The QR code as filled squares (vector, sharp at any print size), with a quiet zone of two modules."""
    qr = segno.make(url, error="m")
    matrix = [list(r) for r in qr.matrix]
    n = len(matrix) + 4
    module = size / n
    pdf.set_fill_color(0, 0, 0)
    for r, line in enumerate(matrix):
        c = 0
        while c < len(line):
            if line[c]:
                start = c
                while c < len(line) and line[c]:
                    c += 1
                pdf.rect(
                    x + (start + 2) * module, y + (r + 2) * module, (c - start) * module, module, style="F"
                )
            else:
                c += 1
