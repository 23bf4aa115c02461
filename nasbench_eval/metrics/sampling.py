"""Sampling-probability mass across test-error thresholds ([PUP], spec §5) and the idealised biased sampler (spec §6).

A Stage-1 method's per-edge categorical distributions (rows = edges in string order, columns =
ops in official order) define, with independent edges, a probability for every architecture;
the mass curve sums it over the true top set of each threshold level.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.special
import scipy.stats

from .._validation import check_1d, check_int, check_option
from ..exceptions import InvalidParameterError
from ..space import Arch
from .levels import threshold_levels

KINDS = ("softmax", "dirichlet", "probs")
"""How architecture parameters become per-edge probabilities (see `edge_probs`)."""


def _matrix(name: str, value, *, caller: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(
            f"{caller}(): {name} is not numeric; expected a 2-D array of shape (n_edges, n_ops)."
        ) from err
    if arr.ndim != 2 or 0 in arr.shape:
        raise InvalidParameterError(
            f"{caller}(): {name} has shape {arr.shape}; expected a 2-D array of shape (n_edges, n_ops), e.g. (6, 5)."
        )
    if np.isnan(arr).any():
        raise InvalidParameterError(
            f"{caller}(): {name} contains {int(np.isnan(arr).sum())} NaN; expected finite values."
        )
    return arr


def edge_probs(params, *, kind: str = "softmax") -> np.ndarray:
    """Per-edge op probabilities from architecture parameters (spec §5.1, §5.3).

    Parameters
    ----------
    params : array-like of shape (n_edges, n_ops)
        ``"softmax"``: logits (e.g. DARTS alpha), row-wise numerically stable softmax.
        ``"dirichlet"``: positive concentrations beta, Dirichlet mean ``beta / sum(beta)`` per row.
        ``"probs"``: already probabilities; validated (non-negative, rows sum to 1 within 1e-6).
    kind : {"softmax", "dirichlet", "probs"}, default="softmax"

    Returns
    -------
    probs : float64[n_edges, n_ops]
        Rows sum to 1.

    Examples
    --------
    >>> edge_probs([[0.0, 0.0], [0.0, np.log(3)]]).round(12).tolist()
    [[0.5, 0.5], [0.25, 0.75]]
    >>> edge_probs([[1.0, 3.0]], kind="dirichlet").tolist()
    [[0.25, 0.75]]
    """
    caller = "edge_probs"
    kind = check_option("kind", kind, KINDS, caller=caller)
    arr = _matrix("params", params, caller=caller)
    if kind == "softmax":
        if np.isposinf(arr).any():
            raise InvalidParameterError(
                f"{caller}(): params contains +inf logits; expected finite logits (or -inf for a zero probability)."
            )
        return np.exp(arr - scipy.special.logsumexp(arr, axis=1, keepdims=True))
    if kind == "dirichlet":
        if not (np.isfinite(arr).all() and (arr > 0).all()):
            raise InvalidParameterError(
                f"{caller}(): params has {int((~(np.isfinite(arr) & (arr > 0))).sum())} non-positive or infinite "
                "concentrations; expected beta > 0 for kind='dirichlet'."
            )
        return arr / arr.sum(axis=1, keepdims=True)
    return _check_probs(arr, caller=caller)


def _check_probs(arr: np.ndarray, *, caller: str) -> np.ndarray:
    if (arr < 0).any() or not np.isfinite(arr).all():
        raise InvalidParameterError(
            f"{caller}(): probs has {int((~np.isfinite(arr) | (arr < 0)).sum())} negative or infinite entries; "
            "expected probabilities in [0, 1]."
        )
    sums = arr.sum(axis=1)
    bad = np.abs(sums - 1.0) > 1e-6
    if bad.any():
        raise InvalidParameterError(
            f"{caller}(): probs rows {np.flatnonzero(bad).tolist()} sum to {sums[bad].round(6).tolist()}; expected "
            "every row to sum to 1 (within 1e-6)."
        )
    return arr


def _check_codes(codes, n_edges: int, n_ops: int, *, caller: str) -> np.ndarray:
    arr = np.asarray(codes)
    if arr.ndim != 2 or arr.shape[1] != n_edges or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidParameterError(
            f"{caller}(): codes has shape {arr.shape} and dtype {arr.dtype}; expected integers of shape "
            f"(n_archs, {n_edges})."
        )
    if arr.size and (arr.min() < 0 or arr.max() >= n_ops):
        raise InvalidParameterError(
            f"{caller}(): codes holds op indices {int(arr.min())}..{int(arr.max())}; expected 0..{n_ops - 1}."
        )
    return arr.astype(np.intp)


def log_arch_probs(probs, codes) -> np.ndarray:
    """Log-probability of each architecture under independent per-edge distributions (spec §5.2).

    Parameters
    ----------
    probs : array-like of shape (n_edges, n_ops)
        Rows are probability vectors (validated as in ``edge_probs(kind="probs")``).
    codes : int array of shape (n_archs, n_edges)
        Op index of every architecture on every edge, e.g. `benchmark_codes(bench)`.

    Returns
    -------
    log_pi : float64[n_archs]
        ``sum_e log probs[e, codes[i, e]]``; -inf where an op has probability 0.
    """
    caller = "log_arch_probs"
    p = _check_probs(_matrix("probs", probs, caller=caller), caller=caller)
    c = _check_codes(codes, *p.shape, caller=caller)
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    return logp[np.arange(p.shape[0])[None, :], c].sum(axis=1)


def arch_probs(probs, codes) -> np.ndarray:
    """Probability of each architecture, ``pi_i = prod_e probs[e, codes[i, e]]`` (spec §5.2).

    Computed in log space, so peaked distributions underflow single entries to 0 harmlessly.

    Parameters
    ----------
    probs : array-like of shape (n_edges, n_ops)
        Per-edge probability rows.
    codes : int array of shape (n_archs, n_edges)
        Op codes of the architectures.

    Returns
    -------
    pi : float64[n_archs]
        Sums to 1 over the full product space.

    Examples
    --------
    >>> arch_probs([[0.75, 0.25], [0.5, 0.5]], np.array([[0, 0], [0, 1], [1, 0], [1, 1]])).round(12).tolist()
    [0.375, 0.375, 0.125, 0.125]
    """
    return np.exp(log_arch_probs(probs, codes))


def benchmark_codes(bench) -> np.ndarray:
    """int8[len(bench), 6]: op codes of a topology benchmark's architectures, in benchmark order (spec §1.3).

    Computed once per benchmark object and returned read-only (copy it to modify).

    Parameters
    ----------
    bench : Benchmark
        A tss benchmark (e.g. ``create_benchmark("nb201")``).
    """
    if getattr(bench, "space", None) != "tss":
        raise InvalidParameterError(
            f"benchmark_codes(): bench={bench!r} is not a topology (tss) benchmark; expected create_benchmark('nb201')."
        )
    codes = getattr(bench, "_op_codes", None)
    if codes is None:  # parsing 15,625 strings takes about a second: once per benchmark object
        codes = np.array([Arch.from_str(s).code for s in bench.arch_strs()], dtype=np.int8)
        codes.setflags(write=False)
        bench._op_codes = codes
    return codes


class MassCurve(NamedTuple):
    """Probability mass of the true top set at each test-error threshold level (length m).

    Attributes
    ----------
    threshold : float64[m]
        Test error ``T_j`` (percent).
    mass : float64[m]
        ``sum_{i in A_j} pi_i``.
    baseline : float64[m]
        Uniform sampler's mass ``|A_j| / N``.
    n_true : int64[m]
        ``|A_j|``.
    positions : int64[m]
        0-based sorted positions ``p_j``.
    """

    threshold: np.ndarray
    mass: np.ndarray
    baseline: np.ndarray
    n_true: np.ndarray
    positions: np.ndarray


def mass_curve(y_true, arch_prob, *, n_groups: int | None = 25, positions: Sequence[int] | None = None,
               top_fractions: Sequence[float] | None = None) -> MassCurve:
    """Mass that per-architecture probabilities put on the true top set of each level (spec §5.2).

    Parameters
    ----------
    y_true : array-like of shape (N,)
        Ground-truth test accuracy (percent); NaN is an error.
    arch_prob : array-like of shape (N,)
        Probability of each architecture (`arch_probs`, `biased_sampler_probs`, ...), non-negative.
    n_groups, positions, top_fractions
        Threshold levels, as in `top_arch_recall_curve`.

    Returns
    -------
    MassCurve

    Examples
    --------
    >>> mass_curve([95, 90, 98, 80], [0.375, 0.375, 0.125, 0.125], n_groups=4).mass.tolist()
    [0.125, 0.5, 0.875]
    """
    caller = "mass_curve"
    pi = check_1d("arch_prob", arch_prob, caller=caller)
    lv = threshold_levels(y_true, n_groups=n_groups, positions=positions, top_fractions=top_fractions, caller=caller)
    n = lv.true_top.shape[1]
    if pi.size != n:
        raise InvalidParameterError(
            f"{caller}(): y_true and arch_prob have lengths {n} and {pi.size}; expected equal lengths "
            "(one entry per arch)."
        )
    if np.isnan(pi).any() or (pi < 0).any():
        raise InvalidParameterError(
            f"{caller}(): arch_prob has {int((np.isnan(pi) | (pi < 0)).sum())} NaN or negative entries; expected "
            "probabilities >= 0."
        )
    n_true = lv.true_top.sum(axis=1)
    return MassCurve(
        lv.threshold, lv.true_top.astype(np.float64) @ pi, n_true / n, n_true.astype(np.int64), lv.positions
    )


def sampling_mass_curve(y_true, probs, codes, *, n_groups: int | None = 25, positions: Sequence[int] | None = None,
                        top_fractions: Sequence[float] | None = None) -> MassCurve:
    """Mass curve of per-edge distributions over the architectures given by `codes` (spec §5).

    Parameters
    ----------
    y_true : array-like of shape (N,)
        Ground truth aligned with `codes`.
    probs : array-like of shape (n_edges, n_ops)
        Per-edge probability rows (convert logits with `edge_probs` first).
    codes : int array of shape (N, n_edges)
        Op codes, e.g. `benchmark_codes(bench)`.
    n_groups, positions, top_fractions
        Threshold levels.

    Returns
    -------
    MassCurve
    """
    return mass_curve(
        y_true, arch_probs(probs, codes), n_groups=n_groups, positions=positions, top_fractions=top_fractions
    )


def biased_sampler_probs(y_true, *, ties: str = "average") -> np.ndarray:
    """The idealised ground-truth-aware sampler: probability falls linearly with rank (spec §6.1).

    Weight ``w_i`` is the 0-based position of architecture i in the ascending sort by accuracy
    (worst 0, best N-1) and ``p_i = w_i / sum(w) = 2 w_i / (N (N - 1))``.

    Parameters
    ----------
    y_true : array-like of shape (N,)
        Ground-truth accuracy (percent), N >= 2, no NaN.
    ties : {"average", "stable"}, default="average"
        ``"average"``: tied architectures share the mean of their weights; ``"stable"``: among
        ties the lower input position gets the lower weight.

    Returns
    -------
    p : float64[N]

    Examples
    --------
    >>> biased_sampler_probs([90, 80, 80, 60]).tolist()
    [0.5, 0.25, 0.25, 0.0]
    """
    caller = "biased_sampler_probs"
    ties = check_option("ties", ties, ("average", "stable"), caller=caller)
    acc = check_1d("y_true", y_true, caller=caller)
    if acc.size < 2:
        raise InvalidParameterError(
            f"{caller}(): y_true has {acc.size} architecture(s); expected N >= 2 (the weights sum to 0 otherwise)."
        )
    if np.isnan(acc).any():
        raise InvalidParameterError(
            f"{caller}(): y_true contains {int(np.isnan(acc).sum())} NaN; expected ground truth for every architecture."
        )
    if ties == "average":
        w = scipy.stats.rankdata(acc, method="average") - 1.0
    else:
        w = np.empty(acc.size)
        w[np.argsort(acc, kind="stable")] = np.arange(acc.size, dtype=np.float64)
    return w / (acc.size * (acc.size - 1) / 2.0)


def sample_biased(y_true, n_samples: int = 100, *, seed: int = 0, ties: str = "average") -> np.ndarray:
    """Positions drawn with replacement from the biased sampler (spec §6.1; [PUP] Stage-2 uses 100).

    Parameters
    ----------
    y_true : array-like of shape (N,)
        Ground-truth accuracy (percent).
    n_samples : int, default=100
        Number of draws (duplicates kept).
    seed : int, default=0
        Seed of ``numpy.random.default_rng``.
    ties : {"average", "stable"}, default="average"

    Returns
    -------
    positions : int64[n_samples]
    """
    p = biased_sampler_probs(y_true, ties=ties)
    n_samples = check_int("n_samples", n_samples, caller="sample_biased", minimum=1)
    rng = np.random.default_rng(check_int("seed", seed, caller="sample_biased", minimum=0))
    return rng.choice(p.size, size=n_samples, replace=True, p=p).astype(np.int64)
