"""Stage-2 reliance (§7), combination score (§8), self-consistency (§9), regret and mean ± std (§10, §0.5)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.metrics import (
    combination_scores,
    competition_rank,
    format_mean_std,
    kendall_tau,
    mean_std,
    paired_difference,
    regret,
    reliance_stats,
    select_argmax,
    selected_accuracy,
    selection_regret,
    self_consistency,
)


def test_g1_distribution_reliance():
    s = reliance_stats([94.29, 94.01, 94.01], [87.50, 90.81, 88.01])
    d, _ = paired_difference([94.29, 94.01, 94.01], [87.50, 90.81, 88.01])
    np.testing.assert_allclose(d, [6.79, 3.20, 6.00], atol=1e-9)
    assert s["dist"].mean == pytest.approx(16 / 3 - 0.01 / 3 + 0.0, abs=1e-2)
    assert round(s["dist"].mean, 2) == 5.33 and round(s["dist"].std, 4) == 1.5403 and s["dist"].n == 3


def test_g2_weight_reliance():
    s = reliance_stats([0, 0, 0], [90, 91, 92], n_u=[88, 91, 95])
    assert s["wts"].mean == pytest.approx(-1 / 3, abs=1e-9)
    assert s["wts"].std == pytest.approx(math.sqrt(38 / 9), abs=1e-9)
    assert set(s) == {"dist", "wts"}


def test_g3_nan_propagates():
    s = reliance_stats([94.0, 93.0], [90.0, math.nan], n_u=[80.0, 81.0], n_i=[85.0, 86.0])
    assert math.isnan(s["dist"].mean) and math.isnan(s["dist"].std) and math.isnan(s["wts"].mean)
    assert s["dist_untrained"].mean == 5.0 and s["wts_ideal"].mean == 8.0


def test_paired_difference_rejects_unequal_seeds():
    with pytest.raises(InvalidParameterError, match="seeds"):
        paired_difference([1, 2], [1, 2, 3])


# ---- §7.2 selection ----------------------------------------------------------------------------------
def test_selection_ties_first_nan_skipped_all_nan_nan():
    assert select_argmax([1.0, math.nan, 3.0, 3.0]) == 2
    assert selected_accuracy([10, 20, 30], [math.nan, math.nan, math.nan]) != selected_accuracy(
        [10, 20, 30], [math.nan, math.nan, math.nan]
    )
    assert selected_accuracy([10, 20, 30], [5, 5, 5]) == 10
    with pytest.raises(InvalidParameterError, match="non-NaN"):
        select_argmax([math.nan])


# ---- §8 combination score ----------------------------------------------------------------------------
def test_c1_single_pair():
    # A: r_a1 = 1, r_b1 = 2; X: r_a2 = 3, r_b2 = 2  ->  1*3 * 2*1 = 6
    r = combination_scores({"A": 0.9, "B": 0.1}, {"A": 0.5, "B": 0.9},
                           {"X": 0.1, "Y": 0.5, "Z": 0.9}, {"X": 0.5, "Y": 1.0, "Z": 0.1})
    assert r.table.loc["A", "X"] == 6


def test_c2_worked_example():
    r = combination_scores({"A": 0.30, "B": 0.55, "C": 0.10}, {"A": 0.40, "B": 0.20, "C": 0.60},
                           {"X": 5.3, "Y": 0.5}, {"X": 0.2, "Y": 1.5})
    expected = {("A", "X"): 8, ("A", "Y"): 8, ("B", "X"): 6, ("B", "Y"): 18, ("C", "X"): 18, ("C", "Y"): 6}
    assert {(u, a): r.table.loc[u, a] for u in "ABC" for a in "XY"} == expected
    assert [(u, a) for u, a, _ in r.order] == [("B", "X"), ("C", "Y"), ("A", "X"), ("A", "Y"), ("B", "Y"), ("C", "X")]


def test_c3_competition_ranks_and_nan():
    assert competition_rank([0.5, 0.5, 0.2]).tolist() == [1, 1, 3]
    r = competition_rank([0.1, math.nan, 0.3])
    assert r[0] == 2 and math.isnan(r[1]) and r[2] == 1


def test_combination_nan_reliance_gives_nan_scores_sorted_last():
    r = combination_scores({"A": 1.0}, {"A": 1.0}, {"X": 1.0, "prune": math.nan}, {"X": 1.0, "prune": math.nan})
    assert r.table.loc["A", "X"] == 1 and math.isnan(r.table.loc["A", "prune"])
    assert r.order[-1][:2] == ("A", "prune")
    with pytest.raises(InvalidParameterError, match="keys"):
        combination_scores({"A": 1.0}, {"B": 1.0}, {"X": 1.0}, {"X": 1.0})


# ---- §9 self-consistency -----------------------------------------------------------------------------
def test_sc1():
    sc = self_consistency([[1, 2, 3, 4], [1, 2, 4, 3], [4, 3, 2, 1]])
    assert sc.pairs == [(0, 1), (0, 2), (1, 2)]
    np.testing.assert_allclose(sc.per_pair["kendall_tau"], [2 / 3, -1, -2 / 3], atol=1e-9)
    np.testing.assert_allclose(sc.per_pair["pearson_r"], [0.8, -1, -0.8], atol=1e-9)
    np.testing.assert_allclose(sc.per_pair["spearman_rho"], [0.8, -1, -0.8], atol=1e-9)
    assert (
        sc.kendall_tau == pytest.approx(-1 / 3)
        and sc.pearson_r == pytest.approx(-1 / 3)
        and sc.spearman_rho == pytest.approx(-1 / 3)
    )


def test_sc2():
    sc = self_consistency([[0.1, 0.4, 0.35, 0.8], [0.2, 0.5, 0.3, 0.9], [0.15, 0.3, 0.45, 0.7]])
    assert sc.kendall_tau == pytest.approx(7 / 9, abs=1e-9)
    assert sc.spearman_rho == pytest.approx(13 / 15, abs=1e-9)
    np.testing.assert_allclose(sc.per_pair["pearson_r"], [0.9708336989, 0.9442700823, 0.8493972132], atol=1e-9)
    assert sc.pearson_r == pytest.approx(0.9215003315, abs=1e-9)


def test_self_consistency_ids_intersection_fill_and_edge_cases():
    sc = self_consistency([[1, 2, 3, 9], [30, 20, 10]], ids=[[5, 6, 7, 8], [7, 6, 5]])
    assert sc.n_common == 3 and sc.kendall_tau == pytest.approx(1.0)   # ids 5,6,7: [1,2,3] vs [10,20,30]
    assert math.isnan(self_consistency([[1, 2, 3]]).kendall_tau)
    filled = self_consistency([[1, math.nan, 3, 4], [1, 0, 3, 4]], nan_policy="fill:-1")
    assert filled.kendall_tau == pytest.approx(kendall_tau([1, -1, 3, 4], [1, 0, 3, 4]))
    with pytest.raises(InvalidParameterError, match="lengths"):
        self_consistency([[1, 2, 3], [1, 2]])
    with pytest.raises(InvalidParameterError, match="repeated"):
        self_consistency([[1, 2], [1, 2]], ids=[[1, 1], [1, 2]])


# ---- §10 regret, §0.5 mean ± std ---------------------------------------------------------------------
def test_e1_regret_of_9930(c10):
    assert regret(c10, 9930) == pytest.approx(0.01, abs=1e-9)
    assert regret(c10, 9930, round_to=2) == pytest.approx(0.01, abs=1e-9)
    assert 100 - c10[9930] == pytest.approx(5.636667, abs=1e-9)


def test_e4_collapsed_cell(c10):
    assert 100 - c10[1835] == pytest.approx(45.703333, abs=1e-9)
    assert regret(c10, 1835) == pytest.approx(40.076666, abs=1e-9)
    np.testing.assert_allclose(regret(c10, np.array([1835, 6111])), [40.076666, 0.0], atol=1e-9)


def test_e2_e3_formatting():
    assert format_mean_std(mean_std([5.64, 5.64, 5.64])) == "5.64 ± 0.00"
    s = mean_std([6.0, 7.0, 9.5])
    assert s.mean == 7.5 and s.std == pytest.approx(1.4719601444, abs=1e-9)
    assert format_mean_std(s) == "7.50 ± 1.47"
    assert mean_std([6.0, 7.0, 9.5], ddof=1).std == pytest.approx(1.8027756377, abs=1e-9)
    assert mean_std([3.0]) == (3.0, 0.0, 1)


def test_mean_std_of_curves_and_nan():
    m = mean_std([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_allclose(m.mean, [2, 4]) and np.testing.assert_allclose(m.std, [1, 2])
    assert math.isnan(mean_std([1.0, math.nan]).mean)
    with pytest.raises(InvalidParameterError, match="ddof"):
        mean_std([1.0], ddof=1)


@given(st.lists(st.integers(0, 1000), min_size=2, max_size=30, unique=True))
def test_selection_regret_perfect_zero_reversed_range(values):
    acc = np.array(values, dtype=float)
    assert selection_regret(acc, acc) == 0.0
    assert selection_regret(acc, -acc) == acc.max() - acc.min()


def test_regret_bad_input():
    with pytest.raises(InvalidParameterError, match="selected"):
        regret([1.0, 2.0], 2)
    with pytest.raises(InvalidParameterError, match="selected"):
        regret([1.0, 2.0], 0.5)
