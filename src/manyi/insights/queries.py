"""Reads for the Drivers page: what a survey asks, the answers in a unit's subtree, cached analyses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db.models import Count, Max

from manyi.org.models import OrgUnit
from manyi.org.scoping import scope_paths
from manyi.responses.models import Answer, Response
from manyi.surveys.models import Survey
from manyi.surveys.questions import scale_of

from .choices import SegmentBy
from .models import DriverAnalysis

#: Question types that can be the overall outcome, most wanted first.
OUTCOME_TYPES = ("csat", "nps", "rating", "ces")
ALL = "*"


@dataclass(frozen=True, slots=True)
class Design:
    """What a survey asks that a driver analysis can use."""

    matrix: dict[str, Any] | None  # the first rating-matrix question
    outcome: dict[str, Any] | None  # the overall question (CSAT, else NPS, else a rating, else CES)
    servqual: list[dict[str, Any]] = field(default_factory=list)  # expectation–perception pairs

    @property
    def attributes(self) -> list[str]:
        return [r["code"] for r in (self.matrix or {}).get("rows", [])]


def survey_design(survey: Survey) -> Design:
    version = survey.published_version() or survey.versions.order_by("-number").first()
    questions = version.questions if version is not None else []
    matrix = next((q for q in questions if q["type"] == "matrix" and q.get("rows")), None)
    outcome = None
    for kind in OUTCOME_TYPES:
        outcome = next((q for q in questions if q["type"] == kind), None)
        if outcome is not None:
            break
    servqual = [q for q in questions if q["type"] == "servqual"]
    return Design(matrix, outcome, servqual)


@dataclass
class DriverData:
    """One row per response of the subtree: the matrix ratings, the outcome, SERVQUAL pairs, segments."""

    design: Design
    response_ids: npt.NDArray[np.int64]
    ratings: npt.NDArray[np.float64]  # responses × matrix rows, NaN when not rated
    outcome: npt.NDArray[np.float64]
    perception: npt.NDArray[np.float64]  # responses × SERVQUAL questions
    expectation: npt.NDArray[np.float64]
    segments: dict[str, list[str | None]]  # segment_by → one key per response
    region_names: dict[str, Any]  # region code → its name per language


def _responses(survey: Survey, unit: OrgUnit | None) -> Any:
    qs = Response.objects.filter(survey=survey)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs


def data_mark(survey: Survey, unit: OrgUnit | None) -> tuple[str, int]:
    """A fingerprint of the responses an analysis would read (count and highest id), and the count."""
    agg = _responses(survey, unit).aggregate(n=Count("id"), last=Max("id"))
    n = int(agg["n"] or 0)
    return f"{n}:{agg['last'] or 0}", n


def driver_data(survey: Survey, unit: OrgUnit | None) -> DriverData:
    design = survey_design(survey)
    responses = list(
        _responses(survey, unit).order_by("id").values_list("id", "channel", "customer__tier", "unit__path")
    )
    ids = np.array([r[0] for r in responses], dtype=np.int64)
    index = {rid: i for i, rid in enumerate(ids.tolist())}
    n = len(ids)
    attrs = design.attributes
    columns: dict[str, tuple[str, int]] = {}
    if design.matrix is not None:
        for j, code in enumerate(attrs):
            columns[f"{design.matrix['code']}.{code}"] = ("ratings", j)
    if design.outcome is not None:
        columns[design.outcome["code"]] = ("outcome", 0)
    for j, q in enumerate(design.servqual):
        columns[f"{q['code']}.perception"] = ("perception", j)
        columns[f"{q['code']}.expectation"] = ("expectation", j)
    arrays = {
        "ratings": np.full((n, len(attrs)), np.nan),
        "outcome": np.full((n, 1), np.nan),
        "perception": np.full((n, len(design.servqual)), np.nan),
        "expectation": np.full((n, len(design.servqual)), np.nan),
    }
    if n and columns:
        answers = Answer.objects.filter(
            response__in=_responses(survey, unit), question_code__in=list(columns), number__isnull=False
        ).values_list("response_id", "question_code", "number")
        for rid, code, number in answers.iterator(chunk_size=10_000):
            i = index.get(rid)
            if i is None:
                continue
            name, j = columns[code]
            arrays[name][i, j] = number

    regions = {u.pk: u for u in OrgUnit.objects.filter(kind="region").only("id", "code", "name", "path")}
    region_of_path: dict[str, str | None] = {}

    def region(path: str) -> str | None:
        if path not in region_of_path:
            ids_on_path = [int(p) for p in path.strip("/").split("/") if p]
            found = next((regions[i] for i in ids_on_path if i in regions), None)
            region_of_path[path] = found.code if found is not None else None
        return region_of_path[path]

    segments = {
        SegmentBy.TIER.value: [r[2] or None for r in responses],
        SegmentBy.REGION.value: [region(r[3]) for r in responses],
        SegmentBy.CHANNEL.value: [r[1] or None for r in responses],
    }
    return DriverData(
        design=design,
        response_ids=ids,
        ratings=arrays["ratings"],
        outcome=arrays["outcome"][:, 0],
        perception=arrays["perception"],
        expectation=arrays["expectation"],
        segments=segments,
        region_names={u.code: u.name for u in regions.values()},
    )


def scale(question: dict[str, Any]) -> tuple[int, int]:
    return scale_of(question)


# --- cached analyses and who may read them ------------------------------------------------------------


def scope_key(unit: OrgUnit | None) -> str:
    return ALL if unit is None else unit.path


def cached_analysis(survey: Survey, unit: OrgUnit | None, segment_by: str) -> DriverAnalysis | None:
    return DriverAnalysis.objects.filter(
        survey=survey, scope_key=scope_key(unit), segment_by=segment_by
    ).first()


def analysis_units(user: Any) -> list[OrgUnit | None]:
    """The subtrees a reader can analyse, widest first: None (everything) for a superuser, then each
    active unit they can see."""
    units: list[OrgUnit | None] = []
    if scope_paths(user) is None:
        units.append(None)
    units.extend(OrgUnit.objects.visible_to(user).filter(is_active=True).order_by("path"))
    return units


def default_unit(user: Any) -> OrgUnit | None:
    """The widest subtree the reader holds: everything for a superuser, else their first role unit."""
    paths = scope_paths(user)
    if paths is None or not paths:
        return None
    return OrgUnit.objects.filter(path=paths[0]).first()


def surveys_with_design(user: Any) -> list[tuple[Survey, Design]]:
    """Every survey the reader can see, with what a driver analysis can use from it."""
    surveys = Survey.objects.visible_to(user).select_related("unit").order_by("id")
    return [(s, survey_design(s)) for s in surveys]
