"""Feedback records: every voice of the customer, from any channel, in one shape."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.org.scoping import ScopedModel

from .choices import FeedbackChannel, Severity


class FeedbackRecord(ScopedModel):
    """A comment, complaint, review or call note tied to a unit, maybe a customer, and a time."""

    channel = models.CharField(_("channel"), max_length=16, choices=FeedbackChannel.choices)
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="feedback")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    response = models.OneToOneField(
        "responses.Response", on_delete=models.CASCADE, null=True, blank=True, related_name="feedback"
    )
    touchpoint = models.CharField(_("touchpoint"), max_length=64, blank=True)
    category = models.CharField(_("category"), max_length=64, blank=True)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices, default=Severity.LOW)
    rating = models.FloatField(_("rating"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    occurred_at = models.DateTimeField(_("occurred"), db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("feedback record")
        verbose_name_plural = _("feedback records")
        indexes = [models.Index(fields=["unit", "occurred_at"], name="fb_unit_time")]

    def __str__(self) -> str:
        return f"feedback {self.pk}"
