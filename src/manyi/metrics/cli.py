"""``manyi metrics``: satisfaction metrics with intervals from a CSV, XLSX or Parquet file.

No server and no Django: the command reads the file, checks every cell it needs, and computes the
figures with :mod:`manyi.metrics` in one vectorised pass. Results go to stdout (table, JSON or CSV);
problems and notes go to stderr. A bad cell (a score that is not a number or out of range, a bad
weight or date) is reported by row and column and its row is left out and counted, never coerced;
``--strict`` stops at bad cells instead (exit 1). Options that do not fit together always exit 1.

Only the standard library and Typer are imported at module level, so registering the command keeps
``manyi --help`` fast; NumPy, SciPy and pandas load when the command runs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from ._files import Table
    from ._spec import Spec

#: At most this many problems are listed; the rest are counted.
MAX_PROBLEMS = 20


class MetricName(StrEnum):
    nps = "nps"
    csat = "csat"
    ces = "ces"
    topbox = "topbox"
    mean = "mean"


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"


class CompareWith(StrEnum):
    previous = "previous"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class BadInput(Exception):
    """Problems with the options or the file; each line is shown on stderr as ``error: …``."""

    def __init__(self, problems: list[str], total: int | None = None) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else total
        super().__init__("; ".join(problems))


def metrics_command(
    input_file: Annotated[
        Path,
        typer.Option(
            "--input",
            exists=True,
            dir_okay=False,
            readable=True,
            help="CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, …), XLSX (first sheet) or Parquet file.",
        ),
    ],
    metric: Annotated[MetricName, typer.Option("--metric", help="Which figure to compute.")],
    score_column: Annotated[str, typer.Option("--score-column", help="Column holding the scores.")],
    scale_max: Annotated[
        int | None,
        typer.Option(
            "--scale-max",
            help="Top of the rating scale for csat/topbox/ces/mean (default 5; for mean, no range check without it). "
            "Scales start at 1, except --scale-max 10, which starts at 0.",
        ),
    ] = None,
    top_k: Annotated[
        int | None, typer.Option("--top-k", help="How many top points count for csat/topbox (default 2).")
    ] = None,
    by: Annotated[
        list[str] | None, typer.Option("--by", help="Group by this column; repeat for several columns.")
    ] = None,
    period: Annotated[
        Period | None, typer.Option("--period", help="Also group by calendar period of --time-column.")
    ] = None,
    time_column: Annotated[
        str | None, typer.Option("--time-column", help="Column with the response date/time (with --period).")
    ] = None,
    min_n: Annotated[
        int, typer.Option("--min-n", min=0, help="Figures with fewer responses are flagged suppressed.")
    ] = 30,
    confidence: Annotated[
        float, typer.Option("--confidence", help="Confidence level of the intervals.")
    ] = 0.95,
    compare: Annotated[
        CompareWith | None,
        typer.Option("--compare", help="Compare each period with the previous one of the same group."),
    ] = None,
    weight_column: Annotated[
        str | None, typer.Option("--weight-column", help="Column with survey (post-stratification) weights.")
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table for people; json or csv for programs.")
    ] = OutputFormat.table,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Stop with exit 1 at bad cells instead of leaving their rows out."),
    ] = False,
) -> None:
    """Satisfaction metrics with intervals from a CSV, XLSX or Parquet file.

    NPS in points (−100..100), csat and topbox in percent (0..100), ces and mean in scale units.

    Each row: the group, its period, n, the value, its interval, and suppressed (n below --min-n).

    With --compare previous: the change from the previous period, its interval, a BH-adjusted p-value.

    Bad cells are listed on stderr by row and column; their rows are left out and counted in
    each row's "skipped" (exit 0). With --strict they stop the command (exit 1). See docs/cli.md.
    """
    options = Options(
        path=input_file,
        metric=metric,
        score_column=score_column,
        scale_max=scale_max,
        top_k=top_k,
        by=list(by or []),
        period=period,
        time_column=time_column,
        min_n=min_n,
        confidence=confidence,
        compare=compare,
        weight_column=weight_column,
        strict=strict,
    )
    try:
        result = compute(options)
    except BadInput as exc:
        for line in exc.problems[:MAX_PROBLEMS]:
            typer.echo(f"error: {line}", err=True)
        if exc.total > MAX_PROBLEMS:
            typer.echo(f"error: … and {exc.total - MAX_PROBLEMS} more problems", err=True)
        raise typer.Exit(1) from None
    for line in result.warnings[:MAX_PROBLEMS]:
        typer.echo(f"warning: {line}", err=True)
    if len(result.warnings) > MAX_PROBLEMS:
        typer.echo(f"warning: … and {len(result.warnings) - MAX_PROBLEMS} more bad cells", err=True)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    write(result, fmt)


# --- the computation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    path: Path
    metric: MetricName
    score_column: str
    scale_max: int | None
    top_k: int | None
    by: list[str]
    period: Period | None
    time_column: str | None
    min_n: int
    confidence: float
    compare: CompareWith | None
    weight_column: str | None
    strict: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    rows: list[dict[str, Any]]
    group_columns: list[str]
    notes: list[str]
    options: Options
    #: One line per bad cell whose row was left out (``row 17: column `score` must be …``).
    warnings: list[str] = field(default_factory=list)
    #: Rows left out for a bad cell, in all.
    skipped: int = 0


COMPARE_FIELDS = ["delta", "delta_ci_low", "delta_ci_high", "p_value", "significant"]
FIELDS = ["period", "n", "value", "ci_low", "ci_high", "suppressed", "skipped"]


def metric_spec(o: Options) -> Spec:
    """The metric and its scale from the options, or the reason the options do not fit together."""
    from ._spec import Spec, box_spec, mean_spec, nps_spec

    problems = []
    if o.metric == MetricName.nps and o.scale_max is not None:
        problems.append("--scale-max does not apply to --metric nps (always 0–10)")
    if o.top_k is not None and o.metric not in (MetricName.csat, MetricName.topbox):
        problems.append("--top-k applies only to --metric csat or topbox")
    if o.scale_max is not None and o.scale_max < 2:
        problems.append(f"--scale-max must be at least 2, got {o.scale_max}")
    top = 5 if o.scale_max is None else o.scale_max
    bottom = 0 if top == 10 else 1
    top_k = 2 if o.top_k is None else o.top_k
    if o.metric in (MetricName.csat, MetricName.topbox) and not 1 <= top_k <= top - bottom:
        problems.append(f"--top-k must be 1–{top - bottom} on a {bottom}–{top} scale, got {top_k}")
    if not 0 < o.confidence < 1:
        problems.append(f"--confidence must be between 0 and 1 (e.g. 0.95), got {o.confidence}")
    if (o.period is None) != (o.time_column is None):
        problems.append("--period and --time-column go together: give both or neither")
    if o.compare is not None and o.period is None:
        problems.append("--compare previous needs --period and --time-column")
    for name in [*o.by, *([o.time_column] if o.time_column else [])]:
        if name == o.score_column:
            problems.append(f"column `{name}` cannot be both the score column and a grouping column")
    clash = [c for c in o.by if c in FIELDS or c in COMPARE_FIELDS]
    if clash:
        problems.append(f"--by column `{clash[0]}` has the name of an output field; rename it in the file")
    if len(set(o.by)) != len(o.by):
        problems.append("each --by column can be given only once")
    if problems:
        raise BadInput(problems)
    if o.metric == MetricName.nps:
        return nps_spec()
    if o.metric in (MetricName.csat, MetricName.topbox):
        return box_spec(o.metric.value, bottom, top, top_k)
    if o.metric == MetricName.ces:
        return mean_spec("ces", bottom, top, whole=True)
    if o.scale_max is None:
        return Spec("mean", "mean")
    return mean_spec("mean", bottom, top)


def compute(o: Options) -> Result:
    import numpy as np

    from ._compare import compare_arrays
    from ._fdr import benjamini_hochberg
    from ._files import FileProblem, read_table
    from ._groups import combine, factorize
    from ._intervals import estimate
    from ._sums import group_sums

    spec = metric_spec(o)
    needed = [o.score_column, *o.by]
    if o.time_column:
        needed.append(o.time_column)
    if o.weight_column:
        needed.append(o.weight_column)
    try:
        table = read_table(o.path, needed)
    except FileProblem as exc:
        raise BadInput([str(exc)]) from None
    except OSError as exc:
        raise BadInput([f"cannot read {o.path}: {exc.strerror or exc}"]) from None

    problems: list[tuple[int, int, str]] = []  # (row number, column order, message)
    x, missing, bad_score = score_values(table, o.score_column, spec, problems)
    answered = ~missing  # rows with something in the score cell, valid or not
    bad_weight = np.zeros(len(x), dtype=bool)
    w = np.ones(len(x))
    if o.weight_column:
        w, bad_weight = weight_values(table, o.weight_column, answered, problems)
    p_codes = None
    bad_time = np.zeros(len(x), dtype=bool)
    if o.time_column and o.period:
        p_codes, bad_time = period_codes(table, o.time_column, o.period, answered, problems)
    problems.sort()
    if problems and o.strict:
        raise BadInput([message for _, _, message in problems[:MAX_PROBLEMS]], total=len(problems))
    skipped = answered & (bad_score | bad_weight | bad_time)
    present = answered & ~skipped

    notes = []
    n_skipped = int(skipped.sum())
    if n_skipped:
        notes.append(
            f"left out {n_skipped} row{'s' if n_skipped != 1 else ''} with a bad cell (listed above, never coerced); "
            "each result row counts its own in `skipped`; --strict stops at bad cells instead"
        )
    n_missing = int(missing.sum())
    if n_missing:
        notes.append(
            f"left out {n_missing} row{'s' if n_missing != 1 else ''} without a score in `{o.score_column}`"
        )
    keep = present & (w > 0)
    n_zero = int((present & (w == 0)).sum())
    if n_zero:
        notes.append(
            f"left out {n_zero} row{'s' if n_zero != 1 else ''} with weight 0 in `{o.weight_column}`"
        )

    # Rows left out for a bad score or weight still name their group (and period, when their date
    # is good), so each result row can count them; a group with only such rows shows n = 0.
    placed = skipped & ~bad_time
    counted = keep | placed
    kept = keep[counted]
    y = spec.code(x[keep])
    wk = w[keep]
    n_counted = int(counted.sum())
    if o.by:
        keys = [factorize(group_values(table.frame[c])[counted]) for c in o.by]
        g_codes, labels = combine(keys)
    else:
        g_codes, labels = np.zeros(n_counted, dtype=np.int64), [()]
    if p_codes is not None:
        pk = p_codes[counted]
        p_first = int(pk.min()) if len(pk) else 0
        n_periods = int(pk.max()) - p_first + 1 if len(pk) else 0
        p_index = pk - p_first
    else:
        p_first, n_periods, p_index = 0, 1, np.zeros(n_counted, dtype=np.int64)
    if n_counted == 0 and o.by:
        labels, n_periods = [], 0
    n_cells = len(labels) * n_periods
    cells = (g_codes * n_periods + p_index).astype(np.int64)
    sums = group_sums(y, wk, cells[kept], n_cells)
    skipped_in = np.bincount(cells[~kept], minlength=n_cells) if n_cells else np.zeros(0, dtype=np.int64)
    est = estimate(spec, sums, o.confidence)

    diff = None
    if o.compare is not None:
        period_of_cell = np.arange(n_cells) % max(n_periods, 1)
        current = np.flatnonzero(period_of_cell > 0)
        d = compare_arrays(spec, sums.take(current), sums.take(current - 1), o.confidence)
        diff = {name: np.full(n_cells, np.nan) for name in ("delta", "lo", "hi", "p")}
        for name, values in (("delta", d.delta), ("lo", d.lo), ("hi", d.hi), ("p", d.p)):
            diff[name][current] = values
        diff["p"] = benjamini_hochberg(diff["p"])
        tested = int((~np.isnan(diff["p"])).sum())
        notes.append(
            f"p-values are Benjamini–Hochberg adjusted across the {tested} comparison{'s' if tested != 1 else ''}; "
            f"significant means adjusted p < {1 - o.confidence:.3g}"
        )

    rows: list[dict[str, Any]] = []
    alpha = 1 - o.confidence
    for g, label in enumerate(labels):
        for p in range(n_periods):
            i = g * n_periods + p
            row: dict[str, Any] = dict(zip(o.by, label, strict=True))
            row["period"] = period_label(o.period, p_first + p) if o.period else None
            row["n"] = int(sums.n[i])
            row["value"] = _num(est.value[i])
            row["ci_low"] = _num(est.lo[i])
            row["ci_high"] = _num(est.hi[i])
            row["suppressed"] = bool(sums.n[i] < o.min_n)
            row["skipped"] = int(skipped_in[i])
            if diff is not None:
                row["delta"] = _num(diff["delta"][i])
                row["delta_ci_low"] = _num(diff["lo"][i])
                row["delta_ci_high"] = _num(diff["hi"][i])
                row["p_value"] = _num(diff["p"][i])
                row["significant"] = row["p_value"] is not None and row["p_value"] < alpha
            rows.append(row)
    return Result(rows, o.by, notes, o, [message for _, _, message in problems], n_skipped)


def _num(v: Any) -> float | None:
    f = float(v)
    return None if f != f else f


# --- cells to values --------------------------------------------------------------------------------


def _shown(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _text(series: pd.Series) -> pd.Series | None:
    """The column with surrounding spaces stripped and missing cells as "", when every cell is text
    (CSV columns always are); ``None`` for typed or mixed columns."""
    import pandas as pd

    if series.dtype.kind in "iufbmM" or pd.api.types.infer_dtype(series, skipna=True) not in (
        "string",
        "empty",
    ):
        return None
    return series.astype(object).where(series.notna(), "").astype(str).str.strip()


def _blank(v: Any) -> bool:
    return (
        v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and v != v) or _is_na(v)
    )


def _is_na(v: Any) -> bool:
    return type(v).__name__ in {"NAType", "NaTType"}


def numbers(
    series: pd.Series,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Cells → (floats, missing, not-a-number). Empty cells are missing; text that is not a number
    is reported, never guessed at."""
    import numpy as np
    import pandas as pd

    if series.dtype.kind in "iuf":
        x = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return x, np.isnan(x), np.zeros(len(x), dtype=bool)
    text = _text(series)
    if text is not None:
        missing = text.eq("").to_numpy(dtype=bool)
        x = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        return x, missing, ~missing & np.isnan(x)
    cells = series.to_numpy(dtype=object)
    missing = np.fromiter((_blank(v) for v in cells), dtype=bool, count=len(cells))
    x = np.full(len(cells), np.nan)
    bad = np.zeros(len(cells), dtype=bool)
    for i in np.flatnonzero(~missing):
        v = cells[i]
        if isinstance(v, (bool, np.bool_)):
            bad[i] = True
            continue
        try:
            x[i] = float(v.strip() if isinstance(v, str) else v)
        except (TypeError, ValueError):
            bad[i] = True
    return x, missing, bad


def _problem(table: Table, i: Any, order: int, column: str, expected: str, got: Any) -> tuple[int, int, str]:
    row = int(table.row_numbers[i])
    shown = "" if _blank(got) else _shown(got)
    return row, order, f"row {row}: column `{column}` must be {expected}, got `{shown}`"


def score_values(
    table: Table, column: str, spec: Spec, problems: list[tuple[int, int, str]]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Scores (NaN where missing or bad), which cells are empty, and which are bad (reported)."""
    import numpy as np

    series = table.frame[column]
    x, missing, bad = numbers(series)
    invalid = bad.copy()
    ok = ~missing & ~bad
    invalid[ok] = spec.invalid(x[ok])
    for i in np.flatnonzero(invalid):
        problems.append(_problem(table, i, 0, column, spec.expected, series.iloc[i]))
    return np.where(invalid, np.nan, x), missing, invalid


def weight_values(
    table: Table, column: str, present: npt.NDArray[np.bool_], problems: list[tuple[int, int, str]]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Weights (0 where bad) and which cells of ``present`` rows are bad (reported)."""
    import numpy as np

    series = table.frame[column]
    w, missing, bad = numbers(series)
    with np.errstate(invalid="ignore"):
        invalid = present & (missing | bad | ~np.isfinite(w) | (w < 0))
    for i in np.flatnonzero(invalid):
        problems.append(
            _problem(table, i, 1, column, "a non-negative number (a survey weight)", series.iloc[i])
        )
    return np.where(present & ~invalid, w, 0.0), invalid


def group_values(series: pd.Series) -> npt.NDArray[Any]:
    """Group cells: blank text is a missing group (shown as null), whole floats from spreadsheets are ints."""
    import numpy as np

    if series.dtype.kind in "iub":
        return np.asarray(series.to_numpy())
    text = _text(series)
    if text is not None:
        cells = np.array(series.to_numpy(dtype=object), dtype=object)
        cells[text.eq("").to_numpy(dtype=bool)] = None
        return cells
    out = np.empty(len(series), dtype=object)
    for i, v in enumerate(series.to_numpy(dtype=object)):
        if _blank(v):
            out[i] = None
        elif isinstance(v, float) and v.is_integer():
            out[i] = int(v)
        elif hasattr(v, "item") and not isinstance(v, str):
            out[i] = v.item()  # NumPy scalars → Python
        else:
            out[i] = v
    return out


def datetimes(series: pd.Series, kind: str) -> pd.Series:
    """Cells → naive wall-clock timestamps, NaT where blank or not a date.

    Text is read as ISO 8601 first (vectorised), then cell by cell in any format pandas recognises
    (``2026/3/31``, ``31 Mar 2026 18:05``). An offset such as ``+08:00`` is dropped after parsing, so
    the period is the one on the respondent's clock. Numbers are dates only in spreadsheets, as
    serial days since 1899-12-30.
    """

    import numpy as np
    import pandas as pd

    if series.dtype.kind == "M":
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_localize(None)
        return series.astype("datetime64[ns]").reset_index(drop=True)

    def one(v: Any) -> Any:
        if _blank(v) or isinstance(v, (bool, np.bool_)):
            return pd.NaT
        if isinstance(v, (int, float, np.integer, np.floating)):
            return (
                pd.Timestamp("1899-12-30") + pd.to_timedelta(float(v), unit="D") if kind == "xlsx" else pd.NaT
            )
        try:
            ts = pd.Timestamp(v.strip() if isinstance(v, str) else v)
        except (ValueError, TypeError, OverflowError):
            return pd.NaT
        if not isinstance(ts, pd.Timestamp) or ts is pd.NaT:
            return pd.NaT
        return ts.tz_localize(None) if ts.tzinfo is not None else ts

    cells = series.reset_index(drop=True)
    out = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    text = _text(cells)
    todo = np.ones(len(cells), dtype=bool)
    if text is not None:
        todo = ~text.eq("").to_numpy(dtype=bool)
        try:  # the fast path: one vectorised ISO 8601 parse
            parsed = pd.to_datetime(text[todo], format="ISO8601", errors="coerce")
            if getattr(parsed.dt, "tz", None) is not None:  # one offset for all: keep the wall clock
                parsed = parsed.dt.tz_localize(None)
            out[todo] = parsed.astype("datetime64[ns]")
            todo &= out.isna().to_numpy()
        except (ValueError, TypeError, OverflowError):  # mixed offsets: cell by cell
            pass
    for i in np.flatnonzero(todo):
        out.iloc[i] = one(cells.iloc[i])
    return out


def period_codes(
    table: Table,
    column: str,
    period: Period,
    present: npt.NDArray[np.bool_],
    problems: list[tuple[int, int, str]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """One integer per row for its calendar period (consecutive periods have consecutive codes),
    and which cells of ``present`` rows are not dates (reported)."""
    import numpy as np

    series = table.frame[column]
    ts = datetimes(series, table.kind)
    bad = present & ts.isna().to_numpy()
    expected = "a date or date-time (e.g. 2026-03-31 or 2026-03-31 18:05)"
    for i in np.flatnonzero(bad):
        problems.append(_problem(table, i, 2, column, expected, series.iloc[i]))
    t = ts.to_numpy(dtype="datetime64[ns]")
    t = np.where(np.isnat(t), np.datetime64(0, "ns"), t)
    if period == Period.day:
        return t.astype("datetime64[D]").astype(np.int64), bad
    if period == Period.week:  # weeks start on Monday; 1970-01-01 was a Thursday
        return (t.astype("datetime64[D]").astype(np.int64) + 3) // 7, bad
    months = t.astype("datetime64[M]").astype(np.int64)
    return (months if period == Period.month else months // 3), bad


def period_label(period: Period, code: int) -> str:
    """``2026-03-31``, ``2026-W14`` (ISO week), ``2026-03`` or ``2026-Q1``."""
    import datetime as dt

    if period == Period.day:
        return (dt.date(1970, 1, 1) + dt.timedelta(days=code)).isoformat()
    if period == Period.week:
        year, week, _ = (dt.date(1970, 1, 1) + dt.timedelta(days=code * 7 - 3)).isocalendar()
        return f"{year}-W{week:02d}"
    if period == Period.month:
        return f"{1970 + code // 12}-{code % 12 + 1:02d}"
    return f"{1970 + code // 4}-Q{code % 4 + 1}"


# --- output -------------------------------------------------------------------------------------------


def fieldnames(result: Result) -> list[str]:
    return [*result.group_columns, *FIELDS, *(COMPARE_FIELDS if result.options.compare else [])]


def write(result: Result, fmt: OutputFormat) -> None:
    if fmt == OutputFormat.json:
        import json

        sys.stdout.write(json.dumps(result.rows, ensure_ascii=False, indent=2, default=str) + "\n")
    elif fmt == OutputFormat.csv:
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=fieldnames(result), lineterminator="\n")
        writer.writeheader()
        for row in result.rows:
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    else:
        _table(result)


def _csv_cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


def _table(result: Result) -> None:
    from rich.console import Console
    from rich.table import Table

    o = result.options
    digits = 2 if o.metric in (MetricName.ces, MetricName.mean) else 1
    unit = {MetricName.nps: "NPS", MetricName.csat: "CSAT %", MetricName.topbox: "top-box %"}.get(
        o.metric, o.metric.value
    )
    level = f"{o.confidence * 100:g} %"

    def f(v: float | None, sign: bool = False) -> str:
        return "–" if v is None else (f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}")

    table = Table(
        title=f"{unit} from {o.path.name}", caption=f"intervals at {level}; suppressed: n < {o.min_n}"
    )
    for c in result.group_columns:
        table.add_column(c)
    if o.period:
        table.add_column("period")
    table.add_column("n", justify="right")
    table.add_column(unit, justify="right")
    table.add_column(f"{level} CI", justify="right")
    table.add_column("suppressed")
    if o.compare:
        table.add_column("Δ", justify="right")
        table.add_column("Δ CI", justify="right")
        table.add_column("p (BH)", justify="right")
        table.add_column("significant")
    for row in result.rows:
        cells = ["–" if row[c] is None else str(row[c]) for c in result.group_columns]
        if o.period:
            cells.append(row["period"])
        ci = "–" if row["ci_low"] is None else f"[{f(row['ci_low'])}, {f(row['ci_high'])}]"
        cells += [str(row["n"]), f(row["value"]), ci, "yes" if row["suppressed"] else ""]
        if o.compare:
            dci = (
                "–"
                if row["delta_ci_low"] is None
                else f"[{f(row['delta_ci_low'], True)}, {f(row['delta_ci_high'], True)}]"
            )
            p = "–" if row["p_value"] is None else f"{row['p_value']:.3g}"
            cells += [f(row["delta"], True), dci, p, "yes" if row["significant"] else ""]
        table.add_row(*cells)
    console = Console()
    if not console.is_terminal:  # piped or captured: print whole rows, do not fold them to 80 columns
        console = Console(width=400)
    console.print(table)
