"""Key-driver analysis at 100,000 respondents × 14 attributes: relative weights, Shapley R², bootstrap.

Run with ``uv run python -m benchmarks.drivers [--rows N] [--attributes K] [--boot B] [--repeat R]``.
Progress goes to stderr and one JSON object to stdout: the best and median seconds of each step,
its target, and whether it was met. Data generation and a warm-up call (before the steps without bootstrap) are not timed.

Steps, all through :func:`manyi.analytics.drivers.key_drivers` on the same synthetic survey (ratings
1–5 of correlated attributes, 0 = not applicable in a few cells, an overall rating 1–10):

- ``relative_weights``: the whole analysis without bootstrap (checks, correlations, VIF, relative
  weights, IPA) — target 1 s;
- ``shapley``: the same with Shapley R² over all 2^14 subsets from the correlation matrix — target 5 s;
- ``bootstrap_relative_weights``: relative weights with 200 bootstrap resamples — target 30 s on 2 cores;
- ``bootstrap_shapley``: Shapley R² with 200 resamples (no target; shown for scale).

``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` decide how many cores the cross-products use.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from manyi.analytics import drivers

TARGETS = {
    "relative_weights": 1.0,
    "shapley": 5.0,
    "bootstrap_relative_weights": 30.0,
    "bootstrap_shapley": None,
}


def log(msg: str) -> None:
    print(f"[drivers {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def synthetic(rows: int, k: int, seed: int = 20261123) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cov = np.full((k, k), 0.4) + 0.6 * np.eye(k)
    latent = rng.multivariate_normal(np.zeros(k), cov, size=rows)
    coefs = rng.uniform(0, 1, k) ** 2
    x = np.clip(np.round(3.4 + 1.1 * latent), 1, 5)
    x[rng.random((rows, k)) < 0.01] = 0  # not applicable
    overall = np.clip(
        np.round(6 + latent @ coefs / np.sqrt(coefs @ cov @ coefs) * 1.6 + rng.normal(0, 1.2, rows)), 1, 10
    )
    return x, overall


def timed(fn: Callable[[], Any], repeat: int, warm_up: bool = True) -> dict[str, float]:
    if warm_up:  # imports, the cached subset tables of Shapley R²
        fn()
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    # CPU seconds of this process (all its threads): on a shared machine the wall time also
    # counts the time other processes held the cores.
    return {
        "best_s": round(min(times), 4),
        "median_s": round(statistics.median(times), 4),
        "cpu_s": round(min(cpu), 4),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--attributes", type=int, default=14)
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    a = parser.parse_args(argv)
    log(f"generating {a.rows} × {a.attributes}")
    x, y = synthetic(a.rows, a.attributes)
    names = [f"attribute {j + 1}" for j in range(a.attributes)]

    def run(method: str, n_boot: int) -> Any:
        return drivers.key_drivers(x, y, names=names, method=method, na_values=[0], n_boot=n_boot)

    steps: dict[str, Any] = {}
    plan = [
        ("relative_weights", "relative-weights", 0, a.repeat),
        ("shapley", "shapley", 0, a.repeat),
        ("bootstrap_relative_weights", "relative-weights", a.boot, 1),
        ("bootstrap_shapley", "shapley", a.boot, 1),
    ]
    for name, method, n_boot, repeat in plan:
        log(f"{name} …")
        figures = timed(functools.partial(run, method, n_boot), repeat, warm_up=n_boot == 0)
        target = TARGETS[name]
        steps[name] = {
            **figures,
            "target_s": target,
            "met": None if target is None else figures["best_s"] <= target,
        }
        log(f"{name}: best {figures['best_s']} s (target {target} s)")
    rw, sh = run("relative-weights", 0), run("shapley", 0)
    agreement = float(
        np.corrcoef(
            [d.share for d in sorted(rw.drivers, key=lambda d: d.attribute)],
            [d.share for d in sorted(sh.drivers, key=lambda d: d.attribute)],
        )[0, 1]
    )
    result = {
        "rows": a.rows,
        "attributes": a.attributes,
        "bootstrap": a.boot,
        "cpus": os.cpu_count(),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS"),
        "complete_rows": rw.n,
        "r2": round(rw.r2, 4),
        "share_correlation_rw_vs_shapley": round(agreement, 4),
        "steps": steps,
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
