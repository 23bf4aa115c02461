"""`nasbench-eval recall SCORES.csv`: top-architecture recall across test-error thresholds (spec §4)."""
from __future__ import annotations

import math

import numpy as np

from .._validation import int_arg
from ..metrics import top_arch_recall_curve
from ..metrics.plots import plot_recall
from ._scorefile_args import add_scorefile_arguments, column_curves


def add_arguments(p):
    add_scorefile_arguments(p)
    p.add_argument("--n-groups", type=int_arg(1, 1000), default=25,
                   help="levels at every N//n_groups sorted position (default 25)")


def run(args) -> dict:
    table, curves, header = column_curves(
        args, lambda y, s: top_arch_recall_curve(y, s, n_groups=args.n_groups), plot_recall,
        "recall", f"{args.dataset} ({args.epochs} epochs), {{n}} archs")
    first = next(iter(curves.values()))
    return {
        **header, "n_groups": args.n_groups, "thresholds": first.threshold.tolist(),
        "baseline": first.baseline.tolist(), "n_true": first.n_true.tolist(),
        "columns": {
            c: {"negated": c in table.negated, "mean_recall": _nanmean(cv.recall),
                "recall": cv.recall.tolist(), "n_pred": cv.n_pred.tolist()}
            for c, cv in curves.items()
        },
    }


def format_text(r: dict) -> str:
    cols = list(r["columns"])
    head = f"{'T (%)':>8} {'random':>7} " + " ".join(f"{c[:12]:>12}" for c in cols)
    lines = [f"{r['n_archs']} archs from {r['scores']} ({r['dataset']}, {r['epochs']} epochs)", head]
    for j, t in enumerate(r["thresholds"]):
        vals = " ".join(f"{_fmt(r['columns'][c]['recall'][j]):>12}" for c in cols)
        lines.append(f"{t:>8.3f} {r['baseline'][j]:>7.3f} {vals}")
    lines.append(
        f"{'mean':>8} {sum(r['baseline']) / len(r['baseline']):>7.3f} "
        + " ".join(f"{_fmt(r['columns'][c]['mean_recall']):>12}" for c in cols)
    )
    lines.append(f"plot: {r['plot']}")
    return "\n".join(lines)


def _nanmean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else math.nan


def _fmt(v) -> str:
    return "nan" if v is None or v != v else f"{v:.3f}"
