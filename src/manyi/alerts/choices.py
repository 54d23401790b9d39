"""What an alert rule watches, when it fires, and how an alert is followed up."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertMetric(models.TextChoices):
    NPS = "nps", _("NPS")
    CSAT = "csat", _("CSAT (top-2 box, %)")
    CES = "ces", _("CES (mean, 1–7)")


class AlertCondition(models.TextChoices):
    """When a rule fires for a unit and a period."""

    DROP = "drop", _("drops significantly against the period before")
    BELOW = "below", _("is below a threshold, with at least the minimum n")
    ANOMALY = "anomaly", _("leaves its expected range (trend and season)")


class AlertPeriod(models.TextChoices):
    """The period a rule judges: the last complete day, ISO week (Monday–Sunday) or month, UTC."""

    DAY = "day", _("day")
    WEEK = "week", _("week")
    MONTH = "month", _("month")


class AlertLevel(models.TextChoices):
    """Which units under the rule's unit get their own alert ("" is the rule's unit itself)."""

    SELF = "", _("the unit itself")
    REGION = "region", _("each region")
    CITY = "city", _("each city")
    STORE = "store", _("each store")
    UNIT = "unit", _("each unit with responses")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("open")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
