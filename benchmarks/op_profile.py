"""Where a proxy's time goes: torch profiler self time per operator while `score_arch` scores a few archs.

Answers "how close to the bound can this kernel get": if the convolutions alone take k times the roofline's
attainable time (`roofline.py`), no change outside them brings the proxy under k.

    OMP_NUM_THREADS=1 python benchmarks/op_profile.py --proxy nwot --archs 3
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

import torch

from nasbench_eval._json import write_json
from nasbench_eval.data import proxy_batch
from nasbench_eval.proxies import rows_needed, score_arch
from nasbench_eval.provenance import provenance
from nasbench_eval.space import all_archs

RESULTS = Path(__file__).resolve().parent / "results"


def profile(proxy: str, archs: list, batch, device: str, top: int) -> dict:
    """Self time per operator (seconds per arch) over `archs`, after one warm-up arch."""
    score_arch(archs[0], proxy, batch, device=device)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for arch in archs:
            score_arch(arch, proxy, batch, device=device)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) / 1e6
    ops = [{"op": e.key, "seconds_per_arch": e.self_cpu_time_total / 1e6 / len(archs),
            "share": e.self_cpu_time_total / 1e6 / total, "calls_per_arch": e.count / len(archs)}
           for e in events[:top]]
    return {"seconds_per_arch": total / len(archs), "ops": ops}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--proxy", default="nwot")
    p.add_argument("--archs", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default=None, help="default benchmarks/results/op_profile_<proxy>_<device>.json")
    args = p.parse_args(argv)
    x, _ = proxy_batch("cifar10", rows_needed(args.proxy), seed=args.seed, device=args.device)
    archs = random.Random(args.seed).sample(list(all_archs()), args.archs)
    record = {"benchmark": "op_profile", **provenance(args.device), "proxy": args.proxy, "archs": len(archs),
              "threads": torch.get_num_threads(), "loadavg": os.getloadavg(),
              **profile(args.proxy, archs, (x, None), args.device, args.top)}
    out = Path(args.out) if args.out else RESULTS / f"op_profile_{args.proxy}_{args.device.split(':')[0]}.json"
    write_json(out, record)
    for op in record["ops"]:
        print(f"{op['op']:<28} {op['seconds_per_arch']:.4f} s/arch  {100 * op['share']:.1f} %")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
