"""Big exports in the background: the file ends in the data dir, the job row says where and how far."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from manyi.core.models import BulkJob, JobDirection, JobStatus


def do_queue_export(
    *,
    kind: str,
    fmt: str,
    user: Any = None,
    filters: dict[str, Any] | None = None,
    include_pii: bool = False,
    language: str = "zh-hans",
) -> BulkJob:
    """Create the job row and enqueue the export once the row is committed."""
    from . import ExportRefused, can_export_pii

    if include_pii and not can_export_pii(user):
        raise ExportRefused("you may not export personal data (names, phones, e-mails)", forbidden=True)
    with transaction.atomic():
        job = BulkJob.objects.create(
            direction=JobDirection.EXPORT,
            kind=kind,
            user=user if getattr(user, "is_authenticated", False) else None,
            options={"format": fmt, "filters": filters or {}, "pii": include_pii, "language": language},
        )
        transaction.on_commit(lambda: export_task.enqueue(job.pk))
    return job


@task()
def export_task(job_id: int) -> dict[str, Any]:
    """Write a queued export to ``<data dir>/exports/``; idempotent for a finished job."""
    from . import ExportFilters, ExportRefused, export_to_file

    job = BulkJob.objects.select_related("user").get(pk=job_id)
    if job.status in (JobStatus.DONE, JobStatus.FAILED):
        return dict(job.summary)
    job.status, job.started_at = JobStatus.RUNNING, timezone.now()
    job.save(update_fields=["status", "started_at"])
    opts = job.options
    raw = opts.get("filters") or {}
    filters = ExportFilters(
        unit=raw.get("unit"),
        since=date.fromisoformat(raw["since"]) if raw.get("since") else None,
        until=date.fromisoformat(raw["until"]) if raw.get("until") else None,
        survey=raw.get("survey"),
        console=raw.get("console"),
    )
    folder = settings.DATA_DIR / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / f"{job.kind}-{job.pk}.{opts['format']}"

    def progress(rows: int) -> None:
        BulkJob.objects.filter(pk=job.pk).update(rows_done=rows)

    try:
        summary = export_to_file(
            job.kind, opts["format"], output, filters=filters, user=job.user,
            include_pii=bool(opts.get("pii")), language=opts.get("language", "zh-hans"), progress=progress,
        )  # fmt: skip
    except ExportRefused as exc:
        job.status, job.error, job.finished_at = JobStatus.FAILED, str(exc), timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        return {"error": str(exc)}
    result = summary.as_dict()
    job.status, job.finished_at, job.output = JobStatus.DONE, timezone.now(), str(output)
    job.rows_done = job.rows_total = summary.rows
    job.summary = result
    job.save(update_fields=["status", "finished_at", "output", "rows_done", "rows_total", "summary"])
    return result
