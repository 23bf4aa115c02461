"""Aggregation over seeds or runs: pointwise mean and population std (spec §0.5, §10.2)."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._validation import check_int
from ..exceptions import InvalidParameterError


class MeanStd(NamedTuple):
    """Mean and std over runs (floats for scalar runs, arrays for curves) and the number of runs."""

    mean: float | np.ndarray
    std: float | np.ndarray
    n: int


def mean_std(values, *, ddof: int = 0) -> MeanStd:
    """Pointwise mean and std over the first axis (runs); NaN propagates so a failed run stays visible.

    Parameters
    ----------
    values : array-like of shape (n_runs,) or (n_runs, ...)
        One scalar or one curve per run.
    ddof : int, default=0
        Delta degrees of freedom; 0 is the population std used by both reference code bases.

    Returns
    -------
    MeanStd
        Floats for 1-D input, arrays of shape ``values.shape[1:]`` otherwise. One run gives std 0.

    Examples
    --------
    >>> mean_std([6.0, 7.0, 9.5])
    MeanStd(mean=7.5, std=1.4719601443879744, n=3)
    """
    caller = "mean_std"
    ddof = check_int("ddof", ddof, caller=caller, minimum=0)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(
            f"{caller}(): values is not numeric; expected an array of shape (n_runs, ...)."
        ) from err
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise InvalidParameterError(
            f"{caller}(): values has shape {arr.shape}; expected at least one run along axis 0."
        )
    if arr.shape[0] <= ddof:
        raise InvalidParameterError(
            f"{caller}(): ddof={ddof!r} leaves no degree of freedom with {arr.shape[0]} runs; expected ddof < n_runs."
        )
    mean, std = arr.mean(axis=0), arr.std(axis=0, ddof=ddof)
    if arr.ndim == 1:
        return MeanStd(float(mean), float(std), int(arr.shape[0]))
    return MeanStd(mean, std, int(arr.shape[0]))


def format_mean_std(stats: MeanStd | tuple[float, float], *, decimals: int = 2) -> str:
    """``"mean ± std"`` with `decimals` places (tables of spec §10.2); ``"nan"`` if either is NaN.

    The one formatter of the toolkit (search summaries, reproduction tables).

    Parameters
    ----------
    stats : MeanStd or (mean, std)
        Scalar mean and std.
    decimals : int, default=2

    Examples
    --------
    >>> format_mean_std(mean_std([6.0, 7.0, 9.5]))
    '7.50 ± 1.47'
    >>> format_mean_std((7.5, 1.4719601444), decimals=3)
    '7.500 ± 1.472'
    """
    decimals = check_int("decimals", decimals, caller="format_mean_std", minimum=0)
    mean, std = stats[0], stats[1]
    if np.ndim(mean) != 0 or np.ndim(std) != 0:
        raise InvalidParameterError(
            f"format_mean_std(): stats has mean of shape {np.shape(mean)}; expected a scalar MeanStd or (mean, std).")
    if math.isnan(mean) or math.isnan(std):
        return "nan"
    return f"{mean:.{decimals}f} ± {std:.{decimals}f}"
