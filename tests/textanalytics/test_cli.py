"""``manyi text``: analyse, evaluate and adapt on files; a bad row never stops a batch."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from manyi.textanalytics.cli import text_app as app

runner = CliRunner()


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


ROWS = [
    {"id": "1", "store": "上海一店", "text": "菜很好吃，但是等了一个小时"},
    {"id": "2", "store": "上海一店", "text": ""},
    {"id": "3", "store": "成都一店", "text": "😀😀"},
    {"id": "4", "store": "成都一店", "text": "差" * 12_000},
    {"id": "5", "store": "北京一店", "text": "Staff were rude, I want a refund"},
]


def test_analyze_round_trips_a_csv_keeping_its_columns_and_adding_the_results(tmp_path: Path):
    src = write_csv(tmp_path / "in.csv", ROWS)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["analyze", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == [
        "id",
        "store",
        "text",
        "lang",
        "sentiment",
        "sentiment_score",
        "confidence",
        "aspects",
        "keywords",
        "flags",
    ]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    first = rows[0]
    assert first["lang"] == "zh"
    aspects = json.loads(first["aspects"])
    assert {"aspect": "wait_time", "sentiment": "negative"}.items() <= aspects[1].items()
    assert set(aspects[0]) >= {"aspect", "sentiment", "span"}
    assert -1 <= float(first["sentiment_score"]) <= 1
    assert json.loads(rows[3]["flags"])[-1] == {"flag": "truncated", "words": []}
    assert json.loads(rows[4]["flags"]) == [{"flag": "refund", "words": ["refund"]}]
    assert "row 3: no_text" in result.stderr
    assert "row 4: truncated" in result.stderr


def test_analyze_writes_json_lines_to_stdout_and_reads_gbk(tmp_path: Path):
    src = write_csv(tmp_path / "in.csv", ROWS[:1], encoding="gbk")
    result = runner.invoke(
        app, ["analyze", "-i", str(src), "--format", "jsonl", "--no-keywords", "--lang", "zh"]
    )
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.splitlines()[0])
    assert line["store"] == "上海一店"
    assert line["sentiment"] in {"negative", "neutral", "positive"}
    assert line["keywords"] == []


def test_analyze_names_the_columns_when_the_text_column_is_missing(tmp_path: Path):
    src = write_csv(tmp_path / "in.csv", ROWS)
    result = runner.invoke(app, ["analyze", "-i", str(src), "--column", "comment"])
    assert result.exit_code == 1
    assert "column `comment` not found" in result.stderr
    assert "id, store, text" in result.stderr


def test_eval_reports_accuracy_and_macro_f1_and_skips_unusable_labels(tmp_path: Path):
    rows = [
        {"text": "质量很好，非常满意", "label": "1"},
        {"text": "太差了，再也不买了", "label": "0"},
        {"text": "Lovely staff", "label": "positive"},
        {"text": "Terrible, rude staff", "label": "negative"},
        {"text": "whatever", "label": "maybe"},
    ]
    src = write_csv(tmp_path / "labelled.csv", rows)
    result = runner.invoke(app, ["eval", "-i", str(src), "--label-column", "label"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 4
    assert report["skipped"] == 1
    assert report["accuracy"] == 1.0
    assert "row 5: label `maybe`" in result.stderr


def test_jsonl_input_with_a_broken_line_processes_the_others(tmp_path: Path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "很好"}\nnot json\n{"text": "很差"}\n', encoding="utf-8")
    result = runner.invoke(app, ["analyze", "-i", str(src), "--format", "jsonl", "--no-keywords"])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["text"] for x in io.StringIO(result.stdout)] == ["很好", "很差"]
    assert "row 2: not valid JSON" in result.stderr


def test_adapt_on_scored_comments_then_analyze_and_eval_with_the_adapter(tmp_path: Path):
    good = ["出餐快，好评", "店员热情，出餐快", "环境好，出餐快", "味道好，出餐快", "出餐快，下次再来"]
    bad = ["出餐慢", "今天又出餐慢", "出餐慢，等到饿", "周末出餐慢", "出餐慢出餐慢"]
    rows = [{"text": t, "nps": "10"} for t in good * 8] + [{"text": t, "nps": "2"} for t in bad * 8]
    rows += [{"text": "还行", "nps": "8"}, {"text": "一般", "nps": ""}]
    src = write_csv(tmp_path / "scored.csv", rows)
    adapter = tmp_path / "adapter-zh.json"
    result = runner.invoke(app, ["adapt", "-i", str(src), "--score-column", "nps", "--output", str(adapter)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["labelled"] == 80  # the passive (8) and the unscored row are left out
    assert report["accuracy_after"] >= report["accuracy_before"]
    labelled = write_csv(tmp_path / "labelled.csv", [{"text": "又是出餐慢", "label": "negative"}])
    result = runner.invoke(
        app, ["eval", "-i", str(labelled), "--label-column", "label", "--adapter", str(adapter)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] == 1.0


def test_a_missing_adapter_is_a_one_line_error(tmp_path: Path):
    src = write_csv(tmp_path / "in.csv", ROWS[:1])
    result = runner.invoke(app, ["analyze", "-i", str(src), "--adapter", str(tmp_path / "nope.json")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot load model nope.json")


def test_a_row_whose_analysis_raises_is_flagged_and_its_batch_neighbours_still_come_out(
    tmp_path: Path, monkeypatch
):
    from manyi.textanalytics._analyze import Analyzer

    real = Analyzer._analyze_batch

    def brittle(self, values, lang):
        if any(v == "boom" for v in values):
            raise RuntimeError("model fell over")
        return real(self, values, lang)

    monkeypatch.setattr(Analyzer, "_analyze_batch", brittle)
    src = write_csv(tmp_path / "in.csv", [{"id": "1", "text": "服务很好"}, {"id": "2", "text": "boom"},
                                          {"id": "3", "text": "Staff were rude"}])  # fmt: skip
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["analyze", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["sentiment"] for r in rows] == ["positive", "", "negative"]
    assert json.loads(rows[1]["flags"]) == [{"flag": "error", "words": []}]
    assert "row 2: could not be analysed (RuntimeError: model fell over)" in result.stderr
