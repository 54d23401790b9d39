"""Survey weights: Kish's effective sample size and bad weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from manyi import metrics
from tests.metrics.strategies import SLOW_OK


def test_kish_effective_n_is_n_for_equal_weights_and_smaller_for_unequal_ones():
    assert metrics.kish_effective_n([2.0] * 10) == pytest.approx(10)
    assert metrics.kish_effective_n([1, 1, 1, 5]) == pytest.approx(64 / 28)


@SLOW_OK
@given(st.lists(st.floats(min_value=0.01, max_value=100), min_size=1, max_size=100))
def test_kish_effective_n_lies_between_one_and_n(weights):
    assert 1 - 1e-9 <= metrics.kish_effective_n(weights) <= len(weights) + 1e-9


def test_unequal_weights_widen_the_interval():
    scores = [10, 9, 8, 7, 6, 3] * 20
    plain = metrics.nps(scores)
    weighted = metrics.nps(scores, weights=[1, 1, 1, 1, 1, 1] * 19 + [5, 5, 5, 5, 5, 5])
    assert weighted.value == pytest.approx(plain.value)
    assert weighted.ci_high - weighted.ci_low > plain.ci_high - plain.ci_low


def test_rows_with_weight_zero_do_not_count_towards_n():
    est = metrics.csat([5, 1, 1], weights=[1, 0, 0], min_n=1)
    assert (est.n, est.value) == (1, 100.0)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_a_negative_or_missing_weight_is_an_error(bad):
    with pytest.raises(ValueError, match="weights at position 1"):
        metrics.nps([10, 9], weights=[1, bad])


def test_weights_of_the_wrong_length_are_an_error():
    with pytest.raises(ValueError, match="weights has 1 values but scores has 2"):
        metrics.nps([10, 9], weights=np.ones(1))
