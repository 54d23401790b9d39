"""Key-driver importance: relative weights, Shapley R², logistic relative weights, bootstrap, bad data."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manyi.analytics import drivers
from manyi.analytics.drivers import DriverInputError, key_drivers


def simulate(n: int, coefs: list[float], seed: int = 1, corr: float = 0.3, noise: float = 1.0):
    """Ratings 1–5 from correlated latent traits, and an overall score driven by ``coefs``."""
    rng = np.random.default_rng(seed)
    k = len(coefs)
    cov = np.full((k, k), corr) + np.eye(k) * (1 - corr)
    latent = rng.multivariate_normal(np.zeros(k), cov, size=n)
    y = latent @ np.array(coefs) + rng.normal(0, noise, n)
    x = np.clip(np.round(3 + latent), 1, 5)
    return x, y


def ols_r2(x: np.ndarray, y: np.ndarray) -> float:
    d = np.column_stack([np.ones(len(y)), x])
    beta = np.linalg.lstsq(d, y, rcond=None)[0]
    resid = y - d @ beta
    return 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))


def correlation(seed: int, k: int, n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, k))
    a[:, 1:] += 0.5 * a[:, :1]
    y = a @ rng.normal(size=k) + rng.normal(size=n)
    return np.corrcoef(np.column_stack([a, y]), rowvar=False)


# --- the decompositions ----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 7))
def test_relative_weights_and_shapley_values_each_add_up_to_the_model_r2(seed, k):
    r = correlation(seed, k)
    r2 = drivers._core.r_squared(r)
    assert drivers.relative_weights(r).sum() == pytest.approx(r2, abs=1e-9)
    assert drivers.shapley_r2(r).sum() == pytest.approx(r2, abs=1e-9)
    assert (drivers.relative_weights(r) >= -1e-12).all()


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 6))
def test_with_uncorrelated_attributes_both_methods_give_each_its_squared_correlation(seed, k):
    rng = np.random.default_rng(seed)
    r = np.eye(k + 1)
    rxy = rng.uniform(-0.9, 0.9, k) / math.sqrt(k)
    r[:-1, -1] = r[-1, :-1] = rxy
    assert drivers.relative_weights(r) == pytest.approx(rxy**2, abs=1e-9)
    assert drivers.shapley_r2(r) == pytest.approx(rxy**2, abs=1e-9)


def test_shapley_r2_from_the_correlation_matrix_equals_refitting_every_order_of_entry_on_rows():
    x, y = simulate(300, [1.0, 0.5, 0.2, 0.0], seed=3)
    k = x.shape[1]
    cache: dict[frozenset, float] = {frozenset(): 0.0}

    def r2(s: frozenset) -> float:
        if s not in cache:
            cache[s] = ols_r2(x[:, sorted(s)], y)
        return cache[s]

    brute = np.zeros(k)
    orders = list(itertools.permutations(range(k)))
    for order in orders:
        entered: frozenset = frozenset()
        for j in order:
            brute[j] += r2(entered | {j}) - r2(entered)
            entered = entered | {j}
    brute /= len(orders)
    r = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    assert drivers.shapley_r2(r) == pytest.approx(brute, abs=1e-9)


def test_subset_r2_of_every_subset_matches_a_regression_on_rows():
    x, y = simulate(200, [1.0, -0.5, 0.3], seed=4)
    r = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    table = drivers.subset_r2(r)
    for mask in range(1, 8):
        cols = [j for j in range(3) if mask >> j & 1]
        assert table[mask] == pytest.approx(ols_r2(x[:, cols], y), abs=1e-9)


def test_vif_is_one_over_one_minus_the_r2_of_an_attribute_on_the_others():
    x, _ = simulate(500, [1, 1, 1], seed=5, corr=0.6)
    rxx = np.corrcoef(x, rowvar=False)
    expected = [1 / (1 - ols_r2(np.delete(x, j, axis=1), x[:, j])) for j in range(3)]
    assert drivers.vif(rxx) == pytest.approx(expected, rel=1e-9)


# --- the analysis ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["relative-weights", "shapley"])
def test_the_attribute_that_drives_the_outcome_most_comes_first_and_shares_add_up_to_100(method):
    x, y = simulate(2000, [0.2, 1.2, 0.6, 0.0], seed=7)
    result = key_drivers(x, y, names=["a", "b", "c", "d"], method=method, n_boot=50)
    assert [d.attribute for d in result.drivers][:3] == ["b", "c", "a"]
    assert sum(d.share for d in result.drivers) == pytest.approx(100)
    assert sum(d.importance for d in result.drivers) == pytest.approx(result.r2)
    shares = [d.share for d in result.drivers]
    assert shares == sorted(shares, reverse=True)
    for d in result.drivers:
        assert d.ci_low <= d.share <= d.ci_high
    assert result.r2_ci_low <= result.r2 <= result.r2_ci_high
    assert result.drivers[0].rank == 1
    assert result.drivers[0].rank_ci_low == result.drivers[0].rank_ci_high == 1


def test_the_same_seed_gives_the_same_intervals_and_another_seed_other_ones():
    x, y = simulate(500, [1, 0.5, 0.2], seed=8)
    a = key_drivers(x, y, n_boot=30, seed=1)
    b = key_drivers(x, y, n_boot=30, seed=1)
    c = key_drivers(x, y, n_boot=30, seed=2)
    assert [d.ci_low for d in a.drivers] == [d.ci_low for d in b.drivers]
    assert [d.ci_low for d in a.drivers] != [d.ci_low for d in c.drivers]


def test_not_applicable_ratings_are_left_out_not_counted_as_low():
    x, y = simulate(600, [1.0, 0.6, 0.3], seed=9)
    clean = key_drivers(x, y, names=["a", "b", "c"], n_boot=0)
    x_na = x.copy()
    x_na[:50, 0] = 0  # "not applicable"
    with_na = key_drivers(x_na, y, names=["a", "b", "c"], na_values=[0], n_boot=0)
    a = next(d for d in with_na.drivers if d.attribute == "a")
    assert a.performance == pytest.approx(x[50:, 0].mean())
    assert a.n_rated == 550
    assert with_na.n == 550 and with_na.n_dropped == 50
    assert any("left out 50" in note for note in with_na.notes)
    as_low = key_drivers(x_na, y, names=["a", "b", "c"], n_boot=0)
    assert next(d for d in as_low.drivers if d.attribute == "a").performance < a.performance
    assert clean.n == 600


def test_missing_values_in_a_dataframe_are_missing_and_names_come_from_its_columns():
    pd = pytest.importorskip("pandas")
    x, y = simulate(300, [1.0, 0.4], seed=10)
    df = pd.DataFrame(x, columns=["服务态度", "等候时间"])
    df.iloc[0, 0] = None
    result = key_drivers(df, y, n_boot=0)
    assert {d.attribute for d in result.drivers} == {"服务态度", "等候时间"}
    assert result.n == 299


def test_strong_collinearity_is_reported_with_the_vif_of_each_attribute():
    rng = np.random.default_rng(11)
    a = rng.normal(size=1000)
    x = np.column_stack([a, a + rng.normal(0, 0.1, 1000), rng.normal(size=1000)])
    y = a + x[:, 2] + rng.normal(size=1000)
    result = key_drivers(x, y, names=["a", "a2", "c"], n_boot=0)
    assert next(d for d in result.drivers if d.attribute == "a").vif > 10
    assert any("VIF" in note and "`a2`" in note for note in result.notes)


# --- binary outcomes ------------------------------------------------------------------------------


def binary(n: int, coefs: list[float], seed: int = 12):
    rng = np.random.default_rng(seed)
    k = len(coefs)
    latent = rng.multivariate_normal(np.zeros(k), np.full((k, k), 0.3) + 0.7 * np.eye(k), size=n)
    p = 1 / (1 + np.exp(-(latent @ np.array(coefs) - 0.2)))
    return np.clip(np.round(3 + latent), 1, 5), (rng.random(n) < p).astype(float)


def test_the_logistic_method_gives_standardised_effects_and_weights_that_add_up_to_its_pseudo_r2():
    x, y = binary(3000, [1.5, 0.7, 0.0])
    result = key_drivers(x, y, names=["a", "b", "c"], outcome_type="binary", method="logistic", n_boot=30)
    assert [d.attribute for d in result.drivers] == ["a", "b", "c"]
    assert sum(d.importance for d in result.drivers) == pytest.approx(result.r2, rel=1e-6)
    assert 0 < result.r2 < 1 and 0 < result.mcfadden_r2 < 1
    a, b, c = result.drivers
    assert a.odds_ratio > b.odds_ratio > 1 and a.p_value < 1e-6
    assert c.p_value > 0.001
    assert a.ci_low <= a.share <= a.ci_high
    assert sum(d.share for d in result.drivers) == pytest.approx(100)


def test_a_logistic_fit_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    x, y = binary(800, [1.0, -0.5], seed=13)
    fit = drivers._core.logit_fit(x, y)
    ref = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
    assert fit.coef == pytest.approx(ref.params, rel=1e-6)
    assert np.sqrt(np.diag(fit.cov)) == pytest.approx(ref.bse, rel=1e-5)


def test_an_nps_outcome_with_the_logistic_method_models_promoters():
    x, y = simulate(1500, [1.0, 0.3], seed=14)
    score = np.clip(np.round(7 + 1.5 * (y - y.mean()) / y.std()), 0, 10)
    result = key_drivers(x, score, outcome_type="nps", method="logistic", n_boot=0, names=["a", "b"])
    assert result.outcome_mean == pytest.approx((score >= 9).mean())
    assert result.drivers[0].attribute == "a"


# --- bad data -----------------------------------------------------------------------------------------


def test_a_constant_attribute_is_refused_by_name():
    x, y = simulate(200, [1, 1], seed=15)
    x[:, 1] = 4
    with pytest.raises(DriverInputError, match=r"attribute `wait` has the same value \(4\)") as exc:
        key_drivers(x, y, names=["staff", "wait"])
    assert exc.value.column == "wait"


def test_perfectly_collinear_attributes_are_refused_naming_both():
    x, y = simulate(200, [1, 1, 0.5], seed=16)
    x = np.column_stack([x, 2 * x[:, 0] - x[:, 2]])
    with pytest.raises(DriverInputError, match=r"`total` is perfectly collinear with `a`, `c`"):
        key_drivers(x, y, names=["a", "b", "c", "total"])


def test_too_few_rows_for_the_number_of_attributes_is_refused_with_the_counts():
    x, y = simulate(40, [1] * 14, seed=17)
    with pytest.raises(
        DriverInputError, match=r"too few complete rows: 40 .* 14 attributes need at least 70"
    ):
        key_drivers(x, y)


def test_text_where_a_rating_belongs_is_refused_naming_the_column():
    x = [[1, 2], [3, "good"], [4, 5]]
    with pytest.raises(DriverInputError, match=r"column `clean` must hold numbers, got `good`"):
        key_drivers(x, [1, 2, 3], names=["staff", "clean"])


def test_an_outcome_with_a_single_class_is_refused():
    x, _ = simulate(200, [1, 1], seed=18)
    with pytest.raises(DriverInputError, match=r"outcome `satisfied` has a single class \(positive\)"):
        key_drivers(x, np.ones(200), outcome_type="binary", outcome_name="satisfied")


def test_a_constant_rating_outcome_is_refused():
    x, _ = simulate(200, [1, 1], seed=18)
    with pytest.raises(DriverInputError, match=r"outcome `overall` has the same value \(5\)"):
        key_drivers(x, np.full(200, 5.0), outcome_name="overall")


def test_the_logistic_method_on_a_rating_is_refused():
    x, y = simulate(200, [1, 1], seed=19)
    with pytest.raises(DriverInputError, match="logistic method needs a binary outcome"):
        key_drivers(x, y, method="logistic")


def test_an_outcome_that_the_attributes_separate_perfectly_is_refused_for_the_logistic_method():
    x, _ = simulate(300, [1, 1], seed=20)
    y = (x[:, 0] >= 3).astype(float)
    with pytest.raises(DriverInputError, match=r"separate .* perfectly"):
        key_drivers(x, y, outcome_type="binary", method="logistic", n_boot=0)


# --- outcome coding --------------------------------------------------------------------------------


def test_a_binary_outcome_is_coded_from_the_positive_value():
    y, how = drivers.code_outcome(
        ["satisfied", "neutral or dissatisfied", "", "satisfied"], "binary", positive="satisfied"
    )
    assert np.isnan(y[2]) and y[[0, 1, 3]].tolist() == [1, 0, 1]
    assert "`satisfied` is 1" in how


def test_a_binary_outcome_with_two_words_and_no_positive_value_asks_for_one():
    with pytest.raises(
        DriverInputError, match=r"has the values `no`, `yes please`; say which one .* --positive"
    ):
        drivers.code_outcome(["yes please", "no"], "binary", name="happy")


def test_a_positive_value_that_is_not_in_the_column_is_refused_listing_the_values():
    with pytest.raises(
        DriverInputError, match=r"--positive `Satisfied` is not a value of `s`; it has `no`, `satisfied`"
    ):
        drivers.code_outcome(["satisfied", "no"], "binary", positive="Satisfied", name="s")


def test_nps_labels_become_each_respondents_contribution_to_nps():
    y, _ = drivers.code_outcome(["promoter", "Passive", "detractor", "推荐者"], "nps")
    assert y.tolist() == [100, 0, -100, 100]


def test_an_nps_score_above_10_is_refused():
    with pytest.raises(DriverInputError, match=r"`ltr` must be an NPS score 0–10 .* got `11`"):
        drivers.code_outcome([3, 11], "nps", name="ltr")


# --- purity ------------------------------------------------------------------------------------------


def test_the_driver_package_and_its_command_import_no_django_and_the_cli_loads_no_numpy():
    code = (
        "import sys, manyi.analytics.drivers as d, manyi.analytics.drivers.cli\n"
        "d.key_drivers([[1, 2], [2, 1], [3, 3], [1, 1], [2, 3]] * 10, list(range(50)), n_boot=5)\n"
        "print(sorted(k for k in sys.modules if k == 'django' or k.startswith('django.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    code = "import sys, manyi.cli\nprint(sorted(k for k in ('numpy', 'scipy', 'pandas', 'django') if k in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- nothing but a clear error ----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 80),
    k=st.integers(1, 4),
    seed=st.integers(0, 10_000),
    method=st.sampled_from(["relative-weights", "shapley", "logistic"]),
    outcome_type=st.sampled_from(["rating", "binary", "nps"]),
    levels=st.integers(1, 5),
    missing=st.floats(0, 0.5),
)
def test_any_small_data_set_gives_a_result_or_a_driver_input_error(
    n, k, seed, method, outcome_type, levels, missing
):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels + 1, (n, k)).astype(float)  # few levels: constants and ties are likely
    x[rng.random((n, k)) < missing] = np.nan
    if k > 1 and seed % 3 == 0:
        x[:, -1] = x[:, 0]  # a duplicated attribute
    y = {
        "rating": rng.integers(1, 6, n).astype(float),
        "binary": (rng.random(n) < 0.5).astype(float),
        "nps": rng.integers(0, 11, n).astype(float),
    }[outcome_type]
    try:
        result = key_drivers(
            x, y, outcome_type=outcome_type, method=method, na_values=[0], n_boot=20, seed=seed
        )
    except DriverInputError as exc:
        assert str(exc)
        return
    assert sum(d.share for d in result.drivers) == pytest.approx(100)
    assert all(math.isfinite(d.importance) for d in result.drivers)


@pytest.mark.parametrize("method", ["relative-weights", "shapley"])
def test_the_blocked_bootstrap_gives_the_same_resamples_as_one_cross_product_per_resample(
    method, monkeypatch
):
    x, y = simulate(400, [1.0, 0.5, 0.2], seed=21)
    blocked = drivers._core.bootstrap(x, y, method, 30, seed=4)
    monkeypatch.setattr(drivers._core, "_PRODUCTS_MAX_BYTES", 0)
    one_by_one = drivers._core.bootstrap(x, y, method, 30, seed=4)
    assert blocked[0] == pytest.approx(one_by_one[0], abs=1e-12)
    assert blocked[1] == pytest.approx(one_by_one[1], abs=1e-12)
