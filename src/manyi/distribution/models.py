"""Distribution: service events, the rules that turn them into survey invitations, and the decision log."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.org.scoping import ScopedModel

from .choices import InvitationStatus, Outcome, QuotaPeriod, Reason, ReminderStatus


def _default_channels() -> list[str]:
    return ["email", "sms"]


class DistributionRule(ScopedModel):
    """When and how a survey program invites customers after service events, and when it must not."""

    scope_includes_ancestors = True

    code = models.SlugField(_("code"), max_length=64, unique=True)
    survey = models.ForeignKey("surveys.Survey", on_delete=models.PROTECT, related_name="distribution_rules")
    # Events at this unit or below it; a company-wide program names the company.
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="distribution_rules")
    event_types = models.JSONField(
        _("event types"), default=list, blank=True, help_text=_("Empty means every event type.")
    )
    delay = models.DurationField(_("delay after the event"), default=timedelta(hours=24))
    # Local times in the unit's time zone; equal start and end means no quiet hours.
    window_start = models.TimeField(_("send window opens"), default=time(9, 0))
    window_end = models.TimeField(_("send window closes"), default=time(21, 0))
    channels = models.JSONField(_("channels in order of preference"), default=_default_channels)
    sampling_rate = models.FloatField(
        _("sampling rate"), default=1.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    quota_limit = models.PositiveIntegerField(_("quota per unit and period"), null=True, blank=True)
    quota_period = models.CharField(
        _("quota period"), max_length=8, choices=QuotaPeriod.choices, default=QuotaPeriod.DAY
    )
    fatigue_days = models.PositiveSmallIntegerField(
        _("at most one survey per customer every N days, across all programs"), default=30
    )
    cadence_days = models.PositiveSmallIntegerField(
        _("at most one survey per customer every N days, in this program"), default=90
    )
    require_consent = models.BooleanField(_("only customers who consented to contact"), default=False)
    reminder_after = models.DurationField(
        _("reminder after"), null=True, blank=True, default=timedelta(days=2)
    )
    link_valid_for = models.DurationField(_("link valid for"), default=timedelta(days=7))
    # Optional message text per language, with {url}, {unit} and {name}; the built-in text otherwise.
    message = models.JSONField(_("message"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("distribution rule")
        verbose_name_plural = _("distribution rules")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.code


class ServiceEvent(ScopedModel):
    """Something that happened to a customer at a unit ("order delivered"); unique by source and id."""

    source = models.CharField(_("source"), max_length=64)
    external_id = models.CharField(_("external event id"), max_length=128)
    event_type = models.CharField(_("event type"), max_length=64)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="service_events"
    )
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="service_events")
    occurred_at = models.DateTimeField(_("occurred"))
    received_at = models.DateTimeField(_("received"))
    preferred_channel = models.CharField(_("preferred channel"), max_length=16, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("service event")
        verbose_name_plural = _("service events")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="distribution_event_unique")
        ]
        indexes = [models.Index(fields=["customer", "occurred_at"], name="dist_event_customer_time")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def ref(self) -> str:
        """The reference a survey link carries back to this event."""
        return f"{self.source}:{self.external_id}"[:128]


class Invitation(ScopedModel):
    """One survey invitation for one event under one rule: database state with a due time."""

    event = models.ForeignKey(ServiceEvent, on_delete=models.CASCADE, related_name="invitations")
    rule = models.ForeignKey(DistributionRule, on_delete=models.PROTECT, related_name="invitations")
    survey = models.ForeignKey("surveys.Survey", on_delete=models.PROTECT, related_name="invitations")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="invitations")
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="invitations")
    status = models.CharField(
        _("status"), max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.SCHEDULED
    )
    due_at = models.DateTimeField(_("due"))
    # Sent with every delivery attempt so a provider that honours it never delivers twice.
    idempotency_key = models.CharField(max_length=64, unique=True)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    address = models.CharField(_("address"), max_length=254, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    provider_ref = models.CharField(max_length=128, blank=True)
    last_error = models.TextField(blank=True)
    link = models.OneToOneField(
        "surveys.SurveyLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="invitation"
    )
    reminder_status = models.CharField(
        _("reminder"), max_length=16, choices=ReminderStatus.choices, default=ReminderStatus.NONE
    )
    reminder_due_at = models.DateTimeField(null=True, blank=True)
    reminder_sending_since = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(fields=["event", "rule"], name="distribution_invitation_unique")
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="dist_inv_due"),
            models.Index(fields=["reminder_status", "reminder_due_at"], name="dist_inv_reminder_due"),
            models.Index(fields=["customer", "due_at"], name="dist_inv_customer"),
            models.Index(fields=["rule", "unit", "due_at"], name="dist_inv_quota"),
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk} ({self.status})"


class Decision(ScopedModel):
    """One logged decision with its reason: scheduled, not sent and why, sent, reminded."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(
        ServiceEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="decisions"
    )
    rule = models.ForeignKey(
        DistributionRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, null=True, blank=True, related_name="decisions"
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    # The facts behind the reason (days since the last survey, the rule that applied, …).
    params = models.JSONField(default=dict, blank=True)
    decided_at = models.DateTimeField(_("decided"))

    class Meta:
        verbose_name = _("distribution decision")
        verbose_name_plural = _("distribution decisions")
        ordering = ["decided_at", "id"]
        indexes = [
            models.Index(fields=["customer", "decided_at"], name="dist_decision_customer"),
            models.Index(fields=["reason", "decided_at"], name="dist_decision_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.reason}"

    @property
    def message(self) -> str:
        """The reason as a sentence in the active language."""
        from .reasons import decision_message

        return decision_message(self.outcome, self.reason, self.params)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "decided_at": self.decided_at,
            "outcome": self.outcome,
            "reason": self.reason,
            "message": self.message,
            "rule": self.params.get("rule", ""),
            "params": self.params,
            "event_id": self.event_id,
            "invitation_id": self.invitation_id,
        }
