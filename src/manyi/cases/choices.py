from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# Statuses in which a case still owes the customer something; the SLA clock runs in all but WAITING.
OPEN_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.ASSIGNED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.WAITING,
)
DONE_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


class Resolution(models.TextChoices):
    APOLOGY = "apology", _("Apology")
    EXPLANATION = "explanation", _("Explanation")
    FIX = "fix", _("Fix")
    REFUND = "refund", _("Refund")
    COMPENSATION = "compensation", _("Compensation")


class EventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    NOTE = "note", _("Internal note")
    CONTACT_OUT = "contact_out", _("Message to the customer")
    CONTACT_IN = "contact_in", _("Message from the customer")
    STATUS = "status", _("Status change")
    ASSIGNMENT = "assignment", _("Assignment")
    PRIORITY = "priority", _("Priority change")
    ESCALATION = "escalation", _("Escalation")
    RESURVEY = "resurvey", _("Re-survey")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    IN_PERSON = "in_person", _("In person")
    OTHER = "other", _("Other")


class SlaTrack(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")
    DONE = "done", _("Done")


class HolidayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday")
    WORKDAY = "workday", _("Make-up workday")


# Percent of an SLA target at which each escalation step fires.
ESCALATION_LEVELS = (50, 100, 150)


class RoutingMode(models.TextChoices):
    MANAGER = "manager", _("To the unit's manager")
    ROUND_ROBIN = "round_robin", _("Round-robin within a team")
    MANUAL = "manual", _("By hand")


class ResurveyStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not sent")
    FAILED = "failed", _("Failed")
