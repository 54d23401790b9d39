"""Reads for the survey builder: which surveys and units a staff member may build for, and the draft."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from manyi.org.choices import Role, UnitKind
from manyi.org.models import OrgUnit, RoleAssignment
from manyi.surveys.choices import LinkKind, VersionStatus
from manyi.surveys.models import Survey, SurveyLink, SurveyVersion

#: Roles that may create and change surveys for the units under them.
BUILDER_ROLES = (Role.ADMIN, Role.CX_MANAGER, Role.UNIT_MANAGER)


def builder_paths(user: Any) -> list[str] | None:
    """Unit paths under which the user may build surveys; None for everything (superuser)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    if getattr(user, "is_superuser", False):
        return None
    return sorted(
        set(
            RoleAssignment.objects.filter(
                user_id=user.pk, role__in=BUILDER_ROLES, unit__is_active=True
            ).values_list("unit__path", flat=True)
        )
    )


def _under(paths: list[str], field: str) -> Q:
    cond = Q(pk__in=[])
    for p in paths:
        cond |= Q(**{f"{field}__startswith": p})
    return cond


def can_build(user: Any) -> bool:
    paths = builder_paths(user)
    return paths is None or bool(paths)


def can_edit_survey(user: Any, survey: Survey) -> bool:
    """True when the survey's owner unit lies under a unit where the user holds a builder role."""
    paths = builder_paths(user)
    if paths is None:
        return True
    return any(survey.unit.path.startswith(p) for p in paths)


def buildable_units(user: Any) -> QuerySet[OrgUnit]:
    """Units the user may own a new survey with (their builder subtrees), in tree order."""
    qs = OrgUnit.objects.visible_to(user).filter(is_active=True)
    paths = builder_paths(user)
    if paths is not None:
        qs = qs.filter(_under(paths, "path"))
    return qs.order_by("path")


def latest_version(survey: Survey) -> SurveyVersion | None:
    return survey.versions.order_by("-number").first()


def draft_definition(survey: Survey) -> tuple[dict[str, Any], SurveyVersion | None]:
    """The definition being edited (the open draft, else the latest version) and that version."""
    version = latest_version(survey)
    return (dict(version.definition) if version is not None else {}), version


def has_open_draft(survey: Survey) -> bool:
    return survey.versions.filter(status=VersionStatus.DRAFT).exists()


def distribution_units(user: Any, survey: Survey) -> QuerySet[OrgUnit]:
    """The units a link of this survey may be made for: within the survey's owner and the user's scope."""
    return (
        OrgUnit.objects.visible_to(user)
        .filter(is_active=True, path__startswith=survey.unit.path)
        .order_by("path")
    )


def stores_without_unit_link(user: Any, survey: Survey) -> list[OrgUnit]:
    """Stores in scope that have no QR (unit) link for the survey yet."""
    have = set(SurveyLink.objects.filter(survey=survey, kind=LinkKind.UNIT).values_list("unit_id", flat=True))
    return [u for u in distribution_units(user, survey).filter(kind=UnitKind.STORE) if u.pk not in have]


def unit_links_for_sheet(user: Any, survey: Survey) -> list[SurveyLink]:
    """The per-unit (QR) links of the survey the user may see, store by store, for the printable sheet."""
    return list(
        SurveyLink.objects.visible_to(user)
        .filter(survey=survey, kind=LinkKind.UNIT)
        .select_related("unit")
        .order_by("unit__path", "id")
    )
