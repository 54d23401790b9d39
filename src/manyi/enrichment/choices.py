from django.db import models
from django.utils.translation import gettext_lazy as _


class TextSource(models.TextChoices):
    """Where an enriched text comes from."""

    FEEDBACK = "feedback", _("Feedback record")
    ANSWER = "answer", _("Open-text answer")


class SentimentLabel(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")
