from django.db import models
from django.utils.translation import gettext_lazy as _


class FeedbackChannel(models.TextChoices):
    SURVEY = "survey", _("Survey comment")
    PHONE = "phone", _("Phone complaint")
    COUNTER = "counter", _("Counter complaint")
    WEB_FORM = "web_form", _("Web form")
    EMAIL = "email", _("E-mail")
    REVIEW = "review", _("Online review")
    SOCIAL = "social", _("Social media")
    CALL_NOTE = "call_note", _("Call note")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")
