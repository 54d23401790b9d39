"""Writes for survey answers: drafts saved as the respondent goes, and the idempotent submit."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.org.models import OrgUnit
from manyi.surveys.choices import SurveyStatus
from manyi.surveys.models import Survey, SurveyLink, SurveyVersion
from manyi.surveys.queries import answerable_version_by_id
from manyi.surveys.questions import answer_rows, headline_scores, parse_answers

from .choices import Channel
from .models import Answer, Response, ResponseDraft

# How far ahead of our clock a caller's submitted_at may be (clocks of tills and phones drift).
CLOCK_SKEW = timedelta(minutes=5)


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
    # The stored answers, when this call wrote them (so callers can answer without reading them back).
    answers: list[Answer] = field(default_factory=list)


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
            vid = int(version_id)
        except (ValueError, TypeError):
            vid = 0
        if 0 < vid < 2**63:
            v = answerable_version_by_id(vid, link.survey_id)
            if v is not None:
                return v
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
    # A repeated id on a shared link is caught by the unique index when the row is written (one
    # read fewer per submission); a personal link is checked first, since submitting uses it up.
    if link.single_use and (existing := _stored(submission_id)) is not None:
        return _same_submission(existing, link)
    now = now or timezone.now()
    refusal = link_refusal(link, now)
    if refusal:
        if (existing := _stored(submission_id)) is not None:
            return _same_submission(existing, link)
        raise refusal
    version = answerable_version(link, version_id)
    if version is None:
        raise SubmitRefused("survey_closed", _("This survey is not taking answers at the moment."))
    parsed = parse_answers(version.questions, data)
    if parsed.errors:
        return SubmitResult(response=None, errors=parsed.errors, raw=parsed.raw)

    # The page signs the time it was rendered, which is never later than the first autosave; the
    # draft is read only when that is missing (a client that did not come through the page).
    draft = None
    if started_at is None:
        draft = ResponseDraft.objects.filter(submission_id=submission_id).only("started_at").first()
    began = min(t for t in (started_at, draft.started_at if draft else None, now) if t is not None)
    try:
        response, _answers = _store_response(
            submission_id=submission_id,
            version=version,
            unit_id=link.unit_id,
            customer_id=link.customer_id,
            channel=channel or link.channel,
            language=language,
            started_at=began,
            submitted_at=now,
            ip_hash=ip_hash,
            values=parsed.values,
            link=link,
        )
    except IntegrityError:
        # Same submission id already stored (a retry, or a concurrent request): that one is the response.
        existing = _stored(submission_id)
        if existing is None:
            raise
        return _same_submission(existing, link)
    return SubmitResult(response=response, created=True)


def _stored(submission_id: uuid.UUID) -> Response | None:
    return Response.objects.filter(submission_id=submission_id).first()


def answers_as_form(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Structured answers (``{"nps": 9, "csi": {"tangibles": 4}, "reasons": ["price"]}``) as form fields.

    ``parse_answers`` reads the survey page's field names; this maps the API's JSON onto them so
    both channels are validated by the same code.
    """
    data: dict[str, Any] = {}
    for code, value in answers.items():
        if isinstance(value, dict):
            for part, v in value.items():
                data[f"q_{code}__{part}"] = _form_text(v)
        elif isinstance(value, list):
            data[f"q_{code}"] = [_form_text(v) for v in value]
        else:
            data[f"q_{code}"] = _form_text(value)
    return data


def _form_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    return str(value)


def do_record_response(
    *,
    survey: Survey,
    unit: OrgUnit,
    answers: Mapping[str, Any],
    language: str,
    channel: str = Channel.API,
    submitted_at: datetime | None = None,
    customer_id: int | None = None,
    submission_id: uuid.UUID | None = None,
    now: datetime | None = None,
    version: SurveyVersion | None = None,
    before_commit: Callable[[Response, list[Answer]], None] | None = None,
) -> SubmitResult:
    """Store a rating taken in another channel (a till, a call, a kiosk) against the published version.

    Answers are validated exactly as on the survey page; errors come back per question code and
    nothing is written. A repeated ``submission_id`` returns the stored response.

    ``version`` is the survey's published version when the caller already has it (the API caches
    it). ``before_commit(response, answers)`` runs inside the write transaction after the rows are
    written (the API stores its idempotency key there); whatever it raises rolls the write back.
    """
    now = now or timezone.now()
    if submission_id is not None:
        existing = Response.objects.filter(submission_id=submission_id).first()
        if existing is not None:
            if existing.survey_id != survey.pk or existing.unit_id != unit.pk:
                raise SubmitRefused(
                    "submission_conflict", _("This submission id was already used for another response.")
                )
            return SubmitResult(response=existing, created=False)
    if not unit.is_within(survey.unit):
        raise SubmitRefused("unit_outside_survey", _("This survey does not apply to that unit."))
    if survey.status != SurveyStatus.ACTIVE:
        version = None
    elif version is None:
        version = survey.published_version()
    elif version.survey_id != survey.pk:
        raise ValueError("version must be a version of survey")
    if version is None:
        raise SubmitRefused("survey_closed", _("This survey is not taking answers at the moment."))
    known = {q["code"] for q in version.questions}
    unknown = {
        code: _("This survey has no question {code}.").format(code=code)
        for code in answers
        if code.removesuffix("__other") not in known
    }
    parsed = parse_answers(version.questions, answers_as_form(answers))
    if parsed.errors or unknown:
        return SubmitResult(response=None, errors={**unknown, **parsed.errors}, raw=parsed.raw)
    at = submitted_at or now
    if at > now + CLOCK_SKEW:
        raise SubmitRefused("submitted_in_future", _("submitted_at is in the future."))
    sid = submission_id or uuid.uuid4()
    try:
        response, stored_answers = _store_response(
            submission_id=sid,
            version=version,
            unit_id=unit.pk,
            customer_id=customer_id,
            channel=channel,
            language=language,
            started_at=at,
            submitted_at=at,
            values=parsed.values,
            duration=False,
            before_commit=before_commit,
        )
    except IntegrityError:
        existing = Response.objects.filter(submission_id=sid).first()
        if existing is None or existing.survey_id != survey.pk or existing.unit_id != unit.pk:
            raise SubmitRefused(
                "submission_conflict", _("This submission id was already used for another response.")
            ) from None
        return SubmitResult(response=existing, created=False)
    return SubmitResult(response=response, created=True, answers=stored_answers)


def _store_response(
    *,
    submission_id: uuid.UUID,
    version: SurveyVersion,
    unit_id: int,
    customer_id: int | None,
    channel: str,
    language: str,
    started_at: datetime,
    submitted_at: datetime,
    values: dict[str, Any],
    ip_hash: str = "",
    link: SurveyLink | None = None,
    duration: bool = True,
    before_commit: Callable[[Response, list[Answer]], None] | None = None,
) -> tuple[Response, list[Answer]]:
    """Write one validated response and its answers in one transaction; enrich its comment on commit.

    Shared by the survey page and the API. Raises IntegrityError when the submission id is taken,
    and SubmitRefused when a personal link was used up by a concurrent submit.
    """
    scores = headline_scores(version.questions, values)
    with transaction.atomic():
        if link is not None and link.single_use:
            # Only submitting uses a personal link up; the conditional update makes two racing
            # submits with different ids leave exactly one winner.
            claimed = SurveyLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=submitted_at)
            if not claimed:
                raise SubmitRefused("link_used", _("This personal link has already been used to answer."))
        response = Response.objects.create(
            submission_id=submission_id,
            survey_id=version.survey_id,
            version=version,
            link=link,
            unit_id=unit_id,
            customer_id=customer_id,
            channel=channel,
            language=language,
            started_at=started_at,
            submitted_at=submitted_at,
            duration_seconds=max(0, int((submitted_at - started_at).total_seconds())) if duration else None,
            ip_hash=ip_hash,
            **scores,
        )
        answers = Answer.objects.bulk_create(
            [
                Answer(
                    response=response,
                    question_code=row.question_code,
                    number=row.number,
                    text=row.text,
                    choices=row.choices,
                )
                for row in answer_rows(version.questions, values)
            ]
        )
        if link is not None:
            ResponseDraft.objects.filter(submission_id=submission_id).delete()
        if response.comment:
            from .tasks import enrich_response

            rid = response.pk
            transaction.on_commit(lambda: enrich_response.enqueue(rid))
        from manyi.rules.actions import enqueue_evaluation

        enqueue_evaluation("response", response.pk)
        from manyi.analytics.tasks import request_sync

        transaction.on_commit(request_sync)
        if before_commit is not None:
            before_commit(response, answers)
    return response, answers


def _same_submission(existing: Response, link: SurveyLink) -> SubmitResult:
    if existing.link_id != link.pk:
        raise SubmitRefused("submission_conflict", _("This form was already submitted through another link."))
    return SubmitResult(response=existing, created=False)
