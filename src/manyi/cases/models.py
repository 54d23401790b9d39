"""Cases: the follow-up of an unhappy response or a complaint."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.org.scoping import ScopedModel

from .choices import CaseStatus, Priority


class Case(ScopedModel):
    """A follow-up owed to a customer, opened from a response or a feedback record."""

    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="cases")
    response = models.OneToOneField(
        "responses.Response", on_delete=models.SET_NULL, null=True, blank=True, related_name="case"
    )
    feedback = models.OneToOneField(
        "feedback.FeedbackRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="case"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.NEW)
    priority = models.CharField(
        _("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), db_index=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [models.Index(fields=["unit", "status"], name="case_unit_status")]

    def __str__(self) -> str:
        return f"case {self.pk}"
