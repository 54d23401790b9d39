"""Import upload and the jobs pages: a file becomes a background job with progress and an error file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from manyi.core.models import AuditLogEntry, BulkJob, JobStatus
from manyi.customers.models import Customer
from manyi.integrations.importing.tasks import import_task
from tests.conftest import Org

from .conftest import login

CUSTOMERS = (
    "external_id,name,phone,email,unit,tier\n"
    "K1,张三,13800138000,zhang@example.cn,sh-001,gold\n"
    "K2,李四,not-a-phone,li@example.cn,sh-001,silver\n"
    "K3,王五,,wang@example.cn,sh-001,standard\n"
)


@pytest.fixture(autouse=True)
def _data_dir(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def upload(client: Client, content: bytes, name: str = "customers.csv", **extra: Any) -> Any:
    return client.post(
        reverse("console:import_upload"),
        {"kind": "customers", "file": SimpleUploadedFile(name, content, content_type="text/csv"), **extra},
    )


@pytest.mark.django_db
def test_an_uploaded_file_is_imported_by_a_job_whose_page_shows_the_summary_and_the_error_file(
    org: Org, tmp_path: Path
) -> None:
    client = login(org.admin)
    resp = upload(client, CUSTOMERS.encode("gb18030"))
    assert resp.status_code == 303
    job = BulkJob.objects.get()
    assert resp["Location"] == reverse("console:job_detail", args=[job.pk])
    assert Path(job.source).parent == tmp_path / "imports"
    page = client.get(resp["Location"]).content.decode()
    assert "every 1s" in page  # the page polls while the job waits for a worker
    import_task.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    page = client.get(reverse("console:job_progress", args=[job.pk])).content.decode()
    assert "every 1s" not in page and reverse("console:job_errors", args=[job.pk]) in page
    assert Customer.objects.get(external_id="K1").name == "张三"
    errors = client.get(reverse("console:job_errors", args=[job.pk]))
    text = b"".join(errors.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert "phone" in text and "not-a-phone" in text
    assert AuditLogEntry.objects.filter(action="import.upload").exists()
    listing = client.get(reverse("console:job_list")).content.decode()
    assert f"#{job.pk}" in listing


@pytest.mark.django_db
def test_a_file_that_is_not_csv_or_xlsx_is_refused_naming_it(org: Org) -> None:
    client = login(org.admin)
    resp = upload(client, b"MZ\x90\x00", name="tool.exe")
    assert resp.status_code == 422 and "tool.exe" in resp.content.decode()
    resp = upload(client, b"", name="empty.csv")
    assert resp.status_code == 422
    assert not BulkJob.objects.exists()


@pytest.mark.django_db
def test_the_upload_page_takes_files_over_the_general_body_limit_and_other_pages_do_not(org: Org) -> None:
    client = login(org.admin)
    big = (
        CUSTOMERS + "".join(f"B{i},顾客{i},,b{i}@example.cn,sh-001,standard\n" for i in range(3000))
    ).encode()
    assert len(big) > 64 * 1024
    assert upload(client, big).status_code == 303
    resp = client.post(reverse("console:builder_new"), {"slug": "x" * 100_000})
    assert resp.status_code == 413


@pytest.mark.django_db
def test_staff_see_their_own_jobs_and_administrators_those_of_their_units(org: Org) -> None:
    mine = BulkJob.objects.create(direction="export", kind="responses", user=org.manager_a)
    theirs = BulkJob.objects.create(direction="export", kind="responses", user=org.manager_c)
    listing = login(org.manager_a).get(reverse("console:job_list")).content.decode()
    assert f"#{mine.pk}" in listing and f"#{theirs.pk}" not in listing
    assert login(org.manager_a).get(reverse("console:job_detail", args=[theirs.pk])).status_code == 404
    admin_listing = login(org.admin).get(reverse("console:job_list")).content.decode()
    assert f"#{mine.pk}" in admin_listing and f"#{theirs.pk}" in admin_listing
    page = login(org.manager_a).get(reverse("console:job_download", args=[mine.pk]))
    assert page.status_code == 409  # not finished yet
