"""``manyi drivers`` on files: the JSON contract, tables, segments, and bad input without tracebacks."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import xlsxwriter
from typer.testing import CliRunner

from manyi.cli import app

runner = CliRunner()
ATTRS = ["服务态度", "等候时间", "环境卫生", "价格"]


def survey(n: int = 600, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        ratings = np.clip(np.round(3.5 + rng.normal(0, 1, 4)), 1, 5).astype(int)
        tier = "金卡" if i % 2 else "普通"
        coefs = [1.0, 0.6, 0.2, 0.05] if tier == "金卡" else [0.2, 0.6, 1.0, 0.05]
        overall = float(ratings @ coefs + rng.normal(0, 0.8))
        row = dict(zip(ATTRS, ratings.tolist(), strict=True))
        if i % 17 == 0:
            row["价格"] = 0  # not applicable
        row["总体满意"] = round(overall, 2)
        row["满意"] = "是" if overall > 5.5 else "否"
        row["会员等级"] = tier
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["drivers", *map(str, args)], env={"COLUMNS": "400"})
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str | Path) -> dict:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_drivers_reads_a_gbk_csv_and_gives_the_json_contract_sorted_by_share(tmp_path):
    path = write_csv(tmp_path / "调查.csv", survey(), "gbk")
    out = run_json(
        "--input",
        path,
        "--outcome",
        "总体满意",
        "--attributes",
        ",".join(ATTRS),
        "--na-values",
        "0",
        "--bootstrap",
        "50",
    )
    assert {"n", "r2", "method", "drivers"} <= set(out)
    assert out["method"] == "relative-weights" and out["n"] == 600 - 36
    shares = [d["share"] for d in out["drivers"]]
    assert shares == sorted(shares, reverse=True) and sum(shares) == pytest.approx(100, abs=1e-3)
    for d in out["drivers"]:
        assert {"attribute", "importance", "share", "ci_low", "ci_high", "performance", "quadrant"} <= set(d)
        assert d["ci_low"] <= d["share"] <= d["ci_high"]
    price = next(d for d in out["drivers"] if d["attribute"] == "价格")
    assert price["performance"] >= 1  # 0 means not applicable, not a low rating
    assert out["drivers"][-1]["attribute"] == "价格"
    assert "segments" not in out


def test_drivers_reads_an_xlsx_file_and_a_binary_outcome_with_the_logistic_method(tmp_path):
    rows = survey()
    path = tmp_path / "survey.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for j, c in enumerate(rows[0]):
        sheet.write(0, j, c)
        for i, r in enumerate(rows):
            sheet.write(i + 1, j, r[c])
    book.close()
    out = run_json(
        "--input",
        path,
        "--outcome",
        "满意",
        "--outcome-type",
        "binary",
        "--positive",
        "是",
        "--attributes",
        ",".join(ATTRS),
        "--na-values",
        "0",
        "--method",
        "logistic",
        "--bootstrap",
        "20",
    )
    assert out["method"] == "logistic" and 0 < out["r2"] < 1
    assert all("odds_ratio" in d for d in out["drivers"])


def test_shapley_and_relative_weights_agree_on_the_order_of_clear_drivers(tmp_path):
    path = write_csv(tmp_path / "s.csv", survey())
    common = [
        "--input",
        path,
        "--outcome",
        "总体满意",
        "--attributes",
        ",".join(ATTRS),
        "--na-values",
        "0",
        "--bootstrap",
        "0",
    ]
    rw = run_json(*common)
    sh = run_json(*common, "--method", "shapley")
    assert [d["attribute"] for d in rw["drivers"]] == [d["attribute"] for d in sh["drivers"]]
    assert rw["r2"] == pytest.approx(sh["r2"])


def test_segments_are_analysed_and_their_significant_differences_listed(tmp_path):
    path = write_csv(tmp_path / "s.csv", survey(1200))
    out = run_json(
        "--input",
        path,
        "--outcome",
        "总体满意",
        "--attributes",
        ",".join(ATTRS),
        "--na-values",
        "0",
        "--segment",
        "会员等级",
        "--bootstrap",
        "100",
    )
    assert set(out["segments"]) == {"金卡", "普通"}
    assert out["segments"]["金卡"]["drivers"][0]["attribute"] == "服务态度"
    assert out["segments"]["普通"]["drivers"][0]["attribute"] == "环境卫生"
    sig = {(d["measure"], d["attribute"]) for d in out["segment_differences"] if d["significant"]}
    assert ("share", "服务态度") in sig and ("share", "环境卫生") in sig


def test_the_table_names_quadrants_and_lists_significant_segment_differences(tmp_path):
    path = write_csv(tmp_path / "s.csv", survey(1200))
    code, out, err = run(
        "--input",
        path,
        "--outcome",
        "总体满意",
        "--attributes",
        ",".join(ATTRS),
        "--na-values",
        "0",
        "--segment",
        "会员等级",
        "--bootstrap",
        "50",
    )
    assert code == 0, err
    assert "服务态度" in out and "share CI" in out
    assert any(
        q in out for q in ("concentrate here", "keep up the good work", "low priority", "possible overkill")
    )
    assert "Significant segment differences" in out
    assert "note: left out 71 of 1200 rows" in err


# --- bad input -------------------------------------------------------------------------------------------


def bad(tmp_path: Path, rows: list[dict], *args: str) -> str:
    path = write_csv(tmp_path / "bad.csv", rows)
    code, out, err = run("--input", path, *args)
    assert code == 1, out
    assert "Traceback" not in err + out
    return err


def test_a_constant_attribute_is_named(tmp_path):
    rows = survey(200)
    for r in rows:
        r["价格"] = 3
    err = bad(tmp_path, rows, "--outcome", "总体满意", "--attributes", ",".join(ATTRS))
    assert "error: attribute `价格` has the same value (3)" in err


def test_perfectly_collinear_attributes_are_named(tmp_path):
    rows = survey(200)
    for r in rows:
        r["合计"] = r["服务态度"] + r["等候时间"]
    err = bad(tmp_path, rows, "--outcome", "总体满意", "--attributes", ",".join([*ATTRS, "合计"]))
    assert "error: attribute `合计` is perfectly collinear with `服务态度`, `等候时间`" in err


def test_too_few_rows_for_the_attributes_says_how_many_are_needed(tmp_path):
    err = bad(tmp_path, survey(25), "--outcome", "总体满意", "--attributes", ",".join(ATTRS))
    assert "error: too few complete rows: 25" in err and "need at least 30" in err


def test_a_rating_that_is_not_a_number_is_listed_by_row_and_column(tmp_path):
    rows = survey(200)
    rows[4]["等候时间"] = "很久"
    err = bad(tmp_path, rows, "--outcome", "总体满意", "--attributes", ",".join(ATTRS))
    assert "error: row 6: column `等候时间` must be a number (a rating), got `很久`" in err


def test_an_outcome_with_a_single_class_is_refused(tmp_path):
    rows = survey(200)
    for r in rows:
        r["满意"] = "是"
    err = bad(
        tmp_path,
        rows,
        "--outcome",
        "满意",
        "--outcome-type",
        "binary",
        "--positive",
        "是",
        "--attributes",
        ",".join(ATTRS),
    )
    assert "error: outcome `满意` has a single class (positive)" in err


def test_a_binary_outcome_without_positive_value_asks_for_it(tmp_path):
    rows = survey(200)
    for i, r in enumerate(rows):
        r["满意"] = "satisfied" if i % 2 else "neutral or dissatisfied"
    err = bad(
        tmp_path, rows, "--outcome", "满意", "--outcome-type", "binary", "--attributes", ",".join(ATTRS)
    )
    assert "say which one is the positive class with --positive" in err


def test_a_missing_column_lists_the_columns_the_file_has(tmp_path):
    err = bad(tmp_path, survey(50), "--outcome", "overall", "--attributes", ",".join(ATTRS))
    assert "error: column `overall` not found; the file has" in err


def test_the_logistic_method_on_a_rating_outcome_is_refused_before_reading(tmp_path):
    err = bad(
        tmp_path, survey(50), "--outcome", "总体满意", "--attributes", ",".join(ATTRS), "--method", "logistic"
    )
    assert "--method logistic needs --outcome-type binary" in err


def test_an_nps_outcome_given_as_labels_and_read_from_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = survey(600)
    for r in rows:
        r["NPS"] = "promoter" if r["总体满意"] > 6 else ("passive" if r["总体满意"] > 4.5 else "detractor")
    path = tmp_path / "nps.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    out = run_json(
        "--input",
        path,
        "--outcome",
        "NPS",
        "--outcome-type",
        "nps",
        "--attributes",
        ",".join(ATTRS),
        "--na-values",
        "0",
        "--bootstrap",
        "20",
    )
    assert out["outcome_type"] == "nps" and out["n"] == 600 - 36
    assert -100 <= out["outcome_mean"] <= 100
    logistic = run_json(
        "--input",
        path,
        "--outcome",
        "NPS",
        "--outcome-type",
        "nps",
        "--attributes",
        ",".join(ATTRS),
        "--na-values",
        "0",
        "--bootstrap",
        "0",
        "--method",
        "logistic",
    )
    assert 0 < logistic["outcome_mean"] < 1  # the share of promoters
