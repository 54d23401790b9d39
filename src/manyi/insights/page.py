"""What the Drivers page shows, from a stored analysis: labels in the reader's language and charts."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from manyi.core.i18ntext import text_for
from manyi.customers.models import Tier
from manyi.responses.choices import Channel

from . import charts
from .choices import AnalysisStatus, SegmentBy
from .models import DriverAnalysis
from .queries import Design


def _text(content: Any, lang: str) -> str:
    return text_for(content, lang, "zh-hans") or text_for(content, "en", "en")


def segment_label(segment_by: str, key: str, names: dict[str, Any], lang: str) -> str:
    if segment_by == SegmentBy.TIER:
        return str(Tier(key).label) if key in Tier.values else key
    if segment_by == SegmentBy.CHANNEL:
        return str(Channel(key).label) if key in Channel.values else key
    if segment_by == SegmentBy.REGION:
        return _text(names.get(key), lang) or key
    return key


def page_context(analysis: DriverAnalysis, design: Design, lang: str) -> dict[str, Any]:
    """Everything the template needs: drivers with labels, chart geometry, gaps, CSI and segments."""
    labels: dict[str, str] = {}
    if design.matrix is not None:
        labels = {r["code"]: _text(r.get("label"), lang) or r["code"] for r in design.matrix.get("rows", [])}
    ctx: dict[str, Any] = {
        "analysis": analysis,
        "ok": analysis.status == AnalysisStatus.OK,
        "matrix_label": _text(design.matrix.get("label"), lang) if design.matrix else "",
        "outcome_label": _text(design.outcome.get("label"), lang) if design.outcome else "",
    }
    result = analysis.result or {}
    if analysis.status == AnalysisStatus.UNANALYSABLE and result.get("column"):
        ctx["bad_column"] = labels.get(result["column"], result["column"])
    if not ctx["ok"]:
        return ctx
    d = result["drivers"]
    drivers = [
        {
            **x,
            "label": labels.get(x["attribute"], x["attribute"]),
            "quadrant_name": charts.QUADRANT_NAMES[x["quadrant"]],
        }
        for x in d["drivers"]
    ]
    ctx.update(
        {
            "result": d,
            "drivers": drivers,
            "bars": charts.importance_bars(d["drivers"], labels),
            "ipa": charts.ipa_chart(d["ipa"], labels, tuple(result["scale"])),
            "csi": result.get("csi"),
            "confidence_pct": round(d["confidence"] * 100),
        }
    )
    if "servqual" in result:
        sq_labels = {q["code"]: _text(q.get("label"), lang) or q["code"] for q in design.servqual}
        gaps = result["servqual"]["attributes"]
        ctx["servqual"] = {
            "attributes": [{**g, "label": sq_labels.get(g["name"], g["name"])} for g in gaps],
            "dimensions": result["servqual"]["dimensions"],
            "chart": charts.gap_chart(gaps, sq_labels),
        }
    seg = result.get("segments")
    if seg:
        by = seg["by"]
        names = seg.get("names", {})
        groups = []
        for key, g in seg["groups"].items():
            groups.append(
                {
                    "key": key,
                    "label": segment_label(by, key, names, lang),
                    "n": g.get("n"),
                    "r2": g.get("r2"),
                    "skipped": g.get("skipped"),
                    "shares": {x["attribute"]: x for x in g.get("drivers", [])},
                }
            )
        analysed = [g for g in groups if not g["skipped"]]
        rows = []
        for x in drivers:
            rows.append({"label": x["label"], "cells": [g["shares"].get(x["attribute"]) for g in analysed]})
        measure_names = {
            "share": _("Share of importance"),
            "performance": _("Mean rating"),
            "outcome": _("Overall score"),
        }
        differences = [
            {
                **diff,
                "measure_name": measure_names[diff["measure"]],
                "attribute_label": labels.get(diff["attribute"] or "", ctx["outcome_label"]),
                "a_label": segment_label(by, diff["segment_a"], names, lang),
                "b_label": segment_label(by, diff["segment_b"], names, lang),
            }
            for diff in seg["differences"]
            if diff["significant"]
        ]
        ctx["segments"] = {
            "by": by,
            "analysed": analysed,
            "skipped": [g for g in groups if g["skipped"]],
            "rows": rows,
            "differences": differences,
            "tested": len(seg["differences"]),
            "empty": not groups,
        }
    return ctx
