"""Surveys, their immutable published versions, and the links that open them."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from manyi.core.i18ntext import LANG_ZH, text_for
from manyi.org.scoping import ScopedModel

from .choices import LinkKind, SurveyStatus, VersionStatus


def _default_languages() -> list[str]:
    return ["zh-hans", "en"]


class Survey(ScopedModel):
    """A survey program owned by an org unit; what it asks lives in its versions."""

    scope_includes_ancestors = True

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name = models.JSONField(_("name"))
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="surveys")
    status = models.CharField(
        _("status"), max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    template = models.CharField(_("template"), max_length=32, blank=True)
    languages = models.JSONField(_("languages"), default=_default_languages)
    fallback_language = models.CharField(_("fallback language"), max_length=16, default=LANG_ZH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.slug

    def display_name(self, language: str) -> str:
        return text_for(self.name, language, self.fallback_language) or self.slug

    def published_version(self) -> SurveyVersion | None:
        return self.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


class SurveyVersion(models.Model):
    """One version of a survey's questions. Once published it never changes."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    # {"title": {...}, "intro": {...}, "thanks": {...}, "questions": [...]}; see surveys/questions.py.
    definition = models.JSONField(_("definition"))
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("survey version")
        constraints = [models.UniqueConstraint(fields=["survey", "number"], name="survey_version_unique")]
        ordering = ["survey_id", "number"]

    def __str__(self) -> str:
        return f"{self.survey_id} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A published version is frozen: only retiring it may touch the row.
        if self.pk and kwargs.get("update_fields") != ["status"]:
            stored = SurveyVersion.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored in (VersionStatus.PUBLISHED, VersionStatus.RETIRED):
                raise PublishedVersionIsFrozen(self.pk)
        super().save(*args, **kwargs)

    @property
    def questions(self) -> list[dict[str, Any]]:
        return list(self.definition.get("questions", []))


class PublishedVersionIsFrozen(Exception):
    """Raised when code tries to change a published survey version in place."""

    def __init__(self, pk: Any) -> None:
        super().__init__(f"survey version {pk} is published and cannot change; create a new draft")


class SurveyLink(ScopedModel):
    """A link that opens a survey: anonymous, per unit (QR code) or personal and single-use."""

    token = models.CharField(max_length=32, unique=True)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(_("kind"), max_length=16, choices=LinkKind.choices)
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="survey_links")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_links"
    )
    service_event_ref = models.CharField(_("service event"), max_length=128, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    channel = models.CharField(_("channel"), max_length=16, default="link")
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey link")

    def __str__(self) -> str:
        return self.token

    @property
    def single_use(self) -> bool:
        return self.kind == LinkKind.PERSONAL

    def is_expired(self, now: Any = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())
