"""Stage-1 x Stage-2 combination score ([PUP] App. A.4, spec §8): which pairs should work well together."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.stats

from .._validation import check_1d
from ..exceptions import InvalidParameterError


def competition_rank(values) -> np.ndarray:
    """Rank 1 = largest value; ties share the smallest rank of their group; NaN -> NaN (spec §0.3).

    NaN entries take no rank, so the finite values are ranked among themselves.

    Parameters
    ----------
    values : array-like of shape (n,)

    Returns
    -------
    ranks : float64[n]

    Examples
    --------
    >>> competition_rank([0.5, 0.5, 0.2]).tolist()
    [1.0, 1.0, 3.0]
    """
    v = check_1d("values", values, caller="competition_rank")
    out = np.full(v.size, math.nan)
    ok = ~np.isnan(v)
    if ok.any():
        out[ok] = scipy.stats.rankdata(-v[ok], method="min")
    return out


class CombinationScores(NamedTuple):
    """Scores of every (Stage-1, Stage-2) pair.

    Attributes
    ----------
    table : pandas.DataFrame
        Rows = Stage-1 algorithms, columns = Stage-2 algorithms, values = score (lower = better; NaN if undefined).
    order : list of (str, str, float)
        Pairs by ascending score, stable in (row, column) input order; NaN scores last.
    """

    table: pd.DataFrame
    order: list


def _ranks(name: str, mapping: Mapping[str, float], keys: list[str], *, caller: str) -> np.ndarray:
    if not isinstance(mapping, Mapping) or list(mapping) != keys:
        got = list(mapping) if isinstance(mapping, Mapping) else type(mapping).__name__
        raise InvalidParameterError(
            f"{caller}(): {name} has keys {got!r}; expected a mapping with keys {keys!r} in that order."
        )
    return competition_rank([mapping[k] for k in keys])


def combination_scores(dist_quality: Mapping[str, float], wts_quality: Mapping[str, float],
                       dist_reliance: Mapping[str, float], wts_reliance: Mapping[str, float]) -> CombinationScores:
    """``r_a1 (|r_a1 - r_a2| + 1) r_b1 (|r_b1 - r_b2| + 1)`` for every (Stage-1 u, Stage-2 a) pair (spec §8.2).

    Ranks are competition ranks (1 = largest) within the Stage-1 set (qualities) and within the
    Stage-2 set (reliances). A NaN reliance (no baseline results) gives NaN scores.

    Parameters
    ----------
    dist_quality, wts_quality : mapping of Stage-1 name to float
        Distribution quality (e.g. mean sampling mass) and weight quality (e.g. Kendall tau-b); same keys, same order.
    dist_reliance, wts_reliance : mapping of Stage-2 name to float
        Mean ``R_I - R_U`` and mean ``R_U - N_U`` over seeds; same keys, same order.

    Returns
    -------
    CombinationScores

    Examples
    --------
    >>> r = combination_scores({"A": .3, "B": .55, "C": .1}, {"A": .4, "B": .2, "C": .6},
    ...                        {"X": 5.3, "Y": .5}, {"X": .2, "Y": 1.5})
    >>> [(u, a) for u, a, _ in r.order][:2]
    [('B', 'X'), ('C', 'Y')]
    """
    caller = "combination_scores"
    s1, s2 = list(dist_quality), list(dist_reliance)
    if not s1 or not s2:
        raise InvalidParameterError(
            f"{caller}(): got {len(s1)} Stage-1 and {len(s2)} Stage-2 algorithms; expected at least one of each."
        )
    ra1, rb1 = (
        _ranks("dist_quality", dist_quality, s1, caller=caller),
        _ranks("wts_quality", wts_quality, s1, caller=caller),
    )
    ra2, rb2 = (
        _ranks("dist_reliance", dist_reliance, s2, caller=caller),
        _ranks("wts_reliance", wts_reliance, s2, caller=caller),
    )
    a1, b1 = ra1[:, None], rb1[:, None]
    score = a1 * (np.abs(a1 - ra2[None, :]) + 1) * b1 * (np.abs(b1 - rb2[None, :]) + 1)
    flat = [(u, a, float(score[i, j])) for i, u in enumerate(s1) for j, a in enumerate(s2)]
    order = sorted(flat, key=lambda t: (math.isnan(t[2]), 0.0 if math.isnan(t[2]) else t[2]))
    return CombinationScores(
        pd.DataFrame(score, index=pd.Index(s1, name="stage1"), columns=pd.Index(s2, name="stage2")), order
    )
