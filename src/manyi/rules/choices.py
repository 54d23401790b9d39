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
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped")
