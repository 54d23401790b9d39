"""Many groups in one pass: every figure equals the single-group computation on its rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from manyi import metrics
from tests.metrics.strategies import SLOW_OK

rows = st.lists(
    st.tuples(st.integers(0, 10), st.sampled_from(["上海一店", "b", "c"]), st.floats(0.1, 5)),
    min_size=1,
    max_size=200,
)


@SLOW_OK
@given(rows)
def test_by_group_gives_each_group_what_the_single_group_function_gives_its_rows(data):
    scores = [s for s, _, _ in data]
    units = [u for _, u, _ in data]
    weights = [w for _, _, w in data]
    grouped = metrics.by_group(metrics.nps, scores, units, weights=weights)
    assert list(grouped) == sorted(set(units))
    for unit, est in grouped.items():
        mine = [i for i, u in enumerate(units) if u == unit]
        single = metrics.nps([scores[i] for i in mine], weights=[weights[i] for i in mine])
        assert est.n == single.n
        assert est.value == pytest.approx(single.value, abs=1e-9)
        assert est.ci_low == pytest.approx(single.ci_low, abs=1e-9)
        assert est.ci_high == pytest.approx(single.ci_high, abs=1e-9)


def test_by_group_with_several_keys_returns_tuples_and_passes_scale_options():
    df = pd.DataFrame(
        {
            "ces": [7, 6, 2, 5, 1, 7],
            "unit": [1, 1, 1, 2, 2, 2],
            "month": ["2026-01", "2026-02", "2026-02", "2026-01", "2026-01", None],
        }
    )
    out = metrics.by_group(metrics.ces_easy, df.ces, df.unit, df.month, scale_max=7, min_n=1)
    assert list(out) == [(1, "2026-01"), (1, "2026-02"), (2, "2026-01"), (2, None)]
    assert out[(1, "2026-02")].value == pytest.approx(50.0)
    assert out[(2, "2026-01")].n == 2


def test_by_group_keeps_missing_keys_as_a_group_of_their_own_named_none():
    keys = pd.Series([1, None, 1, 2], dtype="Int64")
    out = metrics.by_group(metrics.nps, [10, 9, 3, 8], keys, min_n=1)
    assert list(out) == [1, 2, None]
    assert out[None].n == 1
    text = metrics.by_group(metrics.nps, [10, 9, 3, 8], ["b", None, "a", "b"], min_n=1)
    assert list(text) == ["a", "b", None]


def test_by_group_refuses_a_function_it_cannot_vectorise():
    with pytest.raises(TypeError, match="by_group works with"):
        metrics.by_group(metrics.csi, [1], [1])


def test_by_group_of_a_large_sample_matches_pandas_counts():
    rng = np.random.default_rng(11)
    n = 50_000
    df = pd.DataFrame({"score": rng.integers(1, 6, n), "unit": rng.integers(0, 60, n)})
    out = metrics.by_group(metrics.csat, df.score, df.unit)
    expected = df.assign(top=df.score >= 4).groupby("unit")["top"].agg(["mean", "size"])
    assert [e.n for e in out.values()] == expected["size"].tolist()
    assert [e.value for e in out.values()] == pytest.approx((100 * expected["mean"]).tolist())
