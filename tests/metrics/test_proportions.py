"""Top-box CSAT and % easy CES: Wilson intervals, checked against statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from manyi import metrics
from tests.metrics.strategies import SLOW_OK, confidences, five_point, scores_with_weights


def test_csat_counts_the_top_two_boxes_of_a_five_point_scale_by_default():
    est = metrics.csat([5, 4, 3, 2, 1, 5, 4, 4], min_n=1)
    assert est.value == pytest.approx(100 * 5 / 8)
    assert (est.metric, est.method) == ("csat", "wilson")


def test_top_box_works_on_any_scale_and_any_number_of_boxes():
    scores = [0, 3, 7, 8, 9, 10, 10, 6]  # the top 3 of 0–10 are 8, 9 and 10
    est = metrics.top_box(scores, scale_min=0, scale_max=10, top_k=3, min_n=1)
    assert est.value == pytest.approx(100 * 4 / 8)


def test_top_box_rejects_a_top_k_larger_than_the_scale():
    with pytest.raises(ValueError, match="top_k"):
        metrics.top_box([1, 2], scale_max=5, top_k=6)


def test_csat_rejects_a_rating_outside_the_scale():
    with pytest.raises(metrics.ScoreError, match="1–5"):
        metrics.csat([5, 4, 0])


def test_ces_easy_counts_the_points_above_the_middle_of_the_scale():
    assert metrics.ces_easy([7, 6, 5, 4, 3, 2, 1, 7], min_n=1).value == pytest.approx(50.0)
    assert metrics.ces_easy([5, 4, 3, 2], scale_max=5, min_n=1).value == pytest.approx(50.0)
    assert metrics.ces_easy([7, 6, 5, 4], easy_from=6, min_n=1).value == pytest.approx(50.0)


@SLOW_OK
@given(five_point, confidences)
def test_csat_interval_matches_the_wilson_interval_of_statsmodels(scores, confidence):
    est = metrics.csat(scores, confidence=confidence)
    count = sum(s >= 4 for s in scores)
    lo, hi = proportion_confint(count, len(scores), alpha=1 - confidence, method="wilson")
    assert est.ci_low == pytest.approx(100 * lo, abs=1e-9)
    assert est.ci_high == pytest.approx(100 * hi, abs=1e-9)


@SLOW_OK
@given(five_point, confidences)
def test_csat_stays_within_0_and_100_and_its_interval_contains_the_point(scores, confidence):
    est = metrics.csat(scores, confidence=confidence)
    assert 0 <= est.ci_low <= est.value <= est.ci_high <= 100


@SLOW_OK
@given(five_point, st.randoms(use_true_random=False))
def test_csat_does_not_depend_on_the_order_of_rows(scores, rnd):
    shuffled = list(scores)
    rnd.shuffle(shuffled)
    a, b = metrics.csat(scores), metrics.csat(shuffled)
    assert (a.value, a.n) == (pytest.approx(b.value), b.n)
    assert a.ci_low == pytest.approx(b.ci_low) and a.ci_high == pytest.approx(b.ci_high)


@SLOW_OK
@given(five_point)
def test_csat_with_weights_of_all_one_equals_the_unweighted_result(scores):
    assert metrics.csat(scores, weights=np.ones(len(scores))) == metrics.csat(scores)
    assert metrics.ces_easy(scores, scale_max=5, weights=np.ones(len(scores))) == metrics.ces_easy(
        scores, scale_max=5
    )


@SLOW_OK
@given(scores_with_weights(1, 5))
def test_weighted_csat_is_the_wilson_interval_of_the_weighted_share_at_the_kish_effective_n(data):
    scores, weights = data
    est = metrics.csat(scores, weights=weights)
    w, x = np.array(weights), np.array(scores)
    share = w[x >= 4].sum() / w.sum()
    n_eff = w.sum() ** 2 / (w**2).sum()
    lo, hi = proportion_confint(share * n_eff, n_eff, alpha=0.05, method="wilson")
    assert est.value == pytest.approx(100 * share)
    assert est.ci_low == pytest.approx(100 * min(lo, share), abs=1e-7)
    assert est.ci_high == pytest.approx(100 * max(hi, share), abs=1e-7)
