"""Exports: formulas made inert, personal data masked, every export audited, Parquet round trip."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from typer.testing import CliRunner

from manyi.cli import app
from manyi.core.models import AuditLogEntry, BulkJob, JobStatus
from manyi.customers.models import Customer
from manyi.integrations.exporting import ExportFilters, ExportRefused, export_to_file
from manyi.integrations.importing import import_file
from manyi.responses.models import Response

HEADER = ["external_id", "survey", "unit", "submitted_at", "customer_external_id", "nps", "csat",
          "csi.tangibles", "comment"]  # fmt: skip


@pytest.fixture
def data(org: Any, tmp_path: Path) -> Any:
    Customer.objects.create(
        external_id="K1", name="张三", phone="+8613800138000", email="zhang@example.cn", home_unit=org.store_a
    )
    rows = [
        ["E1", "store-csi", "sh-001", "2026-10-01 09:00", "K1", 9, 4, 5, '=HYPERLINK("http://evil")'],
        ["E2", "store-csi", "sh-002", "2026-10-02 09:00", "", 3, 2, 2, "+1 slow"],
        ["E3", "store-csi", "cd-001", "2026-10-03 09:00", "", 10, 5, 5, "@SUM(A1)"],
    ]
    f = tmp_path / "in.csv"
    with open(f, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    assert import_file("responses", f).created == 3
    return org


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.mark.django_db
def test_csv_export_neutralises_formulas_with_a_leading_apostrophe(data: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    summary = export_to_file("responses", "csv", out)
    rows = read_csv(out)
    comments = {r[rows[0].index("comment")] for r in rows[1:]}
    assert summary.rows == 3
    assert '\'=HYPERLINK("http://evil")' in comments and "'+1 slow" in comments and "'@SUM(A1)" in comments


@pytest.mark.django_db
def test_xlsx_export_neutralises_formulas_and_reads_back(data: Any, tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    out = tmp_path / "r.xlsx"
    export_to_file("responses", "xlsx", out, language="en")
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    header = rows[0]
    assert "comment" in header and "NPS" in header
    comments = {r[header.index("comment")] for r in rows[1:]}
    assert "'@SUM(A1)" in comments


@pytest.mark.django_db
def test_personal_data_is_masked_unless_asked_for(data: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    export_to_file("responses", "csv", out, language="en")
    rows = read_csv(out)
    header = rows[0]
    k1 = next(r for r in rows[1:] if r[header.index("customer external id")] == "K1")
    assert k1[header.index("customer name")] == "张**"
    assert k1[header.index("customer phone")] == "'+86*******8000"  # a leading + is a formula to Excel
    assert k1[header.index("customer e-mail")] == "z***@example.cn"
    export_to_file("responses", "csv", out, language="en", include_pii=True)
    k1 = next(r for r in read_csv(out)[1:] if r[header.index("customer external id")] == "K1")
    assert k1[header.index("customer phone")] == "'+8613800138000"


@pytest.mark.django_db
def test_a_store_manager_may_not_export_personal_data_and_sees_only_their_store(
    data: Any, tmp_path: Path
) -> None:
    with pytest.raises(ExportRefused, match="personal data"):
        export_to_file("responses", "csv", tmp_path / "x.csv", user=data.manager_a, include_pii=True)
    summary = export_to_file("responses", "csv", tmp_path / "x.csv", user=data.manager_a)
    assert summary.rows == Response.objects.filter(unit=data.store_a).count() == 1


@pytest.mark.django_db
def test_every_export_writes_an_audit_entry_with_its_format_and_filters(data: Any, tmp_path: Path) -> None:
    export_to_file("responses", "csv", tmp_path / "a.csv", filters=ExportFilters(unit="east"))
    export_to_file("feedback", "parquet", tmp_path / "b.parquet", user=data.admin)
    entries = list(AuditLogEntry.objects.order_by("id"))
    assert [(e.action, e.target) for e in entries] == [("export", "responses"), ("export", "feedback")]
    assert entries[0].details["filters"] == {"unit": "east"} and entries[0].actor.startswith("cli")
    assert entries[1].user == data.admin and entries[1].details["format"] == "parquet"


@pytest.mark.django_db
def test_parquet_export_round_trips_values_and_types(data: Any, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "r.parquet"
    export_to_file("responses", "parquet", out, filters=ExportFilters(unit="shanghai"))
    table = pq.read_table(out)
    assert table.num_rows == 2
    rows = sorted(table.to_pylist(), key=lambda r: r["id"])
    assert [r["nps_score"] for r in rows] == [9, 3] and [r["nps"] for r in rows] == [9.0, 3.0]
    assert rows[0]["csi.tangibles"] == 5.0
    assert rows[0]["comment"] == '=HYPERLINK("http://evil")'  # data formats keep text as it is
    assert str(table.schema.field("submitted_at").type) == "timestamp[us, tz=UTC]"
    assert rows[0]["submitted_at"].isoformat() == "2026-10-01T01:00:00+00:00"


@pytest.mark.django_db
def test_export_filters_by_day_in_the_server_time_zone(data: Any, tmp_path: Path) -> None:
    from datetime import date

    s = export_to_file("responses", "csv", tmp_path / "a.csv", filters=ExportFilters(since=date(2026, 10, 2)))
    assert s.rows == 2
    s = export_to_file("responses", "csv", tmp_path / "a.csv", filters=ExportFilters(until=date(2026, 10, 1)))
    assert s.rows == 1


@pytest.mark.django_db
def test_cli_export_writes_the_file_and_a_json_summary(data: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(
        app, ["export", "responses", "--format", "csv", "--output", str(out), "--survey", "store-csi"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["rows"] == 3
    assert len(read_csv(out)) == 4


@pytest.mark.django_db
def test_streaming_download_is_scoped_masked_and_audited(data: Any) -> None:
    from django.urls import path

    from manyi.integrations.exporting.views import export_csv_view

    client = Client()
    client.force_login(data.manager_a)
    from django.test import RequestFactory

    request = RequestFactory().get("/x?language=en")
    request.user = data.manager_a
    response = export_csv_view(request, "responses")
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    lines = body.strip().splitlines()
    assert len(lines) == 2 and "张**" in lines[1]
    assert AuditLogEntry.objects.filter(user=data.manager_a, action="export").exists()
    assert path  # the view is a plain function the console's urls can route


@pytest.mark.django_db
def test_background_export_ends_with_a_file_in_the_data_dir(data: Any, settings: Any, tmp_path: Path) -> None:
    from manyi.integrations.exporting.tasks import export_task

    settings.DATA_DIR = tmp_path
    job = BulkJob.objects.create(direction="export", kind="cases", options={"format": "xlsx", "filters": {}})
    export_task.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert Path(job.output).exists() and Path(job.output).parent == tmp_path / "exports"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_chunks_are_read_ahead_on_a_second_thread_with_the_same_file(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from django.db import transaction

    from manyi.integrations.exporting import _columns
    from tests.conftest import build_org

    build_org()
    rows = [[f"T{i}", "store-csi", "sh-001", f"2026-10-{1 + i % 28:02d} 09:00", "", i % 11, 4, 5, f"=c{i}"]
            for i in range(23)]  # fmt: skip
    f = tmp_path / "in.csv"
    with open(f, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    assert import_file("responses", f).created == 23
    monkeypatch.setattr(_columns, "CHUNK", 5)  # four full chunks and a short one
    threaded = export_to_file("responses", "csv", tmp_path / "threaded.csv")
    with transaction.atomic():  # another connection would not see this transaction: read in turn
        inline = export_to_file("responses", "csv", tmp_path / "inline.csv")
    assert threaded.rows == inline.rows == 23
    got = read_csv(tmp_path / "threaded.csv")
    assert got == read_csv(tmp_path / "inline.csv")
    ids = [int(r[0]) for r in got[1:]]
    assert ids == sorted(ids) == sorted(Response.objects.values_list("id", flat=True))
    assert got[1][got[0].index("comment")] == "'=c0"
