"""Turning an outcome column (a rating, an NPS answer or a satisfied flag) into numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._core import FloatArray, numeric_column
from ._errors import DriverInputError

#: NPS answers given as a category, and each respondent's contribution to NPS (in points).
NPS_LABELS = {
    "promoter": 100.0,
    "passive": 0.0,
    "detractor": -100.0,
    "推荐者": 100.0,
    "中立者": 0.0,
    "被动者": 0.0,
    "贬损者": -100.0,
}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "满意"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "不满意"}


def _cells(values: Any) -> list[Any]:
    to_numpy = getattr(values, "to_numpy", None)
    raw = to_numpy() if to_numpy is not None else np.asarray(values, dtype=object)
    return list(raw.tolist())


def _blank(v: Any) -> bool:
    return (
        v is None
        or (isinstance(v, float) and v != v)
        or (isinstance(v, str) and not v.strip())
        or type(v).__name__ in {"NAType", "NaTType"}
    )


def _key(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def code_outcome(
    values: Any, outcome_type: str, *, positive: Any = None, name: str = "outcome"
) -> tuple[FloatArray, str]:
    """The outcome as numbers for :func:`key_drivers`, and a note on how it was coded.

    - ``rating``: the numbers as they are.
    - ``nps``: scores 0–10, or the labels promoter/passive/detractor (推荐者/中立者/贬损者), which become
      each respondent's contribution to NPS (100, 0, −100).
    - ``binary``: 1 for ``positive`` and 0 for any other value. Without ``positive``, 0/1,
      true/false and yes/no are understood; other values need ``positive``.

    Blank cells are missing. Values that do not fit raise :class:`DriverInputError` naming the column.
    """
    cells = _cells(values)
    if outcome_type == "rating":
        if positive is not None:
            raise DriverInputError("--positive applies only to a binary or NPS outcome")
        return numeric_column(np.asarray(cells, dtype=object), name), f"`{name}` as rated"
    if outcome_type == "nps":
        if positive is not None:
            raise DriverInputError("--positive applies only to a binary outcome (NPS promoters are 9–10)")
        words = {_key(v).lower() for v in cells if not _blank(v)}
        if words and words <= set(NPS_LABELS):
            y = np.array([np.nan if _blank(v) else NPS_LABELS[_key(v).lower()] for v in cells])
            return (
                y,
                f"`{name}` as each respondent's contribution to NPS (promoter 100, passive 0, detractor −100)",
            )
        y = numeric_column(np.asarray(cells, dtype=object), name)
        present = y[~np.isnan(y)]
        bad = present[(present < 0) | (present > 10) | (present != np.round(present))]
        if bad.size:
            raise DriverInputError(
                f"outcome `{name}` must be an NPS score 0–10 or promoter/passive/detractor, got `{bad[0]:g}`",
                column=name,
            )
        return y, f"`{name}` as the 0–10 score"
    if outcome_type != "binary":
        raise DriverInputError(f"outcome type must be rating, nps or binary, got `{outcome_type}`")
    present_keys = [_key(v) for v in cells if not _blank(v)]
    distinct = sorted(set(present_keys))
    if positive is not None:
        pos = _key(positive)
        if pos not in distinct:
            listing = ", ".join(f"`{d}`" for d in distinct[:10]) or "none"
            raise DriverInputError(
                f"--positive `{pos}` is not a value of `{name}`; it has {listing}", column=name
            )
        y = np.array([np.nan if _blank(v) else float(_key(v) == pos) for v in cells])
        others = [d for d in distinct if d != pos]
        shown = ", ".join(f"`{d}`" for d in others[:5])
        return y, f"`{name}` = `{pos}` is 1, {shown or 'nothing else'} is 0"
    lowered = {d.lower() for d in distinct}
    if lowered <= TRUE_WORDS | FALSE_WORDS:
        y = np.array([np.nan if _blank(v) else float(_key(v).lower() in TRUE_WORDS) for v in cells])
        return y, f"`{name}` with 1/true/yes as 1"
    listing = ", ".join(f"`{d}`" for d in distinct[:10])
    more = f" and {len(distinct) - 10} more" if len(distinct) > 10 else ""
    raise DriverInputError(
        f"outcome `{name}` has the values {listing}{more}; say which one is the positive class with --positive",
        column=name,
    )
