"""Writes to surveys: create, edit drafts, publish versions, make links."""

from __future__ import annotations

import copy
import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.org.models import OrgUnit

from .blueprints import blueprint
from .choices import LinkKind, SurveyStatus, VersionStatus
from .models import Survey, SurveyLink, SurveyVersion
from .questions import definition_errors


class SurveyError(Exception):
    """A survey change was refused; ``errors`` lists every reason."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def new_token() -> str:
    """22 URL-safe characters, 128 bits of randomness."""
    return secrets.token_urlsafe(16)


@transaction.atomic
def do_create_survey(
    *,
    slug: str,
    unit: OrgUnit,
    template: str | None = None,
    name: dict[str, str] | None = None,
    definition: dict[str, Any] | None = None,
    languages: list[str] | None = None,
    fallback_language: str = "zh-hans",
) -> Survey:
    """Create a survey with a first draft version, from a template or a definition."""
    base = blueprint(template) if template else {"name": name or {}, "definition": definition or {}}
    survey = Survey.objects.create(
        slug=slug,
        unit=unit,
        name=name or base["name"],
        template=template or "",
        languages=languages or ["zh-hans", "en"],
        fallback_language=fallback_language,
    )
    SurveyVersion.objects.create(survey=survey, number=1, definition=definition or base["definition"])
    return survey


@transaction.atomic
def do_edit_draft(*, survey: Survey, definition: dict[str, Any]) -> SurveyVersion:
    """Change the survey's questions: edit the open draft, or start a new draft after a published one."""
    latest = SurveyVersion.objects.select_for_update().filter(survey=survey).order_by("-number").first()
    if latest is not None and latest.status == VersionStatus.DRAFT:
        latest.definition = definition
        latest.save(update_fields=["definition"])
        return latest
    number = (latest.number if latest else 0) + 1
    return SurveyVersion.objects.create(survey=survey, number=number, definition=definition)


@transaction.atomic
def do_publish(*, survey: Survey, now: datetime | None = None) -> SurveyVersion:
    """Publish the latest draft; the version published before it is retired. Refuses invalid content."""
    draft = (
        SurveyVersion.objects.select_for_update()
        .filter(survey=survey, status=VersionStatus.DRAFT)
        .order_by("-number")
        .first()
    )
    if draft is None:
        raise SurveyError([_("There is no draft to publish.")])
    errors = definition_errors(draft.definition, list(survey.languages))
    if survey.fallback_language not in survey.languages:
        errors.append(_("The fallback language must be one of the survey's languages."))
    if errors:
        raise SurveyError(errors)
    for old in SurveyVersion.objects.filter(survey=survey, status=VersionStatus.PUBLISHED):
        old.status = VersionStatus.RETIRED
        old.save(update_fields=["status"])
    # The draft is still a draft in the database, so this save is allowed; from now on it is frozen.
    draft.status = VersionStatus.PUBLISHED
    draft.published_at = now or timezone.now()
    SurveyVersion.objects.filter(pk=draft.pk).update(status=draft.status, published_at=draft.published_at)
    if survey.status != SurveyStatus.ACTIVE:
        survey.status = SurveyStatus.ACTIVE
        survey.save(update_fields=["status"])
    return draft


def do_create_link(
    *,
    survey: Survey,
    kind: LinkKind | str,
    unit: OrgUnit | None = None,
    customer: Any = None,
    service_event_ref: str = "",
    language: str = "",
    channel: str = "link",
    expires_at: datetime | None = None,
    token: str | None = None,
) -> SurveyLink:
    """Make a link: anonymous for the survey, per unit (QR), or personal and single-use."""
    if kind == LinkKind.PERSONAL and customer is None:
        raise SurveyError([_("A personal link needs a customer.")])
    if kind == LinkKind.UNIT and unit is None:
        raise SurveyError([_("A unit link needs a unit.")])
    return SurveyLink.objects.create(
        token=token or new_token(),
        survey=survey,
        kind=kind,
        unit=unit or survey.unit,
        customer=customer,
        service_event_ref=service_event_ref,
        language=language,
        channel=channel if kind != LinkKind.UNIT else "qr",
        expires_at=expires_at,
    )


@transaction.atomic
def do_change_draft(*, survey: Survey, change: Any) -> SurveyVersion:
    """Apply ``change`` (a function of a copy of the latest definition) and store the result as the draft.

    The latest version is read under a row lock, so two editors of one survey never lose each other's
    change; after a publish the change starts a new draft from the published content.
    """
    latest = SurveyVersion.objects.select_for_update().filter(survey=survey).order_by("-number").first()
    definition = copy.deepcopy(latest.definition) if latest is not None else {}
    return do_edit_draft(survey=survey, definition=change(definition))


@transaction.atomic
def do_update_survey(*, survey: Survey, name: dict[str, str], languages: list[str] | None = None) -> Survey:
    """Rename a survey (its name in each language) and, optionally, change the languages it is asked in."""
    survey.name = {k: v for k, v in name.items() if v}
    fields = ["name"]
    if languages is not None:
        if not languages:
            raise SurveyError([_("A survey needs at least one language.")])
        survey.languages = list(languages)
        fields.append("languages")
        if survey.fallback_language not in languages:
            survey.fallback_language = languages[0]
            fields.append("fallback_language")
    survey.save(update_fields=fields)
    return survey


BATCH_MAX = 10_000


@transaction.atomic
def do_create_link_batch(
    *,
    survey: Survey,
    unit: OrgUnit,
    customers: list[Any] | None = None,
    count: int = 0,
    language: str = "",
    expires_at: datetime | None = None,
    channel: str = "link",
) -> list[SurveyLink]:
    """Single-use personal links: one per customer, or ``count`` anonymous ones (no customer attached)."""
    n = len(customers) if customers else count
    if n < 1 or n > BATCH_MAX:
        raise SurveyError([_("A batch holds 1 to {max} links.").format(max=BATCH_MAX)])
    links = [
        SurveyLink(
            token=new_token(),
            survey=survey,
            kind=LinkKind.PERSONAL,
            unit=unit,
            customer=customers[i] if customers else None,
            language=language,
            channel=channel,
            expires_at=expires_at,
        )
        for i in range(n)
    ]
    SurveyLink.objects.bulk_create(links, batch_size=1000)
    return links
