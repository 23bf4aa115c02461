"""Recall curve (spec §4): worked example R1, the loop formulation of [PUP] as an oracle, properties, golden R2."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.metrics import level_positions, mean_recall, top_arch_recall_curve

R1_ACC = [94, 93, 93, 90, 85, 80, 70, 60, 10, 10]
R1_PRED = [30, 60, 40, 45, 50, 35, 20, 10, 5, 5]


def test_r1_worked_example():
    c = top_arch_recall_curve(R1_ACC, R1_PRED, n_groups=5)
    assert c.positions.tolist() == [2, 4, 6, 8]
    np.testing.assert_allclose(c.threshold, [7, 15, 30, 90], atol=1e-9)
    np.testing.assert_allclose(c.recall, [0.0, 0.75, 1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(c.baseline, [0.1, 0.4, 0.6, 0.8], atol=1e-12)
    assert c.n_true.tolist() == [1, 4, 6, 8] and c.n_pred.tolist() == [2, 4, 6, 8]
    assert mean_recall(R1_ACC, R1_PRED, n_groups=5) == pytest.approx(0.6875)


def test_positions_and_fractions_select_levels():
    a = top_arch_recall_curve(R1_ACC, R1_PRED, positions=[4, 6])
    np.testing.assert_allclose(a.recall, [0.75, 1.0])
    b = top_arch_recall_curve(R1_ACC, R1_PRED, top_fractions=[0.4, 0.6])
    np.testing.assert_array_equal(a.recall, b.recall)
    assert level_positions(15625).tolist() == [625 * j for j in range(1, 25)]


def _pup_loop(acc, pred, positions):
    """[PUP]-style: sort errors ascending, keep archs strictly below the value at each position."""
    err, perr = 100 - np.asarray(acc, float), -np.where(np.isnan(pred), -np.inf, pred)
    out = []
    for p in positions:
        true_set = {i for i in range(len(err)) if err[i] < np.sort(err)[p]}
        pred_set = {i for i in range(len(perr)) if perr[i] < np.sort(perr)[p]}
        out.append(len(true_set & pred_set) / len(true_set) if true_set else math.nan)
    return out


@given(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), min_size=6, max_size=30))
def test_matches_the_loop_formulation_with_heavy_ties(rows):
    acc, pred = (np.array(v, dtype=float) for v in zip(*rows))
    c = top_arch_recall_curve(acc, pred, n_groups=3)
    np.testing.assert_allclose(c.recall, _pup_loop(acc, pred, c.positions), equal_nan=True)


@given(st.lists(st.integers(0, 20), min_size=5, max_size=40))
def test_perfect_predictor_recall_is_one_everywhere(values):
    acc = np.array(values, dtype=float)
    r = top_arch_recall_curve(acc, acc, n_groups=5).recall
    assert np.all((r == 1.0) | np.isnan(r))


@given(st.lists(st.integers(0, 10**6), min_size=10, max_size=60, unique=True))
def test_reversed_predictor_finds_nothing_below_half(values):
    acc = np.array(values, dtype=float)
    c = top_arch_recall_curve(acc, -acc, n_groups=5)
    n = acc.size
    np.testing.assert_allclose(c.recall, np.maximum(0, 2 * c.positions - n) / c.positions)


def test_nan_prediction_ranked_last():
    c = top_arch_recall_curve([4, 3, 2, 1], [math.nan, 3, 2, 1], positions=[1, 3])
    assert c.recall.tolist() == [0.0, 2 / 3]


def test_bad_input():
    with pytest.raises(InvalidParameterError, match="NaN"):
        top_arch_recall_curve([1, math.nan, 3], [1, 2, 3], positions=[1])
    with pytest.raises(InvalidParameterError, match="n_groups"):
        top_arch_recall_curve([1, 2, 3], [1, 2, 3])
    with pytest.raises(InvalidParameterError, match="positions"):
        top_arch_recall_curve([1, 2, 3], [1, 2, 3], positions=[3])
    with pytest.raises(InvalidParameterError, match="top_fractions"):
        top_arch_recall_curve([1, 2, 3], [1, 2, 3], top_fractions=[1.0])
    with pytest.raises(InvalidParameterError, match="lengths 3 and 2"):
        top_arch_recall_curve([1, 2, 3], [1, 2], positions=[1])


A_SIZES_C10 = [623, 1242, 1872, 2497, 3122, 3735, 4367, 4983, 5617, 6247, 6864, 7497, 8124, 8744,
               9375, 9996, 10623, 11249, 11874, 12498, 13125, 13750, 14374, 15000]
T_C10 = [6.65, 6.92, 7.2133, 7.4467, 7.635, 7.78, 7.91, 8.02, 8.19, 8.52, 8.8, 9.03, 9.62, 10.03, 10.47, 10.92,
         11.195, 11.57, 12.625, 13.3733, 14.455, 19.33, 24.07, 30.4233]


def test_r2_golden_cifar10_levels(c10):
    c = top_arch_recall_curve(c10, c10)
    assert c.n_true.tolist() == A_SIZES_C10
    np.testing.assert_allclose(c.threshold, T_C10, atol=6e-5)
    assert c.baseline[0] == pytest.approx(0.039872, abs=1e-6) and c.baseline[-1] == pytest.approx(0.96)
    assert np.all(c.recall == 1.0)


@pytest.mark.parametrize("dataset, sizes, t1, t24", [
    ("cifar100", [619, 1247, 1873, 2494, 3118, 3748, 4360, 5000, 5615, 6245, 6875, 7497, 8114, 8747, 9374, 9999,
                  10623, 11249, 11874, 12498, 13124, 13750, 14374, 15000], 29.72, 60.6),
    ("ImageNet16-120", [621, 1243, 1874, 2493, 3118, 3748, 4375, 4995, 5611, 6233, 6875, 7500, 8117, 8750, 9364,
                        9996, 10621, 11250, 11873, 12498, 13125, 13738, 14373, 14999], 55.7, 86.1111),
])
def test_golden_other_datasets(gt_bench, dataset, sizes, t1, t24):
    acc = gt_bench.accuracies(dataset)
    c = top_arch_recall_curve(acc, acc)
    assert c.n_true.tolist() == sizes
    assert c.threshold[0] == pytest.approx(t1, abs=6e-5) and c.threshold[-1] == pytest.approx(t24, abs=6e-5)
