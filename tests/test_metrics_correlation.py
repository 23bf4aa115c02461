"""Correlations (spec §2): worked examples K1-K6, a pair-counting oracle, invariances, bootstrap CI (§2.7)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.metrics import bootstrap_ci, correlation, kendall_tau, pearson_r, spearman_rho

NAN = math.nan

# (x, y, tau_b, spearman, pearson) for nan_policy="omit"
WORKED = {
    "K1": ([1, 2, 3, 4, 5], [1, 3, 2, 5, 4], 0.6, 0.8, 0.8),
    "K2": ([1, 2, 2, 3], [1, 3, 2, 4], 5 / math.sqrt(30), 3 / math.sqrt(10), 3 / math.sqrt(10)),
    "K3": ([1, 1, 2, 2, 3], [1, 2, 1, 3, 3], 0.5, 7 / 12, math.sqrt(5 / 14)),
    "K4": ([1, 2, NAN, 4], [1, 3, 2, 4], 1.0, 1.0, 13 / 14),
    "K5": ([1, 2, 3], [5, 5, 5], NAN, NAN, NAN),
    "K6": ([1], [2], NAN, NAN, NAN),
}


def _close(a: float, b: float, tol: float = 1e-9) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


@pytest.mark.parametrize("name", list(WORKED))
def test_worked_examples(name):
    x, y, kt, rho, r = WORKED[name]
    assert _close(kendall_tau(x, y), kt)
    assert _close(spearman_rho(x, y), rho)
    assert _close(pearson_r(x, y), r)


@pytest.mark.parametrize("fn", [kendall_tau, spearman_rho, pearson_r])
def test_k4_propagate_gives_nan_and_raise_raises(fn):
    assert math.isnan(fn([1, 2, NAN, 4], [1, 3, 2, 4], nan_policy="propagate"))
    with pytest.raises(InvalidParameterError, match="nan_policy"):
        fn([1, 2, NAN, 4], [1, 3, 2, 4], nan_policy="raise")


def test_two_points_with_a_tie_is_nan():
    for fn in (kendall_tau, spearman_rho, pearson_r):
        assert math.isnan(fn([1, 2], [3, 3]))


def test_inf_is_rankable_for_rank_statistics_but_not_pearson():
    x, y = [1.0, 2.0, math.inf, -math.inf], [2.0, 3.0, 4.0, 1.0]
    assert kendall_tau(x, y) == pytest.approx(1.0)
    assert spearman_rho(x, y) == pytest.approx(1.0)
    assert math.isnan(pearson_r(x, y))


def _kendall_oracle(x, y) -> float:
    """O(n^2) tau-b by pair counting (spec §2.2)."""
    n = len(x)
    s = sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j]) for i in range(n) for j in range(i + 1, n))
    n0 = n * (n - 1) / 2
    n1 = sum(t * (t - 1) / 2 for t in np.unique(x, return_counts=True)[1])
    n2 = sum(t * (t - 1) / 2 for t in np.unique(y, return_counts=True)[1])
    return s / math.sqrt((n0 - n1) * (n0 - n2))


@given(st.lists(st.tuples(st.integers(-30, 30), st.integers(-30, 30)), min_size=3, max_size=25))
def test_kendall_equals_pair_counting_oracle_with_ties(pairs):
    x, y = np.array(pairs, dtype=float).T
    if len(set(x)) < 2 or len(set(y)) < 2:
        assert math.isnan(kendall_tau(x, y))
    else:
        assert kendall_tau(x, y) == pytest.approx(_kendall_oracle(x, y), abs=1e-12)


@given(st.lists(st.integers(-1000, 1000), min_size=3, max_size=30, unique=True), st.randoms(use_true_random=False))
def test_distinct_values_match_oracle_and_scipy(values, rnd):
    x = np.array(values, dtype=float)
    y = x.copy()
    rnd.shuffle(y)
    assert kendall_tau(x, y) == pytest.approx(_kendall_oracle(x, y), abs=1e-12)
    assert spearman_rho(x, y) == pytest.approx(scipy.stats.spearmanr(x, y).statistic, abs=1e-12)
    assert pearson_r(x, y) == pytest.approx(scipy.stats.pearsonr(x, y).statistic, abs=1e-12)


def test_kendall_is_fast_on_the_full_space():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4000, 15625).astype(float)     # heavy ties, like the benchmark
    y = x + rng.normal(0, 500, x.size)
    import time

    t = time.perf_counter()
    kendall_tau(x, y)
    assert time.perf_counter() - t < 1.0


def test_correlation_by_name_and_alias():
    x, y = WORKED["K3"][:2]
    assert correlation(x, y, statistic="kt") == kendall_tau(x, y)
    assert correlation(x, y, statistic="scc") == spearman_rho(x, y)
    assert correlation(x, y, statistic="pearson_r") == pearson_r(x, y)
    with pytest.raises(InvalidParameterError, match="statistic"):
        correlation(x, y, statistic="tau_c")


@pytest.mark.parametrize("fn", [kendall_tau, spearman_rho, pearson_r])
def test_bad_input_names_the_parameter(fn):
    with pytest.raises(InvalidParameterError, match="lengths 3 and 2"):
        fn([1, 2, 3], [1, 2])
    with pytest.raises(InvalidParameterError, match="y_true"):
        fn([[1, 2]], [[1, 2]])
    with pytest.raises(InvalidParameterError, match="nan_policy"):
        fn([1, 2], [1, 2], nan_policy="drop")


# ---- bootstrap (spec §2.7) --------------------------------------------------------------------------
def test_bootstrap_identical_and_reversed_inputs():
    x = np.arange(10.0)
    low, high, m = bootstrap_ci(x, x)
    assert (abs(low - 1) < 1e-12, abs(high - 1) < 1e-12, m) == (True, True, 1000)
    low, high, m = bootstrap_ci(x, -x, statistic="spearman_rho")
    assert (abs(low + 1) < 1e-12, abs(high + 1) < 1e-12, m) == (True, True, 1000)


def test_bootstrap_drops_degenerate_resamples():
    low, high, m = bootstrap_ci([1, 2], [1, 2])
    assert (low, high) == (1.0, 1.0) and 0 < m < 1000


def test_bootstrap_is_deterministic_by_seed_and_ordered():
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    y = x + rng.normal(size=60)
    a = bootstrap_ci(x, y, seed=7, n_boot=300)
    assert a == bootstrap_ci(x, y, seed=7, n_boot=300)
    assert a != bootstrap_ci(x, y, seed=8, n_boot=300)
    assert a.low <= kendall_tau(x, y) <= a.high and a.low < a.high


def test_bootstrap_too_few_pairs_and_nan_policy():
    assert all(map(_close, bootstrap_ci([1.0], [2.0])[:2], (NAN, NAN))) and bootstrap_ci([1.0], [2.0]).n_kept == 0
    r = bootstrap_ci([1, 2, NAN, 4, 5], [1, 3, 2, 4, 5], nan_policy="propagate", n_boot=50)
    assert math.isnan(r.low) and r.n_kept == 0


@given(st.lists(st.floats(-100, 100), min_size=2, max_size=15), st.integers(0, 10))
def test_bootstrap_low_never_exceeds_high(values, seed):
    y = np.array(values)[::-1]
    low, high, m = bootstrap_ci(values, y, n_boot=30, seed=seed, statistic="pearson_r")
    assert m == 0 or low <= high


def test_bootstrap_bad_parameters():
    with pytest.raises(InvalidParameterError, match="n_boot"):
        bootstrap_ci([1, 2, 3], [1, 2, 3], n_boot=0)
    with pytest.raises(InvalidParameterError, match="alpha"):
        bootstrap_ci([1, 2, 3], [1, 2, 3], alpha=1.5)
    with pytest.raises(InvalidParameterError, match="statistic"):
        bootstrap_ci([1, 2, 3], [1, 2, 3], statistic="nope")
