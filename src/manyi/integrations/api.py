"""The REST API under /api/v1: one NinjaAPI object, one router per resource.

Another resource adds itself with ``api.add_router("/things", things_router)`` (its routes pass
``auth=TokenAuth("things:read")`` and, for POST, ``@decorate_view(idempotent)``). Handlers stay
thin: typed input, one query or action, a schema out. Every read starts from
``visible_to(principal)``, so a token sees its org-unit subtree and nothing else.
"""

from __future__ import annotations

import contextlib
import functools
import json
import random
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, NinjaAPI, Path, Query, Router, Status, Swagger
from ninja.decorators import decorate_view
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from manyi.cases.choices import CaseStatus, Priority
from manyi.customers.actions import CustomerRefused, do_upsert_customer
from manyi.customers.models import Customer
from manyi.feedback.choices import FeedbackChannel
from manyi.feedback.models import FeedbackRecord
from manyi.responses.actions import SubmitRefused, do_record_response
from manyi.responses.choices import Channel
from manyi.responses.models import Answer, Response
from manyi.surveys.choices import SurveyStatus

from . import queries
from .actions import (
    IdempotencyKeyTaken,
    PendingIdempotencyKey,
    do_purge_idempotency_keys,
    do_record_feedback,
    do_store_idempotency_key,
    do_update_case,
    request_fingerprint,
    stored_idempotent_result,
)
from .auth import TokenAuth, authenticate, principal_of
from .errors import ApiError, Conflict, NotFound, RateLimited, Unprocessable
from .schemas import (
    MAX_ID,
    CaseOut,
    CasePage,
    CaseUpdate,
    Code,
    Cursor,
    CustomerIn,
    CustomerOut,
    CustomerUpsertOut,
    ErrorOut,
    FeedbackIn,
    FeedbackOut,
    FeedbackPage,
    IsoDateTime,
    Limit,
    ResponseIn,
    ResponseOut,
    ResponsePage,
    SurveyOut,
    SurveyPage,
    UnitOut,
    UnitPage,
)


class _MalformedJson(ValueError):
    pass


class StrictJsonParser(Parser):
    """JSON bodies only, UTF-8, no NaN or Infinity; the error says where the JSON breaks."""

    def parse_body(self, request: HttpRequest) -> Any:
        def no_constants(name: str) -> Any:
            raise _MalformedJson(_("{name} is not allowed in JSON").format(name=name))

        try:
            return json.loads(request.body.decode("utf-8"), parse_constant=no_constants)
        except UnicodeDecodeError as exc:
            raise _MalformedJson(_("the body is not UTF-8")) from exc
        except json.JSONDecodeError as exc:
            raise _MalformedJson(
                _("{msg} at line {line}, column {col}").format(msg=exc.msg, line=exc.lineno, col=exc.colno)
            ) from exc


api = NinjaAPI(
    title="Manyi API",
    version="1",
    description=(
        "Customer satisfaction data in and out of Manyi. Authenticate with `Authorization: Bearer <token>` "
        "(`manyi tokens create`). A token sees its org unit's subtree only. POST endpoints accept an "
        "`Idempotency-Key` header; see docs/api.md."
    ),
    urls_namespace="api-v1",
    parser=StrictJsonParser(),
    # Swagger UI from ninja's bundled static files ("ninja" is in INSTALLED_APPS): no CDN.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)

# --- errors: always {"error": {"code", "message"[, "fields"]}} -----------------------------------


def _error(request: HttpRequest, status: int, payload: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, payload, status=status)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    response = _error(request, exc.status, exc.payload())
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="manyi"'
    return response


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "payload", "answers", "nps") -> "answers.nps"; ("query", "since") -> "since"
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        source = parts.pop(0)
        if source == "body" and parts:
            parts.pop(0)  # the handler's parameter name
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = []
    for e in exc.errors:
        name = _field_name(e.get("loc", ()))
        msg = "unknown field" if e.get("type") == "extra_forbidden" else str(e.get("msg", "invalid"))
        fields.append({"field": name, "message": msg})
    message = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5]) or _("The request is not valid.")
    return _error(request, 422, {"error": {"code": "invalid", "message": message, "fields": fields}})


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, _MalformedJson):
        message = _("The body is not valid JSON: {why}.").format(why=cause)
        return _error(
            request,
            400,
            {
                "error": {
                    "code": "malformed_json",
                    "message": message,
                    "fields": [{"field": "body", "message": str(cause)}],
                }
            },
        )
    if isinstance(exc, AuthenticationError):
        return _api_error(request, ApiError(_("The API token is not valid."), code="not_authenticated"))
    return _error(request, exc.status_code, {"error": {"code": "http_error", "message": str(exc)}})


@api.exception_handler(IdempotencyKeyTaken)
def _key_taken(request: HttpRequest, exc: IdempotencyKeyTaken) -> HttpResponse:
    # Not an answer: ``idempotent`` catches it around the operation and replays the stored result.
    # (Without this, ninja would turn it into a 500 page when DEBUG is on.)
    raise exc


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 404, {"error": {"code": "not_found", "message": _("Not found.")}})


# --- idempotency -----------------------------------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def _keeps(response: HttpResponse) -> bool:
    """Results worth replaying: not server errors, authentication, scope or rate-limit refusals."""
    return response.status_code < 500 and response.status_code not in (401, 403, 429)


def idempotent(
    run: Callable[..., HttpResponse], *, stores_itself: bool = False
) -> Callable[..., HttpResponse]:
    """Wrap a POST operation: the first result per (token, Idempotency-Key) is kept and replayed.

    The result is stored in the same transaction as the request's writes, so a request either
    wrote its data and its key or neither. The operation runs in one transaction with the key's
    insert; with ``stores_itself`` (see ``idempotent_write``) the handler stores the key inside its
    own, shorter write transaction through ``pending_idempotency_key(request)``, and results that
    wrote nothing are stored afterwards. Whoever inserts the key first wins; a concurrent or later
    request with the same key rolls back and replays that result (``Idempotent-Replayed: true``),
    or gets 422 when its body differs. Results of server errors, authentication and rate limiting
    are not kept, so a retry runs again.
    """

    @functools.wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return run(request, *args, **kwargs)
        try:
            if not (1 <= len(key) <= 255) or not set(key) <= _KEY_OK:
                raise Unprocessable.field(
                    IDEMPOTENCY_HEADER,
                    _("Use 1 to 255 characters from A-Z, a-z, 0-9 and - _ . : (a UUID is ideal)."),
                    code="invalid_idempotency_key",
                )
            principal = authenticate(request)
        except ApiError as exc:
            return _api_error(request, exc)
        pending = PendingIdempotencyKey(
            token_id=principal.token_id,
            key=key,
            fingerprint=request_fingerprint(request.method or "", request.get_full_path(), request.body),
        )
        if random.random() < 0.01:
            do_purge_idempotency_keys()
        request._manyi_idempotency = pending  # type: ignore[attr-defined]
        for _attempt in range(3):
            pending.stored = False
            try:
                with contextlib.nullcontext() if stores_itself else transaction.atomic():
                    response = run(request, *args, **kwargs)
                    if not pending.stored and _keeps(response):
                        do_store_idempotency_key(
                            pending=pending,
                            status=response.status_code,
                            body=response.content,
                            content_type=response.get("Content-Type", "application/json"),
                            inside_write=not stores_itself,
                        )
                return response
            except IdempotencyKeyTaken:
                pass  # rolled back: another request holds this key
            try:
                stored = stored_idempotent_result(pending=pending)
            except ApiError as exc:
                return _api_error(request, exc)
            if stored is not None:
                replay = HttpResponse(
                    stored.body, status=stored.status_code, content_type=stored.content_type
                )
                replay["Idempotent-Replayed"] = "true"
                return replay
            # The stored result had expired and is gone: run again under the key.
        return _api_error(
            request,
            Conflict(
                _("The Idempotency-Key {key} is being used by other requests; retry later.").format(key=key),
                code="idempotency_key_in_progress",
            ),
        )

    return wrapper


# For handlers that store the key inside their own write transaction (``pending_idempotency_key``).
idempotent_write = functools.partial(idempotent, stores_itself=True)


def pending_idempotency_key(request: HttpRequest) -> PendingIdempotencyKey | None:
    """The key of this request while ``idempotent`` runs it, for ``do_store_idempotency_key``."""
    return getattr(request, "_manyi_idempotency", None)


IDEMPOTENCY_KEY: Any = Header(
    None,
    alias=IDEMPOTENCY_HEADER,
    description="Any unique string (a UUID is ideal). A retry with the same key and body returns the "
    "first result; the same key with another body is refused (422). Kept 24 h per token.",
    max_length=255,
    pattern=r"^[-A-Za-z0-9_.:]+$",
)
NO_CURSOR: Any = Query(None, description="next_cursor of the previous page.")
NOT_FILTERED: Any = Query(None)
UNIT_FILTER: Any = Query(None, description="Unit code; includes the units below it.")
SURVEY_FILTER: Any = Query(None, description="Survey slug.", max_length=80)
SUBMITTED_SINCE: Any = Query(None, description="submitted_at on or after (RFC 3339).")
SUBMITTED_UNTIL: Any = Query(None, description="submitted_at before (RFC 3339).")
OCCURRED_SINCE: Any = Query(None, description="occurred_at on or after (RFC 3339).")
OCCURRED_UNTIL: Any = Query(None, description="occurred_at before (RFC 3339).")


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 400: ErrorOut, 409: ErrorOut, 413: ErrorOut}
PathId = Path(..., ge=1, le=MAX_ID)


def _link(operation_id: str, parameter: str, pointer: str = "$response.body#/id") -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": {parameter: pointer}}


# --- org units -------------------------------------------------------------------------------------

units = Router(tags=["org units"])


@units.get("", response={200: UnitPage, **ERRORS}, auth=TokenAuth("units:read"), operation_id="list_units")
def list_units(request: HttpRequest, cursor: Cursor = NO_CURSOR, limit: Limit = 100) -> Any:
    """Org units in the token's subtree."""
    rows, nxt = queries.page_by_id(queries.visible_units(principal_of(request)), cursor, limit)
    return {"items": [queries.unit_out(u) for u in rows], "next_cursor": nxt}


@units.get(
    "/{unit_id}", response={200: UnitOut, **ERRORS}, auth=TokenAuth("units:read"), operation_id="get_unit"
)
def get_unit(request: HttpRequest, unit_id: int = PathId) -> Any:
    unit = queries.visible_units(principal_of(request)).filter(pk=unit_id).first()
    if unit is None:
        raise NotFound(_("No unit {id}.").format(id=unit_id))
    return queries.unit_out(unit)


# --- customers -------------------------------------------------------------------------------------

customers = Router(tags=["customers"])


@customers.post(
    "",
    response={200: CustomerUpsertOut, 201: CustomerUpsertOut, **WRITE_ERRORS},
    auth=TokenAuth("customers:write"),
    operation_id="upsert_customer",
    openapi_extra={
        "responses": {
            "201": {
                "links": {"GetCustomer": _link("get_customer", "customer_id", "$response.body#/customer/id")}
            },
            "200": {
                "links": {"GetCustomer": _link("get_customer", "customer_id", "$response.body#/customer/id")}
            },
        }
    },
)
@decorate_view(idempotent)
def upsert_customer(request: HttpRequest, payload: CustomerIn, idempotency_key: str = IDEMPOTENCY_KEY) -> Any:
    """Create or update a customer, matched by external_id, else phone, else email (201 created, 200 updated)."""
    principal = principal_of(request)
    home = queries.unit_by_code(principal, payload.unit) if payload.unit else None
    try:
        result = do_upsert_customer(
            visible=Customer.objects.visible_to(principal),
            external_id=payload.external_id,
            phone=payload.phone,
            email=payload.email,
            home_unit=home,
            values=payload.model_dump(include={"name", "language", "tier", "consent_contact", "opted_out"}),
        )
    except CustomerRefused as exc:
        if exc.code == "external_id_taken":
            raise Conflict(
                exc.message, code=exc.code, fields=[{"field": exc.field, "message": exc.message}]
            ) from exc
        raise Unprocessable.field(exc.field, exc.message, code=exc.code) from exc
    body = {
        "created": result.created,
        "changed": result.changed,
        "customer": queries.customer_out(result.customer),
    }
    return Status(201 if result.created else 200, body)


@customers.get(
    "/{customer_id}",
    response={200: CustomerOut, **ERRORS},
    auth=TokenAuth("customers:read"),
    operation_id="get_customer",
)
def get_customer(request: HttpRequest, customer_id: int = PathId) -> Any:
    c = (
        Customer.objects.visible_to(principal_of(request))
        .select_related("home_unit")
        .filter(pk=customer_id)
        .first()
    )
    if c is None:
        raise NotFound(_("No customer {id}.").format(id=customer_id))
    return queries.customer_out(c)


# --- surveys ---------------------------------------------------------------------------------------

surveys = Router(tags=["surveys"])


@surveys.get(
    "", response={200: SurveyPage, **ERRORS}, auth=TokenAuth("surveys:read"), operation_id="list_surveys"
)
def list_surveys(request: HttpRequest, cursor: Cursor = NO_CURSOR, limit: Limit = 50) -> Any:
    """Surveys that apply to the token's units (including company-wide ones), with their questions."""
    rows, nxt = queries.page_by_id(queries.visible_surveys(principal_of(request)), cursor, limit)
    return {"items": [queries.survey_out(s) for s in rows], "next_cursor": nxt}


@surveys.get(
    "/{survey_id}",
    response={200: SurveyOut, **ERRORS},
    auth=TokenAuth("surveys:read"),
    operation_id="get_survey",
)
def get_survey(request: HttpRequest, survey_id: int = PathId) -> Any:
    s = queries.visible_surveys(principal_of(request)).filter(pk=survey_id).first()
    if s is None:
        raise NotFound(_("No survey {id}.").format(id=survey_id))
    return queries.survey_out(s)


# --- responses -------------------------------------------------------------------------------------

responses = Router(tags=["responses"])


@responses.post(
    "",
    response={200: ResponseOut, 201: ResponseOut, **WRITE_ERRORS},
    auth=TokenAuth("responses:write"),
    operation_id="create_response",
    openapi_extra={
        "responses": {
            "201": {"links": {"GetResponse": _link("get_response", "response_id")}},
            "200": {"links": {"GetResponse": _link("get_response", "response_id")}},
        }
    },
)
@decorate_view(idempotent_write)
def create_response(request: HttpRequest, payload: ResponseIn, idempotency_key: str = IDEMPOTENCY_KEY) -> Any:
    """Record a rating taken in another channel (201), validated against the survey's published version.

    A repeated ``submission_id`` returns the stored response with 200.
    """
    principal = principal_of(request)
    survey = queries.survey_by_slug(principal, payload.survey)
    unit = queries.unit_by_code(principal, payload.unit)
    customer = queries.customer_ref(principal, payload.customer_id, payload.customer_external_id)
    pending = pending_idempotency_key(request)
    created: list[HttpResponse] = []

    def render_and_keep(stored: Response, answers: list[Answer]) -> None:
        # Inside the write transaction: the key is stored with the response, or neither is.
        created.append(_created_response(request, stored, answers, survey, unit))
        assert pending is not None
        do_store_idempotency_key(
            pending=pending,
            status=201,
            body=created[0].content,
            content_type=created[0]["Content-Type"],
            inside_write=True,
        )

    try:
        result = do_record_response(
            survey=survey,
            unit=unit,
            answers=payload.answers,
            language=payload.language,
            channel=payload.channel,
            submitted_at=payload.submitted_at,
            customer_id=customer.pk if customer else None,
            submission_id=payload.submission_id,
            version=queries.published_version(survey) if survey.status == SurveyStatus.ACTIVE else None,
            before_commit=render_and_keep if pending is not None else None,
        )
    except SubmitRefused as exc:
        field = {"unit_outside_survey": "unit", "submitted_in_future": "submitted_at"}.get(
            exc.code, "submission_id" if exc.code == "submission_conflict" else "survey"
        )
        raise Unprocessable.field(field, exc.message, code=exc.code) from exc
    if result.errors:
        fields = [{"field": f"answers.{code}", "message": msg} for code, msg in sorted(result.errors.items())]
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        raise Unprocessable(message, code="invalid_answers", fields=fields)
    stored = result.response
    assert stored is not None
    if not result.created:
        return Status(200, queries.response_out(queries.visible_responses(principal).get(pk=stored.pk)))
    if created:
        return created[0]
    return _created_response(request, stored, result.answers, survey, unit)


def _created_response(
    request: HttpRequest, stored: Response, answers: list[Answer], survey: Any, unit: Any
) -> HttpResponse:
    """The 201 of ``create_response``, without reads: the same bytes as ``GET /responses/{id}``.

    The values are the ones just written, already of the schema's types (ResponseOut), so they
    are rendered directly; a test compares the bytes with a read of the response.
    """
    stored.survey, stored.unit = survey, unit  # already loaded
    return api.create_response(request, queries.response_out(stored, answers=answers), status=201)


@responses.get(
    "",
    response={200: ResponsePage, **ERRORS},
    auth=TokenAuth("responses:read"),
    operation_id="list_responses",
)
def list_responses(
    request: HttpRequest,
    unit: Code = UNIT_FILTER,
    survey: str = SURVEY_FILTER,
    since: IsoDateTime = SUBMITTED_SINCE,
    until: IsoDateTime = SUBMITTED_UNTIL,
    channel: Channel = NOT_FILTERED,
    cursor: Cursor = NO_CURSOR,
    limit: Limit = 100,
) -> Any:
    """Responses oldest first by (submitted_at, id), a page at a time; follow ``next_cursor``."""
    if since and until and since >= until:
        raise Unprocessable.field("until", _("until must be later than since."))
    rows, nxt = queries.response_page(
        principal_of(request),
        unit=unit,
        survey=survey,
        since=since,
        until=until,
        channel=channel,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [queries.response_out(r) for r in rows], "next_cursor": nxt}


@responses.get(
    "/{response_id}",
    response={200: ResponseOut, **ERRORS},
    auth=TokenAuth("responses:read"),
    operation_id="get_response",
)
def get_response(request: HttpRequest, response_id: int = PathId) -> Any:
    r = queries.visible_responses(principal_of(request)).filter(pk=response_id).first()
    if r is None:
        raise NotFound(_("No response {id}.").format(id=response_id))
    return queries.response_out(r)


# --- feedback --------------------------------------------------------------------------------------

feedback = Router(tags=["feedback"])


@feedback.post(
    "",
    response={201: FeedbackOut, **WRITE_ERRORS},
    auth=TokenAuth("feedback:write"),
    operation_id="create_feedback",
    openapi_extra={"responses": {"201": {"links": {"GetFeedback": _link("get_feedback", "feedback_id")}}}},
)
@decorate_view(idempotent)
def create_feedback(request: HttpRequest, payload: FeedbackIn, idempotency_key: str = IDEMPOTENCY_KEY) -> Any:
    """Record a complaint, review, call note or any other feedback."""
    principal = principal_of(request)
    unit = queries.unit_by_code(principal, payload.unit)
    customer = queries.customer_ref(principal, payload.customer_id, payload.customer_external_id)
    record = do_record_feedback(
        unit=unit,
        channel=payload.channel,
        occurred_at=payload.occurred_at,
        text=payload.text,
        customer=customer,
        touchpoint=payload.touchpoint,
        category=payload.category,
        severity=payload.severity,
        rating=payload.rating,
        language=payload.language or "",
    )
    return Status(201, queries.feedback_out(record))


@feedback.get(
    "", response={200: FeedbackPage, **ERRORS}, auth=TokenAuth("feedback:read"), operation_id="list_feedback"
)
def list_feedback(
    request: HttpRequest,
    unit: Code = UNIT_FILTER,
    channel: FeedbackChannel = NOT_FILTERED,
    since: IsoDateTime = OCCURRED_SINCE,
    until: IsoDateTime = OCCURRED_UNTIL,
    cursor: Cursor = NO_CURSOR,
    limit: Limit = 100,
) -> Any:
    rows, nxt = queries.feedback_page(
        principal_of(request),
        unit=unit,
        channel=channel,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [queries.feedback_out(f) for f in rows], "next_cursor": nxt}


@feedback.get(
    "/{feedback_id}",
    response={200: FeedbackOut, **ERRORS},
    auth=TokenAuth("feedback:read"),
    operation_id="get_feedback",
)
def get_feedback(request: HttpRequest, feedback_id: int = PathId) -> Any:
    f = (
        FeedbackRecord.objects.visible_to(principal_of(request))
        .select_related("unit")
        .filter(pk=feedback_id)
        .first()
    )
    if f is None:
        raise NotFound(_("No feedback record {id}.").format(id=feedback_id))
    return queries.feedback_out(f)


# --- cases -----------------------------------------------------------------------------------------

cases = Router(tags=["cases"])


@cases.get("", response={200: CasePage, **ERRORS}, auth=TokenAuth("cases:read"), operation_id="list_cases")
def list_cases(
    request: HttpRequest,
    unit: Code = UNIT_FILTER,
    status: CaseStatus = NOT_FILTERED,
    priority: Priority = NOT_FILTERED,
    cursor: Cursor = NO_CURSOR,
    limit: Limit = 100,
) -> Any:
    rows, nxt = queries.case_page(
        principal_of(request), unit=unit, status=status, priority=priority, cursor=cursor, limit=limit
    )
    return {"items": [queries.case_out(c) for c in rows], "next_cursor": nxt}


@cases.get(
    "/{case_id}", response={200: CaseOut, **ERRORS}, auth=TokenAuth("cases:read"), operation_id="get_case"
)
def get_case(request: HttpRequest, case_id: int = PathId) -> Any:
    return queries.case_out(queries.case_by_id(principal_of(request), case_id))


@cases.patch(
    "/{case_id}",
    response={200: CaseOut, **WRITE_ERRORS},
    auth=TokenAuth("cases:write"),
    operation_id="update_case",
)
def update_case(request: HttpRequest, payload: CaseUpdate, case_id: int = PathId) -> Any:
    """Change status, priority or assignee (a username; null unassigns). Only the fields sent change."""
    case = queries.case_by_id(principal_of(request), case_id)
    changes = {k: getattr(payload, k) for k in payload.model_fields_set}
    case, _changed = do_update_case(case=case, changes=changes)
    return queries.case_out(case)


api.add_router("/units", units)
api.add_router("/customers", customers)
api.add_router("/surveys", surveys)
api.add_router("/responses", responses)
api.add_router("/feedback", feedback)
api.add_router("/cases", cases)
api.add_router("/service-events", "manyi.distribution.api.router")

__all__ = ["api", "idempotent"]
