"""`nasbench-eval correlate`: score architectures at initialisation and rank-correlate the scores
with the benchmark's accuracy (Kendall tau-b, Spearman, Pearson, each with a bootstrap 95% CI)."""
from __future__ import annotations

import math
import sys

import numpy as np

from .._json import write_json
from .._validation import MAX_BOOT, MAX_EPOCHS, check_out_dir, int_arg, kept_on_failure
from ..benchmarks import METRICS, column_name, create_benchmark
from ..metrics import bootstrap_ci, kendall_tau, pearson_r, spearman_rho
from ..metrics.plots import plot_scatter
from ..proxies import get_proxy
from ..scoring.score_space import resolve_proxies, score_space
from ._scoring_args import (add_scoring_arguments, batch_pool, open_executor, open_store, proxy_options,
                            select_indices)

DEFAULT_METRICS = "naswot,synflow"
DEFAULT_SAMPLE = 64
STATISTICS = {
    "kendall": ("kendall_tau", kendall_tau),
    "spearman": ("spearman_rho", spearman_rho),
    "pearson": ("pearson_r", pearson_r),
}


def add_arguments(p):
    p.add_argument(
        "--metric",
        "--metrics",
        dest="metric",
        default=DEFAULT_METRICS,
        help=f"comma-separated proxies or aliases, e.g. ntk, naswot, synflow, lr, jacov (default {DEFAULT_METRICS})",
    )
    add_scoring_arguments(p, default_sample=DEFAULT_SAMPLE, min_sample=2)
    p.add_argument("--target", default="test_acc", choices=METRICS, help="ground-truth metric (default test_acc)")
    p.add_argument("--epochs", type=int_arg(1, MAX_EPOCHS), default=200,
                   help="ground-truth schedule: 12 or 200 (default 200)")
    p.add_argument("--n-boot", type=int_arg(0, MAX_BOOT), default=1000,
                   help="bootstrap resamples for the 95%% CIs (default 1000)")
    p.add_argument(
        "--out",
        default="out/correlate",
        help="folder for scores.csv, scatter.png, summary.json (default out/correlate)",
    )


def correlations(acc: np.ndarray, score: np.ndarray, *, n_boot: int, seed: int) -> dict:
    """Kendall/Spearman/Pearson (and, if n_boot > 0, bootstrap 95% CIs); NaN scores dropped, ±inf ranked.

    A degenerate column (fewer than two scores, or all scores equal) has no correlation: its statistics
    are NaN and ``degenerate`` says why; otherwise ``degenerate`` is None.
    """
    keep = ~np.isnan(score)
    out = {"n": int(keep.sum()), "degenerate": _degenerate(score[keep])}
    out.update({name: fn(acc[keep], score[keep]) for name, (_, fn) in STATISTICS.items()})
    if n_boot > 0:  # no interval around an undefined statistic (e.g. Pearson with a ±inf score)
        out["ci95"] = {
            name: list(bootstrap_ci(acc[keep], score[keep], statistic=stat, n_boot=n_boot, seed=seed)[:2])
            if not math.isnan(out[name]) else [math.nan, math.nan]
            for name, (stat, _) in STATISTICS.items()
        }
    return out


def _degenerate(scores: np.ndarray) -> str | None:
    if len(scores) < 2:
        return f"{len(scores)} non-NaN score(s); a correlation needs at least 2"
    if np.all(scores == scores[0]):
        return f"all {len(scores)} scores equal {float(scores[0]):g}; a constant score ranks nothing"
    return None


def run(args) -> dict:
    proxies = resolve_proxies(args.metric, caller="correlate")
    bench = create_benchmark("nb201", data_dir=args.data_dir)
    target = bench.check_key(args.dataset, args.target, args.epochs, caller="correlate")  # fail before scoring
    indices = select_indices(args, bench, default_sample=DEFAULT_SAMPLE, minimum=2)
    out = check_out_dir(args.out)  # before scoring: a bad --out never costs the scoring
    archs = [bench.arch_str(i) for i in indices]
    with open_store(args) as store, open_executor(args) as executor:
        frame = score_space(
            archs,
            proxies,
            space=args.space,
            dataset=args.dataset,
            seed=args.seed,
            device=args.device,
            profile=args.profile,
            options=proxy_options(args),
            data_dir=args.data_dir,
            store=store,
            pool=batch_pool(args),
            progress=not args.no_progress,
            executor=executor,
        )
        store_path, ran_on = str(store.path), executor.describe()
    gt_col = column_name(*target)
    frame.insert(0, "index", indices)
    frame[gt_col] = bench.accuracies(*target)[indices]
    acc, alive = frame[gt_col].to_numpy(), ~frame["dead_cell"].to_numpy()
    results = {}
    for p in proxies:
        score = frame[p].to_numpy(dtype=np.float64)
        res = correlations(acc, score, n_boot=args.n_boot, seed=args.seed)
        res["n_failed"] = int((frame[f"{p}_status"] != "ok").sum())
        res["without_dead_cells"] = correlations(acc[alive], score[alive], n_boot=0, seed=args.seed)
        res["higher_is_better"] = get_proxy(p).higher_is_better
        results[p] = res
        if res["degenerate"]:
            print(f"nasbench-eval: warning: correlate: metric {p!r} is degenerate ({res['degenerate']}); "
                  "its statistics are undefined (nan).", file=sys.stderr)
    with kept_on_failure(f"the scores are kept in the score store {store_path}; rerun with a writable --out "
                         "to export them without scoring again"):
        frame.to_csv(out / "scores.csv", index=False)
        scatter = plot_scatter({p: frame[p].to_numpy(dtype=np.float64) for p in proxies}, acc, out / "scatter.png",
                               ylabel=f"{args.dataset} {args.target} @{args.epochs} epochs (%)",
                               title=f"{len(indices)} archs, seed {args.seed}")
        summary = {
            "dataset": args.dataset, "target": gt_col, "n_archs": len(indices), "seed": args.seed,
            "profile": args.profile, "metrics": results, "scores_file": str(out / "scores.csv"), "plot": str(scatter),
            "store": store_path, "executor": ran_on,
        }
        write_json(out / "summary.json", summary)
    return summary


def _fmt(v: float) -> str:
    return "  nan " if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:+.3f}"


def format_text(r: dict) -> str:
    lines = [f"{r['n_archs']} architectures, target {r['target']}, seed {r['seed']}", ""]
    lines.append(
        f"{'metric':<12}{'n':>6}{'failed':>8}   "
        f"{'kendall [95% CI]':<26}{'spearman [95% CI]':<26}{'pearson [95% CI]':<26}"
    )
    for name, m in r["metrics"].items():
        if m["degenerate"]:
            lines.append(f"{name:<12}{m['n']:>6}{m['n_failed']:>8}   degenerate: {m['degenerate']}")
            continue
        ci = m.get("ci95")  # none with --n-boot 0
        cells = [f"{_fmt(m[s])} [{_fmt(ci[s][0])}, {_fmt(ci[s][1])}]" if ci else _fmt(m[s]) for s in STATISTICS]
        lines.append(f"{name:<12}{m['n']:>6}{m['n_failed']:>8}   " + "".join(f"{c:<26}" for c in cells))
    lines.append("")
    lines.append(f"scores: {r['scores_file']}   plot: {r['plot']}   store: {r['store']}")
    return "\n".join(lines)
