"""From the answers of a subtree to the stored result of a driver analysis (no database access)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from manyi.analytics import drivers
from manyi.analytics.drivers._core import min_rows

from .choices import AnalysisStatus, SegmentBy
from .queries import DriverData, scale

#: Bootstrap resamples behind every interval on the page.
N_BOOT = 200


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    detail: str
    result: dict[str, Any]


def analyse(data: DriverData, segment_by: str, *, n_boot: int = N_BOOT, seed: int = 0) -> Outcome:
    """The drivers of the survey's overall question, IPA, SERVQUAL gaps, CSI and, if asked, segments."""
    design = data.design
    if design.matrix is None:
        return Outcome(AnalysisStatus.NO_MATRIX, "", {})
    if design.outcome is None:
        return Outcome(AnalysisStatus.NO_OUTCOME, "", {})
    attrs = design.attributes
    outcome_type = "nps" if design.outcome["type"] == "nps" else "rating"
    complete = int((~np.isnan(data.ratings).any(axis=1) & ~np.isnan(data.outcome)).sum())
    need = min_rows(len(attrs))
    base: dict[str, Any] = {
        "matrix": design.matrix["code"],
        "outcome": design.outcome["code"],
        "outcome_type": outcome_type,
        "attributes": attrs,
        "complete": complete,
        "needed": need,
    }
    if complete < need:
        return Outcome(AnalysisStatus.TOO_FEW, "", base)
    try:
        result = drivers.key_drivers(
            data.ratings,
            data.outcome,
            names=attrs,
            outcome_name=design.outcome["code"],
            outcome_type=outcome_type,
            n_boot=n_boot,
            seed=seed,
        )
    except drivers.DriverInputError as exc:
        return Outcome(AnalysisStatus.UNANALYSABLE, str(exc), {**base, "column": exc.column})
    lo, hi = scale(design.matrix)
    out = {**base, "drivers": result.to_dict(), "scale": [lo, hi]}
    try:
        out["csi"] = drivers.driver_csi(
            data.ratings, result, scale_min=lo, scale_max=hi, n_boot=n_boot, seed=seed
        ).to_dict()
    except drivers.DriverInputError as exc:
        out["csi"] = {"error": str(exc)}
    if design.servqual:
        dims = {
            q["code"]: q["dimension"] for q in design.servqual if q.get("dimension") in drivers.DIMENSIONS
        }
        gaps = drivers.servqual_gaps(
            data.perception, data.expectation, names=[q["code"] for q in design.servqual], dimensions=dims
        )
        out["servqual"] = gaps.to_dict()
    if segment_by != SegmentBy.NONE:
        labels = data.segments[segment_by]
        try:
            seg = drivers.segment_drivers(
                data.ratings,
                data.outcome,
                labels,
                names=attrs,
                segment_name=segment_by,
                outcome_name=design.outcome["code"],
                outcome_type=outcome_type,
                n_boot=n_boot,
                seed=seed,
            )
            out["segments"] = {
                "by": segment_by,
                "groups": seg.to_dict(),
                "skipped": seg.skipped,
                "differences": [d.to_dict() for d in seg.differences],
            }
        except drivers.DriverInputError as exc:
            out["segments"] = {
                "by": segment_by,
                "error": str(exc),
                "groups": {},
                "skipped": {},
                "differences": [],
            }
        if segment_by == SegmentBy.REGION:
            out["segments"]["names"] = data.region_names
    return Outcome(AnalysisStatus.OK, "", out)
