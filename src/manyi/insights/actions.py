"""Writes of the insights app: compute a driver analysis and keep it, refresh the stale ones."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from manyi.org.models import OrgUnit, RoleAssignment
from manyi.surveys.choices import SurveyStatus
from manyi.surveys.models import Survey

from . import queries
from .choices import SegmentBy
from .compute import analyse
from .models import DriverAnalysis


def do_compute_driver_analysis(
    *, survey: Survey, unit: OrgUnit | None, segment_by: str = SegmentBy.NONE
) -> DriverAnalysis:
    """Run the driver analysis of ``survey`` on the responses of ``unit``'s subtree (None: all) and
    store it, replacing the previous one for the same survey, subtree and segmentation."""
    if segment_by not in SegmentBy.values:
        raise ValueError(f"unknown segmentation {segment_by!r}")
    started = time.perf_counter()
    mark, n = queries.data_mark(survey, unit)
    data = queries.driver_data(survey, unit)
    outcome = analyse(data, segment_by)
    values: dict[str, Any] = {
        "unit": unit,
        "status": outcome.status,
        "detail": outcome.detail,
        "n_responses": n,
        "data_mark": mark,
        "computed_at": timezone.now(),
        "seconds": round(time.perf_counter() - started, 3),
        "result": outcome.result,
    }
    with transaction.atomic():
        analysis, _created = DriverAnalysis.objects.update_or_create(
            survey=survey, scope_key=queries.scope_key(unit), segment_by=segment_by, defaults=values
        )
    return analysis


@dataclass
class RefreshReport:
    computed: int = 0
    fresh: int = 0
    left: int = 0
    keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"computed": self.computed, "fresh": self.fresh, "left": self.left, "keys": self.keys}


def do_refresh_driver_analyses(*, limit: int = 50, budget_seconds: float | None = None) -> RefreshReport:
    """Recompute every cached analysis whose responses changed, and make sure each active survey has
    one for the whole organisation and for every unit someone holds a role at.

    Idempotent: it compares each row's ``data_mark`` with the responses now there, so running it
    twice, or after a crash, computes only what is missing or stale. At most ``limit`` analyses are
    computed per run, and with ``budget_seconds`` no new one is started once that much time has
    passed; ``left`` counts the stale analyses a later run has to compute.
    """
    report = RefreshReport()
    started = time.monotonic()
    wanted: list[tuple[Survey, OrgUnit | None, str]] = []
    for analysis in DriverAnalysis.objects.select_related("survey", "unit").order_by("computed_at"):
        wanted.append((analysis.survey, analysis.unit, analysis.segment_by))
    role_units = list(
        OrgUnit.objects.filter(is_active=True, pk__in=RoleAssignment.objects.values("unit_id")).order_by(
            "path"
        )
    )
    for survey in Survey.objects.filter(status=SurveyStatus.ACTIVE).select_related("unit").order_by("id"):
        for unit in [None, *role_units]:
            if (
                unit is None
                or unit.path.startswith(survey.unit.path)
                or survey.unit.path.startswith(unit.path)
            ):
                wanted.append((survey, unit, SegmentBy.NONE.value))
    seen: set[tuple[int, str, str]] = set()
    for survey, unit, segment_by in wanted:
        key = (survey.pk, queries.scope_key(unit), segment_by)
        if key in seen:
            continue
        seen.add(key)
        cached = queries.cached_analysis(survey, unit, segment_by)
        if cached is not None and cached.data_mark == queries.data_mark(survey, unit)[0]:
            report.fresh += 1
            continue
        if report.computed >= limit or (
            budget_seconds is not None and report.computed and time.monotonic() - started >= budget_seconds
        ):
            report.left += 1
            continue
        do_compute_driver_analysis(survey=survey, unit=unit, segment_by=segment_by)
        report.computed += 1
        report.keys.append(f"{survey.pk}:{key[1]}:{segment_by}")
    return report
