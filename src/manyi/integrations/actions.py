"""Writes for integrations: API tokens, idempotency keys, and the feedback and case writes of the API.

``do_record_feedback`` and ``do_update_case`` live here until the feedback and cases apps grow
their own actions for these writes; they validate, write in one transaction, and save only the
fields that change.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.cases.choices import CaseStatus
from manyi.cases.models import Case
from manyi.customers.models import Customer
from manyi.feedback.models import FeedbackRecord
from manyi.org.models import OrgUnit

from .errors import Unprocessable
from .models import ApiToken, IdempotencyKey
from .tokens import new_token, parse_scopes

# --- tokens ----------------------------------------------------------------------------------------


@dataclass
class IssuedToken:
    """A new token: ``token`` is the only time the secret exists outside the caller's hands."""

    token: str
    record: ApiToken


def do_create_token(
    *,
    name: str,
    scopes: str | list[str],
    unit: OrgUnit | None = None,
    expires_in: timedelta | None = None,
    created_by: Any = None,
    now: datetime | None = None,
) -> IssuedToken:
    """Create a token bound to ``unit``'s subtree (None: the whole organisation); store only its hash."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("the name must have 1 to 100 characters")
    parsed = parse_scopes(scopes)
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValueError("the expiry must be in the future")
    now = now or timezone.now()
    token, prefix, secret_hash = new_token()
    record = ApiToken.objects.create(
        name=name,
        prefix=prefix,
        secret_hash=secret_hash,
        scopes=parsed,
        unit=unit,
        created_by=created_by if getattr(created_by, "pk", None) else None,
        expires_at=now + expires_in if expires_in else None,
    )
    return IssuedToken(token=token, record=record)


def do_revoke_token(*, token: ApiToken, now: datetime | None = None) -> ApiToken:
    """Revoke a token at once; the next request with it gets 401."""
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- idempotency -----------------------------------------------------------------------------------

IDEMPOTENCY_TTL = timedelta(hours=24)


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"


class IdempotencyKeyTaken(Exception):
    """Another request stored a result under this key first; the transaction that tried must roll back."""


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 of method, path and body; a JSON body counts by its content, not its spacing or key order."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        payload = canonical.encode()
    except (ValueError, UnicodeDecodeError):
        payload = body
    h = hashlib.sha256(f"{method} {path}\n".encode())
    h.update(payload)
    return h.hexdigest()


@dataclass
class PendingIdempotencyKey:
    """The key of a request that is running; ``stored`` once its result is written under the key."""

    token_id: int
    key: str
    fingerprint: str
    stored: bool = False


def do_store_idempotency_key(
    *,
    pending: PendingIdempotencyKey,
    status: int,
    body: bytes,
    content_type: str,
    inside_write: bool = False,
    now: datetime | None = None,
) -> None:
    """Keep a request's result under its key, inside the transaction that wrote the request's data
    (``inside_write``), or on its own when the request wrote nothing.

    The unique constraint on (token, key) is the lock: of any number of concurrent requests with one
    key exactly one inserts the row, and the others get IdempotencyKeyTaken, which must roll back
    whatever their transaction wrote; they then replay the stored result (``stored_idempotent_result``).
    """
    try:
        # Inside the write transaction no savepoint is needed: the whole transaction rolls back.
        with transaction.atomic(savepoint=not inside_write), connection.cursor() as cursor:
            cursor.execute(
                _insert_key_sql(),
                [
                    pending.token_id,
                    pending.key,
                    pending.fingerprint,
                    status,
                    body.decode("utf-8", errors="replace"),
                    content_type,
                    connection.ops.adapt_datetimefield_value(now or timezone.now()),
                ],
            )
    except IntegrityError as exc:
        raise IdempotencyKeyTaken(pending.key) from exc
    pending.stored = True


@functools.cache
def _insert_key_sql() -> str:
    # One plain INSERT: this runs on every API write, and the ORM's insert compilation cost a third
    # of the statement's CPU. Column names come from the model, so a rename cannot leave it behind.
    quote = connection.ops.quote_name
    column = {f.name: str(f.column) for f in IdempotencyKey._meta.concrete_fields}
    columns = ", ".join(quote(column[name]) for name in _KEY_COLUMNS)
    marks = ", ".join(["%s"] * len(_KEY_COLUMNS))
    return f"INSERT INTO {quote(IdempotencyKey._meta.db_table)} ({columns}) VALUES ({marks})"


_KEY_COLUMNS = ("token", "key", "fingerprint", "status_code", "body", "content_type", "created_at")


def stored_idempotent_result(
    *, pending: PendingIdempotencyKey, now: datetime | None = None
) -> IdempotencyKey | None:
    """The stored result to replay for this key, or None when there is none (or it has expired,
    in which case it is deleted and the key may be used again).

    Raises IdempotencyKeyReused when the key was stored for a different request.
    """
    now = now or timezone.now()
    existing = IdempotencyKey.objects.filter(token_id=pending.token_id, key=pending.key).first()
    if existing is None:
        return None
    # A row without a result was left by a request of an older release that never finished.
    if existing.created_at < now - IDEMPOTENCY_TTL or existing.status_code is None:
        IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
        return None
    if existing.fingerprint != pending.fingerprint:
        raise IdempotencyKeyReused(
            _(
                "The Idempotency-Key {key} was already used with a different request; "
                "use a new key for a new request."
            ).format(key=pending.key)
        )
    return existing


def do_purge_idempotency_keys(now: datetime | None = None) -> int:
    """Delete keys older than 24 h."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted, _counts = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- feedback and cases ----------------------------------------------------------------------------


def do_record_feedback(
    *,
    unit: OrgUnit,
    channel: str,
    occurred_at: datetime,
    text: str = "",
    customer: Customer | None = None,
    touchpoint: str = "",
    category: str = "",
    severity: str = "low",
    rating: float | None = None,
    language: str = "",
) -> FeedbackRecord:
    """Store a complaint, review or call note that arrived through an integration."""
    record = FeedbackRecord.objects.create(
        unit=unit,
        channel=channel,
        occurred_at=occurred_at,
        text=text,
        customer=customer,
        touchpoint=touchpoint,
        category=category,
        severity=severity,
        rating=rating,
        language=language,
    )
    from manyi.analytics.tasks import request_sync
    from manyi.enrichment.tasks import enrich_feedback

    transaction.on_commit(request_sync)
    if record.text.strip():
        transaction.on_commit(lambda: enrich_feedback.enqueue(record.pk))
    from manyi.rules.actions import enqueue_evaluation

    enqueue_evaluation("feedback", record.pk)
    return record


CLOSED_STATES = {CaseStatus.RESOLVED, CaseStatus.CLOSED}


@transaction.atomic
def do_update_case(
    *,
    case: Case,
    changes: dict[str, Any],
    now: datetime | None = None,
) -> tuple[Case, list[str]]:
    """Change a case's assignee, priority or status through the case lifecycle; return it and the
    fields that changed.

    Every change goes through ``manyi.cases.actions`` exactly as in the console: transitions are
    checked, resolving or closing needs a root cause (its code) and a resolution, and each step is
    written to the case's timeline. ``changes["assignee"]`` is a username; None unassigns.
    A refusal raises Unprocessable naming the field; nothing of the request is kept.
    """
    from django.core.exceptions import ValidationError

    from manyi.cases import actions as case_actions
    from manyi.cases.models import RootCause

    now = now or timezone.now()
    before = {f: getattr(case, f) for f in ("assignee_id", "priority", "status", "closed_at")}
    try:
        with transaction.atomic():
            if "assignee" in changes:
                username = changes["assignee"]
                if username is None:
                    case = case_actions.do_unassign(case, now=now)
                else:
                    assignee = get_user_model().objects.filter(username=username, is_active=True).first()
                    if assignee is None or not Case.objects.visible_to(assignee).filter(pk=case.pk).exists():
                        raise Unprocessable.field(
                            "assignee",
                            _("No staff member {name} can work cases of this unit.").format(name=username),
                            code="unknown_assignee",
                        )
                    case = case_actions.do_assign(case, assignee, now=now)
            if changes.get("priority") is not None and case.priority != changes["priority"]:
                case = case_actions.do_change_priority(case, str(changes["priority"]), now=now)
            status = changes.get("status")
            note = changes.get("note") or ""
            if status is not None and case.status != status:
                if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and case.status not in CLOSED_STATES:
                    cause = None
                    if changes.get("root_cause"):
                        cause = RootCause.objects.filter(code=changes["root_cause"], is_active=True).first()
                        if cause is None:
                            raise Unprocessable.field(
                                "root_cause",
                                _("No active root cause has the code {code}.").format(
                                    code=changes["root_cause"]
                                ),
                                code="unknown_root_cause",
                            )
                    finish = case_actions.do_close if status == CaseStatus.CLOSED else case_actions.do_resolve
                    case = finish(
                        case,
                        root_cause=cause,
                        resolution=changes.get("resolution"),
                        compensation_amount=changes.get("compensation_amount"),
                        compensation_voucher=changes.get("compensation_voucher"),
                        note=note,
                        now=now,
                    )
                else:
                    case = case_actions.do_transition(case, str(status), note=note, now=now)
    except ValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"status": exc.messages}
        fields = [{"field": f, "message": " ".join(str(m) for m in ms)} for f, ms in messages.items()]
        raise Unprocessable(
            "; ".join(f"{f['field']}: {f['message']}" for f in fields), code="case_refused", fields=fields
        ) from None
    case.refresh_from_db()
    after = {f: getattr(case, f) for f in before}
    changed = sorted(("assignee" if f == "assignee_id" else f) for f in before if before[f] != after[f])
    return case, changed
