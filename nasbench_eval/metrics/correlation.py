"""Rank and linear correlations between ground truth and predicted scores (spec §2).

Kendall tau-b, Spearman rho and Pearson r, all with the same `nan_policy`, plus a paired
percentile bootstrap confidence interval (spec §2.7). Every coefficient is NaN when fewer than
2 pairs remain or either variable is constant; no exception and no warning.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.stats

from .._validation import check_fraction, check_int, check_option, check_paired_scores
from ..registry import METRICS

CORRELATION_TAGS = frozenset({"correlation", "symmetric", "permutation-invariant"})


def _degenerate(x: np.ndarray, y: np.ndarray) -> bool:
    """True when a coefficient is undefined: < 2 pairs, a NaN kept by 'propagate', or a constant variable."""
    if x.size < 2 or np.isnan(x).any() or np.isnan(y).any():
        return True
    return bool(np.all(x == x[0]) or np.all(y == y[0]))


def _kendall(x: np.ndarray, y: np.ndarray) -> float:
    if _degenerate(x, y):
        return math.nan
    return float(scipy.stats.kendalltau(x, y, variant="b").statistic)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if _degenerate(x, y) or not (np.isfinite(x).all() and np.isfinite(y).all()):
        return math.nan
    dx, dy = x - x.mean(), y - y.mean()
    den = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return math.nan if den == 0.0 else float(np.clip((dx @ dy) / den, -1.0, 1.0))


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    if _degenerate(x, y):
        return math.nan
    return _pearson(scipy.stats.rankdata(x, method="average"), scipy.stats.rankdata(y, method="average"))


_STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "kendall_tau": _kendall, "spearman_rho": _spearman, "pearson_r": _pearson,
}


@METRICS.register("kendall_tau", aliases=("kt", "kendall"), tags=CORRELATION_TAGS | {"rank-invariant"})
def kendall_tau(y_true, y_score, *, nan_policy: str = "omit") -> float:
    """Kendall tau-b between ground truth and predicted scores (spec §2.2).

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_archs,)
        Accuracies (percent) and scores of the same architectures, same order.
    nan_policy : {"omit", "propagate", "raise"}, default="omit"
        What to do with pairs that contain NaN; +-inf are ordinary, rankable values.

    Returns
    -------
    tau : float
        tau-b in [-1, 1]; NaN if fewer than 2 pairs remain or either input is constant.

    Raises
    ------
    InvalidParameterError
        If the inputs are not 1-D of equal length, or hold NaN with ``nan_policy="raise"``.

    Examples
    --------
    >>> kendall_tau([1, 2, 3, 4, 5], [1, 3, 2, 5, 4])
    0.6
    """
    return _kendall(*check_paired_scores(y_true, y_score, caller="kendall_tau", nan_policy=nan_policy))


@METRICS.register("spearman_rho", aliases=("scc", "spearman"), tags=CORRELATION_TAGS | {"rank-invariant"})
def spearman_rho(y_true, y_score, *, nan_policy: str = "omit") -> float:
    """Spearman rho: Pearson r of the average ranks (spec §2.3).

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_archs,)
        Accuracies (percent) and scores of the same architectures, same order.
    nan_policy : {"omit", "propagate", "raise"}, default="omit"
        What to do with pairs that contain NaN.

    Returns
    -------
    rho : float
        In [-1, 1]; NaN if fewer than 2 pairs remain or either input is constant.

    Examples
    --------
    >>> round(spearman_rho([1, 2, 3, 4, 5], [1, 3, 2, 5, 4]), 12)
    0.8
    """
    return _spearman(*check_paired_scores(y_true, y_score, caller="spearman_rho", nan_policy=nan_policy))


@METRICS.register("pearson_r", aliases=("pcc", "pearson"), tags=CORRELATION_TAGS)
def pearson_r(y_true, y_score, *, nan_policy: str = "omit") -> float:
    """Pearson linear correlation, float64 with centred sums, clipped to [-1, 1] (spec §2.4).

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_archs,)
        Accuracies (percent) and scores of the same architectures, same order.
    nan_policy : {"omit", "propagate", "raise"}, default="omit"
        What to do with pairs that contain NaN.

    Returns
    -------
    r : float
        In [-1, 1]; NaN if fewer than 2 pairs remain, either input is constant, or a +-inf remains.

    Examples
    --------
    >>> round(pearson_r([1, 2, 4], [1, 2, 3]), 10)
    0.9819805061
    """
    return _pearson(*check_paired_scores(y_true, y_score, caller="pearson_r", nan_policy=nan_policy))


def correlation(y_true, y_score, *, statistic: str = "kendall_tau", nan_policy: str = "omit") -> float:
    """One of the three coefficients by name (a key or alias: kendall_tau/kt, spearman_rho/scc, pearson_r/pcc).

    Examples
    --------
    >>> correlation([1, 2, 3], [3, 2, 1], statistic="kt")
    -1.0
    """
    key = METRICS.resolve(statistic) if statistic in METRICS else statistic
    check_option("statistic", key, _STATISTICS, caller="correlation")
    return _STATISTICS[key](*check_paired_scores(y_true, y_score, caller="correlation", nan_policy=nan_policy))


class BootstrapCI(NamedTuple):
    """Percentile bootstrap interval: bounds and the number of finite resampled statistics kept."""

    low: float
    high: float
    n_kept: int


def bootstrap_ci(y_true, y_score, *, statistic: str = "kendall_tau", n_boot: int = 1000, alpha: float = 0.05,
                 seed: int = 0, nan_policy: str = "omit") -> BootstrapCI:
    """Paired percentile bootstrap confidence interval of a correlation (spec §2.7).

    Architectures are resampled as (y_true, y_score) pairs with replacement; non-finite
    resampled statistics (e.g. all draws of one architecture) are discarded.

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_archs,)
        Accuracies (percent) and scores of the same architectures, same order.
    statistic : str, default="kendall_tau"
        ``"kendall_tau"``, ``"spearman_rho"`` or ``"pearson_r"`` (or an alias: kt, scc, pcc).
    n_boot : int, default=1000
        Number of resamples.
    alpha : float, default=0.05
        Two-sided level: the interval is the (alpha/2, 1 - alpha/2) quantile pair.
    seed : int, default=0
        Seed of ``numpy.random.default_rng``.
    nan_policy : {"omit", "propagate", "raise"}, default="omit"
        Applied once, before resampling.

    Returns
    -------
    BootstrapCI
        ``(low, high, n_kept)``; ``(nan, nan, 0)`` if fewer than 2 pairs, a NaN kept by
        ``nan_policy="propagate"``, or no finite resample.

    Examples
    --------
    >>> low, high, n_kept = bootstrap_ci(range(10), range(10), n_boot=200)
    >>> round(low, 12), round(high, 12), n_kept
    (1.0, 1.0, 200)
    """
    caller = "bootstrap_ci"
    key = METRICS.resolve(statistic) if statistic in METRICS else statistic
    check_option("statistic", key, _STATISTICS, caller=caller)
    n_boot = check_int("n_boot", n_boot, caller=caller, minimum=1)
    alpha = check_fraction("alpha", alpha, caller=caller)
    x, y = check_paired_scores(y_true, y_score, caller=caller, nan_policy=nan_policy)
    if x.size < 2 or np.isnan(x).any() or np.isnan(y).any():   # a NaN left by "propagate" poisons every statistic
        return BootstrapCI(math.nan, math.nan, 0)
    rng, fn = np.random.default_rng(check_int("seed", seed, caller=caller, minimum=0)), _STATISTICS[key]
    stats = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, x.size, size=x.size)
        stats[b] = fn(x[idx], y[idx])
    kept = stats[np.isfinite(stats)]
    if kept.size == 0:
        return BootstrapCI(math.nan, math.nan, 0)
    low, high = np.quantile(kept, [alpha / 2, 1 - alpha / 2])
    return BootstrapCI(float(low), float(high), int(kept.size))
