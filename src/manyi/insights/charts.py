"""Chart geometry for the Drivers page, drawn as inline SVG by the templates (no JavaScript).

Each function returns plain numbers and strings the template places; every chart has a table
beside it with the same figures, so nothing depends on reading a picture.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext_lazy as _

from manyi.core.i18ntext import text_for

QUADRANT_NAMES = {
    "concentrate_here": _("Concentrate here"),
    "keep_up": _("Keep up the good work"),
    "low_priority": _("Low priority"),
    "possible_overkill": _("Possible overkill"),
}


def _nice_max(v: float, step: float) -> float:
    return max(step, math.ceil(v / step) * step)


def label_of(row_labels: dict[str, Any], code: str, lang: str) -> str:
    return (
        text_for(row_labels.get(code), lang, "zh-hans") or text_for(row_labels.get(code), "en", "en") or code
    )


def short(label: str, width: int = 26) -> str:
    """A label cut to about ``width`` half-width columns (a CJK character counts two), with "…"."""
    used, out = 0, list[str]()
    for ch in label:
        w = 2 if ord(ch) > 0x2E7F else 1
        if used + w > width:
            return "".join(out).rstrip() + "…"
        out.append(ch)
        used += w
    return label


def importance_bars(drivers: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, Any]:
    """Horizontal bars of each driver's share with its interval as a whisker."""
    left, width, row = 190, 420, 30
    top = max([d["share"] for d in drivers] + [d["ci_high"] or 0 for d in drivers] + [1])
    scale_max = _nice_max(top, 10)

    def x(v: float) -> float:
        return round(left + width * v / scale_max, 1)

    bars = []
    for i, d in enumerate(drivers):
        y = 10 + i * row
        full = labels.get(d["attribute"], d["attribute"])
        bars.append(
            {
                "label": short(full),
                "full_label": full,
                "y": y,
                "text_y": y + 15,
                "x0": left,
                "w": round(x(d["share"]) - left, 1),
                "ci": d["ci_low"] is not None,
                "ci_x1": x(d["ci_low"] or 0),
                "ci_x2": x(d["ci_high"] or 0),
                "mid_y": y + 10,
                "value_x": x(max(d["share"], d["ci_high"] or 0)) + 6,
                "share": d["share"],
                "quadrant": d["quadrant"],
            }
        )
    ticks = [{"x": x(v), "label": f"{v:g}"} for v in _range(0, scale_max, 10 if scale_max <= 60 else 20)]
    height = 10 + len(drivers) * row + 24
    return {
        "bars": bars,
        "ticks": ticks,
        "height": height,
        "axis_y": height - 20,
        "left": left,
        "right": left + width,
    }


def _range(lo: float, hi: float, step: float) -> list[float]:
    out, v = [], lo
    while v <= hi + 1e-9:
        out.append(v)
        v += step
    return out


def ipa_chart(ipa: dict[str, Any], labels: dict[str, str], scale: tuple[int, int]) -> dict[str, Any]:
    """The importance–performance grid: points, the two cut lines and the four quadrant names."""
    left, top, width, height = 60, 20, 520, 320
    points = ipa["points"]
    x_max = _nice_max(max([p["importance"] for p in points] + [ipa["importance_cut"]]) * 1.1, 5)
    perfs = [p["performance"] for p in points] + [ipa["performance_cut"]]
    y_lo = max(scale[0], math.floor((min(perfs) - 0.25) * 4) / 4)
    y_hi = min(scale[1], math.ceil((max(perfs) + 0.25) * 4) / 4)
    if y_hi <= y_lo:
        y_hi = y_lo + 1

    def px(v: float) -> float:
        return round(left + width * v / x_max, 1)

    def py(v: float) -> float:
        return round(top + height * (1 - (v - y_lo) / (y_hi - y_lo)), 1)

    cut_x, cut_y = px(ipa["importance_cut"]), py(ipa["performance_cut"])
    return {
        "points": [
            {
                "x": px(p["importance"]),
                "y": py(p["performance"]),
                "label": short(labels.get(p["attribute"], p["attribute"]), 20),
                "full_label": labels.get(p["attribute"], p["attribute"]),
                "label_x": px(p["importance"]) + (-7 if px(p["importance"]) > left + 0.7 * width else 7),
                "anchor": "end" if px(p["importance"]) > left + 0.7 * width else "start",
                "quadrant": p["quadrant"],
                "importance": p["importance"],
                "performance": p["performance"],
            }
            for p in points
        ],
        "cut_x": cut_x,
        "cut_y": cut_y,
        "left": left,
        "top": top,
        "right": left + width,
        "bottom": top + height,
        "width": width,
        "height": height,
        "quadrants": [
            {"x": left + width - 6, "y": top + 16, "anchor": "end", "name": QUADRANT_NAMES["keep_up"]},
            {
                "x": left + width - 6,
                "y": top + height - 8,
                "anchor": "end",
                "name": QUADRANT_NAMES["concentrate_here"],
            },
            {"x": left + 6, "y": top + 16, "anchor": "start", "name": QUADRANT_NAMES["possible_overkill"]},
            {"x": left + 6, "y": top + height - 8, "anchor": "start", "name": QUADRANT_NAMES["low_priority"]},
        ],
        "x_ticks": [{"x": px(v), "label": f"{v:g}"} for v in _range(0, x_max, 5 if x_max <= 40 else 10)],
        "y_ticks": [{"y": py(v), "label": f"{v:g}"} for v in _range(y_lo, y_hi, 0.5)],
        "importance_cut": ipa["importance_cut"],
        "performance_cut": ipa["performance_cut"],
    }


def gap_chart(gaps: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, Any]:
    """Diverging bars of perception − expectation around 0, with interval whiskers."""
    left, width, row = 190, 420, 30
    extent = max(
        [abs(g["ci_low"] or 0) for g in gaps]
        + [abs(g["ci_high"] or 0) for g in gaps]
        + [abs(g["gap"] or 0) for g in gaps]
        + [0.5]
    )
    extent = _nice_max(extent, 0.5)
    zero = left + width / 2

    def x(v: float) -> float:
        return round(zero + (width / 2) * v / extent, 1)

    rows = []
    for i, g in enumerate(gaps):
        y = 10 + i * row
        value = g["gap"] or 0.0
        full = labels.get(g["name"], g["name"])
        rows.append(
            {
                "label": short(full),
                "full_label": full,
                "y": y,
                "text_y": y + 15,
                "mid_y": y + 10,
                "x": min(x(value), zero),
                "w": abs(x(value) - zero),
                "negative": value < 0,
                "ci": g["ci_low"] is not None,
                "ci_x1": x(g["ci_low"] or 0),
                "ci_x2": x(g["ci_high"] or 0),
                "gap": g["gap"],
                "significant": g["significant"],
            }
        )
    height = 10 + len(gaps) * row + 24
    return {
        "rows": rows,
        "zero": zero,
        "height": height,
        "axis_y": height - 20,
        "ticks": [{"x": x(v), "label": f"{v:+g}" if v else "0"} for v in _range(-extent, extent, extent / 2)],
    }
