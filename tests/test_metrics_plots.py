"""Plots: each draws the curves it is given (read back from the saved figure's axes) and rejects bad curve mappings."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.metrics import improvement_curve, kendall_tau, mass_curve, top_arch_recall_curve
from nasbench_eval.metrics import plots
from nasbench_eval.metrics.plots import plot_improvement, plot_mass, plot_recall, plot_scatter

RNG = np.random.default_rng(0)
ACC = RNG.normal(90, 3, 100)
PRED = ACC + RNG.normal(0, 2, 100)


@pytest.fixture
def saved(monkeypatch):
    """The Figure objects the plot functions save, in call order (the files are still written)."""
    figures, real = [], plots._save

    def keep(fig, path):
        figures.append(fig)
        return real(fig, path)
    monkeypatch.setattr(plots, "_save", keep)
    return figures


def _line(ax, label):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def test_improvement_plot_draws_each_curve_and_the_baselines(tmp_path, saved):
    curves = {"a": improvement_curve(ACC, PRED), "b": improvement_curve(ACC, -PRED)}
    path = plot_improvement(curves, tmp_path / "sub" / "fig.png", title="t")
    assert path.read_bytes()[:4] == b"\x89PNG"
    ax_m, ax_i = saved[0].axes
    for label, c in curves.items():
        np.testing.assert_array_equal(_line(ax_m, label), (c.k, c.mean_acc))
        np.testing.assert_array_equal(_line(ax_i, label), (c.k, c.improvement))
    assert _line(ax_m, "random (mean of set)")[1][0] == pytest.approx(ACC.mean())
    assert _line(ax_m, "best of set")[1][0] == ACC.max() and _line(ax_i, "best of set")[1][0] == 1.0
    assert ax_m.get_xscale() == "log" and ax_m.xaxis_inverted() and saved[0].get_suptitle() == "t"


@pytest.mark.parametrize("plot, make, values, baseline", [
    (plot_recall, lambda: top_arch_recall_curve(ACC, PRED), "recall", "random"),
    (plot_mass, lambda: mass_curve(ACC, np.full(100, 0.01)), "mass", "uniform"),
])
def test_threshold_plots_draw_the_curve_against_the_threshold(tmp_path, saved, plot, make, values, baseline):
    curve = make()
    plot({"a": curve}, tmp_path / "fig.png", title="t")
    (ax,) = saved[0].axes
    np.testing.assert_array_equal(_line(ax, "a"), (curve.threshold, getattr(curve, values)))
    np.testing.assert_array_equal(_line(ax, baseline), (curve.threshold, curve.baseline))
    assert ax.get_title() == "t"


def test_scatter_plot_shows_the_finite_points_and_tau(tmp_path, saved):
    scores = {"a": PRED, "b": -PRED, "c": PRED ** 2, "d": np.where(PRED > 90, np.nan, PRED)}
    plot_scatter(scores, ACC, tmp_path / "fig.png")
    axes = [ax for ax in saved[0].axes if ax.get_visible()]
    assert len(axes) == 4
    for ax, (name, s) in zip(axes, scores.items()):
        ok = np.isfinite(s)
        np.testing.assert_array_equal(ax.collections[0].get_offsets(), np.column_stack([s[ok], ACC[ok]]))
        assert ax.get_title() == f"{name}: Kendall tau {kendall_tau(ACC, s):.3f}"


def test_different_curves_give_different_pixels(tmp_path):
    a = imread(plot_recall({"a": top_arch_recall_curve(ACC, PRED)}, tmp_path / "a.png"))
    b = imread(plot_recall({"a": top_arch_recall_curve(ACC, -PRED)}, tmp_path / "b.png"))
    assert a.shape == b.shape and a.ndim == 3 and np.abs(a - b).max() > 0.5


def test_plots_reject_bad_input(tmp_path):
    with pytest.raises(InvalidParameterError, match="curves"):
        plot_recall({}, tmp_path / "x.png")
    with pytest.raises(InvalidParameterError, match="curves"):
        plot_mass({"a": top_arch_recall_curve(ACC, PRED)}, tmp_path / "x.png")
    with pytest.raises(InvalidParameterError, match="lengths"):
        plot_scatter({"a": PRED[:5]}, ACC, tmp_path / "x.png")


def test_scatter_uses_ranks_for_heavy_tails_and_marks_failed_archs(tmp_path, monkeypatch):
    """synflow-like values (0 and 1e-3 .. 1e42) go on a rank axis; NaN/-inf sit left of the points, +inf right."""
    from matplotlib.axes import Axes

    from nasbench_eval.metrics.plots import _x_positions

    heavy = np.array([0.0, 1e-3, 5.0, 1e12, 3e42, np.nan, -np.inf, np.inf])
    x, note = _x_positions(heavy)
    assert note == "rank; values 0 .. 3e+42" and x.tolist() == [1, 2, 3, 4, 5]
    x, note = _x_positions(np.array([1100.0, 1500.0, np.nan]))
    assert note is None and x.tolist() == [1100.0, 1500.0]
    drawn = []
    real = Axes.scatter
    monkeypatch.setattr(
        Axes, "scatter", lambda ax, x, y, **kw: drawn.append((np.asarray(x), kw)) or real(ax, x, y, **kw)
    )
    plot_scatter({"synflow": heavy}, np.arange(8.0), tmp_path / "s.png")
    (xs, ok_kw), (xf, bad_kw) = drawn
    assert len(xs) == 5 and ok_kw["label"] == "5 scored" and bad_kw["label"].startswith("3 failed")
    assert xf[0] < xs.min() and xf[1] < xs.min() and xf[2] > xs.max()   # NaN, -inf left; +inf right
