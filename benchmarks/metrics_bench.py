"""NPS with its interval for 60 units × 18 months over 1,000,000 rows: manyi.metrics against pandas.

Run with ``uv run python -m benchmarks.metrics_bench [--rows N] [--repeat R]``. Progress goes to stderr
and one JSON object to stdout: the best and median seconds of each contender, the ratios, and the
largest difference between their results (they compute the same figures, so it must be ~0).

Contenders, all from the same in-memory DataFrame (store codes and months as text, as in an export):

- ``manyi``: ``metrics.by_group(metrics.nps, score, unit, month)``, which also validates every score
  and builds one :class:`~manyi.metrics.Estimate` per group;
- ``pandas_naive``: ``groupby([...])["score"].apply(f)`` with ``f`` computing the NPS and its
  adjusted-Wald interval for one group — how the computation is usually written in a notebook;
- ``pandas_vectorised``: promoter and detractor shares by ``groupby().agg`` and the interval as
  column arithmetic — the fastest pandas version we know, for reference.

Data generation and the first (warm-up) call of each contender are not timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from manyi import metrics

UNITS = 60
MONTHS = 18
Z95 = float(special.ndtri(0.975))


def synthetic(rows: int, seed: int = 20261123) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = rng.integers(0, UNITS, rows)
    month = rng.integers(0, MONTHS, rows)
    # each unit has its own mix of detractors, passives and promoters, drifting over the months
    base = rng.dirichlet([3, 3, 4], UNITS)
    drift = rng.normal(0, 0.03, (UNITS, MONTHS))
    p_pro = np.clip(base[unit, 2] + drift[unit, month], 0.05, 0.9)
    p_det = np.clip(base[unit, 0] - drift[unit, month], 0.05, 0.9)
    u = rng.random(rows)
    score = np.where(
        u < p_det,
        rng.integers(0, 7, rows),
        np.where(u < 1 - p_pro, rng.integers(7, 9, rows), rng.integers(9, 11, rows)),
    )
    labels_unit = np.array([f"store-{i:03d}" for i in range(UNITS)], dtype=object)
    labels_month = np.array([f"{2025 + m // 12}-{m % 12 + 1:02d}" for m in range(MONTHS)], dtype=object)
    return pd.DataFrame({"unit": labels_unit[unit], "month": labels_month[month], "score": score})


def run_manyi(df: pd.DataFrame) -> pd.DataFrame:
    out = metrics.by_group(metrics.nps, df["score"], df["unit"], df["month"])
    return pd.DataFrame(
        [(u, m, e.n, e.value, e.ci_low, e.ci_high) for (u, m), e in out.items()],
        columns=["unit", "month", "n", "value", "ci_low", "ci_high"],
    ).set_index(["unit", "month"])


def _nps_one_group(s: pd.Series) -> pd.Series:
    n = len(s)
    pro = (s >= 9).sum()
    det = (s <= 6).sum()
    nt = n + 3
    a_pro, a_det = (pro + 0.75) / nt, (det + 0.75) / nt
    centre = a_pro - a_det
    half = Z95 * np.sqrt((a_pro + a_det - centre**2) / nt)
    value = (pro - det) / n
    lo = min(max(centre - half, -1.0), value)
    hi = max(min(centre + half, 1.0), value)
    return pd.Series({"n": n, "value": 100 * value, "ci_low": 100 * lo, "ci_high": 100 * hi})


def run_pandas_naive(df: pd.DataFrame) -> pd.DataFrame:
    return df.groupby(["unit", "month"])["score"].apply(_nps_one_group).unstack()


def run_pandas_vectorised(df: pd.DataFrame) -> pd.DataFrame:
    g = df.assign(pro=df["score"] >= 9, det=df["score"] <= 6).groupby(["unit", "month"])
    agg = g.agg(n=("score", "size"), pro=("pro", "sum"), det=("det", "sum"))
    nt = agg["n"] + 3
    a_pro, a_det = (agg["pro"] + 0.75) / nt, (agg["det"] + 0.75) / nt
    centre = a_pro - a_det
    half = Z95 * np.sqrt((a_pro + a_det - centre**2) / nt)
    value = (agg["pro"] - agg["det"]) / agg["n"]
    return pd.DataFrame(
        {
            "n": agg["n"],
            "value": 100 * value,
            "ci_low": 100 * np.minimum((centre - half).clip(lower=-1), value),
            "ci_high": 100 * np.maximum((centre + half).clip(upper=1), value),
        }
    )


def timed(
    fn: Callable[[pd.DataFrame], pd.DataFrame], df: pd.DataFrame, repeat: int
) -> tuple[list[float], Any]:
    result = fn(df)  # warm-up: first-call costs (imports, caches) are not what we measure
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(df)
        times.append(time.perf_counter() - t0)
    return times, result


def log(msg: str) -> None:
    print(f"[metrics_bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    log(f"generating {args.rows:,} rows over {UNITS} units × {MONTHS} months")
    df = synthetic(args.rows)
    contenders = {
        "manyi": run_manyi,
        "pandas_naive": run_pandas_naive,
        "pandas_vectorised": run_pandas_vectorised,
    }
    timings: dict[str, list[float]] = {}
    results: dict[str, pd.DataFrame] = {}
    for name, fn in contenders.items():
        log(f"timing {name} ({args.repeat} runs after a warm-up)")
        timings[name], results[name] = timed(fn, df, args.repeat)

    ref = results["manyi"].sort_index()
    diffs = {}
    for name in ("pandas_naive", "pandas_vectorised"):
        other = results[name].sort_index()[ref.columns]
        assert list(other.index) == list(ref.index), f"{name} found other groups"
        diffs[name] = float(np.nanmax(np.abs(other.to_numpy(dtype=float) - ref.to_numpy(dtype=float))))

    best = {k: min(v) for k, v in timings.items()}
    report = {
        "benchmark": "NPS with adjusted-Wald 95 % interval, grouped by unit × month",
        "rows": args.rows,
        "groups": len(ref),
        "repeat": args.repeat,
        "seconds_best": {k: round(v, 4) for k, v in best.items()},
        "seconds_median": {k: round(statistics.median(v), 4) for k, v in timings.items()},
        "speedup_vs_pandas_naive": round(best["pandas_naive"] / best["manyi"], 1),
        "speedup_vs_pandas_vectorised": round(best["pandas_vectorised"] / best["manyi"], 2),
        "max_abs_difference": diffs,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
