"""Kendall/Spearman/Pearson of training-free scores vs NB201 accuracy on a seeded random sample,
written as JSON with provenance (device, torch version, date, exact command, git commit).

    python benchmarks/correlation_table.py --metrics naswot,synflow,lr,jacov --sample 1000 --device cpu

Scores go through the score store, so an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from nasbench_eval._json import write_json
from nasbench_eval.cli import main as cli_main
from nasbench_eval.provenance import provenance

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--metrics", default="naswot,synflow,lr,jacov")
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--sample", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--profile", default=None, help="reference profile (e.g. tenas_code); default: the spec's defaults")
    p.add_argument(
        "--out",
        default=None,
        help="JSON path (default benchmarks/results/correlation_<dataset>_<n>_<device>_<metrics>.json)",
    )
    args = p.parse_args(argv)
    tag = args.metrics.replace(",", "-") + (f"_{args.profile}" if args.profile else "")
    work = Path("out") / f"correlation_table_{tag}"
    started = time.time()
    summary_path = work / "summary.json"
    code = cli_main(["correlate", "--metric", args.metrics, "--dataset", args.dataset, "--sample", str(args.sample),
                     "--seed", str(args.seed), "--device", args.device, "--out", str(work), "--no-progress", "--json",
                     *(["--profile", args.profile] if args.profile else [])])
    if code != 0:
        return code
    summary = json.loads(summary_path.read_text())
    record = {
        "benchmark": "correlation_table",
        **provenance(args.device),
        "wall_seconds": round(time.time() - started, 1),
        "dataset": args.dataset, "n_archs": args.sample, "seed": args.seed, "profile": args.profile,
        "target": summary["target"],
        "metrics": summary["metrics"],
    }
    out = (
        Path(args.out)
        if args.out
        else RESULTS / f"correlation_{args.dataset}_{args.sample}_{args.device.split(':')[0]}_{tag}.json"
    )
    write_json(out, record)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
