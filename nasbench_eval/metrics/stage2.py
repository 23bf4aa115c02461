"""Stage-2 reliance statistics on the four baseline supernets N_U, N_I, R_U, R_I ([PUP], spec §7.3).

Each baseline result is one ground-truth accuracy (percent) per seed; differences are paired by
seed, then summarised by mean and population std over seeds.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_1d
from ..exceptions import InvalidParameterError
from .aggregate import MeanStd, mean_std


def paired_difference(a, b, *, ddof: int = 0, caller: str = "paired_difference") -> tuple[np.ndarray, MeanStd]:
    """Per-seed ``a - b`` and its mean ± std (NaN in either propagates, spec §7.4 G3).

    Parameters
    ----------
    a, b : array-like of shape (n_seeds,)
        Results of two baselines, aligned by seed.
    ddof : int, default=0

    Returns
    -------
    per_seed : float64[n_seeds]
    stats : MeanStd

    Examples
    --------
    >>> d, s = paired_difference([90, 91, 92], [88, 91, 95])
    >>> d.tolist(), round(s.std, 9)
    ([2.0, 0.0, -3.0], 2.054804668)
    """
    x, y = check_1d("a", a, caller=caller), check_1d("b", b, caller=caller)
    if x.size != y.size or x.size == 0:
        raise InvalidParameterError(
            f"{caller}(): the two baselines have {x.size} and {y.size} seeds; expected the same, non-zero number of "
            "seeds."
        )
    d = x - y
    return d, mean_std(d, ddof=ddof)


def reliance_stats(r_i, r_u, n_u=None, n_i=None, *, ddof: int = 0) -> dict[str, MeanStd]:
    """Reliance of a Stage-2 algorithm on a good distribution and on trained weights (spec §7.3).

    Parameters
    ----------
    r_i, r_u : array-like of shape (n_seeds,)
        Results with the trained (RSPS) supernet, sampling from the idealised / uniform distribution.
    n_u, n_i : array-like of shape (n_seeds,), optional
        Results with the untrained supernet, uniform / idealised sampling.
    ddof : int, default=0

    Returns
    -------
    dict of str to MeanStd
        ``"dist"``: R_I - R_U; ``"wts"``: R_U - N_U (with `n_u`); ``"dist_untrained"``: N_I - N_U
        (with both `n_u` and `n_i`); ``"wts_ideal"``: R_I - N_I (with `n_i`).

    Examples
    --------
    >>> s = reliance_stats([94.29, 94.01, 94.01], [87.50, 90.81, 88.01])
    >>> round(s["dist"].mean, 2), round(s["dist"].std, 4)
    (5.33, 1.5403)
    """
    caller = "reliance_stats"
    out = {"dist": paired_difference(r_i, r_u, ddof=ddof, caller=caller)[1]}
    if n_u is not None:
        out["wts"] = paired_difference(r_u, n_u, ddof=ddof, caller=caller)[1]
    if n_u is not None and n_i is not None:
        out["dist_untrained"] = paired_difference(n_i, n_u, ddof=ddof, caller=caller)[1]
    if n_i is not None:
        out["wts_ideal"] = paired_difference(r_i, n_i, ddof=ddof, caller=caller)[1]
    return out
