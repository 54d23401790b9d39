"""Benjamini–Hochberg across many units, checked against statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from manyi import metrics
from tests.metrics.strategies import SLOW_OK

p_values = st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=1, max_size=200)


@SLOW_OK
@given(p_values)
def test_benjamini_hochberg_matches_statsmodels_multipletests(ps):
    expected = multipletests(ps, method="fdr_bh")[1]
    assert metrics.benjamini_hochberg(ps) == pytest.approx(expected, abs=1e-12)


@SLOW_OK
@given(p_values)
def test_adjusted_p_values_are_never_smaller_than_the_raw_ones_nor_above_one(ps):
    adjusted = metrics.benjamini_hochberg(ps)
    assert np.all(adjusted >= np.array(ps) - 1e-15)
    assert np.all(adjusted <= 1)


def test_missing_p_values_stay_missing_and_do_not_count_as_tests():
    adjusted = metrics.benjamini_hochberg([0.01, None, 0.04, float("nan")])
    assert np.isnan(adjusted[1]) and np.isnan(adjusted[3])
    assert adjusted[[0, 2]] == pytest.approx(multipletests([0.01, 0.04], method="fdr_bh")[1])


def test_comparisons_across_many_units_can_be_adjusted_together():
    rng = np.random.default_rng(7)
    comparisons = [metrics.compare_nps(rng.integers(0, 11, 80), rng.integers(0, 11, 80)) for _ in range(20)]
    adjusted = metrics.benjamini_hochberg([c.p_value for c in comparisons])
    assert len(adjusted) == 20
    assert all(a >= c.p_value for a, c in zip(adjusted, comparisons, strict=True))
