"""Recovery: after a case closes, its customer is asked again with a personal re-survey link, sent
through the distribution adapters (e-mail or SMS), once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction

from manyi.core.i18ntext import LANG_EN, LANG_ZH, text_for
from manyi.distribution.actions import choose_channel
from manyi.distribution.adapters import OutboundMessage, adapter_for
from manyi.distribution.content import invitation_language
from manyi.surveys.actions import do_create_link
from manyi.surveys.choices import LinkKind
from manyi.surveys.models import Survey
from manyi.surveys.queries import survey_link_url

from . import queries
from .choices import CaseStatus, EventKind, ResurveyStatus
from .models import Case, CaseEvent

log = logging.getLogger(__name__)

# Customer-facing words, per language (like distribution.content): not interface strings.
SUBJECT = {
    LANG_ZH: "{unit}：您的反馈已处理，请再告诉我们一次",
    LANG_EN: "{unit}: we followed up on your feedback",
}
BODY = {
    LANG_ZH: "{name}您好，{unit}已处理您的反馈。您现在感觉如何？请花半分钟告诉我们：{url}",
    LANG_EN: "Hello {name}, {unit} has followed up on your feedback. How do you feel now? "
    "Tell us in half a minute: {url}",
}
LINK_VALID = timedelta(days=14)
# Cases closed longer ago than this are not re-surveyed by the periodic catch-up.
CATCH_UP = timedelta(days=7)


def resurvey_survey(case: Case) -> Survey | None:
    """The unit's configured re-survey, else the survey the customer answered."""
    routing = queries.routing_record_for(case.unit)
    if routing is not None and routing.resurvey_id is not None:
        return routing.resurvey
    if case.response_id is not None:
        return case.response.survey  # type: ignore[union-attr]
    return None


def _finish(case: Case, status: str, now: datetime, reason: str, **data: object) -> None:
    Case.objects.filter(pk=case.pk).update(
        resurvey_status=status, resurvey_sent_at=now if status == ResurveyStatus.SENT else None
    )
    CaseEvent.objects.create(
        case=case, kind=EventKind.RESURVEY, created_at=now, body=reason, data={"status": status, **data}
    )


def send_resurvey(case_id: int, now: datetime) -> bool:
    """Send one closed case's re-survey; True when sent now. Safe to call twice or concurrently:
    the first caller claims the case, the others return False."""
    claimed = Case.objects.filter(pk=case_id, status=CaseStatus.CLOSED, resurvey_status="").update(
        resurvey_status=ResurveyStatus.SENDING
    )
    if not claimed:
        return False
    case = Case.objects.select_related("unit", "customer", "response__survey").get(pk=case_id)
    try:
        return _send(case, now)
    except Exception as exc:  # never left "sending": the case says what went wrong
        log.exception("cases: re-survey of case %s failed", case_id)
        _finish(case, ResurveyStatus.FAILED, now, f"{type(exc).__name__}: {exc}"[:500])
        return False


def _send(case: Case, now: datetime) -> bool:
    customer = case.customer
    if customer is None:
        _finish(case, ResurveyStatus.SKIPPED, now, "no customer")
        return False
    if customer.opted_out:
        _finish(case, ResurveyStatus.SKIPPED, now, "customer opted out")
        return False
    survey = resurvey_survey(case)
    if survey is None or survey.published_version() is None:
        _finish(case, ResurveyStatus.SKIPPED, now, "no published re-survey for this unit")
        return False
    picked = choose_channel(customer, ["sms", "email"])
    if picked is None:
        _finish(case, ResurveyStatus.SKIPPED, now, "no phone or e-mail address")
        return False
    channel, address = picked
    language = invitation_language(customer.language, case.unit.locale, list(survey.languages))
    with transaction.atomic():
        link = do_create_link(
            survey=survey,
            kind=LinkKind.PERSONAL,
            unit=case.unit,
            customer=customer,
            service_event_ref=f"case:{case.pk}",
            language=language,
            channel=channel,
            expires_at=now + LINK_VALID,
        )
        Case.objects.filter(pk=case.pk).update(resurvey_link=link)
    values = {"unit": case.unit.display_name(language), "name": customer.name, "url": survey_link_url(link)}
    message = OutboundMessage(
        channel=channel,
        to=address,
        subject=text_for(SUBJECT, language, LANG_ZH).format(**values),
        body=text_for(BODY, language, LANG_ZH).format(**values).replace(" ,", ","),
        idempotency_key=f"manyi-case-{case.pk}-resurvey",
        language=language,
    )
    try:
        ref = adapter_for(channel).send(message)
    except Exception as exc:  # any provider failure is logged on the case, never raised to the closer
        log.warning("cases: re-survey of case %s failed: %s", case.pk, exc)
        _finish(case, ResurveyStatus.FAILED, now, str(exc)[:500], channel=channel)
        return False
    _finish(case, ResurveyStatus.SENT, now, "", channel=channel, link_id=link.pk, provider_ref=str(ref)[:200])
    return True


def catch_up(now: datetime, limit: int = 500) -> int:
    """Send the re-surveys that the close-time task did not (a crash, a full queue)."""
    ids = list(
        Case.objects.filter(
            status=CaseStatus.CLOSED, resurvey_status="", closed_at__gte=now - CATCH_UP, closed_at__lte=now
        )
        .order_by("closed_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if send_resurvey(pk, now))
