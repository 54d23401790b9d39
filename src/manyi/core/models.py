"""Installation-wide records: the audit log, background import/export jobs, external-id references."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditLogEntry(models.Model):
    """Who saw, exported or changed what, and when: one row per action, written once, never updated."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who acted, kept as text so the entry survives the account: a username, "cli:<os user>" or "task".
    actor = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target = models.CharField(_("target"), max_length=255, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        permissions = [("export_pii", "Can export customers' personal data (names, phones, e-mails)")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target}"


class JobDirection(models.TextChoices):
    IMPORT = "import", _("Import")
    EXPORT = "export", _("Export")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class BulkJob(models.Model):
    """An import or export run in the background, with the progress the console and the API show."""

    direction = models.CharField(_("direction"), max_length=8, choices=JobDirection.choices)
    kind = models.CharField(_("kind"), max_length=16)  # customers, responses, feedback, cases
    status = models.CharField(_("status"), max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source file"), max_length=500, blank=True)
    output = models.CharField(_("output file"), max_length=500, blank=True)
    options = models.JSONField(default=dict, blank=True)
    rows_total = models.BigIntegerField(null=True, blank=True)  # unknown until the file is read
    rows_done = models.BigIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import or export job")
        verbose_name_plural = _("import and export jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} #{self.pk} {self.status}"


class ExternalRef(models.Model):
    """An external system's id for a record whose table has no external-id column (feedback records)."""

    kind = models.CharField(max_length=32)
    external_id = models.CharField(max_length=128)
    object_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("external reference")
        constraints = [models.UniqueConstraint(fields=["kind", "external_id"], name="external_ref_unique")]
        indexes = [models.Index(fields=["kind", "object_id"], name="external_ref_object")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.external_id}"


class PeriodicSchedule(models.Model):
    """When each periodic task was last enqueued and run; shared by every worker, so two workers
    never enqueue the same periodic task twice in one interval, and a restart keeps the rhythm."""

    name = models.CharField(_("task"), max_length=200, unique=True)
    every_seconds = models.PositiveIntegerField(_("every (seconds)"))
    last_enqueued_at = models.DateTimeField(_("last enqueued"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("periodic task")
        verbose_name_plural = _("periodic tasks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
