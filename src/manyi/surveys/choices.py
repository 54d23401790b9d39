from django.db import models
from django.utils.translation import gettext_lazy as _


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class LinkKind(models.TextChoices):
    ANONYMOUS = "anonymous", _("Anonymous link for the survey")
    UNIT = "unit", _("Anonymous link for one unit (QR code)")
    PERSONAL = "personal", _("Personal single-use link")


class QuestionType(models.TextChoices):
    NPS = "nps", _("Net Promoter Score (0–10)")
    CSAT = "csat", _("Satisfaction (1–5)")
    CES = "ces", _("Customer effort (1–7)")
    RATING = "rating", _("Rating")
    MATRIX = "matrix", _("Rating matrix")
    SERVQUAL = "servqual", _("Expectation and perception")
    SINGLE = "single", _("Single choice")
    MULTI = "multi", _("Multiple choice")
    TEXT = "text", _("Open text")
    CONSENT = "consent", _("Consent to be contacted")
