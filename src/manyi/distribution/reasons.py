"""The sentence for each decision: built from its reason code and params, in the active language."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from .choices import Outcome, Reason


def _channel_name(code: str) -> str:
    return {"email": pgettext("delivery channel", "e-mail"), "sms": _("SMS")}.get(code, code)


def _period_name(code: str) -> str:
    names = {
        "day": pgettext("quota period", "day"),
        "week": pgettext("quota period", "week"),
        "month": pgettext("quota period", "month"),
    }
    return names.get(code, code)


def decision_message(outcome: str, reason: str, params: dict[str, Any]) -> str:
    """``"not sent: surveyed 12 days ago under rule store-visit (...)"`` and the like."""
    p = {k: v for k, v in params.items() if v is not None}
    p.setdefault("rule", "")
    if "channel" in p:
        p["channel"] = _channel_name(str(p["channel"]))
    if "period" in p:
        p["period"] = _period_name(str(p["period"]))
    if "channels" in p:
        p["channels"] = ", ".join(_channel_name(str(c)) for c in p["channels"]) or _("none")
    text = _text(outcome, reason, p)
    return text


def _text(outcome: str, reason: str, p: dict[str, Any]) -> str:
    if reason == Reason.SCHEDULED:
        if p.get("moved_from"):
            return _(
                "scheduled: {channel} at {due} under rule {rule} "
                "(moved out of quiet hours; the send window is {window} in {tz})"
            ).format(**p)
        return _("scheduled: {channel} at {due} under rule {rule}").format(**p)
    if reason == Reason.SURVEY_INACTIVE:
        return _("not sent: survey {survey} is not active (rule {rule})").format(**p)
    if reason == Reason.OPTED_OUT:
        return _("not sent: the customer opted out of surveys (rule {rule})").format(**p)
    if reason == Reason.NO_CONSENT:
        return _(
            "not sent: the customer has not consented to be contacted, which rule {rule} requires"
        ).format(**p)
    if reason == Reason.NOT_SAMPLED:
        return _("not sent: outside the {percent} sample of rule {rule} (sample point {point})").format(**p)
    if reason == Reason.NO_CONTACT:
        return _("not sent: no address for any channel of rule {rule} ({channels})").format(**p)
    if reason == Reason.QUOTA:
        return _(
            "not sent: the quota of {limit} per {period} at unit {unit} is reached under rule {rule}"
        ).format(**p)
    if reason in (Reason.FATIGUE, Reason.CADENCE):
        scope = (
            _("at most one survey every {limit} days across all programs")
            if reason == Reason.FATIGUE
            else _("at most one survey every {limit} days in this program")
        ).format(**p)
        if p.get("planned"):
            head = _("not sent: a survey is already planned for {last} under rule {last_rule}").format(**p)
        elif p.get("last_rule"):
            head = ngettext(
                "not sent: surveyed {days} day ago under rule {last_rule}",
                "not sent: surveyed {days} days ago under rule {last_rule}",
                int(p.get("days", 0)),
            ).format(**p)
        else:
            head = ngettext(
                "not sent: answered survey {last_survey} {days} day ago",
                "not sent: answered survey {last_survey} {days} days ago",
                int(p.get("days", 0)),
            ).format(**p)
        return _("{head} (rule {rule}: {scope})").format(head=head, rule=p["rule"], scope=scope)
    if reason == Reason.SENT:
        if outcome == Outcome.REMINDER_SENT:
            return _("reminder sent by {channel} to {address}").format(**p)
        return _("sent by {channel} to {address} under rule {rule}").format(**p)
    if reason == Reason.SEND_ERROR:
        if p.get("retry_at"):
            return _("sending by {channel} failed ({error}); retrying at {retry_at}").format(**p)
        return _("sending by {channel} failed ({error}); giving up after {attempts} attempts").format(**p)
    if reason == Reason.DELIVERY_UNKNOWN:
        return _(
            "not resent: sending by {channel} was interrupted and that channel cannot tell a repeat, "
            "so the customer may or may not have received it"
        ).format(**p)
    if reason == Reason.ANSWERED:
        return _("no reminder: answered at {answered_at}").format(**p)
    if reason == Reason.LINK_EXPIRED:
        return _("no reminder: the link expired at {expires_at}").format(**p)
    return f"{outcome}: {reason}"
