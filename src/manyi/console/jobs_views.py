"""Imports and exports in the console: upload a file, watch its job, download the result.

A job belongs to the staff member who started it. An administrator also sees the jobs of staff whose
every role lies inside the administrator's own units; nobody else sees a job (404), whatever its id.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from manyi.core.actions import do_audit
from manyi.core.errors import error_response
from manyi.core.models import BulkJob, JobDirection, JobStatus
from manyi.integrations.importing import KINDS as IMPORT_KINDS
from manyi.integrations.importing.tasks import do_queue_import
from manyi.org.choices import Role
from manyi.org.models import RoleAssignment

#: The biggest file the upload page takes (streamed to disk, never held in memory).
UPLOAD_MAX_BYTES = 1024 * 1024 * 1024
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".txt")
PAGE_SIZE = 50


def _lang() -> str:
    return get_language() or settings.LANGUAGE_CODE


def visible_jobs(user: Any) -> QuerySet[BulkJob]:
    """Jobs the user may see: their own, and (administrators) those of staff entirely inside their units."""
    if not getattr(user, "is_authenticated", False):
        return BulkJob.objects.none()
    if getattr(user, "is_superuser", False):
        return BulkJob.objects.all()
    admin_paths = list(
        RoleAssignment.objects.filter(user_id=user.pk, role=Role.ADMIN).values_list("unit__path", flat=True)
    )
    if not admin_paths:
        return BulkJob.objects.filter(user_id=user.pk)
    inside = Q(pk__in=[])
    for p in admin_paths:
        inside |= Q(unit__path__startswith=p)
    outside_users = RoleAssignment.objects.exclude(inside).values("user_id")
    inside_users = RoleAssignment.objects.filter(inside).exclude(user_id__in=outside_users).values("user_id")
    return BulkJob.objects.filter(Q(user_id=user.pk) | Q(user_id__in=inside_users))


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=(
            ("customers", gettext_lazy("Customers")),
            ("responses", gettext_lazy("Survey responses")),
            ("feedback", gettext_lazy("Feedback records")),
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("File (CSV or XLSX)"),
        help_text=gettext_lazy("UTF-8, GBK or GB18030 are detected. Records are matched by external id."),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Check only: report what would change, write nothing"), required=False
    )

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(UPLOAD_SUFFIXES):
            raise forms.ValidationError(
                _("“{name}” is not a CSV or XLSX file; choose a file ending in .csv or .xlsx.").format(
                    name=f.name[:80]
                )
            )
        if f.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return f


def _safe_name(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name)[-80:]
    return stem or "upload.csv"


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload a customers, responses or feedback file; it is imported by a background job."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        assert kind in IMPORT_KINDS
        upload = form.cleaned_data["file"]
        folder = Path(settings.DATA_DIR) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}-{_safe_name(upload.name)}"
        with open(path, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        job = do_queue_import(
            kind=kind, path=str(path), user=request.user, dry_run=form.cleaned_data["dry_run"]
        )
        do_audit(request.user, "import.upload", f"job:{job.pk}", {"kind": kind, "file": upload.name[:200]})
        return HttpResponseRedirect(reverse("console:job_detail", args=[job.pk]), status=303)
    return render(
        request,
        "console/jobs/import.html",
        {"form": form, "lang": _lang(), "max_mb": UPLOAD_MAX_BYTES // (1024 * 1024)},
        status=422 if form.errors else 200,
    )


import_upload.max_body_bytes = UPLOAD_MAX_BYTES  # type: ignore[attr-defined]


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """My imports and exports, newest first, with their status and progress."""
    jobs = list(visible_jobs(request.user).select_related("user").order_by("-created_at", "-id")[:PAGE_SIZE])
    running = any(j.status in (JobStatus.QUEUED, JobStatus.RUNNING) for j in jobs)
    return render(request, "console/jobs/list.html", {"jobs": jobs, "running": running, "lang": _lang()})


def _job_context(job: BulkJob) -> dict[str, Any]:
    summary = job.summary or {}
    percent = None
    if job.status == JobStatus.DONE:
        percent = 100
    elif job.direction == JobDirection.IMPORT and summary.get("total"):
        percent = min(99, int(100 * summary.get("position", 0) / max(1, summary["total"])))
    elif job.rows_total:
        percent = min(99, int(100 * job.rows_done / max(1, job.rows_total)))
    errors_file = (
        job.direction == JobDirection.IMPORT and job.output and Path(job.output).is_file()
        and Path(job.output).stat().st_size > 0 and int(summary.get("rejected", 0) or 0) > 0
    )  # fmt: skip
    return {
        "job": job,
        "summary": summary,
        "percent": percent,
        "active": job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
        "errors_file": bool(errors_file),
        "download": job.direction == JobDirection.EXPORT
        and job.status == JobStatus.DONE
        and bool(job.output),
    }


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(visible_jobs(request.user).select_related("user"), pk=pk)
    return render(request, "console/jobs/detail.html", {**_job_context(job), "lang": _lang()})


@login_required
@require_GET
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress block alone; htmx polls it every second while the job runs."""
    job = get_object_or_404(visible_jobs(request.user), pk=pk)
    return render(request, "console/jobs/_progress.html", {**_job_context(job), "lang": _lang()})


def _file_in(path: str, folder: str) -> Path | None:
    """The job's file, only if it lies inside ``<data dir>/<folder>`` and exists."""
    if not path:
        return None
    base = (Path(settings.DATA_DIR) / folder).resolve()
    target = Path(path).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


@login_required
@require_GET
def job_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The finished export's file."""
    job = get_object_or_404(visible_jobs(request.user), pk=pk, direction=JobDirection.EXPORT)
    if job.status != JobStatus.DONE:
        return error_response(request, 409, "not_ready", _("This export has not finished yet."))
    target = _file_in(job.output, "exports")
    if target is None:
        return error_response(
            request, 410, "file_gone", _("The export file is no longer on the server; export again.")
        )
    do_audit(request.user, "export.download", f"job:{job.pk}", {"file": target.name})
    return FileResponse(open(target, "rb"), as_attachment=True, filename=target.name)


@login_required
@require_GET
def job_errors(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The import's per-row error file: row, column, value and reason."""
    job = get_object_or_404(visible_jobs(request.user), pk=pk, direction=JobDirection.IMPORT)
    target = _file_in(job.output, "imports")
    if target is None:
        raise Http404
    return FileResponse(open(target, "rb"), as_attachment=True, filename=f"import-{job.pk}-errors.csv")
