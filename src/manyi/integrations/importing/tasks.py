"""The import as a background task, with its progress kept on a ``core.BulkJob`` row."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from manyi.core.models import BulkJob, JobDirection, JobStatus


def do_queue_import(
    *, kind: str, path: str, user: Any = None, mapping: str | None = None, dry_run: bool = False
) -> BulkJob:
    """Create the job row and enqueue the import once the row is committed; returns the job."""
    with transaction.atomic():
        job = BulkJob.objects.create(
            direction=JobDirection.IMPORT,
            kind=kind,
            user=user if getattr(user, "is_authenticated", False) else None,
            source=str(path),
            options={"mapping": mapping, "dry_run": dry_run},
        )
        transaction.on_commit(lambda: import_task.enqueue(job.pk))
    return job


@task()
def import_task(job_id: int) -> dict[str, Any]:
    """Run a queued import; progress and the summary are written to the job as it goes."""
    from . import ImportFailed, import_file

    job = BulkJob.objects.select_related("user").get(pk=job_id)
    if job.status in (JobStatus.DONE, JobStatus.FAILED):
        return dict(job.summary)  # a re-delivered task does the work once
    job.status, job.started_at = JobStatus.RUNNING, timezone.now()
    job.save(update_fields=["status", "started_at"])
    errors_path = f"{job.source}.errors-{job.pk}.csv"

    def progress(read: int, position: int, total: int) -> None:
        BulkJob.objects.filter(pk=job.pk).update(
            rows_done=read, summary={"position": position, "total": total}
        )

    try:
        summary = import_file(
            job.kind,
            job.source,
            mapping=job.options.get("mapping"),
            dry_run=bool(job.options.get("dry_run")),
            errors=errors_path,
            user=job.user,
            progress=progress,
        )
    except ImportFailed as exc:
        job.status, job.error, job.finished_at = JobStatus.FAILED, str(exc), timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        return {"error": str(exc)}
    result = summary.as_dict()
    job.status, job.finished_at = JobStatus.DONE, timezone.now()
    job.rows_done, job.rows_total, job.summary, job.output = summary.read, summary.read, result, errors_path
    job.save(update_fields=["status", "finished_at", "rows_done", "rows_total", "summary", "output"])
    return result
