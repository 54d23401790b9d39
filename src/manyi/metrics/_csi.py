"""Customer Satisfaction Index: a weighted 0–100 index over the dimensions of a rating matrix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._errors import ScoreError
from ._intervals import check_confidence, check_min_n
from ._results import Estimate
from ._spec import FloatArray, Spec, as_float_array
from ._sums import _check_weights, _py

#: Bootstrap replicates are drawn in blocks of at most this many resampled cells (memory bound).
_BLOCK_CELLS = 2_000_000


def csi(
    ratings: Any,
    dimension_weights: Any,
    *,
    scale_min: float = 1,
    scale_max: float = 5,
    weights: Any = None,
    confidence: float = 0.95,
    min_n: int = 30,
    n_boot: int = 2000,
    seed: int = 0,
) -> Estimate:
    """CSI in 0..100: the weighted mean over dimensions of each dimension's mean rating, rescaled so
    that ``scale_min`` is 0 and ``scale_max`` is 100.

    ``ratings`` is a respondents × dimensions matrix (2-D array, list of rows, or DataFrame), NaN where
    a respondent skipped a dimension. ``dimension_weights`` gives one non-negative weight per
    dimension: a sequence in column order, or a mapping from column name to weight (then ``ratings``
    is anything indexable by those names, such as a DataFrame or a dict of columns, and only those
    columns are used). Weights are normalised to sum to 1; a dimension nobody answered is left out
    and the others re-normalised. They can be set by hand or come from a driver analysis.

    Each dimension's mean uses the respondents who answered it, weighted by the optional survey
    ``weights``. ``n`` counts respondents with at least one rating.

    The interval is a percentile bootstrap over respondents (``n_boot`` resamples, Efron & Tibshirani
    1993, ch. 13), carrying each respondent's survey weight with them; ``se`` is the bootstrap standard
    deviation. It is reproducible: the same ``seed`` and data give the same interval, whatever the
    order of the rows (rows are put in a canonical order before resampling). As with NPS, an interval
    that misses the point estimate (possible with very few respondents) is widened to include it.
    """
    confidence = check_confidence(confidence)
    min_n = check_min_n(min_n)
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if scale_max <= scale_min:
        raise ValueError(f"scale_max ({scale_max}) must be above scale_min ({scale_min})")
    x, names, omega = _matrix(ratings, dimension_weights)
    spec = Spec("csi", "mean", scale_min, scale_max)
    for j in range(x.shape[1]):
        col = x[:, j]
        present = ~np.isnan(col)
        bad = np.zeros_like(present)
        bad[present] = spec.invalid(col[present])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ScoreError(i, _py(col[i]), f"{spec.expected} (dimension {names[j]})")
    if weights is None:
        w = np.ones(x.shape[0])
    else:
        w = as_float_array(weights, "weights")
        if w.shape[0] != x.shape[0]:
            raise ValueError(f"weights has {w.shape[0]} values but ratings has {x.shape[0]} rows")
    answered = ~np.isnan(x)
    keep = answered.any(axis=1)
    _check_weights(w[keep])
    keep &= w > 0
    x, w, answered = x[keep], w[keep], answered[keep]
    n = int(x.shape[0])
    if n == 0:
        return Estimate("csi", None, None, None, None, 0, 0.0, confidence, "bootstrap-percentile", min_n > 0)
    n_eff = float(w.sum() ** 2 / np.dot(w, w))

    order = np.lexsort(np.column_stack([np.where(answered, x, -np.inf), w[:, None]]).T[::-1])
    x, w, answered = x[order], w[order], answered[order]
    a = answered.astype(np.float64)
    x01 = np.where(answered, (x - scale_min) / (scale_max - scale_min), 0.0)

    value = float(_index(w[None, :] @ x01, w[None, :] @ a, omega)[0])
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_CELLS // n)
    reps: list[FloatArray] = []
    uniform = np.full(n, 1.0 / n)
    for start in range(0, n_boot, block):
        k = min(block, n_boot - start)
        cw = rng.multinomial(n, uniform, size=k) * w[None, :]
        reps.append(_index(cw @ x01, cw @ a, omega))
    boot = np.concatenate(reps)
    boot = boot[~np.isnan(boot)]
    alpha = 1 - confidence
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    se = float(boot.std(ddof=1)) if boot.size > 1 else 0.0
    return Estimate(
        metric="csi",
        value=value,
        ci_low=float(min(lo, value)),
        ci_high=float(max(hi, value)),
        se=se,
        n=n,
        n_eff=n_eff,
        confidence=confidence,
        method="bootstrap-percentile",
        suppressed=n < min_n,
    )


def _index(num: FloatArray, den: FloatArray, omega: FloatArray) -> FloatArray:
    """Index in 0..100 per row of (weighted sums, weighted counts) over dimensions."""
    present = den > 0
    mean = np.where(present, num / np.where(present, den, 1.0), 0.0)
    wsum = (present * omega).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(100 * (mean * omega).sum(axis=1) / wsum, dtype=np.float64)


def _matrix(ratings: Any, dimension_weights: Any) -> tuple[FloatArray, list[str], FloatArray]:
    if isinstance(dimension_weights, Mapping):
        names = [str(k) for k in dimension_weights]
        omega = as_float_array(list(dimension_weights.values()), "dimension_weights")
        cols = [as_float_array(ratings[k], f"ratings[{k!r}]") for k in dimension_weights]
        if len({c.shape[0] for c in cols}) > 1:
            raise ValueError("every dimension of ratings must have the same number of rows")
        x = np.column_stack(cols) if cols else np.empty((0, 0))
    else:
        omega = as_float_array(dimension_weights, "dimension_weights")
        to_numpy = getattr(ratings, "to_numpy", None)
        raw = to_numpy(dtype=np.float64, na_value=np.nan) if to_numpy is not None else ratings
        x = np.array(raw, dtype=np.float64, ndmin=2)
        if x.ndim != 2:
            raise ValueError(f"ratings must be a 2-D matrix, got shape {x.shape}")
        names = [str(c) for c in getattr(ratings, "columns", range(x.shape[1]))]
    if omega.size == 0:
        raise ValueError("dimension_weights must name at least one dimension")
    if x.shape[1] != omega.size:
        raise ValueError(
            f"ratings has {x.shape[1]} dimensions but dimension_weights has {omega.size} weights"
        )
    if (~np.isfinite(omega) | (omega < 0)).any() or omega.sum() <= 0:
        raise ValueError("dimension_weights must be non-negative numbers with a positive sum")
    return x, names, omega / omega.sum()
