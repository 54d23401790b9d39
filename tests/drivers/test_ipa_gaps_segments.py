"""Importance–performance quadrants, SERVQUAL gaps, driver-weighted CSI and segment differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from manyi import metrics
from manyi.analytics import drivers
from manyi.analytics.drivers import DriverInputError

# --- importance–performance ----------------------------------------------------------------------


def test_each_attribute_lands_in_its_quadrant_around_the_mean_cuts():
    chart = drivers.ipa([40, 30, 20, 10], [3.0, 4.5, 3.2, 4.4], ["wait", "staff", "parking", "decor"])
    assert chart.importance_cut == 25 and chart.performance_cut == pytest.approx(3.775)
    assert {p.attribute: p.quadrant for p in chart.points} == {
        "wait": "concentrate_here",
        "staff": "keep_up",
        "parking": "low_priority",
        "decor": "possible_overkill",
    }
    assert "mean importance" in chart.rule and "mean of the attribute means" in chart.rule


def test_an_attribute_exactly_on_a_cut_counts_as_high_and_given_cuts_are_stated():
    chart = drivers.ipa([50, 50], [4.0, 3.0], ["a", "b"], importance_cut=50, performance_cut=4)
    assert chart.quadrant_of("a") == "keep_up" and chart.quadrant_of("b") == "concentrate_here"
    assert "(given)" in chart.rule
    data = chart.to_dict()
    assert data["importance_cut"] == 50 and len(data["points"]) == 2


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(1, 5)), min_size=1, max_size=12))
def test_every_attribute_gets_exactly_one_of_the_four_quadrants(points):
    imp, perf = zip(*points, strict=True)
    chart = drivers.ipa(imp, perf, [f"a{i}" for i in range(len(points))])
    assert all(p.quadrant in drivers.QUADRANTS for p in chart.points)
    assert any(p.quadrant in ("keep_up", "concentrate_here") for p in chart.points)


# --- SERVQUAL ---------------------------------------------------------------------------------------


def servqual_data(n: int = 300, seed: int = 2):
    rng = np.random.default_rng(seed)
    names = ["modern equipment", "on time", "prompt help", "staff courteous", "individual care"]
    expectation = np.clip(np.round(rng.normal(5.5, 0.8, (n, 5))), 1, 7)
    shift = np.array([0.0, -1.0, -0.4, 0.0, 0.3])
    perception = np.clip(np.round(expectation + shift + rng.normal(0, 1.0, (n, 5))), 1, 7)
    dims = dict(
        zip(names, ["tangibles", "reliability", "responsiveness", "assurance", "empathy"], strict=True)
    )
    return perception, expectation, names, dims


def test_each_attribute_gap_is_the_mean_paired_difference_with_a_t_interval_and_test():
    p, e, names, dims = servqual_data()
    result = drivers.servqual_gaps(p, e, names=names, dimensions=dims)
    on_time = next(g for g in result.attributes if g.name == "on time")
    d = p[:, 1] - e[:, 1]
    assert on_time.gap == pytest.approx(d.mean())
    assert on_time.perception - on_time.expectation == pytest.approx(on_time.gap)
    lo, hi = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert (on_time.ci_low, on_time.ci_high) == pytest.approx((lo, hi))
    assert on_time.significant and on_time.gap < 0
    raw_p = [stats.ttest_rel(p[:, j], e[:, j]).pvalue for j in range(5)]
    assert [g.p_value for g in result.attributes] == pytest.approx(metrics.benjamini_hochberg(raw_p).tolist())


def test_dimension_gaps_average_each_respondents_gaps_and_come_in_servqual_order():
    p, e, names, _ = servqual_data()
    dims = {names[0]: "tangibles", names[1]: "reliability", names[2]: "reliability"}
    result = drivers.servqual_gaps(p, e, names=names, dimensions=dims)
    assert [g.name for g in result.dimensions] == ["tangibles", "reliability"]
    reliability = result.dimensions[1]
    assert reliability.gap == pytest.approx(((p[:, 1] - e[:, 1]) + (p[:, 2] - e[:, 2])).mean() / 2)
    assert reliability.n == 300 and reliability.significant


def test_a_gap_uses_only_respondents_who_rated_both_and_na_values_are_missing():
    p = np.array([[5, 0], [4, 3], [6, 5], [3, 3]], dtype=float)
    e = np.array([[4, 4], [4, 4], [0, 4], [2, 4]], dtype=float)
    result = drivers.servqual_gaps(p, e, names=["a", "b"], na_values=[0])
    a, b = result.attributes
    assert a.n == 3 and a.gap == pytest.approx((1 + 0 + 1) / 3)
    assert b.n == 3 and b.gap == pytest.approx((-1 + 1 - 1) / 3)


def test_mismatched_perception_and_expectation_matrices_are_refused():
    with pytest.raises(DriverInputError, match="perception has 2 × 2 ratings but expectation has 2 × 3"):
        drivers.servqual_gaps([[1, 2], [3, 4]], [[1, 2, 3], [3, 4, 5]])


# --- CSI weights ----------------------------------------------------------------------------------


def test_the_csi_weights_are_the_driver_shares_and_the_index_matches_metrics_csi():
    rng = np.random.default_rng(3)
    x = np.clip(np.round(rng.normal(3.5, 1, (800, 3))), 1, 5)
    y = x @ [1.0, 0.5, 0.1] + rng.normal(0, 1, 800)
    result = drivers.key_drivers(x, y, names=["a", "b", "c"], n_boot=50)
    index = drivers.driver_csi(x, result, scale_min=1, scale_max=5, n_boot=200)
    assert sum(index.weights.values()) == pytest.approx(1)
    assert index.weights["a"] == pytest.approx(result.shares()["a"] / 100)
    expected = metrics.csi(x, [index.weights[n] for n in "abc"], scale_min=1, scale_max=5, n_boot=200)
    assert (index.value, index.ci_low, index.ci_high) == pytest.approx(
        (expected.value, expected.ci_low, expected.ci_high)
    )
    assert index.weights_ci_low - 0.5 <= index.value <= index.weights_ci_high + 0.5


# --- segments --------------------------------------------------------------------------------------


def two_segments(n: int = 1500, seed: int = 4, differ: bool = True):
    rng = np.random.default_rng(seed)
    x = np.clip(np.round(rng.normal(3.5, 1, (2 * n, 3))), 1, 5)
    seg = np.array(["business"] * n + ["leisure"] * n, dtype=object)
    coefs_b = np.array([1.0, 0.1, 0.3])
    coefs_l = np.array([0.1, 1.0, 0.3]) if differ else coefs_b
    y = np.where(seg == "business", x @ coefs_b, x @ coefs_l) + rng.normal(0, 1, 2 * n)
    return x, y, seg


def test_a_driver_that_matters_in_one_segment_only_is_called_out_as_a_significant_difference():
    x, y, seg = two_segments()
    result = drivers.segment_drivers(
        x, y, seg, names=["wifi", "seat", "food"], segment_name="travel", n_boot=100
    )
    assert list(result.groups) == ["business", "leisure"]
    assert result.groups["business"].drivers[0].attribute == "wifi"
    assert result.groups["leisure"].drivers[0].attribute == "seat"
    sig = {(d.measure, d.attribute) for d in result.differences if d.significant}
    assert ("share", "wifi") in sig and ("share", "seat") in sig
    assert result.differences[0].significant


def test_segments_with_the_same_drivers_show_no_significant_share_difference():
    x, y, seg = two_segments(differ=False)
    result = drivers.segment_drivers(x, y, seg, names=["wifi", "seat", "food"], n_boot=100)
    assert not any(d.significant for d in result.differences if d.measure == "share")


def test_a_segment_too_small_to_analyse_is_skipped_with_its_reason():
    x, y, seg = two_segments(n=200)
    seg = seg.copy()
    seg[:10] = "first class"
    result = drivers.segment_drivers(x, y, seg, names=["a", "b", "c"], n_boot=20)
    assert "first class" in result.skipped and "10 rows, fewer than 30" in result.skipped["first class"]
    assert result.to_dict()["first class"] == {"skipped": result.skipped["first class"]}
