"""False-discovery-rate control across many comparisons."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._spec import FloatArray, as_float_array


def benjamini_hochberg(p_values: Any) -> FloatArray:
    """Benjamini–Hochberg adjusted p-values (the "q-values" of the step-up procedure).

    Reject every hypothesis whose adjusted p-value is at most ``alpha`` to keep the expected share
    of false discoveries among the rejections at ``alpha`` (Benjamini & Hochberg 1995, *JRSS B*
    57:289–300; valid for independent or positively dependent tests). Missing p-values (NaN,
    ``None``) stay missing and do not count towards the number of tests.

    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = as_float_array(p_values, "p_values")
    out = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    if present.size == 0:
        return out
    vals = p[present]
    if ((vals < 0) | (vals > 1)).any():
        raise ValueError("p-values must be between 0 and 1")
    m = vals.size
    order = np.argsort(vals, kind="stable")
    scaled = vals[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    result = np.empty(m)
    result[order] = adjusted
    out[present] = result
    return out
