"""Reads for the API: every one starts from ``visible_to(principal)``, then filters and pages.

Lists page with an opaque cursor: base64 of the sort key of the last row sent, so a page never
repeats or skips a row however many are added meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from manyi.cases.models import Case
from manyi.customers.models import Customer
from manyi.feedback.models import FeedbackRecord
from manyi.org.models import OrgUnit
from manyi.responses.models import Answer, Response
from manyi.surveys.choices import VersionStatus
from manyi.surveys.models import Survey, SurveyVersion
from manyi.surveys.queries import question_summary

from .errors import NotFound, Unprocessable


def utc(moment: datetime) -> datetime:
    """Times go out in UTC whatever offset they came in with, so a write and a read answer alike."""
    return moment.astimezone(UTC)


# --- per-process caches ---------------------------------------------------------------------------

# The write endpoints look up the same token, survey, unit and published version on every request.
# Each process keeps what it found for a few seconds: a save or delete in this process clears the
# cache at once (signals below and in auth.py), and any other process (another gunicorn worker, the
# console, the CLI) sees the change within this many seconds. docs/api.md says so.
API_CACHE_SECONDS = 2.0


class TtlCache:
    """A small dict whose entries live ``API_CACHE_SECONDS``; cleared whole when it is full."""

    clock = staticmethod(time.monotonic)  # tests move time by replacing it

    def __init__(self, max_entries: int = 512) -> None:
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        hit = self._data.get(key)
        if hit is None:
            return None
        if hit[0] <= TtlCache.clock():
            self._data.pop(key, None)
            return None
        return hit[1]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            if len(self._data) >= self._max:
                self._data.clear()
            self._data[key] = (TtlCache.clock() + API_CACHE_SECONDS, value)

    def clear(self, **_signal_kwargs: Any) -> None:
        with self._lock:
            self._data.clear()


_SURVEYS = TtlCache()  # (slug, scope paths) -> Survey with its unit
_UNITS = TtlCache()  # (code, scope paths) -> active OrgUnit
_PUBLISHED = TtlCache()  # survey id -> its published SurveyVersion


def _connect_clearing(cache: TtlCache, *senders: type) -> None:
    for sender in senders:
        for signal in (post_save, post_delete):
            signal.connect(
                cache.clear, sender=sender, weak=False, dispatch_uid=f"api-cache-{id(cache)}-{sender}"
            )


# A unit moved or closed changes which units and surveys a token sees; a new version or a closed
# survey changes what a survey takes.
_connect_clearing(_SURVEYS, Survey, OrgUnit)
_connect_clearing(_UNITS, OrgUnit)
_connect_clearing(_PUBLISHED, Survey, SurveyVersion)


def _scope_key(principal: Any) -> tuple[str, ...] | None:
    paths = getattr(principal, "_manyi_scope_paths", None)
    return tuple(paths) if paths is not None else None


def published_version(survey: Survey) -> SurveyVersion | None:
    """The survey's published version (cached per process; versions never change once published)."""
    version = _PUBLISHED.get(survey.pk)
    if version is None:
        version = survey.published_version()
        if version is not None:
            _PUBLISHED.put(survey.pk, version)
    return version


# --- cursors ---------------------------------------------------------------------------------------


def encode_cursor(*key: Any) -> str:
    raw = json.dumps([k.isoformat() if isinstance(k, datetime) else k for k in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: tuple[type, ...]) -> list[Any]:
    """The key a cursor carries, checked against the expected kinds; 422 naming ``cursor`` if not."""
    bad = Unprocessable.field("cursor", _("This cursor is not one the API gave out."), code="invalid_cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(key, list) or len(key) != len(kinds):
        raise bad
    out: list[Any] = []
    for value, kind in zip(key, kinds, strict=True):
        if kind is datetime:
            parsed = parse_datetime(value) if isinstance(value, str) else None
            if parsed is None or parsed.tzinfo is None:
                raise bad
            out.append(parsed)
        elif kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
                raise bad
            out.append(value)
    return out


def page_by_id(qs: QuerySet[Any], cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    """Rows in id order after the cursor, and the cursor of the next page (None on the last)."""
    if cursor:
        (after,) = decode_cursor(cursor, (int,))
        qs = qs.filter(pk__gt=after)
    rows = list(qs.order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].pk) if more and rows else None)


# --- units -----------------------------------------------------------------------------------------


def visible_units(principal: Any) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.visible_to(principal).select_related("parent")


def unit_by_code(principal: Any, code: str, field: str = "unit") -> OrgUnit:
    """A unit in the principal's subtree, else 422 naming ``field`` (the same for absent and hidden).

    Found units are cached per process for ``API_CACHE_SECONDS`` by code and the principal's scope.
    """
    scope = _scope_key(principal)
    key = (code, scope)
    unit = _UNITS.get(key) if scope is not None else None
    if unit is None:
        unit = OrgUnit.objects.visible_to(principal).filter(code=code, is_active=True).first()
        if unit is not None and scope is not None:
            _UNITS.put(key, unit)
    if unit is None:
        raise Unprocessable.field(
            field, _("No unit with code {code}.").format(code=code), code="unknown_unit"
        )
    return unit


def unit_filter(principal: Any, code: str) -> OrgUnit:
    """A unit named in a list filter: 404 when it is not in the principal's subtree."""
    unit = OrgUnit.objects.visible_to(principal).filter(code=code).first()
    if unit is None:
        raise NotFound(_("No unit with code {code}.").format(code=code))
    return unit


def unit_out(u: OrgUnit) -> dict[str, Any]:
    return {
        "id": u.pk,
        "code": u.code,
        "name": u.name,
        "kind": u.kind,
        "parent": u.parent.code if u.parent_id and u.parent else None,
        "timezone": u.timezone,
        "locale": u.locale,
        "is_active": u.is_active,
    }


# --- customers -------------------------------------------------------------------------------------


def customer_out(c: Customer) -> dict[str, Any]:
    return {
        "id": c.pk,
        "external_id": c.external_id,
        "name": c.name,
        "phone": c.phone,
        "email": c.email,
        "language": c.language,
        "tier": c.tier,
        "unit": c.home_unit.code,
        "consent_contact": c.consent_contact,
        "opted_out": c.opted_out,
        "created_at": c.created_at,
    }


def customer_ref(principal: Any, customer_id: int | None, external_id: str | None) -> Customer | None:
    """The customer a write refers to, by id or external id, among the principal's; 422 if unknown."""
    if customer_id is None and not external_id:
        return None
    qs = Customer.objects.visible_to(principal)
    if customer_id is not None:
        c = qs.filter(pk=customer_id).first()
        field, value = "customer_id", str(customer_id)
    else:
        c = qs.filter(external_id=external_id).first()
        field, value = "customer_external_id", str(external_id)
    if c is None:
        raise Unprocessable.field(
            field, _("No customer {value}.").format(value=value), code="unknown_customer"
        )
    if customer_id is not None and external_id and c.external_id != external_id:
        raise Unprocessable.field(
            "customer_external_id",
            _("customer_id and customer_external_id name different customers."),
            code="customer_mismatch",
        )
    return c


# --- surveys ---------------------------------------------------------------------------------------


def visible_surveys(principal: Any) -> QuerySet[Survey]:
    published = SurveyVersion.objects.filter(status=VersionStatus.PUBLISHED).order_by("-number")
    return (
        Survey.objects.visible_to(principal)
        .select_related("unit")
        .prefetch_related(Prefetch("versions", queryset=published, to_attr="published"))
    )


def survey_out(s: Survey) -> dict[str, Any]:
    published = getattr(s, "published", None)
    version = published[0] if published else s.published_version()
    questions = version.questions if version else []
    return {
        "id": s.pk,
        "slug": s.slug,
        "name": s.name,
        "status": s.status,
        "unit": s.unit.code,
        "version": version.number if version else None,
        "languages": s.languages,
        "questions": [{**question_summary(q), "label": q.get("label") or {}} for q in questions],
    }


def survey_by_slug(principal: Any, slug: str) -> Survey:
    """A survey that applies to the principal's subtree, else 422 naming ``survey``; cached like units."""
    scope = _scope_key(principal)
    key = (slug, scope)
    survey = _SURVEYS.get(key) if scope is not None else None
    if survey is None:
        survey = Survey.objects.visible_to(principal).select_related("unit").filter(slug=slug).first()
        if survey is not None and scope is not None:
            _SURVEYS.put(key, survey)
    if survey is None:
        raise Unprocessable.field("survey", _("No survey {slug}.").format(slug=slug), code="unknown_survey")
    return survey


# --- responses -------------------------------------------------------------------------------------


def visible_responses(principal: Any) -> QuerySet[Response]:
    return (
        Response.objects.visible_to(principal)
        .select_related("survey", "version", "unit")
        .prefetch_related(Prefetch("answers", queryset=Answer.objects.order_by("id")))
    )


def response_page(
    principal: Any,
    *,
    unit: str | None,
    survey: str | None,
    since: datetime | None,
    until: datetime | None,
    channel: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Response], str | None]:
    """Responses oldest first by (submitted_at, id); ``since`` inclusive, ``until`` exclusive."""
    qs = visible_responses(principal)
    if unit:
        qs = qs.filter(unit__path__startswith=unit_filter(principal, unit).path)
    if survey:
        found = Survey.objects.visible_to(principal).filter(slug=survey).first()
        if found is None:
            raise NotFound(_("No survey {slug}.").format(slug=survey))
        qs = qs.filter(survey=found)
    if since:
        qs = qs.filter(submitted_at__gte=since)
    if until:
        qs = qs.filter(submitted_at__lt=until)
    if channel:
        qs = qs.filter(channel=channel)
    if cursor:
        at, pk = decode_cursor(cursor, (datetime, int))
        qs = qs.filter(Q(submitted_at__gt=at) | Q(submitted_at=at, pk__gt=pk))
    rows = list(qs.order_by("submitted_at", "pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(rows[-1].submitted_at, rows[-1].pk) if more and rows else None
    return rows, nxt


def response_out(r: Response, answers: list[Answer] | None = None) -> dict[str, Any]:
    """The API shape of a response; ``answers`` saves reading them back right after a write."""
    return {
        "id": r.pk,
        "submission_id": r.submission_id,
        "survey": r.survey.slug,
        "version": r.version.number,
        "unit": r.unit.code,
        "customer_id": r.customer_id,
        "channel": r.channel,
        "language": r.language,
        "submitted_at": utc(r.submitted_at),
        "nps": r.nps,
        "csat": r.csat,
        "ces": r.ces,
        "comment": r.comment,
        "answers": [
            {"question": a.question_code, "number": a.number, "text": a.text, "choices": a.choices}
            for a in (answers if answers is not None else r.answers.all())
        ],
    }


# --- feedback --------------------------------------------------------------------------------------


def feedback_page(
    principal: Any,
    *,
    unit: str | None,
    channel: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[FeedbackRecord], str | None]:
    qs = FeedbackRecord.objects.visible_to(principal).select_related("unit")
    if unit:
        qs = qs.filter(unit__path__startswith=unit_filter(principal, unit).path)
    if channel:
        qs = qs.filter(channel=channel)
    if since:
        qs = qs.filter(occurred_at__gte=since)
    if until:
        qs = qs.filter(occurred_at__lt=until)
    return page_by_id(qs, cursor, limit)


def feedback_out(f: FeedbackRecord) -> dict[str, Any]:
    return {
        "id": f.pk,
        "channel": f.channel,
        "unit": f.unit.code,
        "customer_id": f.customer_id,
        "response_id": f.response_id,
        "touchpoint": f.touchpoint,
        "category": f.category,
        "severity": f.severity,
        "rating": f.rating,
        "text": f.text,
        "language": f.language,
        "occurred_at": utc(f.occurred_at),
        "created_at": f.created_at,
    }


# --- cases -----------------------------------------------------------------------------------------


def visible_cases(principal: Any) -> QuerySet[Case]:
    return Case.objects.visible_to(principal).select_related("unit", "assignee", "root_cause")


def case_page(
    principal: Any,
    *,
    unit: str | None,
    status: str | None,
    priority: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Case], str | None]:
    qs = visible_cases(principal)
    if unit:
        qs = qs.filter(unit__path__startswith=unit_filter(principal, unit).path)
    if status:
        qs = qs.filter(status=status)
    if priority:
        qs = qs.filter(priority=priority)
    return page_by_id(qs, cursor, limit)


def case_by_id(principal: Any, case_id: int) -> Case:
    case = visible_cases(principal).filter(pk=case_id).first()
    if case is None:
        raise NotFound(_("No case {id}.").format(id=case_id))
    return case


def case_out(c: Case) -> dict[str, Any]:
    if c.response_id:
        source: dict[str, Any] = {"type": "response", "id": c.response_id}
    elif c.feedback_id:
        source = {"type": "feedback", "id": c.feedback_id}
    else:
        source = {"type": "manual", "id": None}
    return {
        "id": c.pk,
        "title": c.title,
        "status": c.status,
        "priority": c.priority,
        "unit": c.unit.code,
        "assignee": c.assignee.get_username() if c.assignee else None,
        "customer_id": c.customer_id,
        "source": source,
        "first_response_due": c.first_response_due,
        "resolution_due": c.resolution_due,
        "created_at": c.created_at,
        "closed_at": c.closed_at,
        "root_cause": c.root_cause.code if c.root_cause is not None else None,
        "resolution": c.resolution or None,
    }
