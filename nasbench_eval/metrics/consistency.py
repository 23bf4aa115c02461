"""Self-consistency between supernets trained with different seeds ([LZ] §4.3, spec §9)."""
from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._validation import check_1d, check_paired_scores
from ..exceptions import InvalidParameterError
from .correlation import _STATISTICS


class SelfConsistency(NamedTuple):
    """Mean pairwise correlations between R prediction arrays.

    Attributes
    ----------
    kendall_tau, spearman_rho, pearson_r : float
        Arithmetic mean over the R(R-1)/2 pairs (NaN if R < 2 or any pair is NaN).
    pairs : list of (int, int)
        The pairs ``(a, b)``, ``a < b``, in lexicographic order.
    per_pair : dict of str to float64[n_pairs]
        Each statistic for each pair.
    n_common : int
        Size of the common architecture set.
    """

    kendall_tau: float
    spearman_rho: float
    pearson_r: float
    pairs: list
    per_pair: dict
    n_common: int


def _parse_policy(nan_policy: str, *, caller: str) -> tuple[str, float | None]:
    if isinstance(nan_policy, str) and nan_policy.startswith("fill:"):
        try:
            return "omit", float(nan_policy[5:])
        except ValueError as err:
            raise InvalidParameterError(
                f"{caller}(): nan_policy={nan_policy!r} has no number after 'fill:'; expected e.g. 'fill:-1'."
            ) from err
    return nan_policy, None


def _common(preds: list[np.ndarray], ids, *, caller: str) -> list[np.ndarray]:
    if ids is None:
        if len({p.size for p in preds}) > 1:
            raise InvalidParameterError(
                f"{caller}(): preds have lengths {[p.size for p in preds]}; expected equal lengths, or pass ids to "
                "intersect."
            )
        return preds
    ids = [list(i) for i in ids]
    if len(ids) != len(preds) or any(len(i) != p.size for i, p in zip(ids, preds)):
        raise InvalidParameterError(
            f"{caller}(): ids has lengths {[len(i) for i in ids]}; expected one id per prediction in each of the "
            f"{len(preds)} arrays."
        )
    if any(len(set(i)) != len(i) for i in ids):
        raise InvalidParameterError(
            f"{caller}(): ids holds repeated ids within one array; expected unique ids per array (deduplicate first)."
        )
    common = sorted(set.intersection(*(set(i) for i in ids)))
    return [p[[dict(zip(i, range(len(i))))[c] for c in common]] for i, p in zip(ids, preds)]


def self_consistency(preds: Sequence, *, ids: Sequence | None = None, nan_policy: str = "omit") -> SelfConsistency:
    """Mean pairwise Kendall tau-b, Spearman and Pearson between R supernets' predictions (spec §9.2).

    Parameters
    ----------
    preds : sequence of R array-likes of shape (n,)
        Predictions of supernets trained identically except for the seed.
    ids : sequence of R sequences, optional
        Architecture ids of each array; the common set is the intersection (sorted ids).
    nan_policy : {"omit", "propagate", "raise"} or "fill:<value>", default="omit"
        Per-pair NaN handling; ``"fill:-1"`` replaces NaN by -1 first, as [LZ]'s code.

    Returns
    -------
    SelfConsistency

    Examples
    --------
    >>> sc = self_consistency([[1, 2, 3, 4], [1, 2, 4, 3], [4, 3, 2, 1]])
    >>> round(sc.kendall_tau, 10), sc.pairs
    (-0.3333333333, [(0, 1), (0, 2), (1, 2)])
    """
    caller = "self_consistency"
    policy, fill = _parse_policy(nan_policy, caller=caller)
    arrays = [check_1d(f"preds[{r}]", p, caller=caller) for r, p in enumerate(preds)]
    arrays = _common(arrays, ids, caller=caller)
    if fill is not None:
        arrays = [np.where(np.isnan(a), fill, a) for a in arrays]
    pairs = list(itertools.combinations(range(len(arrays)), 2))
    per_pair = {k: np.empty(len(pairs)) for k in _STATISTICS}
    for j, (a, b) in enumerate(pairs):
        x, y = check_paired_scores(arrays[a], arrays[b], caller=caller, nan_policy=policy)
        for k, fn in _STATISTICS.items():
            per_pair[k][j] = fn(x, y)
    means = {k: float(v.mean()) if v.size else math.nan for k, v in per_pair.items()}
    n_common = arrays[0].size if arrays else 0
    return SelfConsistency(means["kendall_tau"], means["spearman_rho"], means["pearson_r"], pairs, per_pair, n_common)
