"""Means (CSAT mean, CES, any score) with t intervals, checked against SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

from manyi import metrics
from tests.metrics.strategies import SLOW_OK, confidences, scores_with_weights

scores_2_plus = st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=2, max_size=200)


@SLOW_OK
@given(scores_2_plus, confidences)
def test_mean_interval_matches_the_student_t_interval_of_scipy(scores, confidence):
    assume(np.std(scores) > 1e-6)
    est = metrics.mean_score(scores, confidence=confidence)
    x = np.array(scores)
    lo, hi = stats.t.interval(confidence, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert est.value == pytest.approx(x.mean(), abs=1e-9)
    assert est.se == pytest.approx(stats.sem(x), rel=1e-6)
    assert est.ci_low == pytest.approx(lo, rel=1e-6, abs=1e-9)
    assert est.ci_high == pytest.approx(hi, rel=1e-6, abs=1e-9)


@SLOW_OK
@given(scores_2_plus)
def test_mean_interval_always_contains_the_mean(scores):
    est = metrics.mean_score(scores)
    assert est.ci_low <= est.value <= est.ci_high


def test_csat_mean_and_ces_are_means_on_their_scales_with_intervals_clipped_to_the_scale():
    est = metrics.csat_mean([5, 5, 4], min_n=1)
    assert est.value == pytest.approx(14 / 3)
    assert est.ci_high == 5
    ces = metrics.ces([7, 6, 5, 1], min_n=1)
    assert (ces.metric, ces.value, ces.ci_low) == ("ces", 4.75, 1)
    with pytest.raises(metrics.ScoreError, match="1–7"):
        metrics.ces([8])


def test_a_mean_of_one_response_has_a_value_but_no_interval():
    est = metrics.mean_score([4.0])
    assert (est.value, est.ci_low, est.ci_high, est.se, est.n) == (4.0, None, None, None, 1)


@SLOW_OK
@given(scores_with_weights(1, 5))
def test_weighted_mean_uses_the_kish_effective_n_for_its_t_interval(data):
    scores, weights = data
    assume(len(set(scores)) > 1)
    est = metrics.mean_score(scores, weights=weights)
    x, w = np.array(scores, dtype=float), np.array(weights)
    m = np.average(x, weights=w)
    n_eff = w.sum() ** 2 / (w**2).sum()
    var = np.average((x - m) ** 2, weights=w) * n_eff / (n_eff - 1)
    half = stats.t.ppf(0.975, n_eff - 1) * np.sqrt(var / n_eff)
    assert est.value == pytest.approx(m)
    assert est.ci_low == pytest.approx(m - half, rel=1e-6)
    assert est.ci_high == pytest.approx(m + half, rel=1e-6)


@SLOW_OK
@given(scores_2_plus, st.randoms(use_true_random=False))
def test_mean_does_not_depend_on_the_order_of_rows(scores, rnd):
    shuffled = list(scores)
    rnd.shuffle(shuffled)
    a, b = metrics.mean_score(scores), metrics.mean_score(shuffled)
    assert a.value == pytest.approx(b.value, abs=1e-9)
    assert a.ci_low == pytest.approx(b.ci_low, abs=1e-6)
    assert a.ci_high == pytest.approx(b.ci_high, abs=1e-6)


@SLOW_OK
@given(scores_2_plus)
def test_mean_with_weights_of_all_one_equals_the_unweighted_result(scores):
    assert metrics.mean_score(scores, weights=[1] * len(scores)) == metrics.mean_score(scores)
