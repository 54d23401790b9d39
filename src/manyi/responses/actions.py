"""Writes for survey answers: drafts saved as the respondent goes, and the idempotent submit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.surveys.choices import VersionStatus
from manyi.surveys.models import SurveyLink, SurveyVersion
from manyi.surveys.questions import answer_rows, headline_scores, parse_answers

from .models import Answer, Response, ResponseDraft


class SubmitRefused(Exception):
    """The link cannot take this submission; ``code`` says why and the message says it to a person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SubmitResult:
    response: Response | None
    created: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def link_refusal(link: SurveyLink, now: datetime | None = None) -> SubmitRefused | None:
    """Why this link can no longer take an answer, or None when it can."""
    if link.is_expired(now):
        return SubmitRefused("link_expired", _("This survey link has expired."))
    if link.single_use and link.used_at is not None:
        return SubmitRefused("link_used", _("This personal link has already been used to answer."))
    if link.survey.status != "active":
        return SubmitRefused("survey_closed", _("This survey is not taking answers at the moment."))
    return None


def answerable_version(link: SurveyLink, version_id: Any = None) -> SurveyVersion | None:
    """The version the respondent saw (if still valid for this survey), else the published one."""
    if version_id:
        try:
            v = SurveyVersion.objects.get(
                pk=int(version_id),
                survey_id=link.survey_id,
                status__in=[VersionStatus.PUBLISHED, VersionStatus.RETIRED],
            )
            return v
        except (SurveyVersion.DoesNotExist, ValueError, TypeError):
            pass
    return link.survey.published_version()


def do_save_draft(
    *, link: SurveyLink, submission_id: uuid.UUID, version: SurveyVersion, data: Any, language: str
) -> ResponseDraft | None:
    """Keep what the respondent has typed so far; nothing once the submission is in."""
    if Response.objects.filter(submission_id=submission_id).exists():
        return None
    parsed = parse_answers(version.questions, data, partial=True)
    now = timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                draft, created = ResponseDraft.objects.get_or_create(
                    submission_id=submission_id,
                    defaults={
                        "link": link,
                        "version": version,
                        "answers": parsed.raw,
                        "language": language,
                        "started_at": now,
                    },
                )
                if not created:
                    if draft.link_id != link.pk:
                        return None
                    draft.answers = parsed.raw
                    draft.language = language
                    draft.version = version
                    draft.save(update_fields=["answers", "language", "version", "updated_at"])
                return draft
        except IntegrityError:
            continue  # another request created it between our read and write; update it instead
    return None


def check_submit_response(
    *,
    link: SurveyLink,
    submission_id: uuid.UUID,
    data: Any,
    language: str,
    version_id: Any = None,
    started_at: datetime | None = None,
    ip_hash: str = "",
    channel: str | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Validate and store one response, exactly once per ``submission_id``.

    A repeated submission id (double click, retry, back button, a second tab) returns the stored
    response and writes nothing. Invalid answers return per-question errors and write nothing.
    """
    existing = Response.objects.filter(submission_id=submission_id).first()
    if existing is not None:
        return _same_submission(existing, link)
    now = now or timezone.now()
    refusal = link_refusal(link, now)
    if refusal:
        raise refusal
    version = answerable_version(link, version_id)
    if version is None:
        raise SubmitRefused("survey_closed", _("This survey is not taking answers at the moment."))
    parsed = parse_answers(version.questions, data)
    if parsed.errors:
        return SubmitResult(response=None, errors=parsed.errors, raw=parsed.raw)

    draft = ResponseDraft.objects.filter(submission_id=submission_id).only("started_at").first()
    began = min(t for t in (started_at, draft.started_at if draft else None, now) if t is not None)
    scores = headline_scores(version.questions, parsed.values)
    try:
        with transaction.atomic():
            if link.single_use:
                # Only submitting uses a personal link up; the conditional update makes two racing
                # submits with different ids leave exactly one winner.
                claimed = SurveyLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
                if not claimed:
                    raise SubmitRefused("link_used", _("This personal link has already been used to answer."))
            response = Response.objects.create(
                submission_id=submission_id,
                survey_id=link.survey_id,
                version=version,
                link=link,
                unit_id=link.unit_id,
                customer_id=link.customer_id,
                channel=channel or link.channel,
                language=language,
                started_at=began,
                submitted_at=now,
                duration_seconds=max(0, int((now - began).total_seconds())),
                ip_hash=ip_hash,
                **scores,
            )
            Answer.objects.bulk_create(
                [
                    Answer(
                        response=response,
                        question_code=row.question_code,
                        number=row.number,
                        text=row.text,
                        choices=row.choices,
                    )
                    for row in answer_rows(version.questions, parsed.values)
                ]
            )
            ResponseDraft.objects.filter(submission_id=submission_id).delete()
            if response.comment:
                from .tasks import enrich_response

                rid = response.pk
                transaction.on_commit(lambda: enrich_response.enqueue(rid))
    except IntegrityError:
        # Same submission id committed by a concurrent request: that one is the response.
        existing = Response.objects.filter(submission_id=submission_id).first()
        if existing is None:
            raise
        return _same_submission(existing, link)
    return SubmitResult(response=response, created=True)


def _same_submission(existing: Response, link: SurveyLink) -> SubmitResult:
    if existing.link_id != link.pk:
        raise SubmitRefused("submission_conflict", _("This form was already submitted through another link."))
    return SubmitResult(response=existing, created=False)
