"""Top-architecture identification rate (recall) across test-error thresholds ([PUP], spec §4).

At each level the true top set holds the architectures strictly better than the accuracy at a
sorted position, the predicted top set the same on predictions; recall is the fraction of the
true top set that the predictor also puts in its top set.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._validation import check_1d
from ..exceptions import InvalidParameterError
from ..registry import METRICS
from .levels import threshold_levels


class RecallCurve(NamedTuple):
    """Recall at each test-error threshold level (length m = number of levels).

    Attributes
    ----------
    threshold : float64[m]
        Test error ``T_j`` (percent), non-decreasing.
    recall : float64[m]
        ``|A_j ∩ P_j| / |A_j|``; NaN where ``|A_j| = 0``.
    baseline : float64[m]
        Random baseline ``|A_j| / N``.
    n_true, n_pred : int64[m]
        Sizes of the true and predicted top sets.
    positions : int64[m]
        0-based sorted positions ``p_j``.
    """

    threshold: np.ndarray
    recall: np.ndarray
    baseline: np.ndarray
    n_true: np.ndarray
    n_pred: np.ndarray
    positions: np.ndarray


def top_arch_recall_curve(y_true, y_score, *, n_groups: int | None = 25, positions: Sequence[int] | None = None,
                          top_fractions: Sequence[float] | None = None) -> RecallCurve:
    """Recall of the true top architectures by the predicted top sets, per threshold level (spec §4.2).

    Parameters
    ----------
    y_true : array-like of shape (N,)
        Ground-truth test accuracy (percent); NaN is an error.
    y_score : array-like of shape (N,)
        Predictions, higher = better; NaN counts as -inf (ranked last).
    n_groups : int, default=25
        Levels at ``p_j = j * (N // n_groups)``, ``j = 1 .. n_groups - 1``.
    positions : sequence of int, optional
        Explicit 0-based positions in ``[1, N - 1]`` instead of `n_groups`.
    top_fractions : sequence of float, optional
        Fractions f in (0, 1), mapped to ``floor(f * N + 1e-9)``, instead of `n_groups`.

    Returns
    -------
    RecallCurve

    Examples
    --------
    >>> acc = [94, 93, 93, 90, 85, 80, 70, 60, 10, 10]
    >>> pred = [30, 60, 40, 45, 50, 35, 20, 10, 5, 5]
    >>> top_arch_recall_curve(acc, pred, n_groups=5).recall.tolist()
    [0.0, 0.75, 1.0, 1.0]
    """
    caller = "top_arch_recall_curve"
    pred = check_1d("y_score", y_score, caller=caller)
    lv = threshold_levels(y_true, n_groups=n_groups, positions=positions, top_fractions=top_fractions, caller=caller)
    n = lv.true_top.shape[1]
    if pred.size != n:
        raise InvalidParameterError(
            f"{caller}(): y_true and y_score have lengths {n} and {pred.size}; expected equal lengths "
            "(one entry per arch)."
        )
    pred = np.where(np.isnan(pred), -np.inf, pred)
    cut = np.sort(pred)[::-1][lv.positions]
    pred_top = pred[None, :] > cut[:, None]
    n_true = lv.true_top.sum(axis=1)
    hits = (lv.true_top & pred_top).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(n_true > 0, hits / np.maximum(n_true, 1), math.nan)
    return RecallCurve(lv.threshold, recall.astype(np.float64), n_true / n, n_true.astype(np.int64),
                       pred_top.sum(axis=1).astype(np.int64), lv.positions)


@METRICS.register("mean_recall", defaults={"n_groups": 25},
                  tags=frozenset({"rank-invariant", "permutation-invariant", "curve-mean"}))
def mean_recall(y_true, y_score, *, n_groups: int | None = 25, positions: Sequence[int] | None = None,
                top_fractions: Sequence[float] | None = None) -> float:
    """Mean of the recall curve over its levels, ignoring NaN levels (spec §4, §8.1 option).

    Examples
    --------
    >>> acc = [94, 93, 93, 90, 85, 80, 70, 60, 10, 10]
    >>> pred = [30, 60, 40, 45, 50, 35, 20, 10, 5, 5]
    >>> mean_recall(acc, pred, n_groups=5)
    0.6875
    """
    r = top_arch_recall_curve(
        y_true, y_score, n_groups=n_groups, positions=positions, top_fractions=top_fractions
    ).recall
    return float(np.nanmean(r)) if np.isfinite(r).any() else math.nan
