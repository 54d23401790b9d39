"""``manyi metrics`` on files: CSV in GBK and UTF-8 with BOM, XLSX, Parquet; comparisons; bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from typer.testing import CliRunner

from manyi import metrics
from manyi.cli import app

runner = CliRunner()

STORES = ["上海一店", "上海二店", "成都一店"]


def responses(n: int = 240, seed: int = 5) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        store = STORES[i % 3]
        month = 1 + (i // 3) % 3
        score = int(rng.integers(0, 11)) if store != "成都一店" else int(rng.choice([9, 10, 10, 3]))
        rows.append(
            {
                "门店": store,
                "score": score,
                "date": dt.datetime(2026, month, 1 + i % 28, 9 + i % 10, 30),  # noqa: DTZ001 - local clock, as in Excel
                "weight": float(rng.choice([0.5, 1.0, 2.0])),
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict], encoding: str, columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow(
            [r[c].strftime("%Y-%m-%d %H:%M") if isinstance(r[c], dt.datetime) else r[c] for c in columns]
        )
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def run(*args: str | Path) -> tuple[int, str, str]:
    # A wide terminal, so typer's error box does not wrap long temporary paths.
    result = runner.invoke(app, ["metrics", *map(str, args)], env={"COLUMNS": "400"})
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str | Path) -> list[dict]:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def by_store(rows: list[dict], store: str, key: str = "score") -> list:
    return [r[key] for r in rows if r["门店"] == store]


# --- reading files ------------------------------------------------------------------------------------


def test_metrics_reads_a_gbk_csv_and_gives_each_store_its_nps_with_interval(tmp_path):
    rows = responses()
    path = write_csv(tmp_path / "导出.csv", rows, "gbk")
    out = run_json("--input", path, "--metric", "nps", "--score-column", "score", "--by", "门店")
    assert [r["门店"] for r in out] == sorted(STORES)
    for r in out:
        expected = metrics.nps(by_store(rows, r["门店"]))
        assert set(r) == {"门店", "period", "n", "value", "ci_low", "ci_high", "suppressed", "skipped"}
        assert (r["n"], r["period"], r["suppressed"]) == (expected.n, None, False)
        assert r["value"] == pytest.approx(expected.value)
        assert (r["ci_low"], r["ci_high"]) == (
            pytest.approx(expected.ci_low),
            pytest.approx(expected.ci_high),
        )
        assert -100 <= r["ci_low"] <= r["value"] <= r["ci_high"] <= 100


def test_metrics_reads_a_utf8_csv_with_a_byte_order_mark_before_the_first_column_name(tmp_path):
    rows = responses(90)
    path = write_csv(tmp_path / "bom.csv", rows, "utf-8-sig", columns=["score", "门店"])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    out = run_json("--input", path, "--metric", "csat", "--score-column", "score", "--scale-max", "10")
    assert out[0]["n"] == 90
    top = sum(r["score"] >= 9 for r in rows)
    assert out[0]["value"] == pytest.approx(100 * top / 90)


def test_metrics_reads_an_xlsx_sheet_with_real_dates_and_compares_each_month_with_the_previous(tmp_path):
    rows = responses()
    path = tmp_path / "responses.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, ["门店", "score", "date"])
    for i, r in enumerate(rows, start=1):
        sheet.write(i, 0, r["门店"])
        sheet.write_number(i, 1, r["score"])
        sheet.write_datetime(i, 2, r["date"], date_format)
    book.close()
    out = run_json(
        "--input", path, "--metric", "nps", "--score-column", "score", "--by", "门店",
        "--period", "month", "--time-column", "date", "--compare", "previous", "--min-n", "10",
    )  # fmt: skip
    assert [(r["门店"], r["period"]) for r in out] == [
        (s, f"2026-0{m}") for s in sorted(STORES) for m in (1, 2, 3)
    ]
    first = [r for r in out if r["period"] == "2026-01"]
    assert all(r["delta"] is None and r["p_value"] is None and r["significant"] is False for r in first)

    raw = []
    for r in out:
        if r["period"] == "2026-01":
            continue
        month = int(r["period"][-1])
        cur = [x["score"] for x in rows if x["门店"] == r["门店"] and x["date"].month == month]
        prev = [x["score"] for x in rows if x["门店"] == r["门店"] and x["date"].month == month - 1]
        cmp = metrics.compare_nps(cur, prev)
        assert r["delta"] == pytest.approx(cmp.delta)
        assert (r["delta_ci_low"], r["delta_ci_high"]) == (
            pytest.approx(cmp.ci_low),
            pytest.approx(cmp.ci_high),
        )
        raw.append(cmp.p_value)
    adjusted = metrics.benjamini_hochberg(raw)
    got = [r["p_value"] for r in out if r["period"] != "2026-01"]
    assert got == pytest.approx(adjusted.tolist())
    assert all(r["significant"] == (r["p_value"] < 0.05) for r in out if r["p_value"] is not None)


def test_metrics_reads_parquet_and_applies_survey_weights(tmp_path):
    rows = responses()
    path = tmp_path / "responses.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    out = run_json(
        "--input",
        path,
        "--metric",
        "nps",
        "--score-column",
        "score",
        "--by",
        "门店",
        "--weight-column",
        "weight",
    )
    for r in out:
        expected = metrics.nps(by_store(rows, r["门店"]), weights=by_store(rows, r["门店"], "weight"))
        assert r["value"] == pytest.approx(expected.value)
        assert r["ci_low"] == pytest.approx(expected.ci_low)
        assert r["n"] == expected.n


def test_metrics_of_a_parquet_file_with_weights_of_all_one_equals_the_unweighted_result(tmp_path):
    rows = [{**r, "weight": 1.0} for r in responses()]
    path = tmp_path / "ones.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    args = [
        "--input",
        path,
        "--metric",
        "topbox",
        "--score-column",
        "score",
        "--scale-max",
        "10",
        "--by",
        "门店",
    ]
    assert run_json(*args, "--weight-column", "weight") == run_json(*args)


# --- metrics, periods, output formats -------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "labels"),
    [
        ("day", ["2026-03-30", "2026-03-31", "2026-04-01"]),
        ("week", ["2026-W14"]),
        ("month", ["2026-03", "2026-04"]),
        ("quarter", ["2026-Q1", "2026-Q2"]),
    ],
)
def test_metrics_labels_days_iso_weeks_months_and_quarters(tmp_path, period, labels):
    path = tmp_path / "p.csv"
    path.write_text(
        "score,at\n5,2026-03-30T08:00:00+08:00\n4,2026-03-31 23:59\n2,2026/04/01\n", encoding="utf-8"
    )
    out = run_json(
        "--input",
        path,
        "--metric",
        "mean",
        "--score-column",
        "score",
        "--period",
        period,
        "--time-column",
        "at",
    )
    assert [r["period"] for r in out] == labels


def test_metrics_shows_a_store_without_answers_in_a_month_as_n_zero_with_no_value(tmp_path):
    path = tmp_path / "gap.csv"
    path.write_text(
        "store,score,date\na,10,2026-01-03\na,9,2026-03-03\nb,3,2026-02-10\n",
        encoding="utf-8",
    )
    out = run_json(
        "--input", path, "--metric", "nps", "--score-column", "score", "--by", "store",
        "--period", "month", "--time-column", "date", "--compare", "previous",
    )  # fmt: skip
    gap = next(r for r in out if r["store"] == "a" and r["period"] == "2026-02")
    assert (gap["n"], gap["value"], gap["ci_low"], gap["suppressed"], gap["delta"]) == (
        0,
        None,
        None,
        True,
        None,
    )
    after_gap = next(r for r in out if r["store"] == "a" and r["period"] == "2026-03")
    assert after_gap["value"] == 100.0 and after_gap["delta"] is None


def test_metrics_flags_small_groups_as_suppressed_but_still_shows_them(tmp_path):
    path = write_csv(tmp_path / "s.csv", responses(60), "utf-8")
    out = run_json(
        "--input", path, "--metric", "nps", "--score-column", "score", "--by", "门店", "--min-n", "25"
    )
    assert [r["n"] for r in out] == [20, 20, 20]
    assert all(r["suppressed"] and r["value"] is not None for r in out)


def test_metrics_reports_ces_and_mean_in_scale_units_and_csat_in_percent(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("ces,csat\n" + "\n".join(f"{1 + i % 7},{1 + i % 5}" for i in range(70)), encoding="utf-8")
    ces = run_json("--input", path, "--metric", "ces", "--score-column", "ces", "--scale-max", "7")[0]
    assert ces["value"] == pytest.approx(4.0)
    assert 1 <= ces["ci_low"] < 4 < ces["ci_high"] <= 7
    csat = run_json("--input", path, "--metric", "csat", "--score-column", "csat")[0]
    assert csat["value"] == pytest.approx(40.0)


def test_metrics_writes_csv_with_one_header_and_one_line_per_group(tmp_path):
    path = write_csv(tmp_path / "r.csv", responses(), "utf-8")
    code, out, _ = run(
        "--input", path, "--metric", "nps", "--score-column", "score", "--by", "门店", "--format", "csv"
    )
    assert code == 0
    lines = list(csv.DictReader(io.StringIO(out)))
    assert list(lines[0]) == ["门店", "period", "n", "value", "ci_low", "ci_high", "suppressed", "skipped"]
    assert [r["门店"] for r in lines] == sorted(STORES)
    assert {r["suppressed"] for r in lines} == {"false"} and {r["period"] for r in lines} == {""}


def test_metrics_prints_a_table_by_default(tmp_path):
    path = write_csv(tmp_path / "r.csv", responses(), "gbk")
    code, out, _ = run("--input", path, "--metric", "nps", "--score-column", "score", "--by", "门店")
    assert code == 0
    assert "成都一店" in out and "NPS" in out and "95 % CI" in out


def test_metrics_counts_rows_without_a_score_on_stderr_and_leaves_them_out(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("score,store\n10,a\n,a\n\n9,b\n", encoding="utf-8")  # the empty line is layout, not a row
    code, out, err = run(
        "--input", path, "--metric", "nps", "--score-column", "score", "--by", "store", "--format", "json"
    )
    assert code == 0
    assert [r["n"] for r in json.loads(out)] == [1, 1]
    assert "left out 1 row without a score in `score`" in err


def test_metrics_of_a_file_without_any_score_gives_n_zero_and_no_value(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("score,store\n,a\n", encoding="utf-8")
    out = run_json("--input", path, "--metric", "nps", "--score-column", "score")
    assert out == [
        {
            "period": None,
            "n": 0,
            "value": None,
            "ci_low": None,
            "ci_high": None,
            "suppressed": True,
            "skipped": 0,
        }
    ]


# --- bad input ---------------------------------------------------------------------------------------


def test_metrics_reports_an_out_of_range_score_by_row_and_column_and_leaves_its_row_out(tmp_path):
    rows = responses(30)
    rows[15]["score"] = 11  # data row 16 is line 17 of the file, the header being line 1
    path = write_csv(tmp_path / "bad.csv", rows, "gbk")
    code, out, err = run(
        "--input", path, "--metric", "nps", "--score-column", "score", "--by", "门店", "--format", "json"
    )
    assert code == 0, err
    assert "warning: row 17: column `score` must be a whole number 0–10, got `11`" in err
    assert "left out 1 row with a bad cell" in err
    got = {r["门店"]: r for r in json.loads(out)}
    assert sum(r["n"] for r in got.values()) == 29
    assert got[rows[15]["门店"]]["skipped"] == 1
    assert sum(r["skipped"] for r in got.values()) == 1
    good = [r["score"] for i, r in enumerate(rows) if i != 15 and r["门店"] == rows[15]["门店"]]
    assert got[rows[15]["门店"]]["value"] == pytest.approx(metrics.nps(good).value)


def test_metrics_with_strict_stops_at_a_bad_score_and_writes_no_result(tmp_path):
    rows = responses(30)
    rows[15]["score"] = 11
    path = write_csv(tmp_path / "bad.csv", rows, "gbk")
    code, out, err = run("--input", path, "--metric", "nps", "--score-column", "score", "--strict")
    assert code == 1
    assert out == ""
    assert "error: row 17: column `score` must be a whole number 0–10, got `11`" in err


def test_metrics_shows_a_group_whose_every_score_is_bad_as_n_zero_with_its_skipped_count(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("score,store\n10,a\nten,b\n99,b\n", encoding="utf-8")
    out = run_json("--input", path, "--metric", "nps", "--score-column", "score", "--by", "store")
    assert [(r["store"], r["n"], r["value"], r["skipped"]) for r in out] == [
        ("a", 1, 100.0, 0),
        ("b", 0, None, 2),
    ]


def test_metrics_lists_every_bad_cell_not_only_the_first(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "score,when,w\nabc,2026-01-01,1\n7,yesterday,1\n8,2026-01-02,-2\n4.5,2026-01-02,1\n", "utf-8"
    )
    args = [
        "--input", path, "--metric", "nps", "--score-column", "score",
        "--period", "day", "--time-column", "when", "--weight-column", "w",
    ]  # fmt: skip
    code, _, strict_err = run(*args, "--strict")
    assert code == 1 and "error: row 2: column `score`" in strict_err
    code, out, err = run(*args, "--format", "json")
    assert code == 0
    assert "left out 4 rows with a bad cell" in err
    assert sum(r["n"] for r in json.loads(out)) == 0
    assert "row 2: column `score` must be a whole number 0–10, got `abc`" in err
    assert "row 3: column `when` must be a date or date-time" in err and "got `yesterday`" in err
    assert "row 4: column `w` must be a non-negative number (a survey weight), got `-2`" in err
    assert "row 5: column `score` must be a whole number 0–10, got `4.5`" in err


def test_metrics_lists_the_available_columns_when_one_is_missing(tmp_path):
    path = write_csv(tmp_path / "r.csv", responses(10), "utf-8")
    code, _, err = run("--input", path, "--metric", "nps", "--score-column", "ltr", "--by", "门店")
    assert code == 1
    assert "column `ltr` not found; the file has `门店`, `score`, `date`, `weight`" in err


def test_metrics_names_the_sheet_row_of_a_bad_xlsx_cell(tmp_path):
    path = tmp_path / "bad.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["score"])
    for i in range(1, 10):
        sheet.write(i, 0, 5 if i != 7 else "很好")
    book.close()
    code, _, err = run("--input", path, "--metric", "csat", "--score-column", "score")
    assert code == 0
    assert "warning: row 8: column `score` must be a whole number 1–5, got `很好`" in err


def test_metrics_names_the_record_of_a_bad_parquet_value(tmp_path):
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"score": [1.0, 2.0, 9.0]}), path)
    code, _, err = run("--input", path, "--metric", "csat", "--score-column", "score", "--strict")
    assert code == 1
    assert "row 3: column `score` must be a whole number 1–5, got `9`" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--compare", "previous"], "--compare previous needs --period and --time-column"),
        (["--period", "month"], "--period and --time-column go together"),
        (["--top-k", "3"], "--top-k applies only to --metric csat or topbox"),
        (["--scale-max", "7"], "--scale-max does not apply to --metric nps"),
        (["--confidence", "95"], "--confidence must be between 0 and 1"),
        (["--by", "n"], "--by column `n` has the name of an output field"),
    ],
)
def test_metrics_refuses_options_that_do_not_fit_together(tmp_path, extra, message):
    path = tmp_path / "x.csv"
    path.write_text("score,n\n9,1\n", encoding="utf-8")
    code, _, err = run("--input", path, "--metric", "nps", "--score-column", "score", *extra)
    assert code != 0
    assert message in err


def test_metrics_rejects_a_metric_it_does_not_know_and_a_file_that_does_not_exist(tmp_path):
    code, _, err = run("--input", tmp_path / "nope.csv", "--metric", "nps", "--score-column", "s")
    assert code != 0 and "nope.csv" in err
    path = tmp_path / "x.csv"
    path.write_text("s\n1\n", encoding="utf-8")
    code, _, err = run("--input", path, "--metric", "loyalty", "--score-column", "s")
    assert code != 0 and "loyalty" in err


def test_metrics_runs_without_setting_up_django(tmp_path):
    path = write_csv(tmp_path / "r.csv", responses(30), "gbk")
    code = (
        "import sys\n"
        "from manyi.cli import app\n"
        "try:\n"
        f"    app(['metrics', '--input', {str(path)!r}, '--metric', 'nps', '--score-column', 'score', '--format', 'json'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print('DJANGO' if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 'NO DJANGO')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("NO DJANGO")
    assert json.loads(done.stdout.rsplit("]", 1)[0] + "]")[0]["n"] == 30
