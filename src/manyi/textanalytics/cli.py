"""``manyi text``: analyse, evaluate and train the text models on files, with no server and no Django.

Results go to stdout (or ``--output``); per-row problems and progress go to stderr. A bad row never
stops a batch: it is reported as ``row N: …`` and written with whatever could be read from it.
Only the standard library and Typer load at import, so registering the commands stays cheap.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from enum import StrEnum
from itertools import batched
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

text_app = typer.Typer(
    help="Text analytics: sentiment, aspects, keywords and urgency flags for comments (zh/en).",
    no_args_is_help=True,
)

#: At most this many row problems are listed on stderr; the rest are counted.
MAX_PROBLEMS = 20
ADDED_COLUMNS = ["lang", "sentiment", "sentiment_score", "confidence", "aspects", "keywords", "flags"]


class LangChoice(StrEnum):
    auto = "auto"
    zh = "zh"
    en = "en"


class OutFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


class ScaleChoice(StrEnum):
    nps = "nps"
    csat = "csat"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _decode(raw: bytes) -> str:
    for codec in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    return str(best) if best is not None else raw.decode("utf-8", errors="replace")


def read_rows(path: Path) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Columns and rows of a CSV (UTF-8, UTF-8 with BOM or GB18030) or JSON Lines file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror or exc}") from exc
    text = _decode(raw)
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        rows: list[dict[str, Any]] = []
        columns: dict[str, None] = {}
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                typer.echo(f"row {n}: not valid JSON ({exc.msg}); skipped", err=True)
                continue
            if not isinstance(obj, dict):
                typer.echo(f"row {n}: not a JSON object; skipped", err=True)
                continue
            columns.update(dict.fromkeys(obj))
            rows.append(obj)
        return list(columns), iter(rows)
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return list(reader.fieldnames or []), iter(reader)


def _open_out(output: Path | None) -> TextIO:
    if output is None:
        return sys.stdout
    return output.open("w", encoding="utf-8", newline="")


def _models_dir() -> Path | None:
    env = os.environ.get("MANYI_TEXT_MODELS_DIR")
    return Path(env) if env else None


@text_app.command("analyze")
def analyze_command(
    input: Annotated[Path, typer.Option("--input", "-i", help="CSV or JSONL file of comments.")],
    column: Annotated[str, typer.Option(help="Column holding the comment text.")] = "text",
    lang: Annotated[LangChoice, typer.Option(help="auto detects per row.")] = LangChoice.auto,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    fmt: Annotated[OutFormat, typer.Option("--format", help="csv or jsonl.")] = OutFormat.csv,
    taxonomy: Annotated[
        Path | None, typer.Option(help="Aspect taxonomy JSON (default: service aspects).")
    ] = None,
    adapter: Annotated[Path | None, typer.Option(help="Adapter from `manyi text adapt`.")] = None,
    keywords: Annotated[
        bool, typer.Option("--keywords/--no-keywords", help="Extract keywords (slower).")
    ] = True,
) -> None:
    """Add lang, sentiment, sentiment_score, confidence, aspects, keywords and flags to every row."""
    from ._adapt import AdaptedModel
    from ._analyze import Analyzer
    from ._aspects import Taxonomy
    from ._errors import TextAnalyticsError

    columns, rows = read_rows(input)
    if column not in columns:
        raise _fail(f"column `{column}` not found in {input}; columns are: {', '.join(columns) or '(none)'}")
    try:
        analyzer = Analyzer(
            taxonomy=Taxonomy.from_file(taxonomy) if taxonomy else None,
            models_dir=_models_dir(),
            adapter=AdaptedModel.load(adapter, _models_dir()) if adapter else None,  # type: ignore[arg-type]
            with_keywords=keywords,
        )
    except TextAnalyticsError as exc:
        raise _fail(str(exc)) from exc
    out_columns = columns + [c for c in ADDED_COLUMNS if c not in columns]
    started = time.perf_counter()
    n = problems = 0
    out = _open_out(output)
    try:
        writer = (
            csv.DictWriter(out, fieldnames=out_columns, extrasaction="ignore")
            if fmt == OutFormat.csv
            else None
        )
        if writer is not None:
            writer.writeheader()
        for n, (row, a) in enumerate(_analysed(analyzer, rows, column, lang.value), start=1):
            if not isinstance(a, Exception):
                added: dict[str, Any] = {
                    "lang": a.lang,
                    "sentiment": a.sentiment.label,
                    "sentiment_score": a.sentiment.score,
                    "confidence": a.sentiment.confidence,
                    "aspects": [x.as_dict() for x in a.aspects],
                    "keywords": list(a.keywords),
                    "flags": a.flag_dicts(),
                }
                bad = a.problems
            else:  # one bad row must not lose the others
                added = {
                    "lang": "",
                    "sentiment": "",
                    "sentiment_score": "",
                    "confidence": "",
                    "aspects": [],
                    "keywords": [],
                    "flags": [{"flag": "error", "words": []}],
                }
                bad = (f"could not be analysed ({type(a).__name__}: {a})",)
            if bad and not (len(bad) == 1 and bad[0] == "empty"):
                problems += 1
                if problems <= MAX_PROBLEMS:
                    typer.echo(f"row {n}: {', '.join(bad)}", err=True)
            if writer is not None:
                flat = {
                    k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v
                    for k, v in added.items()
                }
                writer.writerow({**row, **flat})
            else:
                out.write(json.dumps({**row, **added}, ensure_ascii=False) + "\n")
    finally:
        if output is not None:
            out.close()
    if problems > MAX_PROBLEMS:
        typer.echo(f"… and {problems - MAX_PROBLEMS} more rows with problems", err=True)
    elapsed = time.perf_counter() - started
    typer.echo(
        f"analysed {n} rows ({problems} with problems) in {elapsed:.1f} s with {analyzer.version}", err=True
    )


def _analysed(
    analyzer: Any, rows: Iterator[dict[str, Any]], column: str, lang: str
) -> Iterator[tuple[dict[str, Any], Any]]:
    """Each row with its analysis, or the exception that analysing it raised. Rows are analysed in
    batches (``analyze_many``); a batch that raises is analysed again one row at a time so that only
    the bad row is lost."""
    from manyi.textanalytics._analyze import BATCH

    for chunk in batched(rows, BATCH):
        results: list[Any]
        try:
            results = list(analyzer.analyze_many([r.get(column) for r in chunk], lang, batch=len(chunk)))
        except Exception:
            results = []
            for r in chunk:
                try:
                    results.append(analyzer.analyze(r.get(column), lang))
                except Exception as exc:
                    results.append(exc)
        yield from zip(chunk, results, strict=True)


_LABELS = {
    "negative": "negative", "neg": "negative", "0": "negative", "-1": "negative", "负面": "negative", "差评": "negative",
    "neutral": "neutral", "neu": "neutral", "中性": "neutral",
    "positive": "positive", "pos": "positive", "1": "positive", "正面": "positive", "好评": "positive",
}  # fmt: skip


@text_app.command("eval")
def eval_command(
    input: Annotated[Path, typer.Option("--input", "-i", help="CSV or JSONL file of labelled comments.")],
    label_column: Annotated[str, typer.Option(help="Column with negative/neutral/positive (or 0/1).")],
    column: Annotated[str, typer.Option(help="Column holding the comment text.")] = "text",
    lang: Annotated[LangChoice, typer.Option(help="auto detects per row.")] = LangChoice.auto,
    adapter: Annotated[Path | None, typer.Option(help="Adapter from `manyi text adapt`.")] = None,
) -> None:
    """Accuracy and macro-F1 of the sentiment model on a labelled file (JSON on stdout)."""
    from ._adapt import AdaptedModel
    from ._analyze import Analyzer
    from ._errors import TextAnalyticsError

    columns, rows = read_rows(input)
    for c in (column, label_column):
        if c not in columns:
            raise _fail(f"column `{c}` not found in {input}; columns are: {', '.join(columns) or '(none)'}")
    try:
        analyzer = Analyzer(
            models_dir=_models_dir(),
            adapter=AdaptedModel.load(adapter, _models_dir()) if adapter else None,  # type: ignore[arg-type]
            with_keywords=False,
        )
    except TextAnalyticsError as exc:
        raise _fail(str(exc)) from exc
    truth: list[str] = []
    texts: list[Any] = []
    skipped = 0
    for n, row in enumerate(rows, start=1):
        label = _LABELS.get(str(row.get(label_column, "")).strip().lower())
        if label is None:
            skipped += 1
            if skipped <= MAX_PROBLEMS:
                typer.echo(
                    f"row {n}: label `{row.get(label_column)}` is not negative/neutral/positive; skipped",
                    err=True,
                )
            continue
        truth.append(label)
        texts.append(row.get(column))
    pred: list[str] = [a.sentiment.label for a in analyzer.analyze_many(texts, lang.value)]
    if not truth:
        raise _fail("no row has a usable label")
    typer.echo(json.dumps(scores(truth, pred) | {"skipped": skipped}, ensure_ascii=False, indent=2))


def scores(truth: list[str], pred: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the labels present, and for two-label data the binary accuracy."""
    labels = sorted(set(truth))
    f1s = []
    for lab in labels:
        tp = sum(t == lab and p == lab for t, p in zip(truth, pred, strict=True))
        fp = sum(t != lab and p == lab for t, p in zip(truth, pred, strict=True))
        fn = sum(t == lab and p != lab for t, p in zip(truth, pred, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    confusion = {
        t: {
            p: sum(a == t and b == p for a, b in zip(truth, pred, strict=True))
            for p in ("negative", "neutral", "positive")
        }
        for t in labels
    }
    out: dict[str, Any] = {
        "n": len(truth),
        "accuracy": round(sum(t == p for t, p in zip(truth, pred, strict=True)) / len(truth), 4),
        "macro_f1": round(sum(f1s) / len(f1s), 4),
        "confusion": confusion,
    }
    if "neutral" not in labels:
        decided = [(t, p) for t, p in zip(truth, pred, strict=True) if p != "neutral"]
        out["neutral_predictions"] = len(truth) - len(decided)
        out["accuracy_without_neutral_predictions"] = round(
            sum(t == p for t, p in decided) / max(len(decided), 1), 4
        )
    return out


@text_app.command("train")
def train_command(
    data_dir: Annotated[
        Path | None, typer.Option(help="Shared data directory (default ../shared/data).")
    ] = None,
    output_dir: Annotated[
        Path | None, typer.Option(help="Where to write the models (default: inside the package).")
    ] = None,
    lang: Annotated[list[LangChoice] | None, typer.Option(help="zh and/or en (default both).")] = None,
) -> None:
    """Train the sentiment models from the repo, package corpora and shared data; write the model card."""
    from ._errors import TextAnalyticsError
    from ._sentiment import MODELS_DIR
    from ._train import SHARED_DATA, train_all

    langs = [v.value for v in lang or [] if v != LangChoice.auto] or ["zh", "en"]
    try:
        report = train_all(
            output_dir or MODELS_DIR, data_dir or SHARED_DATA, langs, say=lambda m: typer.echo(m, err=True)
        )
    except TextAnalyticsError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(
        json.dumps(
            {k: {"version": v["version"], "metrics": v["metrics"]} for k, v in report.items()},
            ensure_ascii=False,
            indent=2,
        )
    )


@text_app.command("adapt")
def adapt_command(
    input: Annotated[Path, typer.Option("--input", "-i", help="CSV or JSONL of scored comments.")],
    score_column: Annotated[str, typer.Option(help="Column with the NPS (0–10) or CSAT (1–5) score.")],
    scale: Annotated[ScaleChoice, typer.Option(help="nps: 0–6 vs 9–10; csat: 1–2 vs 4–5.")] = ScaleChoice.nps,
    column: Annotated[str, typer.Option(help="Column holding the comment text.")] = "text",
    lang: Annotated[
        LangChoice, typer.Option(help="Language of the comments (auto: the majority).")
    ] = LangChoice.auto,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Adapter JSON path.")] = None,
    holdout: Annotated[float, typer.Option(help="Share held back to measure before/after.")] = 0.2,
) -> None:
    """Adapt sentiment to an organisation's comments with labels from their scores; report before/after."""
    from ._adapt import adapt
    from ._errors import TextAnalyticsError
    from ._lang import detect_language
    from ._text import clean

    columns, rows = read_rows(input)
    for c in (column, score_column):
        if c not in columns:
            raise _fail(f"column `{c}` not found in {input}; columns are: {', '.join(columns) or '(none)'}")
    texts, scores_ = [], []
    for row in rows:
        texts.append(clean(row.get(column)).text)
        scores_.append(row.get(score_column))
    chosen = lang.value
    if chosen == "auto":
        langs = [detect_language(t) for t in texts[:2000] if t]
        chosen = "zh" if langs.count("zh") + langs.count("mixed") >= langs.count("en") else "en"
    data_dir = Path(os.environ.get("MANYI_DATA_DIR", "var"))
    out = output or data_dir / "textmodels" / f"adapter-{chosen}.json"
    try:
        report = adapt(
            texts,
            scores_,
            scale=scale.value,
            lang=chosen,
            out_path=out,
            holdout=holdout,
            models_dir=_models_dir(),
        )
    except TextAnalyticsError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
