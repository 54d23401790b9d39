from django.db import models
from django.utils.translation import gettext_lazy as _


class SourceKind(models.TextChoices):
    RESPONSE = "response", _("Survey response")
    FEEDBACK = "feedback", _("Feedback record")


class AppliesTo(models.TextChoices):
    BOTH = "both", _("Responses and feedback")
    RESPONSES = "responses", _("Survey responses only")
    FEEDBACK = "feedback", _("Feedback records only")


class EvaluationOutcome(models.TextChoices):
    DONE = "done", _("Evaluated")
    FAILED = "failed", _("Failed")


class ResurveyStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    INVITED = "invited", _("Invited")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped")


class ResurveySkip(models.TextChoices):
    """Why an entry was not invited before the distribution decided (its own reasons are logged there)."""

    NO_CUSTOMER = "no_customer", _("No known customer")
    NO_PROGRAM = "no_program", _("No distribution rule sends this list")
    EXPIRED = "expired", _("Waited too long")
