"""Reads about surveys."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .choices import LinkKind, VersionStatus
from .models import Survey, SurveyLink, SurveyVersion
from .questions import scale_of


def question_summary(q: dict[str, Any]) -> dict[str, Any]:
    """``{code, type, required, options}``; options are choice codes, matrix rows or the scale points."""
    qtype = q["type"]
    options: list[Any]
    if qtype in ("single", "multi"):
        options = [o["code"] for o in q.get("options", [])] + (["other"] if q.get("allow_other") else [])
    elif qtype == "matrix":
        lo, hi = scale_of(q)
        options = [{"row": r["code"], "scale": [lo, hi]} for r in q.get("rows", [])]
    elif qtype == "servqual":
        lo, hi = scale_of(q)
        options = [{"row": "expectation", "scale": [lo, hi]}, {"row": "perception", "scale": [lo, hi]}]
    elif qtype in ("nps", "csat", "ces", "rating"):
        lo, hi = scale_of(q)
        options = list(range(lo, hi + 1))
    elif qtype == "consent":
        options = ["yes", "no"]
    else:
        options = []
    return {"code": q["code"], "type": qtype, "required": bool(q.get("required")), "options": options}


def survey_link_url(link: SurveyLink) -> str:
    return f"{settings.MANYI_BASE_URL}/s/{link.token}"


def survey_listing(surveys: Any = None) -> list[dict[str, Any]]:
    """One object per survey for ``manyi surveys list``; personal links are not listed."""
    qs = surveys if surveys is not None else Survey.objects.all()
    out = []
    for s in qs.prefetch_related("versions").order_by("id"):
        versions = sorted(s.versions.all(), key=lambda v: v.number)
        published = [v for v in versions if v.status == VersionStatus.PUBLISHED]
        shown = published[-1] if published else (versions[-1] if versions else None)
        links = (
            SurveyLink.objects.filter(survey=s)
            .exclude(kind=LinkKind.PERSONAL)
            .select_related("unit")
            .order_by("unit__path", "id")
        )
        out.append(
            {
                "id": s.pk,
                "slug": s.slug,
                "name": s.name,
                "status": s.status,
                "version": shown.number if shown else None,
                "version_status": shown.status if shown else None,
                "languages": s.languages,
                "fallback_language": s.fallback_language,
                "unit": s.unit.code,
                "questions": [question_summary(q) for q in (shown.questions if shown else [])],
                "links": [
                    {"kind": link.kind, "url": survey_link_url(link), "unit": link.unit.code}
                    for link in links
                ],
            }
        )
    return out


# Published versions never change (``SurveyVersion.save`` refuses it), so each process keeps the
# ones it has served: the survey page then reads only the link per submission. Saving or deleting
# any version clears the cache, which also covers ids reused after a rolled-back transaction.
_ANSWERABLE: dict[tuple[int, int], SurveyVersion] = {}
_ANSWERABLE_MAX = 512


def answerable_version_by_id(version_id: int, survey_id: int) -> SurveyVersion | None:
    """The published or retired version ``version_id`` of the survey, cached per process."""
    key = (version_id, survey_id)
    cached = _ANSWERABLE.get(key)
    if cached is not None:
        return cached
    version = SurveyVersion.objects.filter(
        pk=version_id, survey_id=survey_id, status__in=[VersionStatus.PUBLISHED, VersionStatus.RETIRED]
    ).first()
    if version is not None:
        if len(_ANSWERABLE) >= _ANSWERABLE_MAX:
            _ANSWERABLE.clear()
        _ANSWERABLE[key] = version
    return version


def forget_answerable_versions(**_kwargs: Any) -> None:
    """Signal receiver: drop every cached version (saves and deletes of versions are rare)."""
    _ANSWERABLE.clear()
