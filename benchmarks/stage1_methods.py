"""Stage-1 supernets on NB201 / CIFAR-10: epoch time, learned distribution and Stage-1 metrics per method,
with [PUP]'s qualitative findings checked, written as JSON with provenance.

    python benchmarks/stage1_methods.py --methods rsps darts gdas snas drnas darts_minus --epochs 20 --device cuda
    OMP_NUM_THREADS=1 python benchmarks/stage1_methods.py --methods rsps darts gdas --epochs 4 \\
        --train-images 2000 --valid-images 2000 --channels 8 --cells 1 --sample 100 --device cpu

Per method and seed: seconds per epoch (every epoch, and the mean after the first), final train
accuracy, the learned per-edge distribution and its argmax architecture (skip-connection count,
benchmark accuracy), the mean sampling-probability mass of the distribution over the whole space
(spec §5; uniform methods sit on the baseline), and the supernet-predicted accuracy of a seeded
sample of architectures against ground truth (Kendall tau, improvement, top-arch recall, via
`evaluate_runs`).

[PUP] §3 / Fig. 1 findings checked (reported, never asserted; short or small runs may not show them):

* ``darts_most_skips`` -- DARTS's argmax architecture has at least as many ``skip_connect`` edges as
  every other method's (the well-known drift of DARTS to parameter-free ops);
* ``darts_mass_below_sampling`` -- DARTS's mean sampling mass is below that of every
  sampling-based method with a learned distribution (GDAS, SNAS, DrNAS);
* ``darts_recall_below_sampling`` -- DARTS's mean top-arch recall is below that of every sampling
  method (RSPS, GDAS, SNAS, DrNAS).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from nasbench_eval import create_benchmark
from nasbench_eval._json import dumps, write_json
from nasbench_eval.metrics import arch_probs, mass_curve
from nasbench_eval.provenance import provenance
from nasbench_eval.space import OPS, Arch
from nasbench_eval.train import evaluate_runs, load_run, load_stage1_data, save_run, train_stage1
from nasbench_eval.train.loop import space_ground_truth

RESULTS = Path(__file__).resolve().parent / "results"
LEARNED = ("darts", "darts_minus", "gdas", "snas", "drnas")
SAMPLING = ("rsps", "gdas", "snas", "drnas")
SKIP = OPS.index("skip_connect")


def _distribution(probs: np.ndarray, codes: np.ndarray, acc: np.ndarray, bench) -> dict:
    argmax = Arch.from_code(probs.argmax(axis=1))
    mass = mass_curve(acc, arch_probs(probs, codes))
    return {
        "edge_probs": probs.tolist(),
        "argmax_arch": str(argmax),
        "argmax_skip_edges": int((np.asarray(argmax.code) == SKIP).sum()),
        "argmax_test_acc": float(bench.query(bench.index_of(argmax), dataset="cifar10", metric="test_acc", epochs=200)),
        "mean_mass": float(mass.mass.mean()),
        "mean_mass_uniform": float(mass.baseline.mean()),
    }


def ensure_run(method: str, seed: int, args, data, gt, run_dir: Path) -> None:
    """Train and save the run unless `run_dir` already holds one with the same method, seed and settings."""
    hp = {"epochs": args.epochs, "C": args.channels, "cells_per_stage": args.cells, "batch_size": args.batch_size}
    if (run_dir / "config.json").is_file():
        cfg = json.loads((run_dir / "config.json").read_text())
        if (cfg["method"], cfg["seed"], cfg["n_train"], cfg["n_valid"]) == (
            method,
            seed,
            len(data[0]),
            len(data[1]),
        ) and all(cfg["hparams"][k] == v for k, v in hp.items()):
            return
    save_run(train_stage1(method, seed=seed, device=args.device, hparams=hp, data=data, ground_truth=gt[1:]), run_dir)


def run_record(run_dir: Path, gt, bench) -> dict:
    """Timing, final accuracy and (for methods with architecture parameters) the learned distribution of a run."""
    run = load_run(run_dir, device="cpu")
    secs = run.curves["seconds"]
    record = {"method": run.config["method"], "seed": run.config["seed"], "hparams": run.config["hparams"],
              "train_device": run.config["device"], "seconds_per_epoch": secs,
              "seconds_per_epoch_after_first": float(np.mean(secs[1:])) if len(secs) > 1 else float(secs[0]),
              "final_train_acc": run.curves["train_acc"][-1]}
    if run.alphas is not None:
        record.update(_distribution(np.asarray(run.edge_probs), gt[1], gt[2], bench))
    print(
        f"{record['method']} seed {record['seed']}: {record['seconds_per_epoch_after_first']:.2f} s/epoch, "
        f"train acc {record['final_train_acc']:.1f} %, argmax {record.get('argmax_arch', '-')}",
        file=sys.stderr,
        flush=True,
    )
    return record


def _below(records: dict, key: str, others: tuple[str, ...]) -> bool | None:
    rivals = [records[m][key] for m in others if m in records and key in records[m]]
    if "darts" not in records or key not in records["darts"] or not rivals:
        return None
    return bool(all(records["darts"][key] < r for r in rivals))


def checks(by_method: dict) -> dict:
    """[PUP]'s findings (module docstring) on the per-method means; None where a method is missing."""
    skips = {m: r["argmax_skip_edges"] for m, r in by_method.items() if "argmax_skip_edges" in r}
    return {
        "darts_most_skips": None
        if "darts" not in skips or len(skips) < 2
        else bool(skips["darts"] >= max(skips.values())),
        "darts_mass_below_sampling": _below(by_method, "mean_mass", ("gdas", "snas", "drnas")),
        "darts_recall_below_sampling": _below(by_method, "mean_recall", SAMPLING),
    }


def _method_means(runs: list[dict]) -> dict:
    keys = ("argmax_skip_edges", "mean_mass", "mean_recall", "kendall_tau", "seconds_per_epoch_after_first")
    out = {}
    for m in dict.fromkeys(r["method"] for r in runs):
        rows = [r for r in runs if r["method"] == m]
        out[m] = {k: float(np.mean([r[k] for r in rows])) for k in keys if all(k in r for r in rows)}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="+", default=["rsps", "darts", "gdas"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=100, help="training epochs ([PUP]: 100)")
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--cells", type=int, default=5, help="cells per stage (5 as NB201)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--train-images", type=int, default=None, help="subset of the 25,000-image train half")
    p.add_argument("--valid-images", type=int, default=None, help="subset of the 25,000-image valid half")
    p.add_argument("--sample", type=int, default=1000, help="archs whose supernet accuracy is predicted")
    p.add_argument("--eval-images", type=int, default=5000)
    p.add_argument("--bn-batches", type=int, default=20)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument(
        "--runs-dir",
        default=None,
        help="keep the run directories here and reuse those already trained with the same settings "
             "(default: a temporary folder)",
    )
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    bench = create_benchmark("nb201")
    gt = space_ground_truth("full", "cifar10", bench=bench)
    data = load_stage1_data("cifar10", n_train=args.train_images, n_valid=args.valid_images, device=args.device)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.runs_dir or tmp)
        for method in args.methods:
            dirs = []
            for seed in args.seeds:
                dirs.append(root / f"{method}_s{seed}")
                ensure_run(method, seed, args, data, gt, dirs[-1])
                runs.append(run_record(dirs[-1], gt, bench))
            ev = evaluate_runs(dirs, sample=args.sample, bn_batches=args.bn_batches, n_eval=args.eval_images,
                               device=args.device, bench=bench, data=data)
            for rec, r in zip(runs[-len(dirs):], ev.runs):
                recall = r["recall"]["recall"] if r["recall"] else [np.nan]
                rec.update(kendall_tau=r["kendall_tau"], improvement_at_k_min=r["improvement_at_k_min"],
                           mean_recall=float(np.nanmean(recall)))
    by_method = _method_means(runs)
    record = {
        "benchmark": "stage1_methods", **provenance(args.device), "dataset": "cifar10", "space": "full",
        "n_train": len(data[0]), "n_valid": len(data[1]), "epochs": args.epochs, "sample": args.sample,
        "eval_images": args.eval_images, "bn_batches": args.bn_batches, "runs": runs, "by_method": by_method,
        "pup_checks": checks(by_method), "wall_seconds": time.perf_counter() - t0,
    }
    dev = "cuda" if str(args.device).startswith("cuda") else "cpu"
    out = Path(args.out) if args.out else RESULTS / f"stage1_methods_cifar10_{dev}.json"
    write_json(out, record, indent=None)
    print(dumps({"by_method": by_method, "pup_checks": record["pup_checks"]}))
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
