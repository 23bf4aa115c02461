"""Figures of the metric curves (matplotlib, Agg canvas; no pyplot state, so it works headless).

One curve per score column; the random / uniform baseline is dashed. Each function writes one
image and returns its path.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from .._validation import check_1d
from ..exceptions import InvalidParameterError
from .correlation import kendall_tau
from .improvement import ImprovementCurve
from .recall import RecallCurve
from .sampling import MassCurve


def _check_curves(curves: Mapping, kind: type, *, caller: str) -> None:
    if not isinstance(curves, Mapping) or not curves or not all(isinstance(c, kind) for c in curves.values()):
        raise InvalidParameterError(
            f"{caller}(): curves={type(curves).__name__} is empty or holds other objects; expected a non-empty mapping "
            f"of label -> {kind.__name__}."
        )


def _log_x(ax, values) -> None:
    """Log x axis with plain-number tick labels (10, 20, 50 rather than 2x10^1); the in-between ticks are labelled
    only when the axis spans less than 1.5 decades, so labels never crowd."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    ax.set_xscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    narrow = values.size > 0 and values.max() / values.min() < 10 ** 1.5
    ax.xaxis.set_minor_formatter(plain if narrow else NullFormatter())


def _save(fig: Figure, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=120)
    return path


def plot_improvement(
    curves: Mapping[str, ImprovementCurve], path: str | os.PathLike, *, title: str | None = None
) -> Path:
    """Mean accuracy of the kept architectures (left) and normalised improvement (right) vs number kept.

    Parameters
    ----------
    curves : mapping of str to ImprovementCurve
        Label -> curve; all over the same set of architectures.
    path : str or path-like
        Output image (e.g. ``improvement.png``); parent folders are created.
    title : str, optional

    Returns
    -------
    pathlib.Path
    """
    _check_curves(curves, ImprovementCurve, caller="plot_improvement")
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_m, ax_i = fig.subplots(1, 2)
    for label, c in curves.items():
        ax_m.plot(c.k, c.mean_acc, label=label)
        ax_i.plot(c.k, c.improvement, label=label)
    first = next(iter(curves.values()))
    ax_m.axhline(first.mean_acc[0], ls="--", color="gray", label="random (mean of set)")
    ax_m.axhline(first.best_acc, ls=":", color="black", label="best of set")
    ax_i.axhline(0.0, ls="--", color="gray", label="random")
    ax_i.axhline(1.0, ls=":", color="black", label="best of set")
    for ax, ylabel in ((ax_m, "mean test accuracy of kept archs (%)"), (ax_i, "normalised improvement")):
        _log_x(ax, first.k)
        ax.invert_xaxis()
        ax.set_xlabel("architectures kept (predicted best)")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def _plot_threshold_curves(
    curves: Mapping, values: str, path, *, ylabel: str, baseline: str, title: str | None
) -> Path:
    """One line per curve of `values` (an attribute) against the test-error threshold, baseline dashed."""
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    for label, c in curves.items():
        ax.plot(c.threshold, getattr(c, values), marker=".", label=label)
    first = next(iter(curves.values()))
    ax.plot(first.threshold, first.baseline, ls="--", color="gray", label=baseline)
    _log_x(ax, first.threshold)
    ax.set_xlabel("test-error threshold (%)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_recall(curves: Mapping[str, RecallCurve], path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Top-architecture recall vs test-error threshold, random baseline dashed ([PUP] Fig. 1 left).

    Parameters
    ----------
    curves : mapping of str to RecallCurve
        Label -> curve; all over the same ground truth and levels.
    path : str or path-like
        Output image; parent folders are created.
    title : str, optional

    Returns
    -------
    pathlib.Path
    """
    _check_curves(curves, RecallCurve, caller="plot_recall")
    return _plot_threshold_curves(
        curves, "recall", path, ylabel="recall of top architectures", baseline="random", title=title
    )


def plot_mass(curves: Mapping[str, MassCurve], path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Sampling-probability mass vs test-error threshold, uniform baseline dashed ([PUP] Fig. 1 right).

    Parameters
    ----------
    curves : mapping of str to MassCurve
        Label -> curve (e.g. ``{"alphas": ..., "biased sampler": ...}``); same ground truth and levels.
    path : str or path-like
        Output image; parent folders are created.
    title : str, optional

    Returns
    -------
    pathlib.Path
    """
    _check_curves(curves, MassCurve, caller="plot_mass")
    return _plot_threshold_curves(
        curves, "mass", path, ylabel="probability mass on better archs", baseline="uniform", title=title
    )


HEAVY_TAIL_DECADES = 3
"""A score whose nonzero magnitudes span more decades than this is drawn on a rank axis."""


def _x_positions(s: np.ndarray) -> tuple[np.ndarray, str | None]:
    """x of every finite score and the axis note: ranks (1 = lowest) when the score is heavy-tailed, else the values."""
    finite = s[np.isfinite(s)]
    mags = np.abs(finite[finite != 0])
    if mags.size and mags.max() / mags.min() > 10 ** HEAVY_TAIL_DECADES:
        import scipy.stats

        note = f"rank; values {finite.min():.3g} .. {finite.max():.3g}"
        return scipy.stats.rankdata(finite), note
    return finite, None


def _failed_x(x: np.ndarray, s_bad: np.ndarray) -> np.ndarray:
    """Where failed scores are drawn: NaN and -inf just left of the finite points, +inf just right."""
    lo, hi = (x.min(), x.max()) if x.size else (0.0, 1.0)
    pad = 0.06 * (hi - lo or 1.0)
    return np.where(s_bad == np.inf, hi + pad, lo - pad)


def plot_scatter(
    scores: Mapping[str, np.ndarray],
    y_true,
    path: str | os.PathLike,
    *,
    ylabel: str = "test accuracy (%)",
    title: str | None = None,
) -> Path:
    """One scatter panel per score column: score (x) vs ground truth (y), Kendall tau-b in the panel title.

    A heavy-tailed score (nonzero magnitudes spanning more than `HEAVY_TAIL_DECADES` decades, e.g.
    synflow's forty) is drawn against its rank, with its value range in the axis label. Failed
    archs (NaN, ±inf) are not dropped: they are red crosses at the left (NaN, -inf) or right (+inf)
    edge, counted in the legend.

    Parameters
    ----------
    scores : mapping of str to float64[n]
        Score name -> raw scores, aligned with `y_true`.
    y_true : array-like of shape (n,)
        Ground-truth accuracy (percent).
    path : str or path-like
        Output image; parent folders are created.
    ylabel : str, default="test accuracy (%)"
    title : str, optional
        Figure title.

    Returns
    -------
    pathlib.Path
    """
    caller = "plot_scatter"
    y = check_1d("y_true", y_true, caller=caller)
    if not isinstance(scores, Mapping) or not scores:
        raise InvalidParameterError(
            f"{caller}(): scores={type(scores).__name__} is empty; expected a non-empty mapping of name -> scores."
        )
    cols = {k: check_1d(f"scores[{k!r}]", v, caller=caller) for k, v in scores.items()}
    bad = {k: v.size for k, v in cols.items() if v.size != y.size}
    if bad:
        raise InvalidParameterError(
            f"{caller}(): scores {bad} have lengths other than len(y_true)={y.size}; expected one score per arch."
        )
    n = len(cols)
    ncols = min(n, 3)
    fig = Figure(figsize=(4.4 * ncols, 3.8 * math.ceil(n / ncols)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(math.ceil(n / ncols), ncols, squeeze=False)).ravel()
    for ax, (name, s) in zip(axes, cols.items()):
        ok = np.isfinite(s)
        x, note = _x_positions(s)
        ax.scatter(x, y[ok], s=6, alpha=0.5, label=f"{int(ok.sum())} scored")
        if (~ok).any():
            ax.scatter(_failed_x(x, s[~ok]), y[~ok], s=24, marker="x", color="tab:red",
                       label=f"{int((~ok).sum())} failed (NaN/-inf left, +inf right)")
        ax.legend(fontsize="x-small", loc="best")
        ax.set_title(f"{name}: Kendall tau {kendall_tau(y, s):.3f}")
        ax.set_xlabel(f"{name} ({note})" if note else name)
        ax.set_ylabel(ylabel)
    for ax in axes[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return _save(fig, path)
