from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class QuotaPeriod(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")


class InvitationStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    SUPPRESSED = "suppressed", _("Not sent (a rule stopped it at send time)")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Delivery unknown (interrupted while sending)")


class ReminderStatus(models.TextChoices):
    NONE = "none", _("No reminder")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not needed")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Delivery unknown (interrupted while sending)")


class Outcome(models.TextChoices):
    """What a logged decision did."""

    SCHEDULED = "scheduled", _("Invitation scheduled")
    NOT_SENT = "not_sent", _("Not sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Sending failed")
    REMINDER_SENT = "reminder_sent", _("Reminder sent")
    NO_REMINDER = "no_reminder", _("No reminder")


class Reason(models.TextChoices):
    """Why a decision came out the way it did; the message text is built from the code and its params."""

    SCHEDULED = "scheduled", _("Scheduled")
    SURVEY_INACTIVE = "survey_inactive", _("Survey not active")
    OPTED_OUT = "opted_out", _("Opted out")
    NO_CONSENT = "no_consent", _("No consent to be contacted")
    NOT_SAMPLED = "not_sampled", _("Not in the sample")
    NO_CONTACT = "no_contact", _("No address for any channel")
    QUOTA = "quota", _("Quota reached")
    FATIGUE = "fatigue", _("Surveyed recently (any program)")
    CADENCE = "cadence", _("Surveyed recently (this program)")
    SENT = "sent", _("Sent")
    SEND_ERROR = "send_error", _("Delivery error")
    DELIVERY_UNKNOWN = "delivery_unknown", _("Interrupted while sending")
    ANSWERED = "answered", _("Already answered")
    LINK_EXPIRED = "link_expired", _("Link expired")
