"""What the text models read in one text, and the aspects they found in it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from manyi.org.scoping import ScopedModel

from .choices import SentimentLabel, TextSource


class TextEnrichment(ScopedModel):
    """The text models' reading of one feedback record or one open-text answer.

    ``model``/``model_version`` name what produced it; when the shipped models change, a periodic
    task re-enriches every row whose version is not the current one. ``unit``, ``survey`` and
    ``occurred_at`` are copied from the source so that the analytics store can slice sentiment and
    aspects like scores.
    """

    source = models.CharField(_("source"), max_length=16, choices=TextSource.choices)
    feedback = models.OneToOneField(
        "feedback.FeedbackRecord", on_delete=models.CASCADE, null=True, blank=True, related_name="enrichment"
    )
    answer = models.OneToOneField(
        "responses.Answer", on_delete=models.CASCADE, null=True, blank=True, related_name="enrichment"
    )
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    survey = models.ForeignKey(
        "surveys.Survey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField(_("occurred"))
    lang = models.CharField(_("language"), max_length=8)
    sentiment = models.CharField(_("sentiment"), max_length=8, choices=SentimentLabel.choices)
    sentiment_score = models.FloatField(_("sentiment score"))
    confidence = models.FloatField(_("confidence"))
    keywords = models.JSONField(_("keywords"), default=list)
    flags = models.JSONField(
        _("flags"), default=list, help_text=_("Urgency flags with the words that fired them.")
    )
    problems = models.JSONField(_("problems"), default=list, help_text=_("What was wrong with the text."))
    model = models.CharField(_("model"), max_length=64)
    model_version = models.CharField(_("model version"), max_length=200, db_index=True)
    enriched_at = models.DateTimeField(_("enriched"), db_index=True)

    class Meta:
        verbose_name = _("text enrichment")
        verbose_name_plural = _("text enrichments")
        constraints = [
            models.CheckConstraint(
                condition=(Q(source=TextSource.FEEDBACK, feedback__isnull=False, answer__isnull=True))
                | (Q(source=TextSource.ANSWER, answer__isnull=False, feedback__isnull=True)),
                name="enrichment_has_exactly_its_source",
            )
        ]

    def __str__(self) -> str:
        return f"enrichment {self.pk}"


class EnrichedAspect(ScopedModel):
    """One aspect found in an enriched text, with the sentiment of the clause it was found in."""

    scope_unit_field = "enrichment__unit"

    enrichment = models.ForeignKey(TextEnrichment, on_delete=models.CASCADE, related_name="aspects")
    aspect = models.CharField(_("aspect"), max_length=64, db_index=True)
    sentiment = models.CharField(_("sentiment"), max_length=8, choices=SentimentLabel.choices)
    score = models.FloatField(_("score"))
    span = models.TextField(_("span"))
    term = models.CharField(_("term"), max_length=128)

    class Meta:
        verbose_name = _("enriched aspect")
        verbose_name_plural = _("enriched aspects")

    def __str__(self) -> str:
        return f"{self.aspect} ({self.sentiment})"
