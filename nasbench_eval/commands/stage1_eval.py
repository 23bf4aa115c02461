"""`nasbench-eval stage1-eval DIR [DIR...]`: supernet-predicted accuracy vs ground truth, and the learned
distribution's mass."""

from __future__ import annotations

from pathlib import Path

from .._json import write_json
from .._validation import (
    SEED_MAX,
    check_out_dir,
    int_arg,
    kept_on_failure,
)
from ..exceptions import DataNotFoundError
from ..metrics import format_mean_std
from ..train.evaluate import evaluate_runs, write_evaluation
from ._evaluation_args import add_evaluation_arguments


def add_arguments(p):
    p.add_argument("runs", nargs="+", help="run directories written by `nasbench-eval stage1` (same space and dataset)")
    p.add_argument("--sample", type=int_arg(0, 15625), default=1000,
                   help="random archs of the space to evaluate (default 1000; 0 = all of the run's subspace)")
    p.add_argument("--seed", type=int_arg(0, SEED_MAX), default=0,
                   help="picks the sample, BN batches and evaluation images (default 0)")
    add_evaluation_arguments(p, per="prediction")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA if available)")
    p.add_argument("--group-size", type=int_arg(1, 15625),
                   help="architectures per forward pass (default: from free GPU memory; 1 on CPU)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write <run>/predictions.sqlite")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--out", help="output folder (default: <first run>/stage1_eval)")


def run(args) -> dict:
    for run_dir in args.runs:  # before the default --out (inside the first run) is created
        if not Path(run_dir).is_dir():
            raise DataNotFoundError(f"stage1-eval: run folder {run_dir!r} does not exist or is not a folder; "
                                    "expected a directory written by nasbench-eval stage1.")
    out = check_out_dir(Path(args.out) if args.out else Path(args.runs[0]) / "stage1_eval")  # before evaluating
    ev = evaluate_runs(args.runs, sample=args.sample or None, seed=args.seed, bn_batches=args.bn_batches,
                       batch_size=args.batch_size, n_eval=args.eval_images, device=args.device, data_dir=args.data_dir,
                       group_size=args.group_size, cache=not args.no_cache, progress=not args.no_progress)
    kept = ("the predictions are kept in each run's predictions.sqlite" if not args.no_cache
            else "nothing was kept (--no-cache)")
    with kept_on_failure(f"{kept}; rerun with a writable --out to write the evaluation without predicting again"):
        paths = write_evaluation(ev, out, title=f"{len(ev.runs)} run(s), {len(ev.indices)} archs")
        result = {"n_archs": int(len(ev.indices)), "runs": ev.runs, "summary": ev.summary,
                  "files": {k: str(v) for k, v in paths.items()}}
        write_json(out / "stage1_eval.json", result, indent=None)
    result["files"]["json"] = str(out / "stage1_eval.json")
    return result


def format_text(r: dict) -> str:
    lines = [f"{r['n_archs']} archs; per run: Kendall tau, improvement I(k_min), mean sampling mass (uniform)"]
    for run in r["runs"]:
        cached = "" if run["predictions_cached"] is None else f"  ({run['predictions_cached']} cached)"
        lines.append(
            f"  {run['method']:<12} seed {run['seed']:<3} tau {run['kendall_tau']:+.3f}  I "
            f"{run['improvement_at_k_min']:+.3f}  "
            f"mass {run['mean_mass']:.3f} ({run['mean_mass_baseline']:.3f})  {run['path']}{cached}"
        )
    s = r["summary"]
    lines.append(f"mean ± std: tau {format_mean_std(s['kendall_tau'], decimals=3)}, "
                 f"I {format_mean_std(s['improvement_at_k_min'], decimals=3)}")
    if "self_consistency" in s:
        lines.append(f"self-consistency (Kendall tau): {s['self_consistency']['kendall_tau']:.3f}")
    lines += [f"{k}: {v}" for k, v in r["files"].items()]
    return "\n".join(lines)
