"""Improvement curve (spec §3): worked examples I1-I5, a permutation-average oracle, properties, §3.4, §3.5."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.metrics import (
    aggregate_improvement,
    benchmark_codes,
    improvement_curve,
    normalized_improvement,
    top_k_correlation_curve,
    top_k_mean_acc,
)

I1_PRED, I1_ACC = [0.5, 0.9, 0.1, 0.7, 0.3], [70, 94, 88, 91, 60]


@pytest.mark.parametrize("tie_break", ["average", "stable"])
def test_i1_no_ties(tie_break):
    c = improvement_curve(I1_ACC, I1_PRED, k_min=1, tie_break=tie_break)
    assert c.k.tolist() == [5, 4, 3, 2, 1]
    np.testing.assert_allclose(c.mean_acc, [80.6, 78.75, 85.0, 92.5, 94.0], atol=1e-9)
    np.testing.assert_allclose(c.improvement, [0, -37 / 268, 22 / 67, 119 / 134, 1], atol=1e-9)
    assert c.best_acc == 94 and c.n_dropped == 0


def test_i2_ties_average_and_stable():
    a = improvement_curve([10, 20, 40, 50], [1, 2, 2, 3], k_min=1)
    np.testing.assert_allclose(a.mean_acc, [30, 110 / 3, 40, 50], atol=1e-9)
    np.testing.assert_allclose(a.improvement, [0, 1 / 3, 0.5, 1], atol=1e-9)
    s = improvement_curve([10, 20, 40, 50], [1, 2, 2, 3], k_min=1, tie_break="stable")
    np.testing.assert_allclose(s.mean_acc, [30, 110 / 3, 45, 50], atol=1e-9)
    np.testing.assert_allclose(s.improvement, [0, 1 / 3, 0.75, 1], atol=1e-9)


def test_i3_nan_prediction_is_discarded_first():
    c = improvement_curve([99, 80, 70], [math.nan, 0.5, 0.2], k_min=1)
    np.testing.assert_allclose(c.mean_acc, [83, 75, 80], atol=1e-9)
    np.testing.assert_allclose(c.improvement, [0, -0.5, -0.1875], atol=1e-9)


def test_nan_ranks_below_minus_inf():
    c = improvement_curve([1.0, 2.0, 3.0], [math.nan, -math.inf, 0.0], k_min=1)
    np.testing.assert_allclose(c.mean_acc, [2.0, 2.5, 3.0], atol=1e-12)


def test_i4_constant_prediction():
    a = improvement_curve([1, 2, 6], [1, 1, 1], k_min=1)
    np.testing.assert_allclose(a.mean_acc, [3, 3, 3], atol=1e-9)
    np.testing.assert_allclose(a.improvement, [0, 0, 0], atol=1e-9)
    s = improvement_curve([1, 2, 6], [1, 1, 1], k_min=1, tie_break="stable")
    np.testing.assert_allclose(s.mean_acc, [3, 4, 6], atol=1e-9)
    np.testing.assert_allclose(s.improvement, [0, 1 / 3, 1], atol=1e-9)


def test_nan_ground_truth_rows_dropped_and_counted():
    c = improvement_curve([70, math.nan, 94, 88, 91, 60, math.nan], [0.5, 5.0, 0.9, 0.1, 0.7, 0.3, 9.0], k_min=1)
    np.testing.assert_allclose(c.mean_acc, [80.6, 78.75, 85.0, 92.5, 94.0], atol=1e-9)
    assert c.n_dropped == 2


def test_equal_ground_truth_gives_nan_improvement_but_mean():
    c = improvement_curve([5, 5, 5], [1, 2, 3], k_min=1)
    assert np.isnan(c.improvement).all() and c.mean_acc.tolist() == [5, 5, 5]
    assert np.isnan(improvement_curve([7.0], [1.0], k_min=1).improvement).all()


def test_k_min_truncates_and_default_is_10():
    rng = np.random.default_rng(0)
    acc, pred = rng.normal(size=30), rng.normal(size=30)
    full = improvement_curve(acc, pred, k_min=1)
    c = improvement_curve(acc, pred)
    assert c.k.tolist() == list(range(30, 9, -1))
    np.testing.assert_array_equal(c.mean_acc, full.mean_acc[:21])
    assert normalized_improvement(acc, pred) == c.improvement[-1]
    assert top_k_mean_acc(acc, pred) == c.mean_acc[-1]


def test_bad_input():
    with pytest.raises(InvalidParameterError, match="k_min"):
        improvement_curve([1, 2, 3], [1, 2, 3], k_min=4)
    with pytest.raises(InvalidParameterError, match="k_min"):
        improvement_curve([1, 2, 3], [1, 2, 3], k_min=0)
    with pytest.raises(InvalidParameterError, match="no architecture"):
        improvement_curve([], [], k_min=1)
    with pytest.raises(InvalidParameterError, match="tie_break"):
        improvement_curve([1, 2], [1, 2], k_min=1, tie_break="random")
    with pytest.raises(InvalidParameterError, match="lengths 2 and 3"):
        improvement_curve([1, 2], [1, 2, 3], k_min=1)


def _average_oracle(acc, pred):
    """M(k) averaged over every order of tied predictions (exact, tiny n only)."""
    n = len(acc)
    total = np.zeros(n)
    perms = list(itertools.permutations(range(n)))
    count = 0
    for perm in perms:                    # a permutation is a valid discard order iff it sorts pred ascending
        if all(pred[perm[i]] <= pred[perm[i + 1]] for i in range(n - 1)):
            a = np.array(acc)[list(perm)]
            total += [a[n - k:].mean() for k in range(n, 0, -1)]
            count += 1
    return total / count


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50)), min_size=1, max_size=6))
def test_average_tie_mode_equals_permutation_oracle(rows):
    pred, acc = (np.array(v, dtype=float) for v in zip(*rows))
    np.testing.assert_allclose(improvement_curve(acc, pred, k_min=1).mean_acc, _average_oracle(acc, pred), atol=1e-9)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50)), min_size=1, max_size=12))
def test_stable_tie_mode_equals_naive_reference(rows):
    pred, acc = (np.array(v, dtype=float) for v in zip(*rows))
    a = acc[np.argsort(pred, kind="stable")]
    np.testing.assert_allclose(improvement_curve(acc, pred, k_min=1, tie_break="stable").mean_acc,
                               [a[i:].mean() for i in range(len(a))], atol=1e-9)


@given(st.lists(st.floats(0, 100), min_size=2, max_size=40))
def test_perfect_predictor_never_decreases_and_ends_at_best(acc):
    acc = np.array(acc)
    c = improvement_curve(acc, acc, k_min=1)
    assert np.all(np.diff(c.mean_acc) >= -1e-9)
    assert c.mean_acc[-1] == pytest.approx(acc.max())
    if not np.all(acc == acc[0]):
        assert c.improvement[-1] == pytest.approx(1.0)


@given(st.lists(st.integers(0, 1000), min_size=3, max_size=40, unique=True))
def test_reversed_predictor_is_the_opposite(values):
    acc = np.array(values, dtype=float)
    c = improvement_curve(acc, -acc, k_min=1)
    assert np.all(np.diff(c.mean_acc) <= 1e-9) and c.mean_acc[-1] == acc.min()
    assert c.improvement[-1] == pytest.approx((acc.min() - acc.mean()) / (acc.max() - acc.mean()))
    assert c.improvement[-1] < 0


@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 100)), min_size=3, max_size=25),
    st.randoms(use_true_random=False),
)
def test_average_mode_is_invariant_to_monotone_transform_and_joint_permutation(rows, rnd):
    pred, acc = (np.array(v, dtype=float) for v in zip(*rows))
    base = improvement_curve(acc, pred, k_min=1).mean_acc
    np.testing.assert_allclose(improvement_curve(acc, pred ** 3 + 2 * pred, k_min=1).mean_acc, base, atol=1e-9)
    perm = list(range(len(acc)))
    rnd.shuffle(perm)
    np.testing.assert_allclose(improvement_curve(acc[perm], pred[perm], k_min=1).mean_acc, base, atol=1e-9)


@pytest.mark.parametrize("sign, m10, i10", [(1, 93.725333, 0.669639), (-1, 92.311500, -1.140732)])
def test_i5_only_conv_oracle_and_anti_oracle(gt_bench, c10, sign, m10, i10):
    codes = benchmark_codes(gt_bench)
    acc = c10[np.all(np.isin(codes, [2, 3]), axis=1)]
    assert acc.size == 64
    c = improvement_curve(acc, sign * acc)
    assert c.mean_acc[0] == pytest.approx(93.202370, abs=1e-6)
    assert c.mean_acc[-1] == pytest.approx(m10, abs=1e-6)
    assert c.improvement[-1] == pytest.approx(i10, abs=1e-6)


# ---- §3.4 aggregation --------------------------------------------------------------------------------
def test_aggregate_equals_mean_of_normalised_curves_on_the_same_set():
    rng = np.random.default_rng(1)
    acc = rng.normal(90, 3, 40)
    curves = [improvement_curve(acc, acc + rng.normal(0, 2, 40), k_min=5) for _ in range(3)]
    agg = aggregate_improvement(curves)
    stack = np.stack([c.mean_acc for c in curves])
    np.testing.assert_allclose(agg.mean_acc, stack.mean(axis=0))
    np.testing.assert_allclose(agg.std_acc, stack.std(axis=0, ddof=0))
    np.testing.assert_allclose(agg.improvement, np.mean([c.improvement for c in curves], axis=0), atol=1e-12)
    assert agg.k.tolist() == list(range(40, 4, -1))


def test_aggregate_rejects_different_sizes():
    a = improvement_curve([1, 2, 3], [1, 2, 3], k_min=1)
    b = improvement_curve([1, 2, 3, 4], [1, 2, 3, 4], k_min=1)
    with pytest.raises(InvalidParameterError, match="same n"):
        aggregate_improvement([a, b])
    with pytest.raises(InvalidParameterError, match="empty"):
        aggregate_improvement([])


# ---- §3.5 top-k correlation --------------------------------------------------------------------------
def test_top_k_correlation_worked_example():
    c = top_k_correlation_curve(I1_ACC, I1_PRED)
    assert c.k.tolist() == [5, 4, 3, 2, 1]
    np.testing.assert_allclose(c.correlation[:4], [0.6, 2 / 3, 1.0, 1.0], atol=1e-9)
    assert math.isnan(c.correlation[4])


def test_top_k_correlation_other_statistic_and_errors():
    c = top_k_correlation_curve(I1_ACC, I1_PRED, statistic="spearman_rho", k_min=2)
    assert c.correlation[0] == pytest.approx(0.7) and c.k[-1] == 2   # ranks [3,5,1,4,2] vs [2,5,3,4,1]: 1 - 6*6/120
    with pytest.raises(InvalidParameterError, match="statistic"):
        top_k_correlation_curve(I1_ACC, I1_PRED, statistic="tau")
