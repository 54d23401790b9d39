"""Many groups at once: one vectorised pass instead of a Python loop per group."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _metrics
from ._intervals import check_confidence, check_min_n, estimate, to_estimates
from ._results import Estimate
from ._spec import Spec
from ._sums import IntArray, group_sums, prepare


def spec_for(metric: Callable[..., Estimate], **options: Any) -> Spec:
    try:
        build = _metrics.SPECS[metric]
    except KeyError:
        names = ", ".join(sorted(f.__name__ for f in _metrics.SPECS))
        raise TypeError(f"by_group works with {names}; got {metric!r}") from None
    return build(**options)


def factorize(key: Any) -> tuple[IntArray, list[Any]]:
    """Codes ``0..k-1`` and the sorted distinct values of one key column (``None`` for missing)."""
    dtype = getattr(key, "dtype", None)
    pandas_extension = type(dtype).__module__.startswith("pandas")  # nullable ints, Arrow strings, categories
    if (
        hasattr(key, "to_numpy")
        and getattr(key, "ndim", 1) == 1
        and (pandas_extension or getattr(dtype, "kind", None) == "O")
    ):
        import pandas as pd  # their own factorize: Arrow dictionary encoding, NA as missing

        codes, uniques = pd.factorize(key, use_na_sentinel=True)
        return _sorted(np.asarray(codes), uniques.tolist())
    arr = np.asarray(key.to_numpy() if hasattr(key, "to_numpy") else key)
    if arr.ndim != 1:
        raise ValueError(f"a group key must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "iub" and arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo <= 4 * arr.size + 1024:  # dense integers: counting beats sorting
            shifted = (arr.astype(np.int64) - lo).astype(np.intp)
            present = np.bincount(shifted, minlength=hi - lo + 1) > 0
            lookup = np.cumsum(present) - 1
            return lookup[shifted].astype(np.int64), (np.flatnonzero(present) + lo).tolist()
    if arr.dtype.kind in "iufbmM":
        uniq, codes = np.unique(arr, return_inverse=True)
        items = list(uniq) if arr.dtype.kind in "mM" else uniq.tolist()
        return codes.astype(np.int64), [None if _missing(v) else v for v in items]
    import pandas as pd  # object and string keys: hashing copes with None and mixed types

    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    return _sorted(codes, uniques.tolist() if hasattr(uniques, "tolist") else list(uniques))


def _sorted(codes: npt.NDArray[np.intp], values: list[Any]) -> tuple[IntArray, list[Any]]:
    """Factorised codes renumbered so that the values are in sorted order, missing (``None``) last."""
    values = [None if _missing(v) else v for v in values]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(values), codes)
        values.append(None)
    try:
        order = sorted(range(len(values)), key=lambda i: (values[i] is None, values[i]))
    except TypeError:
        return codes.astype(np.int64), values
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values))
    return rank[codes], [values[i] for i in order]


def _missing(v: Any) -> bool:
    if isinstance(v, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(v))
    return v is None or (isinstance(v, float) and v != v) or type(v).__name__ in {"NAType", "NaTType"}


def combine(keys: list[tuple[IntArray, list[Any]]]) -> tuple[IntArray, list[tuple[Any, ...]]]:
    """One code per distinct combination of several factorised keys, in sorted key order."""
    if not keys:
        raise ValueError("at least one group key is needed")
    sizes = [len(values) for _, values in keys]
    flat = np.ravel_multi_index([codes for codes, _ in keys], sizes) if len(keys) > 1 else keys[0][0]
    present = np.bincount(flat, minlength=int(np.prod(sizes))) > 0
    lookup = np.cumsum(present) - 1
    cells = np.flatnonzero(present)
    idx = np.unravel_index(cells, sizes)
    labels = list(
        zip(
            *[[values[i] for i in ix.tolist()] for (_, values), ix in zip(keys, idx, strict=True)],
            strict=True,
        )
    )
    return lookup[flat].astype(np.int64), labels


def by_group(
    metric: Callable[..., Estimate],
    scores: Any,
    *groups: Any,
    weights: Any = None,
    confidence: float = 0.95,
    min_n: int = 30,
    **options: Any,
) -> dict[Hashable, Estimate]:
    """One estimate per group, computed in a single vectorised pass.

    ``metric`` is one of the estimator functions (:func:`nps`, :func:`csat`, :func:`top_box`,
    :func:`mean_score`, :func:`csat_mean`, :func:`ces`, :func:`ces_easy`) and ``options`` its scale
    options (``scale_max=7``, ``top_k=3``, …). ``groups`` are one or more key arrays of the same length
    as ``scores``; with one key the result is keyed by its values, with several by tuples. Keys come
    back sorted, ``None`` standing for a missing key. Each figure equals what ``metric`` gives for
    that group's rows alone.

    >>> by_group(nps, [10, 9, 3, 8], ["a", "a", "b", "b"], min_n=1)["a"].value
    100.0
    """
    confidence = check_confidence(confidence)
    min_n = check_min_n(min_n)
    spec = spec_for(metric, **options)
    x, w, keep = prepare(spec, scores, weights)
    factored = [factorize(g) for g in groups]
    for codes, _ in factored:
        if codes.shape[0] != x.shape[0]:
            raise ValueError(
                f"every group key must have {x.shape[0]} values, one per score; got {codes.shape[0]}"
            )
    codes, labels = combine([(c[keep], v) for c, v in factored])
    s = group_sums(spec.code(x[keep]), w[keep], codes, len(labels))
    estimates = to_estimates(spec, s, estimate(spec, s, confidence), confidence, min_n)
    keys: list[Hashable] = [label[0] if len(groups) == 1 else label for label in labels]
    return dict(zip(keys, estimates, strict=True))
