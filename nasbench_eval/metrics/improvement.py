"""Improvement curve of Laube & Zell (spec §3): how good the architectures kept by a predictor are.

Discard architectures one at a time, lowest prediction first, and record the mean ground-truth
accuracy of those that remain; normalise so that 0 is the mean of the set and 1 is its best
architecture. The companion top-k correlation curve (spec §3.5) lives here too.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.stats

from .._validation import check_1d, check_int, check_option
from ..exceptions import InvalidParameterError
from ..registry import METRICS
from .aggregate import mean_std
from .correlation import _STATISTICS

TIE_BREAKS = ("average", "stable")


class ImprovementCurve(NamedTuple):
    """An improvement curve, from all architectures kept down to `k_min`.

    Attributes
    ----------
    k : int64[n - k_min + 1]
        Number of architectures remaining, descending ``n, n-1, ..., k_min``.
    mean_acc : float64[n - k_min + 1]
        ``M(k)``: mean ground-truth accuracy (percent) of the `k` best-predicted architectures.
    improvement : float64[n - k_min + 1]
        ``I(k) = (M(k) - M(n)) / (best_acc - M(n))``; all NaN when every accuracy is equal.
    best_acc : float
        Best ground-truth accuracy of the set (percent).
    n_dropped : int
        Rows dropped because their ground truth was NaN.
    """

    k: np.ndarray
    mean_acc: np.ndarray
    improvement: np.ndarray
    best_acc: float
    n_dropped: int


def _score_groups(pred: np.ndarray) -> np.ndarray:
    """Integer keys, higher = better, equal keys = tied; NaN ranks below every number, -inf included."""
    dense = scipy.stats.rankdata(np.where(np.isnan(pred), -np.inf, pred), method="dense")
    return np.where(np.isnan(pred), 0, dense).astype(np.int64)


def _mean_of_top(acc: np.ndarray, keys: np.ndarray, tie_break: str) -> np.ndarray:
    """float64[n]: M(k) for k = n .. 1 (descending k)."""
    n = acc.size
    if tie_break == "stable":
        order = np.argsort(keys, kind="stable")           # ascending; earlier position discarded first
        tail = np.cumsum(acc[order][::-1])                # tail[k-1] = sum of the k kept
        return (tail / np.arange(1, n + 1))[::-1]
    order = np.argsort(-keys, kind="stable")              # best first
    a_sorted, k_sorted = acc[order], keys[order]
    csum = np.concatenate([[0.0], np.cumsum(a_sorted)])
    _, start, counts = np.unique(-k_sorted, return_index=True, return_counts=True)
    group_of = np.repeat(np.arange(start.size), counts)   # group id of each sorted position
    g_start, g_size = start[group_of], counts[group_of]
    g_mean = (csum[g_start + g_size] - csum[g_start]) / g_size
    k = np.arange(1, n + 1)
    m_top = (csum[g_start] + (k - g_start) * g_mean) / k  # position k-1 is the k-th kept
    return m_top[::-1]


def improvement_curve(y_true, y_score, *, k_min: int = 10, tie_break: str = "average") -> ImprovementCurve:
    """Mean ground truth of the architectures kept after discarding the predicted-worst (spec §3.2).

    Parameters
    ----------
    y_true : array-like of shape (n_archs,)
        Ground-truth accuracy (percent). Rows with NaN are dropped first (count in ``n_dropped``).
    y_score : array-like of shape (n_archs,)
        Predicted scores, higher = better; NaN ranks below every number.
    k_min : int, default=10
        Smallest number of remaining architectures reported (inclusive), ``1 <= k_min <= n``.
    tie_break : {"average", "stable"}, default="average"
        ``"average"``: expectation over random orders of tied predictions; ``"stable"``: among
        tied predictions the earlier position is discarded first.

    Returns
    -------
    ImprovementCurve

    Raises
    ------
    InvalidParameterError
        Unequal lengths, no row left, or `k_min` outside ``[1, n]``.

    Examples
    --------
    >>> c = improvement_curve([70, 94, 88, 91, 60], [0.5, 0.9, 0.1, 0.7, 0.3], k_min=1)
    >>> c.mean_acc.round(6).tolist()
    [80.6, 78.75, 85.0, 92.5, 94.0]
    """
    caller = "improvement_curve"
    tie_break = check_option("tie_break", tie_break, TIE_BREAKS, caller=caller)
    acc, pred = _aligned(y_true, y_score, caller=caller)
    keep = ~np.isnan(acc)
    acc, pred = acc[keep], pred[keep]
    n = acc.size
    if n == 0:
        raise InvalidParameterError(
            f"{caller}(): no architecture with ground truth is left ({int((~keep).sum())} NaN rows dropped); expected "
            "at least one."
        )
    k_min = check_int("k_min", k_min, caller=caller, minimum=1, maximum=n)
    m = _mean_of_top(acc, _score_groups(pred), tie_break)[: n - k_min + 1]
    best = float(acc.max())
    if np.all(acc == acc[0]):
        imp = np.full(m.size, math.nan)
    else:
        imp = (m - m[0]) / (best - m[0])
        imp[0] = 0.0
    return ImprovementCurve(np.arange(n, k_min - 1, -1, dtype=np.int64), m, imp, best, int((~keep).sum()))


def _aligned(y_true, y_score, *, caller: str) -> tuple[np.ndarray, np.ndarray]:
    acc = check_1d("y_true", y_true, caller=caller)
    pred = check_1d("y_score", y_score, caller=caller)
    if acc.size != pred.size:
        raise InvalidParameterError(
            f"{caller}(): y_true and y_score have lengths {acc.size} and {pred.size}; expected equal lengths "
            "(one entry per arch)."
        )
    return acc, pred


@METRICS.register("normalized_improvement", aliases=("improvement",), defaults={"k_min": 10},
                  tags=frozenset({"rank-invariant", "permutation-invariant", "curve-end"}))
def normalized_improvement(y_true, y_score, *, k_min: int = 10, tie_break: str = "average") -> float:
    """``I(k_min)``: normalised improvement when `k_min` architectures remain (spec §3.2).

    1 means the `k_min` best-predicted architectures are, on average, as good as the best of the
    set; 0 means no better than the set mean; negative means worse than random.

    Examples
    --------
    >>> normalized_improvement([70, 94, 88, 91, 60], [0.5, 0.9, 0.1, 0.7, 0.3], k_min=2)
    0.8880597014925373
    """
    return float(improvement_curve(y_true, y_score, k_min=k_min, tie_break=tie_break).improvement[-1])


@METRICS.register("top_k_mean_acc", defaults={"k_min": 10},
                  tags=frozenset({"rank-invariant", "permutation-invariant", "curve-end"}))
def top_k_mean_acc(y_true, y_score, *, k_min: int = 10, tie_break: str = "average") -> float:
    """``M(k_min)``: mean ground-truth accuracy (percent) of the `k_min` best-predicted architectures (spec §3.2).

    Examples
    --------
    >>> top_k_mean_acc([70, 94, 88, 91, 60], [0.5, 0.9, 0.1, 0.7, 0.3], k_min=2)
    92.5
    """
    return float(improvement_curve(y_true, y_score, k_min=k_min, tie_break=tie_break).mean_acc[-1])


class AggregateImprovement(NamedTuple):
    """Improvement curves of R runs on sets of equal size (spec §3.4).

    Attributes
    ----------
    k : int64[m]
        Number of architectures remaining (descending).
    mean_acc, std_acc : float64[m]
        Pointwise mean and population std (ddof=0) of ``M_r(k)`` over runs.
    improvement : float64[m]
        ``(mean_r M_r(k) - mean_r M_r(n)) / (mean_r best_r - mean_r M_r(n))``.
    """

    k: np.ndarray
    mean_acc: np.ndarray
    std_acc: np.ndarray
    improvement: np.ndarray


def aggregate_improvement(curves: Sequence[ImprovementCurve], *, ddof: int = 0) -> AggregateImprovement:
    """Pointwise mean ± std of several runs' improvement curves and their normalised aggregate (spec §3.4).

    Parameters
    ----------
    curves : sequence of ImprovementCurve
        One curve per supernet/seed, all with the same ``k`` (same ``n`` and ``k_min``).
    ddof : int, default=0
        Delta degrees of freedom of the std.

    Returns
    -------
    AggregateImprovement

    Examples
    --------
    >>> a = improvement_curve([1, 2, 3], [1, 2, 3], k_min=1)
    >>> b = improvement_curve([1, 2, 5], [3, 2, 1], k_min=1)
    >>> aggregate_improvement([a, b]).mean_acc.tolist()
    [2.333333333333333, 2.0, 2.0]
    """
    caller = "aggregate_improvement"
    curves = list(curves)
    if not curves:
        raise InvalidParameterError(f"{caller}(): curves=[] is empty; expected at least one ImprovementCurve.")
    k = curves[0].k
    if any(c.k.shape != k.shape or not np.array_equal(c.k, k) for c in curves):
        sizes = sorted({(int(c.k[0]), int(c.k[-1])) for c in curves})
        raise InvalidParameterError(
            f"{caller}(): curves cover different k ranges {sizes}; expected runs with the same n and k_min."
        )
    stats = mean_std(np.stack([c.mean_acc for c in curves]), ddof=ddof)
    best = float(np.mean([c.best_acc for c in curves]))
    base = stats.mean[0]
    imp = np.full(k.size, math.nan) if best == base else (stats.mean - base) / (best - base)
    return AggregateImprovement(k, stats.mean, stats.std, imp)


class TopKCorrelation(NamedTuple):
    """Correlation over the k best architectures by ground truth, for k = n .. 1 (spec §3.5)."""

    k: np.ndarray
    correlation: np.ndarray


def top_k_correlation_curve(y_true, y_score, *, statistic: str = "kendall_tau", k_min: int = 1) -> TopKCorrelation:
    """Correlation of scores and ground truth over the k best-by-ground-truth architectures (spec §3.5).

    Parameters
    ----------
    y_true : array-like of shape (n_archs,)
        Ground truth (percent); NaN rows are dropped.
    y_score : array-like of shape (n_archs,)
        Scores, higher = better; NaN ranks below every number (treated as -inf).
    statistic : str, default="kendall_tau"
        ``"kendall_tau"``, ``"spearman_rho"`` or ``"pearson_r"`` (or kt / scc / pcc).
    k_min : int, default=1
        Smallest k reported; ``k = 1`` gives NaN.

    Returns
    -------
    TopKCorrelation
        ``k`` descending from n to `k_min`, and the coefficient at each k.

    Examples
    --------
    >>> c = top_k_correlation_curve([70, 94, 88, 91, 60], [0.5, 0.9, 0.1, 0.7, 0.3])
    >>> c.correlation.round(6).tolist()
    [0.6, 0.666667, 1.0, 1.0, nan]
    """
    caller = "top_k_correlation_curve"
    key = METRICS.resolve(statistic) if statistic in METRICS else statistic
    check_option("statistic", key, _STATISTICS, caller=caller)
    acc, pred = _aligned(y_true, y_score, caller=caller)
    keep = ~np.isnan(acc)
    acc, pred = acc[keep], np.where(np.isnan(pred[keep]), -np.inf, pred[keep])
    n = acc.size
    k_min = check_int("k_min", k_min, caller=caller, minimum=1, maximum=max(n, 1))
    order = np.argsort(acc, kind="stable")
    acc, pred = acc[order], pred[order]
    ks = np.arange(n, k_min - 1, -1, dtype=np.int64)
    fn = _STATISTICS[key]
    return TopKCorrelation(ks, np.array([fn(acc[n - k:], pred[n - k:]) for k in ks], dtype=np.float64))
