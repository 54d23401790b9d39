"""Bulk import: encodings, Excel, idempotency, per-row errors, dry runs, mappings, dates."""

from __future__ import annotations

import csv
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.db import connection
from typer.testing import CliRunner

from manyi.cli import app
from manyi.core.models import BulkJob, JobStatus
from manyi.customers.models import Customer
from manyi.feedback.models import FeedbackRecord
from manyi.integrations.importing import ImportFailed, import_file
from manyi.integrations.importing._dates import parse_when
from manyi.integrations.importing._errors import Reject
from manyi.integrations.importing._responses import submission_id
from manyi.responses.models import Answer, Response

HEADER = ["external_id", "survey", "unit", "submitted_at", "channel", "language", "customer_external_id",
          "nps", "csat", "csi.tangibles", "csi.reliability", "csi.responsiveness", "csi.assurance",
          "csi.empathy", "sq_wait.expectation", "sq_wait.perception", "comment", "contact_ok"]  # fmt: skip


def row(
    ext: str, nps: Any = 9, comment: str = "很好", unit: str = "sh-001", when: str = "2026-10-01 12:30"
) -> list[Any]:
    return [ext, "store-csi", unit, when, "", "zh-hans", "", nps, 4, 4, 5, 3, 4, 5, 6, 5, comment, "yes"]


def write_csv(path: Path, rows: list[list[Any]], header: list[str] = HEADER, encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def read_errors(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.django_db
def test_utf8_csv_with_bom_imports_responses_with_their_answers_and_headline_scores(
    org: Any, tmp_path: Path
) -> None:
    f = write_csv(tmp_path / "r.csv", [row("A1"), row("A2", nps=3, comment="太慢了")], encoding="utf-8-sig")
    summary = import_file("responses", f)
    assert summary.as_dict() | {"seconds": 0} == {
        "read": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": 0, "seconds": 0,
    }  # fmt: skip
    r = Response.objects.get(nps=3)
    assert (r.csat, r.comment, r.channel, r.unit.code) == (4, "太慢了", "import", "sh-001")
    assert Answer.objects.filter(response=r).count() == 11
    assert Answer.objects.get(response=r, question_code="csi.reliability").number == 5.0


@pytest.mark.django_db
def test_gbk_csv_is_detected_and_chinese_text_arrives_intact(org: Any, tmp_path: Path) -> None:
    f = write_csv(
        tmp_path / "r.csv",
        [row(f"G{i}", comment="服务态度很好，下次还来") for i in range(30)],
        encoding="gbk",
    )
    summary = import_file("responses", f)
    assert summary.created == 30
    assert set(Response.objects.values_list("comment", flat=True)) == {"服务态度很好，下次还来"}


@pytest.mark.django_db
def test_xlsx_file_imports_like_csv_including_excel_date_cells(org: Any, tmp_path: Path) -> None:
    from datetime import datetime

    path = tmp_path / "r.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEADER)
    date_format = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for i in range(1, 4):
        values = row(f"X{i}")
        ws.write_row(i, 0, values)
        ws.write_datetime(i, 3, datetime(2026, 10, i, 9, 0), date_format)  # noqa: DTZ001 - a spreadsheet cell has no zone
    wb.close()
    summary = import_file("responses", path)
    assert (summary.created, summary.rejected) == (3, 0)
    first = Response.objects.order_by("submitted_at").first()
    assert first is not None
    # 09:00 in Shanghai (the unit's zone) is 01:00 UTC.
    assert first.submitted_at.isoformat() == "2026-10-01T01:00:00+00:00"


@pytest.mark.django_db
def test_second_import_of_the_same_file_changes_nothing_and_counts_unchanged(
    org: Any, tmp_path: Path
) -> None:
    f = write_csv(tmp_path / "r.csv", [row(f"R{i}") for i in range(10)])
    import_file("responses", f)
    ids = sorted(Response.objects.values_list("id", flat=True))
    again = import_file("responses", f)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)
    assert sorted(Response.objects.values_list("id", flat=True)) == ids
    assert Answer.objects.count() == 110


@pytest.mark.django_db
def test_a_changed_row_is_updated_in_place_with_its_answers_replaced(org: Any, tmp_path: Path) -> None:
    import_file("responses", write_csv(tmp_path / "a.csv", [row("U1"), row("U2")]))
    summary = import_file("responses", write_csv(tmp_path / "b.csv", [row("U1", nps=2), row("U2")]))
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    assert Response.objects.count() == 2
    assert Answer.objects.get(response__nps=2, question_code="nps").number == 2.0


@pytest.mark.django_db
def test_bad_rows_are_reported_with_row_column_value_and_reason_while_good_rows_land(
    org: Any, tmp_path: Path
) -> None:
    rows = [
        row("OK1"),
        row("BAD1", nps=11),
        row("OK2"),
        row("BAD2", unit="nowhere"),
        row("BAD3", when="31/13/2026"),
    ]
    errors = tmp_path / "errors.csv"
    summary = import_file("responses", write_csv(tmp_path / "r.csv", rows), errors=errors)
    assert (summary.read, summary.created, summary.rejected) == (5, 2, 3)
    assert Response.objects.count() == 2
    got = read_errors(errors)
    assert got[0] == {
        "row": "3",
        "column": "nps",
        "value": "11",
        "reason": "must be a whole number from 0 to 10",
    }
    assert got[1]["row"] == "5" and got[1]["column"] == "unit" and got[1]["value"] == "nowhere"
    assert got[2]["column"] == "submitted_at" and "not a real date" in got[2]["reason"]


@pytest.mark.django_db
def test_a_rejected_row_leaves_no_response_and_no_answers_behind(org: Any, tmp_path: Path) -> None:
    bad = row("HALF")
    bad[HEADER.index("csi.empathy")] = "9"
    summary = import_file("responses", write_csv(tmp_path / "r.csv", [bad]))
    assert summary.rejected == 1
    assert (Response.objects.count(), Answer.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_unknown_customer_external_id_rejects_only_that_row(org: Any, tmp_path: Path) -> None:
    r1, r2 = row("C1"), row("C2")
    r2[HEADER.index("customer_external_id")] = "no-such-customer"
    errors = tmp_path / "e.csv"
    summary = import_file("responses", write_csv(tmp_path / "r.csv", [r1, r2]), errors=errors)
    assert (summary.created, summary.rejected) == (1, 1)
    assert read_errors(errors)[0]["column"] == "customer_external_id"


@pytest.mark.django_db
def test_dry_run_writes_nothing_but_counts_what_would_happen(org: Any, tmp_path: Path) -> None:
    summary = import_file(
        "responses", write_csv(tmp_path / "r.csv", [row("D1"), row("D2", nps="x")]), dry_run=True
    )
    assert (summary.created, summary.rejected) == (1, 1)
    assert Response.objects.count() == 0


@pytest.mark.django_db
def test_mapping_file_renames_columns_and_fills_defaults(org: Any, tmp_path: Path) -> None:
    header = ["订单号", "门店", "时间", "nps", "csat"]
    f = write_csv(tmp_path / "r.csv", [["M1", "sh-002", "2026年10月3日 18:20", 10, 5]], header=header)
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[columns]\n"订单号" = "external_id"\n"门店" = "unit"\n"时间" = "submitted_at"\n'
        '[defaults]\nsurvey = "store-csi"\nchannel = "sms"\n',
        encoding="utf-8",
    )
    summary = import_file("responses", f, mapping=mapping)
    assert summary.created == 1
    r = Response.objects.get()
    assert (r.unit.code, r.channel, r.nps) == ("sh-002", "sms", 10)


def test_missing_required_columns_fail_the_whole_file_with_the_names(tmp_path: Path, db: Any) -> None:
    f = write_csv(tmp_path / "r.csv", [["x"]], header=["external_id"])
    with pytest.raises(ImportFailed, match=r"missing column.*survey, unit, submitted_at"):
        import_file("responses", f)


def test_dates_in_mixed_formats_are_parsed_or_rejected_with_a_clear_reason() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    for text in ("2026-10-01 08:00", "2026/10/01 08:00:00", "2026年10月1日 8:00", "2026-10-01T00:00:00Z",
                 "2026-10-01T08:00+08:00", "2026.10.01 08:00", "13/10/2026 08:00"):  # fmt: skip
        got = parse_when(text, tz).astimezone(ZoneInfo("UTC"))
        assert got.hour == 0, text
    with pytest.raises(Reject, match="ambiguous"):
        parse_when("03/04/2026", tz)
    with pytest.raises(Reject, match="not a real date"):
        parse_when("2026-02-30", tz)


@pytest.mark.django_db
def test_customers_upsert_by_external_id_with_phones_in_e164_and_bad_emails_rejected(
    org: Any, tmp_path: Path
) -> None:
    header = ["external_id", "name", "phone", "email", "unit", "tier"]
    rows = [
        ["K1", "张三", "138 0013 8000", "ZHANG@Example.CN", "sh-001", "gold"],
        ["K2", "李四", "12345", "li@example.cn", "sh-001", ""],
        ["K3", "王五", "", "not-an-email", "sh-002", ""],
    ]
    errors = tmp_path / "e.csv"
    summary = import_file("customers", write_csv(tmp_path / "c.csv", rows, header=header), errors=errors)
    assert (summary.created, summary.rejected) == (1, 2)
    c = Customer.objects.get(external_id="K1")
    assert (c.phone, c.email, c.tier) == ("+8613800138000", "ZHANG@example.cn", "gold")
    assert [e["column"] for e in read_errors(errors)] == ["phone", "email"]
    rows[0][1] = "张三丰"
    again = import_file("customers", write_csv(tmp_path / "c2.csv", rows[:1], header=header))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 0)
    assert Customer.objects.get(external_id="K1").name == "张三丰"


@pytest.mark.django_db
def test_feedback_import_is_idempotent_through_external_references(org: Any, tmp_path: Path) -> None:
    header = ["external_id", "channel", "unit", "occurred_at", "severity", "text"]
    rows = [
        ["F1", "phone", "sh-001", "2026-10-02 10:00", "high", "排队太久"],
        ["F2", "review", "cd-001", "2026-10-02", "", "ok"],
    ]
    f = write_csv(tmp_path / "f.csv", rows, header=header)
    assert import_file("feedback", f).created == 2
    again = import_file("feedback", f)
    assert (again.created, again.unchanged) == (0, 2)
    assert FeedbackRecord.objects.count() == 2


@pytest.mark.django_db
def test_cli_prints_the_json_summary_and_exits_2_when_rows_were_rejected(org: Any, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "r.csv", [row("Q1"), row("Q2", nps=42)])
    errors = tmp_path / "e.csv"
    result = CliRunner().invoke(
        app, ["import", "responses", "--file", str(f), "--format", "json", "--errors", str(errors)]
    )
    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(data) == {"read", "created", "updated", "unchanged", "rejected", "seconds"}
    assert (data["created"], data["rejected"]) == (1, 1)
    assert "row 3: column `nps`" in result.stderr


@pytest.mark.django_db
def test_background_import_task_records_progress_and_summary_on_its_job(org: Any, tmp_path: Path) -> None:
    from manyi.integrations.importing.tasks import import_task

    f = write_csv(tmp_path / "r.csv", [row(f"T{i}") for i in range(5)])
    job = BulkJob.objects.create(direction="import", kind="responses", source=str(f))
    result = import_task.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.rows_done == 5 and result["created"] == 5 and job.summary["created"] == 5


@pytest.mark.django_db
def test_a_store_manager_cannot_import_into_or_overwrite_records_of_other_stores(
    org: Any, tmp_path: Path
) -> None:
    Customer.objects.create(external_id="OTHER", name="西区客户", home_unit=org.store_c)
    header = ["external_id", "name", "unit"]
    rows = [["OTHER", "改名", "sh-001"], ["NEW", "新客户", "cd-001"], ["MINE", "本店客户", "sh-001"]]
    errors = tmp_path / "e.csv"
    summary = import_file(
        "customers", write_csv(tmp_path / "c.csv", rows, header=header), errors=errors, user=org.manager_a
    )
    assert (summary.created, summary.rejected) == (1, 2)
    assert Customer.objects.get(external_id="OTHER").name == "西区客户"
    reasons = {e["value"]: e["reason"] for e in read_errors(errors)}
    assert reasons["OTHER"].startswith("belongs to a record in a unit you cannot")
    assert reasons["cd-001"] == "is not an org unit code you can import into"


@pytest.mark.django_db
def test_big_workbooks_stream_through_the_forward_only_reader_with_the_same_rows(
    org: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from datetime import datetime

    from python_calamine import CalamineWorkbook

    from manyi.integrations.importing import _read
    from manyi.integrations.importing._xlsx_stream import iter_xlsx_rows

    path = tmp_path / "big.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEADER)
    date_format = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for i in range(1, 51):
        ws.write_row(i, 0, row(f"S{i}", comment="" if i % 2 else "慢"))
        ws.write_datetime(i, 3, datetime(2026, 10, 1 + i % 28, 9, 30), date_format)  # noqa: DTZ001 - a cell has no zone
    wb.close()
    calamine = [list(r) for r in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows()]
    streamed = list(iter_xlsx_rows(str(path)))
    assert [[str(c) for c in r] for r in streamed] == [[str(c) for c in r] for r in calamine]
    monkeypatch.setattr(_read, "STREAM_XLSX_BYTES", 0)
    summary = import_file("responses", path)
    assert (summary.created, summary.rejected) == (50, 0)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_batches_are_written_on_a_second_thread_with_the_same_result(
    tmp_path: Path,
) -> None:
    from tests.conftest import build_org

    build_org()
    rows = [row(f"W{i}") for i in range(40)] + [row("BAD", nps=99)]
    errors = tmp_path / "e.csv"
    summary = import_file("responses", write_csv(tmp_path / "r.csv", rows), errors=errors, batch_size=7)
    assert (summary.read, summary.created, summary.rejected) == (41, 40, 1)
    assert Answer.objects.count() == 440
    assert [e["value"] for e in read_errors(errors)] == ["99"]
    again = import_file("responses", write_csv(tmp_path / "r.csv", rows), batch_size=7)
    assert (again.created, again.unchanged) == (0, 40)


@pytest.mark.django_db
def test_multiple_choice_answers_import_once_and_a_changed_stored_answer_is_rewritten(
    org: Any, tmp_path: Path
) -> None:
    from manyi.surveys.actions import do_create_survey, do_publish

    do_publish(survey=do_create_survey(slug="rel-nps", unit=org.company, template="relational_nps"))
    header = [
        "external_id",
        "survey",
        "unit",
        "submitted_at",
        "nps",
        "reasons",
        "reasons.other",
        "contact_ok",
    ]
    rows = [
        ["M1", "rel-nps", "sh-001", "2026-10-01 12:30", 6, "wait;staff", "停车难", "yes"],
        ["M2", "rel-nps", "sh-002", "2026-10-01 13:30", 8, "price", "", "no"],
    ]
    f = write_csv(tmp_path / "m.csv", rows, header=header)
    assert import_file("responses", f).created == 2
    assert Answer.objects.get(response__nps=6, question_code="reasons").choices == ["wait", "staff"]
    again = import_file("responses", f)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    Answer.objects.filter(response__nps=8, question_code="reasons").update(choices=["clean"])
    third = import_file("responses", f)
    assert (third.updated, third.unchanged) == (1, 1)
    assert Answer.objects.get(response__nps=8, question_code="reasons").choices == ["price"]


@pytest.mark.django_db
def test_yes_no_and_scale_cells_read_the_same_however_they_are_spelled(org: Any, tmp_path: Path) -> None:
    rows = [row("S1"), row("S2"), row("S3"), row("S4", nps="9.0"), row("S5", nps=" 9 ")]
    rows[1][-1], rows[2][-1], rows[3][-1], rows[4][-1] = "YES", "是", "True", "1"
    errors = tmp_path / "e.csv"
    summary = import_file(
        "responses", write_csv(tmp_path / "s.csv", [*rows, row("S6", nps="9.5")]), errors=errors
    )
    assert (summary.created, summary.rejected) == (5, 1)
    consent = Answer.objects.filter(question_code="contact_ok").values_list("number", flat=True)
    assert list(consent) == [1.0] * 5
    assert list(Answer.objects.filter(question_code="nps").values_list("number", flat=True)) == [9.0] * 5
    assert read_errors(errors) == [
        {"row": "7", "column": "nps", "value": "9.5", "reason": "must be a whole number from 0 to 10"}
    ]


@pytest.mark.django_db
def test_text_with_quotes_backslashes_newlines_and_chinese_arrives_exactly(org: Any, tmp_path: Path) -> None:
    comment = 'he said "hi" \\ 服务\n第二行\t= 1'
    import_file("responses", write_csv(tmp_path / "q.csv", [row("Q1", comment=comment)]))
    stored = Response.objects.get()
    assert stored.comment == comment
    assert Answer.objects.get(question_code="comment").text == comment
    assert (
        import_file("responses", write_csv(tmp_path / "q.csv", [row("Q1", comment=comment)])).unchanged == 1
    )


@pytest.mark.django_db(transaction=True)
def test_rows_out_of_time_order_keep_their_own_answers_when_batches_are_written_in_time_order(
    org: Any, tmp_path: Path
) -> None:
    # The writer sorts each batch by time before writing it: every answer must still follow its
    # own row, in both the threaded writer and across batches.
    rows = [
        row(f"T{i}", nps=i % 11, comment=f"c{i}", when=f"2026-{10 - i % 9:02d}-{28 - i:02d} 0{i % 10}:00")
        for i in range(25)
    ]
    summary = import_file("responses", write_csv(tmp_path / "t.csv", rows), batch_size=7)
    assert (summary.created, summary.rejected) == (25, 0)
    for i in range(25):
        r = Response.objects.get(submission_id=submission_id("store-csi", f"T{i}"))
        assert (r.nps, r.comment) == (i % 11, f"c{i}")
        answers = dict(Answer.objects.filter(response=r).values_list("question_code", "number"))
        assert answers["nps"] == i % 11
    # Within a batch, ids follow time (every table and index is appended to at its end); with one
    # writer (SQLite) each batch's ids also come after the previous batch's.
    stored = [Response.objects.get(submission_id=submission_id("store-csi", f"T{i}")) for i in range(25)]
    batches = [stored[lo : lo + 7] for lo in range(0, 25, 7)]
    for batch in batches:
        by_time = sorted(batch, key=lambda r: r.submitted_at)
        assert [r.pk for r in by_time] == sorted(r.pk for r in batch)
    if connection.vendor == "sqlite":
        for earlier, later in pairwise(batches):
            assert max(r.pk for r in earlier) < min(r.pk for r in later)


@pytest.mark.django_db(transaction=True)
def test_a_nul_character_in_a_text_rejects_that_row_with_a_reason_and_the_rest_land(
    org: Any, tmp_path: Path
) -> None:
    # PostgreSQL cannot store NUL in text; every database gets the same clear per-row error.
    errors = tmp_path / "errors.csv"
    rows = [row("N1"), row("N2", comment="bad\x00byte"), row("N3", comment="tab\there")]
    summary = import_file("responses", write_csv(tmp_path / "n.csv", rows), errors=errors)
    assert (summary.created, summary.rejected) == (2, 1)
    [error] = read_errors(errors)
    assert (error["row"], error["column"]) == ("3", "comment")
    assert "NUL" in error["reason"]
    assert Response.objects.filter(comment="tab\there").count() == 1
    assert Answer.objects.get(response__comment="tab\there", question_code="comment").text == "tab\there"


@pytest.mark.django_db(transaction=True)
def test_with_two_writing_threads_a_repeat_further_down_still_lands_last(tmp_path: Path) -> None:
    from manyi.integrations.importing._engine import run_import
    from manyi.integrations.importing._responses import ResponseImporter
    from tests.conftest import build_org

    build_org()

    def two_writers(header: list[str], defaults: dict[str, str], user: Any) -> ResponseImporter:
        importer = ResponseImporter(header, defaults, user)
        importer.writers = 2
        return importer

    rows = [row(f"P{i}", nps=i % 10) for i in range(30)]
    # Repeats of rows 25 and 26, in the batch right after theirs: the two batches could be written at once.
    rows += [row("P25", nps=10), row("P26", nps=10)]
    f = write_csv(tmp_path / "p.csv", rows)
    summary = run_import(two_writers, f, batch_size=4, threaded=True)
    assert (summary.read, summary.created, summary.updated, summary.rejected) == (32, 30, 2, 0)
    assert Response.objects.count() == 30
    assert Answer.objects.filter(question_code="nps", number=10).count() == 2
    again = run_import(two_writers, f, batch_size=4, threaded=True)
    assert (again.created, again.updated + again.unchanged) == (0, 32)


@pytest.mark.django_db
def test_a_reimport_that_changes_responses_reaches_the_analytics_store_without_a_rebuild(
    org: Any, tmp_path: Path
) -> None:
    from manyi.analytics import MetricQuery, run, store, store_engine

    path = tmp_path / "store.duckdb"
    import_file("responses", write_csv(tmp_path / "a.csv", [row("S1", nps=10), row("S2", nps=10)]))
    store.sync(path)
    summary = import_file("responses", write_csv(tmp_path / "b.csv", [row("S1", nps=0), row("S2", nps=10)]))
    assert summary.updated == 1
    assert store.sync(path).changed == 1
    with store_engine(path, rollups=True) as engine:
        estimate = run(MetricQuery("nps"), engine, scope=None).rows[0].estimate
        answers = engine.con.execute("SELECT count(*) FROM answers").fetchone()
    assert (estimate.n, estimate.value) == (2, 0.0)  # one promoter and one detractor, not three answers
    assert answers == (Answer.objects.filter(number__isnull=False).count(),)
