"""Test-error threshold levels shared by the recall (spec §4) and sampling-mass (spec §5) curves.

A level is a 0-based position ``p`` in the ground truth sorted descending. Its *true top set*
holds the architectures strictly better than the accuracy at that position, and its x
coordinate is the test error ``100 - acc_sorted_desc[p]``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._validation import check_1d, check_int
from ..exceptions import InvalidParameterError


class Levels(NamedTuple):
    """Threshold levels over one ground-truth array.

    Attributes
    ----------
    positions : int64[m]
        0-based positions ``p_j`` in the descending sort, each in ``[1, N - 1]``.
    threshold : float64[m]
        Test error ``T_j = 100 - acc_sorted_desc[p_j]`` (percent).
    true_top : bool[m, N]
        ``true_top[j, i]`` is True when ``acc_i > acc_sorted_desc[p_j]`` (the set ``A_j``).
    """

    positions: np.ndarray
    threshold: np.ndarray
    true_top: np.ndarray


def level_positions(n: int, *, n_groups: int | None = 25, positions: Sequence[int] | None = None,
                    top_fractions: Sequence[float] | None = None, caller: str = "level_positions") -> np.ndarray:
    """Sorted positions ``p_j`` for `n` architectures (spec §4.1-§4.2).

    Exactly one of the three ways is used: explicit `positions`, `top_fractions` (each f in
    (0, 1), mapped to ``floor(f * n + 1e-9)``), or `n_groups` (``p_j = j * (n // n_groups)``
    for ``j = 1 .. n_groups - 1``).

    Parameters
    ----------
    n : int
        Number of architectures ``N``.
    n_groups : int or None, default=25
        Number of equal groups; ignored when `positions` or `top_fractions` is given.
    positions : sequence of int, optional
        Explicit positions, each in ``[1, n - 1]``.
    top_fractions : sequence of float, optional
        Fractions of the space, each in the open interval (0, 1).
    caller : str
        Name used in error messages.

    Returns
    -------
    positions : int64[m]
        Positions in the order given (ascending for `n_groups`).

    Examples
    --------
    >>> level_positions(10, n_groups=5).tolist()
    [2, 4, 6, 8]
    >>> level_positions(100, top_fractions=[0.04, 0.5]).tolist()
    [4, 50]
    """
    if positions is not None and top_fractions is not None:
        raise InvalidParameterError(
            f"{caller}(): positions and top_fractions are both given; expected at most one of them."
        )
    if top_fractions is not None:
        fr = check_1d("top_fractions", top_fractions, caller=caller)
        if fr.size == 0 or not np.all((fr > 0) & (fr < 1)):
            raise InvalidParameterError(
                f"{caller}(): top_fractions={list(fr)!r} has values outside (0, 1); expected fractions strictly "
                "between 0 and 1."
            )
        positions = [math.floor(f * n + 1e-9) for f in fr]
    if positions is not None:
        pos = np.asarray([check_int("positions", p, caller=caller) for p in positions], dtype=np.int64)
        if pos.size == 0 or pos.min() < 1 or pos.max() > n - 1:
            raise InvalidParameterError(
                f"{caller}(): positions={pos.tolist()!r} are outside [1, {n - 1}]; expected non-empty positions in "
                f"[1, N-1] for N={n}."
            )
        return pos
    n_groups = check_int("n_groups", n_groups, caller=caller, minimum=2)
    if n < n_groups:
        raise InvalidParameterError(
            f"{caller}(): n_groups={n_groups!r} exceeds the number of architectures N={n}; expected n_groups <= N."
        )
    q = n // n_groups
    return np.arange(1, n_groups, dtype=np.int64) * q


def threshold_levels(y_true, *, n_groups: int | None = 25, positions: Sequence[int] | None = None,
                     top_fractions: Sequence[float] | None = None, caller: str = "threshold_levels") -> Levels:
    """Positions, test-error thresholds and true top sets of a ground-truth array (spec §4.2).

    Parameters
    ----------
    y_true : array-like of shape (N,)
        Ground-truth test accuracy (percent); NaN is an error.
    n_groups, positions, top_fractions
        See `level_positions`.
    caller : str
        Name used in error messages.

    Returns
    -------
    Levels

    Examples
    --------
    >>> lv = threshold_levels([95, 90, 98, 80], n_groups=4)
    >>> lv.threshold.tolist(), lv.true_top.sum(axis=1).tolist()
    ([5.0, 10.0, 20.0], [1, 2, 3])
    """
    acc = check_1d("y_true", y_true, caller=caller)
    if np.isnan(acc).any():
        raise InvalidParameterError(
            f"{caller}(): y_true contains {int(np.isnan(acc).sum())} NaN of {acc.size}; expected ground truth for "
            "every architecture."
        )
    pos = level_positions(acc.size, n_groups=n_groups, positions=positions, top_fractions=top_fractions, caller=caller)
    cut = np.sort(acc)[::-1][pos]
    return Levels(pos, 100.0 - cut, acc[None, :] > cut[:, None])
