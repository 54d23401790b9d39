"""Survey responses, their answers, and in-progress drafts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.org.scoping import ScopedModel

from .choices import Channel


class Response(ScopedModel):
    """One submitted answer sheet. ``submission_id`` comes from the client and makes submits idempotent."""

    submission_id = models.UUIDField(_("submission id"), unique=True)
    # survey and unit have no index of their own: (survey, submitted_at) and (unit, submitted_at)
    # start with them. customer and link are indexed only where set (see Meta): most responses
    # have neither, and every index fewer makes submissions and imports cheaper.
    survey = models.ForeignKey(
        "surveys.Survey", on_delete=models.PROTECT, related_name="responses", db_index=False
    )
    version = models.ForeignKey("surveys.SurveyVersion", on_delete=models.PROTECT, related_name="responses")
    link = models.ForeignKey(
        "surveys.SurveyLink",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responses",
        db_index=False,
    )
    unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, related_name="responses", db_index=False
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responses",
        db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.LINK)
    language = models.CharField(_("language"), max_length=16)
    started_at = models.DateTimeField(_("started"))
    submitted_at = models.DateTimeField(_("submitted"), db_index=True)
    duration_seconds = models.PositiveIntegerField(_("time taken (s)"), null=True, blank=True)
    # Keyed hash of the client address (HMAC with the secret key); the address itself is never stored.
    ip_hash = models.CharField(max_length=64, blank=True)
    # Headline scores copied from the answers so lists and league tables need no pivot.
    nps = models.SmallIntegerField(null=True, blank=True)
    csat = models.SmallIntegerField(null=True, blank=True)
    ces = models.SmallIntegerField(null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        indexes = [
            models.Index(fields=["unit", "submitted_at"], name="resp_unit_time"),
            models.Index(fields=["survey", "submitted_at"], name="resp_survey_time"),
            # A query on customer or link (customer_id = …, IN …) implies IS NOT NULL, so both
            # databases use these partial indexes for it.
            models.Index(
                fields=["customer"], name="resp_customer", condition=models.Q(customer__isnull=False)
            ),
            models.Index(fields=["link"], name="resp_link", condition=models.Q(link__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"response {self.pk}"


class Answer(models.Model):
    """One answered item. Matrix rows and SERVQUAL halves have codes like ``csi.tangibles``."""

    # No index of its own: the unique (response, question_code) index starts with it, and one index
    # fewer per answer row makes imports and submissions cheaper.
    # No foreign-key constraint in the database either: answers are only ever written in the same
    # transaction as their response (submission, API, import) and deleted with it by Django's
    # cascade, and PostgreSQL's check of the constraint (one trigger per answer row at commit) was a
    # third of the time of a bulk import (46 µs of 132 per response with ten answers).
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", db_index=False, db_constraint=False
    )
    question_code = models.CharField(max_length=96)
    number = models.FloatField(null=True, blank=True)
    text = models.TextField(blank=True)
    choices = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("answer")
        constraints = [
            models.UniqueConstraint(fields=["response", "question_code"], name="answer_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.response_id}:{self.question_code}"


class ResponseDraft(models.Model):
    """Answers saved while the respondent goes, so a reload resumes where they were."""

    submission_id = models.UUIDField(unique=True)
    link = models.ForeignKey("surveys.SurveyLink", on_delete=models.CASCADE, related_name="drafts")
    version = models.ForeignKey("surveys.SurveyVersion", on_delete=models.CASCADE, related_name="drafts")
    answers = models.JSONField(default=dict)
    language = models.CharField(max_length=16)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.submission_id)
