"""CSI: a weighted 0–100 index over rating-matrix dimensions with a seeded bootstrap interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from manyi import metrics
from tests.metrics.strategies import SLOW_OK

DIMENSIONS = {"tangibles": 1.0, "reliability": 2.0, "responsiveness": 1.0, "assurance": 1.0, "empathy": 1.0}

matrices = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.lists(
        st.lists(st.one_of(st.integers(min_value=1, max_value=5), st.none()), min_size=3, max_size=3),
        min_size=n,
        max_size=n,
    )
)


def sample(n: int = 200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({d: rng.integers(1, 6, n) for d in DIMENSIONS})


def test_csi_is_the_weighted_mean_of_the_rescaled_dimension_means():
    ratings = [[5, 3, 1], [5, 5, 1], [5, 4, None]]
    est = metrics.csi(ratings, [2, 1, 1], min_n=1)
    means = [100.0, (4 - 1) / 4 * 100, 0.0]  # 5 → 100, mean 4 → 75, 1 → 0
    assert est.value == pytest.approx((2 * means[0] + means[1] + means[2]) / 4)
    assert est.n == 3
    assert est.method == "bootstrap-percentile"


def test_csi_takes_dimension_weights_by_column_name_from_a_dataframe():
    df = sample()
    by_name = metrics.csi(df, DIMENSIONS, seed=1)
    by_position = metrics.csi(df[list(DIMENSIONS)], list(DIMENSIONS.values()), seed=1)
    assert by_name == by_position


def test_csi_bootstrap_is_reproducible_with_a_seed_and_varies_without_one():
    df = sample()
    a = metrics.csi(df, DIMENSIONS, seed=42)
    b = metrics.csi(df, DIMENSIONS, seed=42)
    c = metrics.csi(df, DIMENSIONS, seed=43)
    assert a == b
    assert a.value == c.value
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


def test_csi_interval_has_about_the_width_the_standard_error_implies():
    est = metrics.csi(sample(2000), DIMENSIONS, n_boot=1000)
    assert est.ci_high - est.ci_low == pytest.approx(2 * 1.96 * est.se, rel=0.15)


def test_csi_rejects_a_rating_outside_the_scale_naming_the_dimension():
    with pytest.raises(metrics.ScoreError, match="empathy"):
        metrics.csi({"empathy": [1, 6]}, {"empathy": 1})


def test_csi_of_no_ratings_has_n_zero_and_no_value():
    est = metrics.csi([[None, None]], [1, 1])
    assert (est.n, est.value, est.ci_low) == (0, None, None)


@SLOW_OK
@given(matrices)
def test_csi_stays_within_0_and_100_and_its_interval_contains_the_point(rows):
    est = metrics.csi(rows, [1, 2, 1], n_boot=200)
    if est.value is None:
        assert est.n == 0
        return
    assert 0 <= est.ci_low <= est.value <= est.ci_high <= 100


@SLOW_OK
@given(matrices, st.randoms(use_true_random=False))
def test_csi_does_not_depend_on_the_order_of_rows_even_in_its_bootstrap(rows, rnd):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    a = metrics.csi(rows, [1, 2, 1], n_boot=200, seed=5)
    b = metrics.csi(shuffled, [1, 2, 1], n_boot=200, seed=5)
    if a.value is None:
        assert b.value is None
        return
    assert a.value == pytest.approx(b.value, abs=1e-9)
    assert a.ci_low == pytest.approx(b.ci_low, abs=1e-9)
    assert a.ci_high == pytest.approx(b.ci_high, abs=1e-9)


@SLOW_OK
@given(matrices)
def test_csi_with_survey_weights_of_all_one_equals_the_unweighted_result(rows):
    a = metrics.csi(rows, [1, 2, 1], n_boot=200)
    assert metrics.csi(rows, [1, 2, 1], weights=[1.0] * len(rows), n_boot=200) == a


def test_csi_survey_weights_move_the_index_towards_the_heavier_respondents():
    ratings = [[5, 5], [1, 1]]
    assert metrics.csi(ratings, [1, 1], weights=[3, 1], min_n=1).value == pytest.approx(75.0)
