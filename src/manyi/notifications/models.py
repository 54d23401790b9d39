"""Endpoints (where events go), events (what happened), notifications (one per recipient and
channel, with their delivery state) and the delivery log (one row per attempt)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.org.scoping import ScopedModel

from .choices import AttemptOutcome, Channel, DeliveryStatus, EndpointKind


class Endpoint(ScopedModel):
    """A webhook or chat-bot URL that receives the events of an org unit and its whole subtree."""

    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="notification_endpoints")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=16, choices=EndpointKind.choices, default=EndpointKind.WEBHOOK
    )
    url = models.URLField(_("URL"), max_length=1000)
    # Webhooks: the Standard Webhooks secret "whsec_<base64>". DingTalk/Feishu: the robot's signing
    # secret (optional). Kept readable because every delivery is signed with it; shown once in the UI.
    secret = models.CharField(_("secret"), max_length=200, blank=True)
    # Event types this endpoint receives; empty means every event.
    events = models.JSONField(_("events"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Set when a send timed out or could not connect: until then, its other notifications wait
    # instead of each holding a worker for the full timeout (a circuit breaker).
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    pause_reason = models.CharField(_("pause reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notification endpoint")
        verbose_name_plural = _("notification endpoints")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def wants(self, event_type: str) -> bool:
        """True when this endpoint subscribes to ``event_type`` (an empty list means every event)."""
        return not self.events or event_type in self.events


class Event(ScopedModel):
    """Something that happened and was told to people and endpoints (one ``notify()`` call)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(_("event"), max_length=40, db_index=True)
    unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="notification_events"
    )
    # A plain integer, not a foreign key: cases depend on notifications, never the other way round.
    case_id = models.BigIntegerField(_("case"), null=True, blank=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), db_index=True)

    class Meta:
        verbose_name = _("notification event")
        verbose_name_plural = _("notification events")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"

    @property
    def message_id(self) -> str:
        """The Standard Webhooks ``webhook-id``: the same on every retry and replay of this event."""
        return f"msg_{self.uuid.hex}"


class Notification(ScopedModel):
    """One event to one target over one channel: an e-mail to a person or a POST to an endpoint.

    Its delivery state is database state, so retries and replays survive a restart: a periodic scan
    picks up every notification that is due (``next_attempt_at``) or whose sender was interrupted
    (``lease_until`` passed while "sending").
    """

    scope_unit_field = "event__unit"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    # The e-mail address, or the endpoint's URL with query values masked (robot keys live there).
    target = models.CharField(_("target"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    replays = models.PositiveSmallIntegerField(_("replays"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # While "sending": the time after which a scan treats the sender as crashed.
    lease_until = models.DateTimeField(null=True, blank=True)
    # When a delivery task was last queued for it; the scan does not queue it again soon after.
    queued_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notif_due"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.target} ({self.status})"


class DeliveryAttempt(models.Model):
    """The delivery log: one row per attempt, with what the other side answered."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(_("attempt"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    target = models.CharField(_("target"), max_length=1000)
    outcome = models.CharField(_("outcome"), max_length=8, choices=AttemptOutcome.choices)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of notification {self.notification_id}: {self.outcome}"
