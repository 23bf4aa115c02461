"""Plots: each writes a non-empty PNG and rejects bad curve mappings."""
from __future__ import annotations

import numpy as np
import pytest

from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.metrics import improvement_curve, mass_curve, top_arch_recall_curve
from nasbench_eval.plots import plot_improvement, plot_mass, plot_recall, plot_scatter

RNG = np.random.default_rng(0)
ACC = RNG.normal(90, 3, 100)
PRED = ACC + RNG.normal(0, 2, 100)


@pytest.mark.parametrize("make", [
    lambda p: plot_improvement({"a": improvement_curve(ACC, PRED), "b": improvement_curve(ACC, -PRED)}, p, title="t"),
    lambda p: plot_recall({"a": top_arch_recall_curve(ACC, PRED)}, p),
    lambda p: plot_mass({"a": mass_curve(ACC, np.full(100, 0.01))}, p),
    lambda p: plot_scatter({"a": PRED, "b": -PRED, "c": PRED ** 2, "d": np.where(PRED > 90, np.nan, PRED)}, ACC, p),
])
def test_plot_writes_png(tmp_path, make):
    path = make(tmp_path / "sub" / "fig.png")
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 5000


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

    from nasbench_eval.plots import _x_positions

    heavy = np.array([0.0, 1e-3, 5.0, 1e12, 3e42, np.nan, -np.inf, np.inf])
    x, note = _x_positions(heavy)
    assert note == "rank; values 0 .. 3e+42" and x.tolist() == [1, 2, 3, 4, 5]
    x, note = _x_positions(np.array([1100.0, 1500.0, np.nan]))
    assert note is None and x.tolist() == [1100.0, 1500.0]
    drawn = []
    real = Axes.scatter
    monkeypatch.setattr(Axes, "scatter", lambda ax, x, y, **kw: drawn.append((np.asarray(x), kw)) or real(ax, x, y, **kw))
    plot_scatter({"synflow": heavy}, np.arange(8.0), tmp_path / "s.png")
    (xs, ok_kw), (xf, bad_kw) = drawn
    assert len(xs) == 5 and ok_kw["label"] == "5 scored" and bad_kw["label"].startswith("3 failed")
    assert xf[0] < xs.min() and xf[1] < xs.min() and xf[2] > xs.max()   # NaN, -inf left; +inf right
