"""NPS: the point estimate, the multinomial standard error and the adjusted-Wald interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from manyi import metrics
from tests.metrics.strategies import SLOW_OK, confidences, nps_scores, scores_with_weights


def test_nps_is_percent_promoters_minus_percent_detractors():
    est = metrics.nps([10, 9, 9, 8, 7, 6, 0, 3, 10, 10], min_n=1)
    assert est.value == pytest.approx(100 * (5 / 10 - 3 / 10))
    assert est.n == 10
    assert est.metric == "nps"
    assert est.method == "adjusted-wald"


def test_nps_standard_error_follows_the_multinomial_variance():
    scores = [10] * 50 + [8] * 30 + [2] * 20
    est = metrics.nps(scores)
    p_pro, p_det, n = 0.5, 0.2, 100
    assert est.se == pytest.approx(100 * math.sqrt((p_pro + p_det - (p_pro - p_det) ** 2) / n))


def test_nps_interval_is_the_adjusted_wald_of_rocks_2016():
    scores = [10] * 40 + [7] * 35 + [5] * 25
    est = metrics.nps(scores, confidence=0.9)
    n = 100 + 3
    p_pro, p_det = (40 + 0.75) / n, (25 + 0.75) / n
    centre = p_pro - p_det
    half = 1.6448536269514722 * math.sqrt((p_pro + p_det - centre**2) / n)
    assert est.ci_low == pytest.approx(100 * (centre - half))
    assert est.ci_high == pytest.approx(100 * (centre + half))


def test_nps_of_a_single_promoter_still_contains_the_point_in_its_interval():
    est = metrics.nps([10])
    assert est.value == 100.0
    assert est.ci_high == 100.0
    assert est.ci_low is not None and est.ci_low < 0


def test_nps_of_no_answers_has_n_zero_and_no_value_rather_than_nan():
    est = metrics.nps([])
    assert (est.n, est.value, est.ci_low, est.ci_high, est.se) == (0, None, None, None, None)
    assert est.suppressed


def test_nps_leaves_out_missing_answers_but_counts_only_the_answered():
    est = metrics.nps([10, None, float("nan"), 0], min_n=1)
    assert est.n == 2
    assert est.value == 0.0


@pytest.mark.parametrize("bad", [11, -1, 7.5, "9"])
def test_nps_rejects_a_score_that_is_not_a_whole_number_from_0_to_10(bad):
    with pytest.raises(metrics.ScoreError) as info:
        metrics.nps([9, 10, bad])
    assert info.value.position == 2
    assert "0–10" in str(info.value) or "a number" in str(info.value)


def test_nps_under_the_minimum_n_is_flagged_not_hidden():
    est = metrics.nps([10] * 29)
    assert est.suppressed and est.value == 100.0
    assert not metrics.nps([10] * 30).suppressed
    assert metrics.nps([10] * 5, min_n=5).suppressed is False


def test_nps_accepts_pandas_nullable_integers():
    import pandas as pd

    est = metrics.nps(pd.Series([10, None, 3], dtype="Int64"), min_n=1)
    assert est.n == 2 and est.value == 0.0


@SLOW_OK
@given(nps_scores, confidences)
def test_nps_always_lies_within_plus_minus_100(scores, confidence):
    est = metrics.nps(scores, confidence=confidence)
    assert -100 <= est.value <= 100
    assert -100 <= est.ci_low <= est.ci_high <= 100


@SLOW_OK
@given(nps_scores, confidences)
def test_nps_interval_always_contains_the_point_estimate(scores, confidence):
    est = metrics.nps(scores, confidence=confidence)
    assert est.ci_low <= est.value <= est.ci_high


@SLOW_OK
@given(nps_scores, st.randoms(use_true_random=False))
def test_nps_does_not_depend_on_the_order_of_rows(scores, rnd):
    shuffled = list(scores)
    rnd.shuffle(shuffled)
    a, b = metrics.nps(scores), metrics.nps(shuffled)
    assert a.value == pytest.approx(b.value, abs=1e-9)
    assert a.ci_low == pytest.approx(b.ci_low, abs=1e-9)
    assert a.ci_high == pytest.approx(b.ci_high, abs=1e-9)


@SLOW_OK
@given(nps_scores)
def test_nps_with_weights_of_all_one_equals_the_unweighted_result(scores):
    assert metrics.nps(scores, weights=[1.0] * len(scores)) == metrics.nps(scores)


@SLOW_OK
@given(scores_with_weights())
def test_weighted_nps_interval_contains_the_point_and_uses_the_kish_effective_n(data):
    scores, weights = data
    est = metrics.nps(scores, weights=weights)
    w = np.array(weights)
    assert est.n_eff == pytest.approx(w.sum() ** 2 / (w**2).sum())
    assert est.n_eff <= est.n + 1e-9
    assert est.ci_low <= est.value <= est.ci_high
    x = np.array(scores)
    expected = 100 * (w[x >= 9].sum() - w[x <= 6].sum()) / w.sum()
    assert est.value == pytest.approx(expected, abs=1e-9)


@SLOW_OK
@given(scores_with_weights(), st.floats(min_value=0.01, max_value=100))
def test_nps_does_not_change_when_every_weight_is_scaled_by_the_same_factor(data, factor):
    scores, weights = data
    a = metrics.nps(scores, weights=weights)
    b = metrics.nps(scores, weights=[w * factor for w in weights])
    assert a.value == pytest.approx(b.value, abs=1e-7)
    assert a.ci_low == pytest.approx(b.ci_low, abs=1e-7)
    assert a.ci_high == pytest.approx(b.ci_high, abs=1e-7)
