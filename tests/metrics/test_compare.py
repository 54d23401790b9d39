"""Comparisons of two periods or two units: NPS, proportions (Newcombe) and means (Welch)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from manyi import metrics
from tests.metrics.strategies import SLOW_OK, confidences, five_point, nps_scores

small_means = st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=150)


@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")  # SciPy, on constant samples
@SLOW_OK
@given(small_means, small_means, confidences)
def test_mean_comparison_matches_welchs_t_test_in_scipy(a, b, confidence):
    assume(np.std(a) > 0 or np.std(b) > 0)
    cmp = metrics.compare_means(a, b, confidence=confidence)
    ref = stats.ttest_ind(a, b, equal_var=False)
    lo, hi = ref.confidence_interval(confidence)
    assert cmp.delta == pytest.approx(np.mean(a) - np.mean(b), abs=1e-9)
    assert cmp.p_value == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)
    assert cmp.ci_low == pytest.approx(lo, rel=1e-6, abs=1e-9)
    assert cmp.ci_high == pytest.approx(hi, rel=1e-6, abs=1e-9)
    assert cmp.method == "welch"


def test_means_without_any_spread_compare_as_equal_or_certainly_different():
    same = metrics.compare_means([4, 4, 4], [4, 4])
    assert (same.delta, same.p_value, same.ci_low, same.ci_high) == (0.0, 1.0, 0.0, 0.0)
    apart = metrics.compare_means([5, 5, 5], [3, 3])
    assert (apart.delta, apart.p_value) == (2.0, 0.0)


def test_a_comparison_with_an_empty_side_has_no_delta_rather_than_nan():
    cmp = metrics.compare_nps([10, 9, 3], [])
    assert (cmp.delta, cmp.ci_low, cmp.p_value) == (None, None, None)
    assert not cmp.significant
    assert cmp.b.n == 0


@SLOW_OK
@given(five_point, five_point, confidences)
def test_top_box_comparison_matches_newcombes_interval_and_the_z_test_of_statsmodels(a, b, confidence):
    cmp = metrics.compare_top_box(a, b, confidence=confidence)
    xa, xb = sum(s >= 4 for s in a), sum(s >= 4 for s in b)
    lo, hi = confint_proportions_2indep(
        xa, len(a), xb, len(b), method="newcomb", compare="diff", alpha=1 - confidence
    )
    assert cmp.delta == pytest.approx(100 * (xa / len(a) - xb / len(b)), abs=1e-9)
    assert cmp.ci_low == pytest.approx(100 * lo, abs=1e-7)
    assert cmp.ci_high == pytest.approx(100 * hi, abs=1e-7)
    pooled = (xa + xb) / (len(a) + len(b))
    if 0 < pooled < 1:
        _, p = proportions_ztest([xa, xb], [len(a), len(b)])
        assert cmp.p_value == pytest.approx(p, rel=1e-6, abs=1e-12)
    else:
        assert cmp.p_value == 1.0


def test_nps_comparison_uses_the_multinomial_variance_of_each_side():
    a = [10] * 60 + [8] * 20 + [3] * 20
    b = [10] * 40 + [8] * 30 + [3] * 30
    cmp = metrics.compare_nps(a, b)
    assert cmp.delta == pytest.approx(40 - 10)
    var_a = (0.6 + 0.2 - 0.4**2) / 100
    var_b = (0.4 + 0.3 - 0.1**2) / 100
    assert cmp.se == pytest.approx(100 * math.sqrt(var_a + var_b))

    def adjusted(pro: int, det: int, n: int) -> tuple[float, float]:
        p, d = (pro + 0.75) / (n + 3), (det + 0.75) / (n + 3)
        return p - d, (p + d - (p - d) ** 2) / (n + 3)

    (ca, va), (cb, vb) = adjusted(60, 20, 100), adjusted(40, 30, 100)
    z = (ca - cb) / math.sqrt(va + vb)
    assert cmp.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert cmp.ci_low == pytest.approx(100 * (ca - cb - 1.959963984540054 * math.sqrt(va + vb)))
    assert cmp.significant


@SLOW_OK
@given(nps_scores, nps_scores, confidences)
def test_nps_comparison_interval_contains_the_observed_difference_and_p_is_a_probability(a, b, confidence):
    cmp = metrics.compare_nps(a, b, confidence=confidence)
    assert -200 <= cmp.ci_low <= cmp.delta <= cmp.ci_high <= 200
    assert 0 <= cmp.p_value <= 1


@SLOW_OK
@given(nps_scores, nps_scores)
def test_nps_comparison_agrees_with_its_interval_about_significance(a, b):
    cmp = metrics.compare_nps(a, b)
    assume(cmp.ci_low < cmp.delta < cmp.ci_high)  # not widened for a tiny sample
    excludes_zero = cmp.ci_low > 0 or cmp.ci_high < 0
    assume(abs(cmp.p_value - 0.05) > 1e-9)
    assert excludes_zero == cmp.significant


@SLOW_OK
@given(nps_scores, nps_scores)
def test_nps_comparison_with_weights_of_all_one_equals_the_unweighted_result(a, b):
    weighted = metrics.compare_nps(a, b, weights_a=[1] * len(a), weights_b=[1] * len(b))
    assert weighted == metrics.compare_nps(a, b)


def test_swapping_the_two_sides_flips_the_sign_of_the_difference():
    a, b = [10, 9, 8, 2] * 10, [9, 3, 3, 7] * 12
    ab, ba = metrics.compare_nps(a, b), metrics.compare_nps(b, a)
    assert ab.delta == pytest.approx(-ba.delta)
    assert ab.ci_low == pytest.approx(-ba.ci_high)
    assert ab.p_value == pytest.approx(ba.p_value)
