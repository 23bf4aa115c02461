"""TE-NAS joint rank of a population from κ (NTK condition number) and R (linear regions), spec §3.6."""
from __future__ import annotations

import math

import numpy as np
import scipy.stats

from .._validation import check_1d, check_option
from ..exceptions import InvalidParameterError
from ..registry import PROXIES

TIES = ("average", "tenas_ties")


def _tenas_round(values: np.ndarray) -> np.ndarray:
    """TE-NAS's tie rule: 3 significant figures (values that agree there are equal)."""
    out = values.copy()
    finite = np.isfinite(values) & (values != 0)
    mag = np.floor(np.log10(np.abs(values[finite])))
    out[finite] = np.round(values[finite] / 10**mag, 2) * 10**mag
    return out


def ranks(values: np.ndarray, ties: str) -> np.ndarray:
    """0-based ascending ranks under `ties` ("average", or TE-NAS dense ranks at 3 significant figures); non-finite
    values already mapped by the caller."""
    if ties == "average":
        return scipy.stats.rankdata(values, method="average") - 1.0
    return scipy.stats.rankdata(_tenas_round(values), method="dense") - 1.0


def tenas_rank(kappa, regions, *, ties: str = "average") -> np.ndarray:
    """TE-NAS joint rank of each architecture of a population (higher is better).

    r_κ(i) = 0-based position of a_i when sorted by κ descending (largest κ -> 0);
    r_R(i) = 0-based position when sorted by R ascending (smallest R -> 0);
    tenas_rank(i) = r_κ(i) + r_R(i). Ranks are relative to this population only.

    Parameters
    ----------
    kappa : array-like of shape (n,)
        `ntk_cond` values (lower is better). NaN and +inf count as the worst κ (rank 0).
    regions : array-like of shape (n,)
        `lr_count` values (higher is better). NaN and −inf count as the worst R (rank 0).
    ties : {"average", "tenas_ties"}, default="average"
        "average": equal values share the mean of their positions (scipy ``rankdata``);
        "tenas_ties": values equal at 3 significant figures share a dense rank (TE-NAS code).

    Returns
    -------
    rank : ndarray of shape (n,), float64
        In [0, 2(n−1)].

    Examples
    --------
    >>> tenas_rank([3.0, 1.0, 2.0], [10, 30, 20]).tolist()
    [0.0, 4.0, 2.0]
    """
    check_option("ties", ties, TIES, caller="tenas_rank")
    k = check_1d("kappa", kappa, caller="tenas_rank")
    r = check_1d("regions", regions, caller="tenas_rank")
    if len(k) != len(r):
        raise InvalidParameterError(
            f"tenas_rank(): kappa and regions have lengths {len(k)} and {len(r)}; expected one value of each per arch."
        )
    if len(k) == 0:
        return np.zeros(0)
    k = np.where(np.isnan(k) | (k == math.inf), np.inf, k)          # worst κ = largest
    r = np.where(np.isnan(r) | (r == -math.inf), -np.inf, r)        # worst R = smallest
    return ranks(-k, ties) + ranks(r, ties)


PROXIES.register(
    "tenas_rank", higher_is_better=True, tags=frozenset({"population"}),
    defaults={"inputs": ("ntk_cond", "lr_count"), "ties": "average"},
)(tenas_rank)
