"""TE-NAS pruning-by-importance on NB201: final architecture, its benchmark accuracy and search cost
per seed, mean ± std (ddof=0), written as JSON with provenance.

    python benchmarks/tenas_pruning.py --seeds 0 1 2 3 --start paper --device cpu
    python benchmarks/tenas_pruning.py --seeds 0 1 2 3 --start code  --device cuda

`--start paper` begins with all 5 ops on every edge (the paper's Algorithm 1); `--start code` without
`none`, as the released TE-NAS code does. Both use the `tenas_paper` profile otherwise.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from nasbench_eval import create_benchmark
from nasbench_eval._json import write_json
from nasbench_eval.metrics import format_mean_std, mean_std
from nasbench_eval.provenance import provenance
from nasbench_eval.reproduce.published import TE_TABLE1
from nasbench_eval.search import tenas_prune
from nasbench_eval.space import OPS

RESULTS = Path(__file__).resolve().parent / "results"
PUBLISHED = dict(zip(("cifar10", "cifar100", "ImageNet16-120"), TE_TABLE1["TE-NAS (ours)"]))  # TE-NAS Table 1
START = {"paper": tuple(OPS), "code": tuple(o for o in OPS if o != "none")}


def run_seed(seed: int, args, bench) -> dict:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = tenas_prune(dataset=args.dataset, seed=seed, device=args.device, bench=bench, data_dir=args.data_dir,
                         start_ops=START[args.start], report=(args.dataset, "test_acc", 200))
    return {"seed": seed, "arch": str(result.arch), "index": result.index, "test_acc_200ep": result.accuracy,
            "search_seconds": result.wall_time, "process_cpu_seconds": time.process_time() - cpu0,
            "wall_seconds_total": time.perf_counter() - wall0}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    p.add_argument("--dataset", default="cifar10", choices=sorted(PUBLISHED))
    p.add_argument("--start", default="paper", choices=sorted(START))
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    bench = create_benchmark("nb201", data_dir=args.data_dir)
    runs = []
    for seed in args.seeds:
        runs.append(run_seed(seed, args, bench))
        print(
            f"seed {seed}: {runs[-1]['arch']}  {runs[-1]['test_acc_200ep']:.2f} %  {runs[-1]['search_seconds']:.0f} s",
            flush=True,
        )
    acc = mean_std([r["test_acc_200ep"] for r in runs])
    cost = mean_std([r["search_seconds"] for r in runs])
    record = {
        "benchmark": "tenas_pruning",
        **provenance(args.device),
        "dataset": args.dataset,
        "start": args.start,
        "start_ops": list(START[args.start]),
        "profile": "tenas_paper",
        "runs": runs,
        "test_acc_mean": acc.mean,
        "test_acc_std": acc.std,
        "search_seconds_mean": cost.mean,
        "published_test_acc": PUBLISHED[args.dataset],
        "published_search_gpu_seconds": 1558,
        "inside_published_2std_band": bool(
            abs(acc.mean - PUBLISHED[args.dataset][0]) <= 2 * PUBLISHED[args.dataset][1]
        ),
    }
    out = (
        Path(args.out)
        if args.out
        else RESULTS / f"tenas_pruning_{args.dataset}_{args.start}_{args.device.split(':')[0]}.json"
    )
    write_json(out, record)
    pub_mean, pub_std = PUBLISHED[args.dataset]
    print(f"{args.dataset}: {format_mean_std(acc)} (published {pub_mean} ± {pub_std}); wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
