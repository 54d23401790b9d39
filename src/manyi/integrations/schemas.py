"""What the API takes and gives. Inputs refuse unknown fields and name the field that is wrong."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field, StringConstraints

from manyi.cases.choices import CaseStatus, Priority, Resolution
from manyi.customers.models import Tier
from manyi.feedback.choices import FeedbackChannel, Severity
from manyi.responses.choices import Channel

MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

# Only the forms RFC 3339 allows, with an offset: "2026-05-01T09:30:00+08:00" or "…Z". Anything
# else ("2026/05/01", "01.05.2026 9:30", a Unix time, a naive time) is refused with the field named.
_ISO_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$",
)


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_RE.match(value):
        raise ValueError(
            "use an RFC 3339 date-time with a time zone offset, e.g. 2026-05-01T09:30:00+08:00 or 2026-05-01T01:30:00Z"
        )
    return value


def _utc(value: datetime) -> datetime:
    # Real offsets run from -12:00 to +14:00; PostgreSQL refuses larger ones with a 500-worthy error.
    offset = value.utcoffset()
    if offset is None or abs(offset) > timedelta(hours=14):
        raise ValueError("the time zone offset must be between -12:00 and +14:00")
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the date-time is out of range") from exc


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime), AfterValidator(_utc)]


def _no_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def Text(max_length: int, min_length: int = 0) -> Any:
    """A string of at most ``max_length`` characters with no NUL (which PostgreSQL cannot store)."""
    return Annotated[
        str, BeforeValidator(_no_nul), StringConstraints(max_length=max_length, min_length=min_length)
    ]


Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[-a-zA-Z0-9_]+$")]
Language = Annotated[
    str, StringConstraints(min_length=2, max_length=16, pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
]
Cursor = Annotated[str, StringConstraints(max_length=200)]
Limit = Annotated[int, Field(ge=1, le=200)]


class Input(Schema):
    """Base of every request body: an unknown field is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------------------------------


class FieldError(Schema):
    field: str
    message: str


class ErrorBody(Schema):
    code: str
    message: str
    fields: list[FieldError] | None = None


class ErrorOut(Schema):
    error: ErrorBody


# --- org units -------------------------------------------------------------------------------------


class UnitOut(Schema):
    id: int
    code: str
    name: dict[str, str]
    kind: str
    parent: str | None = Field(description="Code of the parent unit; null for a top unit.")
    timezone: str
    locale: str
    is_active: bool


class UnitPage(Schema):
    items: list[UnitOut]
    next_cursor: str | None


# --- customers -------------------------------------------------------------------------------------


class CustomerIn(Input):
    """Upsert: matched by ``external_id``, else ``phone``, else ``email`` among the token's customers."""

    external_id: Text(128, 1) | None = None  # type: ignore[valid-type]
    phone: Text(32, 1) | None = Field(  # type: ignore[valid-type]
        None, description="E.164 (+8613800138000); numbers without a country code are read as Chinese."
    )
    email: Text(254, 1) | None = None  # type: ignore[valid-type]
    name: Text(200) | None = None  # type: ignore[valid-type]
    language: Language | None = None
    tier: Tier | None = None
    unit: Code | None = Field(None, description="Home unit code; required when the customer is new.")
    consent_contact: bool | None = None
    opted_out: bool | None = None


class CustomerOut(Schema):
    id: int
    external_id: str | None
    name: str
    phone: str
    email: str
    language: str
    tier: str
    unit: str
    consent_contact: bool
    opted_out: bool
    created_at: datetime


class CustomerUpsertOut(Schema):
    created: bool
    changed: list[str]
    customer: CustomerOut


# --- surveys ---------------------------------------------------------------------------------------


class QuestionOut(Schema):
    code: str
    type: str
    required: bool
    label: dict[str, str]
    options: list[Any] = Field(
        description="Choice codes, the scale points, or {row, scale} for matrix rows and SERVQUAL halves."
    )


class SurveyOut(Schema):
    id: int
    slug: str
    name: dict[str, str]
    status: str
    unit: str
    version: int | None = Field(description="Number of the published version answers are recorded against.")
    languages: list[str]
    questions: list[QuestionOut]


class SurveyPage(Schema):
    items: list[SurveyOut]
    next_cursor: str | None


# --- responses -------------------------------------------------------------------------------------

AnswerScalar = (
    int | Annotated[str, BeforeValidator(_no_nul), StringConstraints(max_length=2000)] | bool | None
)
AnswerValue = (
    AnswerScalar
    | Annotated[
        list[Annotated[str, BeforeValidator(_no_nul), StringConstraints(max_length=64)] | int],
        Field(max_length=50),
    ]
    | Annotated[
        dict[
            Annotated[str, StringConstraints(max_length=48)],
            int | Annotated[str, StringConstraints(max_length=8)],
        ],
        Field(max_length=50),
    ]
)


class ResponseIn(Input):
    """A rating taken in another channel, recorded against the survey's published version."""

    survey: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")] = (
        Field(description="Survey slug.")
    )
    unit: Code = Field(description="Code of the unit the rating is about.")
    answers: Annotated[
        dict[Annotated[str, StringConstraints(min_length=1, max_length=64)], AnswerValue],
        Field(max_length=200),
    ] = Field(
        description='By question code: {"nps": 9, "csat": 4, "csi": {"tangibles": 4}, "reasons": ["price"], "comment": "…"}.'
    )
    language: Language = "zh-hans"
    channel: Channel = Channel.API
    submitted_at: IsoDateTime | None = Field(None, description="When the rating was given; defaults to now.")
    customer_id: Id | None = None
    customer_external_id: Text(128, 1) | None = None  # type: ignore[valid-type]
    submission_id: uuid.UUID | None = Field(
        None, description="Your id for this response; sending it again returns the stored response."
    )


class AnswerOut(Schema):
    question: str
    number: float | None
    text: str
    choices: list[str] | None


class ResponseOut(Schema):
    id: int
    submission_id: uuid.UUID
    survey: str
    version: int
    unit: str
    customer_id: int | None
    channel: str
    language: str
    submitted_at: datetime
    nps: int | None
    csat: int | None
    ces: int | None
    comment: str
    answers: list[AnswerOut]


class ResponsePage(Schema):
    items: list[ResponseOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


# --- feedback --------------------------------------------------------------------------------------


class FeedbackIn(Input):
    channel: Literal[
        FeedbackChannel.PHONE,
        FeedbackChannel.COUNTER,
        FeedbackChannel.WEB_FORM,
        FeedbackChannel.EMAIL,
        FeedbackChannel.REVIEW,
        FeedbackChannel.SOCIAL,
        FeedbackChannel.CALL_NOTE,
    ]
    unit: Code
    text: Text(10_000) = ""  # type: ignore[valid-type]
    occurred_at: IsoDateTime
    customer_id: Id | None = None
    customer_external_id: Text(128, 1) | None = None  # type: ignore[valid-type]
    touchpoint: Text(64) = ""  # type: ignore[valid-type]
    category: Text(64) = ""  # type: ignore[valid-type]
    severity: Severity = Severity.LOW
    rating: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    language: Language | None = None


class FeedbackOut(Schema):
    id: int
    channel: str
    unit: str
    customer_id: int | None
    response_id: int | None
    touchpoint: str
    category: str
    severity: str
    rating: float | None
    text: str
    language: str
    occurred_at: datetime
    created_at: datetime


class FeedbackPage(Schema):
    items: list[FeedbackOut]
    next_cursor: str | None


# --- cases -----------------------------------------------------------------------------------------


class CaseSource(Schema):
    type: Literal["response", "feedback", "manual"]
    id: int | None


class CaseOut(Schema):
    id: int
    title: str
    status: str
    priority: str
    unit: str
    assignee: str | None = Field(description="Username of the staff member working the case.")
    customer_id: int | None
    source: CaseSource
    first_response_due: datetime | None
    resolution_due: datetime | None
    created_at: datetime
    closed_at: datetime | None
    root_cause: str | None = Field(None, description="Code of the root cause, once resolved.")
    resolution: str | None = None


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: str | None


class CaseUpdate(Input):
    """Only the fields sent change; ``assignee: null`` takes the case off whoever had it.

    Status changes follow the case lifecycle. Resolving or closing needs a ``root_cause`` (a code of
    the organisation's root-cause taxonomy) and a ``resolution``; ``compensation`` needs an amount
    or a voucher. ``note`` goes into the case's timeline with the change.
    """

    status: CaseStatus | None = None
    priority: Priority | None = None
    assignee: Annotated[str, StringConstraints(min_length=1, max_length=150)] | None = None
    root_cause: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    resolution: Resolution | None = None
    compensation_amount: Annotated[Decimal, Field(ge=0, le=10_000_000, decimal_places=2)] | None = None
    compensation_voucher: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    note: Annotated[str, StringConstraints(max_length=4000)] | None = None
