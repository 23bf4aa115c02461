"""`nasbench-eval improvement SCORES.csv`: Laube & Zell improvement curve of every score column (spec §3)."""
from __future__ import annotations

from .._validation import int_arg
from ..metrics import improvement_curve
from ..metrics.improvement import TIE_BREAKS
from ..metrics.plots import plot_improvement
from ._scorefile_args import add_scorefile_arguments, column_curves


def add_arguments(p):
    add_scorefile_arguments(p)
    p.add_argument("--k-min", type=int_arg(1, 15625), default=10, help="stop when this many archs remain (default 10)")
    p.add_argument("--tie-break", default="average", choices=TIE_BREAKS, help="order of tied scores (default average)")


def run(args) -> dict:
    table, curves, header = column_curves(
        args, lambda y, s: improvement_curve(y, s, k_min=args.k_min, tie_break=args.tie_break), plot_improvement,
        "improvement", f"{args.dataset} test accuracy ({args.epochs} epochs), {{n}} archs")
    first = next(iter(curves.values()))
    return {
        **header, "n_dropped": first.n_dropped, "k_min": args.k_min, "tie_break": args.tie_break,
        "mean_acc_all": float(first.mean_acc[0]), "best_acc": first.best_acc,
        "columns": {
            c: {"negated": c in table.negated, "n_nan_scores": int(table.scores[c].isna().sum()),
                "mean_acc_at_k_min": float(cv.mean_acc[-1]), "improvement_at_k_min": float(cv.improvement[-1])}
            for c, cv in curves.items()
        },
    }


def format_text(r: dict) -> str:
    lines = [f"{r['n_archs']} archs from {r['scores']} ({r['dataset']}, {r['epochs']} epochs); "
             f"mean of set {r['mean_acc_all']:.2f}, best {r['best_acc']:.2f}",
             f"{'column':<24} {'M(k=' + str(r['k_min']) + ')':>10} {'I(k)':>8}"]
    for c, v in r["columns"].items():
        name = c + (" (negated)" if v["negated"] else "")
        lines.append(f"{name:<24} {v['mean_acc_at_k_min']:>10.3f} {v['improvement_at_k_min']:>8.3f}")
    lines.append(f"plot: {r['plot']}")
    return "\n".join(lines)
