"""``manyi drivers``: key-driver analysis of a CSV, XLSX or Parquet file.

Reads the file the way ``manyi metrics`` does (any common CSV encoding, the first sheet of a
workbook, Parquet), checks every cell it needs, and prints the drivers sorted by share with their
bootstrap intervals, performance and importance–performance quadrant. Problems go to stderr as
``error: …`` lines naming the row and column, and the command exits 1; notes go to stderr too.

Only the standard library and Typer load with the module; NumPy, SciPy and pandas load when the
command runs, so registering it keeps ``manyi --help`` fast.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

MAX_PROBLEMS = 20


class OutcomeType(StrEnum):
    rating = "rating"
    nps = "nps"
    binary = "binary"


class Method(StrEnum):
    relative_weights = "relative-weights"
    shapley = "shapley"
    logistic = "logistic"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class BadInput(Exception):
    def __init__(self, problems: list[str], total: int | None = None) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else total
        super().__init__("; ".join(problems))


@dataclass(frozen=True, slots=True)
class Options:
    path: Path
    outcome: str
    outcome_type: OutcomeType
    positive: str | None
    attributes: list[str]
    na_values: list[float]
    segment: str | None
    method: Method
    bootstrap: int
    seed: int


def drivers_command(
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
    outcome: Annotated[str, typer.Option("--outcome", help="Column with the overall score or flag.")],
    attributes: Annotated[
        str, typer.Option("--attributes", help="Attribute rating columns, separated by commas.")
    ],
    outcome_type: Annotated[
        OutcomeType,
        typer.Option(
            "--outcome-type",
            help="rating (a score), nps (0–10 or promoter/passive/detractor) or binary (a satisfied flag).",
        ),
    ] = OutcomeType.rating,
    positive: Annotated[
        str | None,
        typer.Option("--positive", help="For a binary outcome: the value that counts as 1 (e.g. satisfied)."),
    ] = None,
    na_values: Annotated[
        str | None,
        typer.Option(
            "--na-values", help="Attribute values meaning 'not applicable', comma-separated (e.g. 0)."
        ),
    ] = None,
    segment: Annotated[
        str | None,
        typer.Option("--segment", help="Also analyse each value of this column and test differences."),
    ] = None,
    method: Annotated[
        Method,
        typer.Option(
            "--method",
            help="relative-weights (Johnson), shapley (R² over all subsets) or logistic (binary/NPS outcome).",
        ),
    ] = Method.relative_weights,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples for the intervals (0: none).")
    ] = 200,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the bootstrap, for reproducible intervals.")
    ] = 0,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table for people; json for programs.")
    ] = OutputFormat.table,
) -> None:
    """Key drivers of an outcome: importance with bootstrap intervals, shares, and IPA quadrants.

    Each driver: its importance (the part of R² it carries), its share of 100 %, the share's interval,
    its performance (mean rating) and its importance–performance quadrant. See docs/cli.md.
    """
    try:
        options = Options(
            path=input_file,
            outcome=outcome.strip(),
            outcome_type=outcome_type,
            positive=positive,
            attributes=parse_attributes(attributes),
            na_values=parse_na_values(na_values),
            segment=segment.strip() if segment else None,
            method=method,
            bootstrap=bootstrap,
            seed=seed,
        )
        check_options(options)
        data, notes = compute(options)
    except BadInput as exc:
        for line in exc.problems[:MAX_PROBLEMS]:
            typer.echo(f"error: {line}", err=True)
        if exc.total > MAX_PROBLEMS:
            typer.echo(f"error: … and {exc.total - MAX_PROBLEMS} more problems", err=True)
        raise typer.Exit(1) from None
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    if fmt == OutputFormat.json:
        import json

        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        write_table(data, options)


def parse_attributes(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",")]
    if not any(names):
        raise BadInput(["--attributes needs at least one column name"])
    if "" in names:
        raise BadInput(["--attributes has an empty name (two commas in a row, or a trailing comma)"])
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise BadInput([f"--attributes names `{n}` twice"])
        seen.add(n)
    return names


def parse_na_values(text: str | None) -> list[float]:
    if not text:
        return []
    out = []
    for part in text.split(","):
        try:
            out.append(float(part.strip()))
        except ValueError:
            raise BadInput(
                [f"--na-values must be numbers separated by commas, got `{part.strip()}`"]
            ) from None
    return out


def check_options(o: Options) -> None:
    problems = []
    if o.outcome in o.attributes:
        problems.append(f"column `{o.outcome}` cannot be both the outcome and an attribute")
    if o.segment is not None and (o.segment in o.attributes or o.segment == o.outcome):
        problems.append(f"column `{o.segment}` cannot be both the segment and an attribute or the outcome")
    if o.positive is not None and o.outcome_type != OutcomeType.binary:
        problems.append("--positive applies only to --outcome-type binary")
    if o.method == Method.logistic and o.outcome_type == OutcomeType.rating:
        problems.append(
            "--method logistic needs --outcome-type binary (or nps, as promoter or not); "
            "use relative-weights or shapley for a rating"
        )
    if problems:
        raise BadInput(problems)


def compute(o: Options) -> tuple[dict[str, Any], list[str]]:
    """The JSON document of the analysis and the notes for stderr."""
    import numpy as np

    from manyi.metrics._files import FileProblem, read_table
    from manyi.metrics.cli import numbers

    from . import DriverInputError, code_outcome, key_drivers, segment_drivers

    needed = [*o.attributes, o.outcome, *([o.segment] if o.segment else [])]
    try:
        table = read_table(o.path, needed)
    except FileProblem as exc:
        raise BadInput([str(exc)]) from None
    except OSError as exc:
        raise BadInput([f"cannot read {o.path}: {exc.strerror or exc}"]) from None

    problems: list[tuple[int, int, str]] = []
    columns = []
    for order, name in enumerate(o.attributes):
        series = table.frame[name]
        x, _missing, bad = numbers(series)
        for i in np.flatnonzero(bad):
            row = int(table.row_numbers[i])
            problems.append(
                (
                    row,
                    order,
                    f"row {row}: column `{name}` must be a number (a rating), got `{_shown(series.iloc[i])}`",
                )
            )
        columns.append(np.where(bad, np.nan, x))
    if o.outcome_type == OutcomeType.rating or (
        o.outcome_type == OutcomeType.nps and not _looks_like_labels(table.frame[o.outcome])
    ):
        series = table.frame[o.outcome]
        _y, _missing, bad = numbers(series)
        for i in np.flatnonzero(bad):
            row = int(table.row_numbers[i])
            problems.append(
                (
                    row,
                    len(o.attributes),
                    f"row {row}: column `{o.outcome}` must be a number, got `{_shown(series.iloc[i])}`",
                )
            )
    if problems:
        problems.sort()
        raise BadInput([m for _, _, m in problems[:MAX_PROBLEMS]], total=len(problems))

    x = np.column_stack(columns)
    try:
        y, how = code_outcome(
            table.frame[o.outcome], o.outcome_type.value, positive=o.positive, name=o.outcome
        )
        result = key_drivers(
            x,
            y,
            names=o.attributes,
            outcome_name=o.outcome,
            outcome_type=o.outcome_type.value,
            method=o.method.value,
            na_values=o.na_values,
            n_boot=o.bootstrap,
            seed=o.seed,
        )
        seg = None
        if o.segment:
            seg = segment_drivers(
                x,
                y,
                table.frame[o.segment],
                names=o.attributes,
                segment_name=o.segment,
                outcome_name=o.outcome,
                outcome_type=o.outcome_type.value,
                method=o.method.value,
                na_values=o.na_values,
                n_boot=o.bootstrap,
                seed=o.seed,
            )
    except DriverInputError as exc:
        raise BadInput([str(exc)]) from None
    notes = [f"outcome coded as {how}", *result.notes]
    data = result.to_dict()
    data.pop("notes", None)
    if seg is not None:
        data["segments"] = seg.to_dict()
        data["segment_column"] = seg.column
        data["segment_differences"] = [d.to_dict() for d in seg.differences]
        for label, why in seg.skipped.items():
            notes.append(f"segment `{label}` not analysed: {why}")
        n_sig = sum(d.significant for d in seg.differences)
        notes.append(
            f"{len(seg.differences)} segment differences tested (Benjamini–Hochberg adjusted), "
            f"{n_sig} significant"
        )
    return data, notes


def _looks_like_labels(series: Any) -> bool:
    from ._outcome import NPS_LABELS, _blank, _key

    cells = [v for v in series.tolist() if not _blank(v)]
    return bool(cells) and all(_key(v).lower() in NPS_LABELS for v in cells)


def _shown(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# --- table output ------------------------------------------------------------------------------------


def write_table(data: dict[str, Any], o: Options) -> None:
    from rich.console import Console
    from rich.table import Table

    from ._ipa import QUADRANT_LABELS

    console = Console()
    if not console.is_terminal:
        console = Console(width=400)

    def pct(v: float | None) -> str:
        return "–" if v is None else f"{v:.1f}"

    def interval(lo: Any, hi: Any, f: Any = pct) -> str:
        return "–" if lo is None else f"[{f(lo)}, {f(hi)}]"

    r2_ci = interval(data["r2_ci_low"], data["r2_ci_high"], lambda v: f"{v:.3f}")
    table = Table(
        title=f"Drivers of {o.outcome} ({data['method']}) from {o.path.name}",
        caption=(
            f"n = {data['n']}; {data['r2_kind']} = {data['r2']:.3f} {r2_ci}; "
            f"{data['confidence'] * 100:g} % bootstrap intervals ({data['bootstrap']} resamples); "
            f"quadrants: {data['ipa']['rule']}"
        ),
    )
    for name, justify in (
        ("rank", "right"),
        ("attribute", "left"),
        ("share %", "right"),
        ("share CI", "right"),
        ("importance", "right"),
        ("rank CI", "right"),
        ("performance", "right"),
        ("quadrant", "left"),
        ("VIF", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for d in data["drivers"]:
        rank_ci = "–" if d["rank_ci_low"] is None else f"{d['rank_ci_low']}–{d['rank_ci_high']}"
        table.add_row(
            str(d["rank"]),
            d["attribute"],
            pct(d["share"]),
            interval(d["ci_low"], d["ci_high"]),
            f"{d['importance']:.4f}",
            rank_ci,
            "–" if d["performance"] is None else f"{d['performance']:.2f}",
            QUADRANT_LABELS[d["quadrant"]],
            f"{d['vif']:.2f}",
        )
    console.print(table)
    if "segments" not in data:
        return
    groups = {k: v for k, v in data["segments"].items() if "drivers" in v}
    seg = Table(title=f"Share % by {data['segment_column']}")
    seg.add_column("attribute")
    for label, g in groups.items():
        seg.add_column(f"{label} (n={g['n']})", justify="right")
    for d in data["drivers"]:
        cells = [d["attribute"]]
        for g in groups.values():
            match = next(x for x in g["drivers"] if x["attribute"] == d["attribute"])
            cells.append(f"{pct(match['share'])} {interval(match['ci_low'], match['ci_high'])}")
        seg.add_row(*cells)
    seg.add_row(
        "R²" if data["method"] != "logistic" else "pseudo-R²", *[f"{g['r2']:.3f}" for g in groups.values()]
    )
    console.print(seg)
    significant = [d for d in data["segment_differences"] if d["significant"]]
    if not significant:
        console.print("No significant segment differences.")
        return
    diff = Table(title="Significant segment differences (BH-adjusted)")
    for name in ("measure", "attribute", "a", "b", "a − b", "CI", "p"):
        diff.add_column(name)
    for d in significant:
        f = pct if d["measure"] == "share" else (lambda v: f"{v:.3f}")
        diff.add_row(
            d["measure"],
            d["attribute"] or o.outcome,
            f"{d['segment_a']}: {f(d['value_a'])}",
            f"{d['segment_b']}: {f(d['value_b'])}",
            f(d["difference"]),
            interval(d["ci_low"], d["ci_high"], f),
            f"{d['p_value']:.3g}",
        )
    console.print(diff)
