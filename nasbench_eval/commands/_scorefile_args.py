"""CLI-only helpers of the scores-file commands (`improvement`, `recall`, `mass`): options, output paths, curves."""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np

from .._validation import MAX_EPOCHS, check_out_file, int_arg
from ..scoring.scorefile import DuplicateScoresWarning, ScoreTable, read_scores


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def add_scorefile_arguments(p) -> None:
    """Options every scores-file command takes: the file, ground-truth key, columns, orientation, output."""
    from ..benchmarks import DATASETS

    p.add_argument("scores", help="scores CSV with an 'index' and/or 'arch' column and one column per score")
    p.add_argument("--dataset", default="cifar10", choices=DATASETS, help="ground-truth dataset (default cifar10)")
    p.add_argument("--epochs", type=int_arg(1, MAX_EPOCHS), default=200,
                   help="ground-truth schedule: 12 or 200 (default 200)")
    p.add_argument("--columns", help="comma-separated score columns (default: every numeric non-ground-truth column)")
    p.add_argument(
        "--lower-is-better",
        default="",
        metavar="COL,...",
        help="columns to negate before ranking "
        "(registered lower-is-better proxies such as ntk_cond are negated anyway)",
    )
    p.add_argument("--out", help="output PNG (default: <scores stem>_<command>.png next to the scores file)")


PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")
"""File types a plot may be written as (matplotlib picks the format by suffix)."""


def default_plot_path(scores: str | os.PathLike | None, command: str) -> Path:
    """``<scores stem>_<command>.png`` beside the scores file, or ``./<command>.png`` without one."""
    if scores is None:
        return Path(f"{command}.png")
    p = Path(scores)
    return p.with_name(f"{p.stem}_{command}.png")


def column_curves(args, curve, plot, command: str, title: str) -> tuple[ScoreTable, dict, dict]:
    """Compute `curve` for every score column of a CLI command's scores file and plot them together.

    Parameters
    ----------
    args : argparse.Namespace
        The options of `add_scorefile_arguments` (and ``data_dir``).
    curve : callable
        ``curve(y_true, scores) -> curve object`` for one column (float64 arrays of the rows).
    plot : callable
        ``plot(curves, path, title=...) -> Path`` (nasbench_eval.metrics.plots).
    command, title : str
        Names the default plot file; the plot title, where ``{n}`` becomes the number of rows.

    Returns
    -------
    (ScoreTable, dict column -> curve, dict)
        The last holds what every such command reports: scores file, ground-truth key, row counts, plot.
    """
    out = check_out_file(args.out or default_plot_path(args.scores, command), suffixes=PLOT_SUFFIXES)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DuplicateScoresWarning)
        table, y_true = load_scores_and_truth(args)
    for w in caught:
        print(f"nasbench-eval: warning: {w.message}", file=sys.stderr)
    curves = {c: curve(y_true, table.scores[c].to_numpy()) for c in table.scores.columns}
    out = plot(curves, out, title=title.format(n=len(table.index)))
    header = {
        "scores": str(table.path),
        "dataset": args.dataset,
        "epochs": args.epochs,
        "n_archs": int(len(table.index)),
        "n_merged": table.n_merged,
        "plot": str(out),
    }
    return table, curves, header


def load_scores_and_truth(args) -> tuple[ScoreTable, np.ndarray]:
    """The scores table of a CLI command's arguments and the test accuracy (percent) of its rows."""
    from ..benchmarks import create_benchmark

    bench = create_benchmark("nb201", data_dir=args.data_dir)
    y_all = bench.accuracies(args.dataset, "test_acc", args.epochs)  # a bad --epochs fails before the file is read
    table = read_scores(
        args.scores, bench, columns=_split(args.columns), lower_is_better=_split(args.lower_is_better) or ()
    )
    return table, y_all[table.index]
