"""Selecting one architecture by score, and the regret of a selection (spec §7.2, §10.1)."""
from __future__ import annotations

import math

import numpy as np

from .._validation import check_1d, check_int
from ..exceptions import InvalidParameterError
from ..registry import METRICS


def select_argmax(y_score) -> int:
    """Position of the highest score; ties -> the earliest; NaN skipped (spec §7.2).

    Parameters
    ----------
    y_score : array-like of shape (n_samples,)
        Scores of the drawn architectures, higher = better, in draw order.

    Returns
    -------
    position : int

    Raises
    ------
    InvalidParameterError
        If `y_score` is empty or all NaN (callers that want NaN check `has_selection` first).

    Examples
    --------
    >>> select_argmax([1.0, float("nan"), 3.0, 3.0])
    2
    """
    s = check_1d("y_score", y_score, caller="select_argmax")
    if s.size == 0:
        raise InvalidParameterError("select_argmax(): y_score is empty; expected at least one score.")
    if np.isnan(s).all():
        raise InvalidParameterError(
            f"select_argmax(): y_score holds {s.size} NaN and no number; expected at least one non-NaN score."
        )
    return int(np.nanargmax(s))


def has_selection(y_score) -> bool:
    """True when `y_score` holds at least one non-NaN score, i.e. `select_argmax` can pick one."""
    return bool((~np.isnan(check_1d("y_score", y_score, caller="has_selection"))).any())


def selected_accuracy(y_true, y_score) -> float:
    """Ground truth (percent) of the architecture `select_argmax(y_score)` picks; NaN if all scores are NaN.

    Examples
    --------
    >>> selected_accuracy([90.0, 94.0, 80.0], [0.1, 0.7, 0.7])
    94.0
    """
    acc = check_1d("y_true", y_true, caller="selected_accuracy")
    _check_len(acc, y_score, caller="selected_accuracy")
    return float(acc[select_argmax(y_score)]) if has_selection(y_score) else math.nan


def _check_len(acc: np.ndarray, y_score, *, caller: str) -> None:
    n = np.size(y_score)
    if acc.size == 0:
        raise InvalidParameterError(f"{caller}(): y_true is empty; expected at least one architecture.")
    if acc.size != n:
        raise InvalidParameterError(
            f"{caller}(): y_true and y_score have lengths {acc.size} and {n}; expected equal lengths "
            "(one entry per arch)."
        )


def _round(x, round_to: int | None):
    return x if round_to is None else np.round(x, check_int("round_to", round_to, caller="regret", minimum=0))


def regret(y_true, selected, *, round_to: int | None = None):
    """``max(y_true) - y_true[selected]`` in accuracy points, over the space actually searched (spec §10.1).

    Parameters
    ----------
    y_true : array-like of shape (N,)
        Ground truth (percent) of every architecture of the searched space; NaN entries are ignored for the max.
    selected : int or array-like of int
        Position(s) of the selected architecture(s) in `y_true`.
    round_to : int, optional
        Round accuracies to this many decimals first (``2`` reproduces [PUP]'s tables).

    Returns
    -------
    regret : float or float64 array shaped like `selected`

    Examples
    --------
    >>> round(regret([94.373333, 94.363333, 10.0], 1), 6)
    0.01
    """
    acc = check_1d("y_true", y_true, caller="regret")
    if acc.size == 0 or np.isnan(acc).all():
        raise InvalidParameterError(
            "regret(): y_true has no finite accuracy; expected the ground truth of the searched space."
        )
    sel = np.asarray(selected)
    if not np.issubdtype(sel.dtype, np.integer) or (sel.size and (sel.min() < 0 or sel.max() >= acc.size)):
        raise InvalidParameterError(
            f"regret(): selected={selected!r} is not a valid position; expected integer(s) in 0..{acc.size - 1}."
        )
    acc = _round(acc, round_to)
    out = np.nanmax(acc) - acc[sel]
    return float(out) if out.ndim == 0 else out


@METRICS.register("selection_regret", aliases=("regret",), higher_is_better=False,
                  tags=frozenset({"rank-invariant", "permutation-invariant"}))
def selection_regret(y_true, y_score, *, round_to: int | None = None) -> float:
    """Regret of picking the top-scored architecture: ``max(y_true) - y_true[argmax(y_score)]`` (spec §10.1).

    Ties in the score go to the earliest position; all-NaN scores give NaN. Lower is better.

    Examples
    --------
    >>> selection_regret([90.0, 94.0, 80.0], [0.9, 0.5, 0.1])
    4.0
    """
    acc = check_1d("y_true", y_true, caller="selection_regret")
    _check_len(acc, y_score, caller="selection_regret")
    return regret(acc, select_argmax(y_score), round_to=round_to) if has_selection(y_score) else math.nan
